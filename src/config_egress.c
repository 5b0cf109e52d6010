/* config_egress: see config_egress.h. */
#include "config_egress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define ALLOW_EXPECTED                                                                             \
	"networks with optional ports, separated by commas or blanks, like 10.0.0.0/8, "           \
	"192.0.2.10:443, 2001:db8::/32, [2001:db8::]/32:53"

/* A decimal number in [lo, hi] spanning all of S. */
static bool parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (!isdigit((unsigned char)*s) || strlen(s) > 6)
		return false;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Splits ENTRY into address text, prefix text and port text (NULL when
 * absent), in place. */
static int split_entry(char *e, char **addr, char **prefix, char **port)
{
	*prefix = *port = NULL;
	if (*e == '[') {
		char *close = strchr(e, ']');
		if (!close)
			return -EINVAL;
		*close = '\0';
		*addr = e + 1;
		char *rest = close + 1;
		if (*rest == '/') {
			*rest++ = '\0';
			*prefix = rest;
			rest = strchr(rest, ':');
			if (rest)
				*rest++ = '\0', *port = rest;
		} else if (*rest == ':') {
			*port = rest + 1;
		} else if (*rest) {
			return -EINVAL;
		}
		return 0;
	}
	*addr = e;
	char *colon = strchr(e, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Bare IPv6: no port possible without brackets. */
		char *slash = strchr(e, '/');
		if (slash)
			*slash = '\0', *prefix = slash + 1;
		return 0;
	}
	if (colon)
		*colon = '\0', *port = colon + 1;
	char *slash = strchr(e, '/');
	if (slash)
		*slash = '\0', *prefix = slash + 1;
	return 0;
}

static int allow_entry(const char *text, struct egress_rule *r, char *why, size_t n)
{
	char e[128];
	char *addr, *prefix, *port;
	unsigned long v;

	memset(r, 0, sizeof *r);
	snprintf(e, sizeof e, "%s", text);
	if (strlen(text) >= sizeof e || split_entry(e, &addr, &prefix, &port) < 0) {
		snprintf(why, n, "\"%.80s\" is not a network; expected %s", text, ALLOW_EXPECTED);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, addr, r->addr) == 1 && text[0] != '[') {
		r->family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, r->addr) == 1) {
		r->family = AF_INET6;
	} else {
		snprintf(why, n,
		         "\"%s\" is not an IP address (names are not allowed here: list the "
		         "addresses they resolve to); expected %s",
		         text, ALLOW_EXPECTED);
		return -EINVAL;
	}
	unsigned full = r->family == AF_INET ? 32 : 128;
	r->prefix = (uint8_t)full;
	if (prefix) {
		if (!parse_num(prefix, 0, full, &v)) {
			snprintf(why, n,
			         "\"%s\": the prefix length is not a number from 0 to %u; expected "
			         "ADDRESS/0..%u",
			         text, full, full);
			return -EINVAL;
		}
		r->prefix = (uint8_t)v;
	}
	if (port) {
		if (!parse_num(port, 1, 65535, &v)) {
			snprintf(
			    why, n,
			    "\"%s\": the port is not a number from 1 to 65535; expected a port "
			    "after the last colon, or none for every port",
			    text);
			return -EINVAL;
		}
		r->port = (uint16_t)v;
	}
	struct in6_addr a6;
	memcpy(&a6, r->addr, sizeof a6);
	if (r->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6)) {
		snprintf(why, n,
		         "\"%s\" is an IPv4-mapped IPv6 address; expected it written as IPv4 "
		         "(mapped destinations are matched as IPv4)",
		         text);
		return -EINVAL;
	}
	/* Host bits under the prefix are a typo more often than not. */
	uint8_t net[16];
	memcpy(net, r->addr, sizeof net);
	for (unsigned bit = r->prefix; bit < full; bit++)
		net[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	if (memcmp(net, r->addr, full / 8) != 0) {
		struct egress_rule fixed = *r;
		char buf[80];
		memcpy(fixed.addr, net, sizeof net);
		snprintf(why, n, "\"%s\" has bits set past its /%u prefix; expected %s", text,
		         r->prefix, egress_rule_format(&fixed, buf, sizeof buf));
		return -EINVAL;
	}
	return 0;
}

/* Calls FN on each comma/blank separated word of VALUE. */
static int each_word(const char *value, int (*fn)(const char *w, void *ctx), void *ctx)
{
	const char *p = value;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		size_t len = strcspn(p, ", \t");
		if (len == 0)
			break;
		char w[160];
		if (len >= sizeof w)
			len = sizeof w - 1; /* reported as not a network */
		memcpy(w, p, len);
		w[len] = '\0';
		int rc = fn(w, ctx);
		if (rc < 0)
			return rc;
		p += strcspn(p, ", \t");
	}
	return 0;
}

struct allow_ctx {
	struct egress_list *out;
	char *why;
	size_t n;
};

static int allow_word(const char *w, void *vctx)
{
	struct allow_ctx *ctx = vctx;
	if (ctx->out->n >= EGRESS_RULES_MAX) {
		snprintf(ctx->why, ctx->n,
		         "more than %d entries; expected at most %d (use wider "
		         "networks)",
		         EGRESS_RULES_MAX, EGRESS_RULES_MAX);
		return -EINVAL;
	}
	if (allow_entry(w, &ctx->out->rule[ctx->out->n], ctx->why, ctx->n) < 0)
		return -EINVAL;
	ctx->out->n++;
	return 0;
}

int config_egress_allow(const char *value, struct egress_list *out, char *why, size_t n)
{
	struct allow_ctx ctx = {out, why, n};
	out->n = 0;
	return each_word(value, allow_word, &ctx);
}

struct resolver_ctx {
	char *out;
	size_t outlen, used;
	char *why;
	size_t n;
};

static int resolver_word(const char *w, void *vctx)
{
	struct resolver_ctx *ctx = vctx;
	char e[128], *addr, *prefix, *port;
	unsigned char bin[16];
	unsigned long p = 53;
	bool v6;

	snprintf(e, sizeof e, "%s", w);
	bool ok = split_entry(e, &addr, &prefix, &port) == 0 && !prefix &&
	          (!port || parse_num(port, 1, 65535, &p));
	if (ok && w[0] != '[' && inet_pton(AF_INET, addr, bin) == 1)
		v6 = false;
	else if (ok && inet_pton(AF_INET6, addr, bin) == 1)
		v6 = true;
	else
		ok = false;
	if (!ok) {
		snprintf(ctx->why, ctx->n,
		         "\"%s\" is not a DNS server address; expected IP addresses with an "
		         "optional port, like 198.18.0.53, 192.0.2.1:5353, [2001:db8::53]:53",
		         w);
		return -EINVAL;
	}
	int k = snprintf(ctx->out + ctx->used, ctx->outlen - ctx->used, "%s%s%s%s:%lu",
	                 ctx->used ? "," : "", v6 ? "[" : "", addr, v6 ? "]" : "", p);
	if (k < 0 || (size_t)k >= ctx->outlen - ctx->used) {
		snprintf(ctx->why, ctx->n, "too many servers; expected at most a few");
		return -EINVAL;
	}
	ctx->used += (size_t)k;
	return 0;
}

int config_egress_resolver(const char *value, char *out, size_t outlen, char *why, size_t n)
{
	struct resolver_ctx ctx = {out, outlen, 0, why, n};
	out[0] = '\0';
	int rc = each_word(value, resolver_word, &ctx);
	if (rc == 0 && ctx.used == 0) {
		snprintf(why, n,
		         "empty; expected DNS server addresses, or no resolver key to use "
		         "/etc/resolv.conf");
		return -EINVAL;
	}
	return rc;
}

int config_host_target(const char *value, char *host, size_t hostlen, uint16_t *port, char *why,
                       size_t n)
{
	const char *colon = strrchr(value, ':');
	unsigned long p;
	size_t len = colon ? (size_t)(colon - value) : 0;
	if (!colon || !parse_num(colon + 1, 1, 65535, &p)) {
		snprintf(why, n,
		         "\"%s\" has no port; expected address:port, host name:port or original",
		         value);
		return -EINVAL;
	}
	if (len == 0 || len > FRAME_HOST_MAX || len >= hostlen) {
		snprintf(why, n, "\"%s\": the host name is empty or longer than %d characters",
		         value, FRAME_HOST_MAX);
		return -EINVAL;
	}
	memcpy(host, value, len);
	host[len] = '\0';
	if (!frame_host_valid(host)) {
		snprintf(why, n,
		         "\"%s\" is neither an IP address nor a host name (RFC 1123: labels "
		         "of letters, digits and hyphens, separated by dots, no final dot)",
		         value);
		return -EINVAL;
	}
	*port = (uint16_t)p;
	return 0;
}
