/*
 * config_value: one value of the INI file read against its key's spec
 * (pass 3 of config_load(), config_loader.h).
 *
 * Start here to add a kind of value (enum spec_kind): how it is parsed
 * and stored (parse_value), and what a message says is expected
 * (spec_expected). Numbers are decimal digits only, sizes take a k, m or
 * g suffix, words match without case; addresses go through addr.h,
 * [egress] values and host-name targets through config_egress.h.
 */
#include "config_loader.h"

#include "addr.h"
#include "config_egress.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The store code writes enums and ints as 32-bit unsigned values. */
_Static_assert(sizeof(enum config_engine) == 4 && sizeof(enum config_transport) == 4 &&
                   sizeof(enum log_level) == 4 && sizeof(enum config_role) == 4 &&
                   sizeof(enum config_protocol) == 4 && sizeof(enum config_cc) == 4 &&
                   sizeof(enum config_capture) == 4 && sizeof(int) == 4,
               "config stores enums and ints as 32 bits");

/* Decimal digits only: no sign, no blanks, no hex, no exponent. Returns 0,
 * -EINVAL (not a number) or -ERANGE (too big for any field). */
static int parse_number(const char *p, bool suffix, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	bool overflow = false;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (ULLONG_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (suffix && (*p == 'k' || *p == 'K'))
		mult = 1024, p++;
	else if (suffix && (*p == 'm' || *p == 'M'))
		mult = 1024 * 1024, p++;
	else if (suffix && (*p == 'g' || *p == 'G'))
		mult = 1024 * 1024 * 1024, p++;
	if (*p)
		return -EINVAL;
	if (overflow || v > ULLONG_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

const char *spec_expected(const struct spec *s, char *buf, size_t len)
{
	size_t n = 0;

	switch (s->kind) {
	case SPEC_UINT:
		snprintf(buf, len, "an integer from %lu to %lu", s->min, s->max);
		break;
	case SPEC_SIZE:
		snprintf(buf, len,
		         "a size from %lu to %lu bytes (suffix k, m or g for KiB, MiB or GiB)",
		         s->min, s->max);
		break;
	case SPEC_CHOICE:
		for (size_t i = 0; s->choices[i] && n < len; i++) {
			const char *sep = i == 0 ? "" : s->choices[i + 1] ? ", " : " or ";
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, s->choices[i]);
		}
		break;
	case SPEC_NAME:
		snprintf(buf, len, "1 to %lu characters of A-Z a-z 0-9 . _ -", s->max);
		break;
	case SPEC_HOST:
		snprintf(buf, len, "an IPv4 or IPv6 address");
		break;
	case SPEC_ENDPOINT:
		snprintf(buf, len, "host:port");
		break;
	case SPEC_ENDPOINT_OPT:
		snprintf(buf, len, "host:port, or nothing for off");
		break;
	case SPEC_PATH:
		snprintf(buf, len, "a file name");
		break;
	case SPEC_TARGET:
		snprintf(buf, len, "address:port, host name:port or %s", CONFIG_TARGET_ORIGINAL);
		break;
	case SPEC_ALLOW:
		snprintf(buf, len, "networks with optional ports, like 10.0.0.0/8, 192.0.2.10:443");
		break;
	case SPEC_RESOLVER:
		snprintf(buf, len, "DNS server addresses, like 198.18.0.53 or [2001:db8::53]:53");
		break;
	}
	return buf;
}

static void store_uint(void *base, const struct spec *s, unsigned long long v)
{
	char *p = (char *)base + s->offset;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = v;

	memcpy(p,
	       s->size == 2   ? (void *)&v16
	       : s->size == 4 ? (void *)&v32
	                      : (void *)&v64,
	       s->size);
}

void spec_defaults(const struct section_spec *ss, void *base)
{
	for (size_t i = 0; i < ss->n_keys; i++)
		if (ss->keys[i].kind == SPEC_UINT || ss->keys[i].kind == SPEC_SIZE ||
		    ss->keys[i].kind == SPEC_CHOICE)
			store_uint(base, &ss->keys[i], ss->keys[i].def);
}

bool name_valid(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

/* Why an endpoint failed, for the most common slips. */
static const char *endpoint_hint(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon)
		return " is not a valid address (no port)";
	if (v[0] != '[' && strchr(v, ':') != colon)
		return " is not a valid address (IPv6 needs brackets: [addr]:port)";
	return " is not a valid address (an IP address and a port from 1 to 65535; names are "
	       "not resolved)";
}

/* Stores V into BASE, or reports it and returns -EINVAL. */
int parse_value(struct loader *l, const char *sec, const struct spec *s, const char *v, void *base,
                unsigned line)
{
	char exp[160], word[32];
	struct sockaddr_storage ss;
	unsigned long long n;
	const char *what = NULL; /* follows the quoted value in the message */

	switch (s->kind) {
	case SPEC_UINT:
	case SPEC_SIZE: {
		int rc = parse_number(v, s->kind == SPEC_SIZE, &n);
		if (rc == -EINVAL)
			what = " is not a number";
		else if (rc != 0 || n < s->min || n > s->max)
			what = " is out of range";
		else
			store_uint(base, s, n);
		break;
	}
	case SPEC_CHOICE:
		/* Words are matched without case: "TCP" means tcp. */
		what = " is not valid";
		snprintf(word, sizeof word, "%s", v);
		str_lower(word);
		for (size_t i = 0; strlen(v) < sizeof word && s->choices[i]; i++) {
			if (strcmp(word, s->choices[i]) == 0) {
				store_uint(base, s, i);
				what = NULL;
			}
		}
		break;
	case SPEC_NAME:
		if (name_valid(v, s->max, "._-"))
			snprintf((char *)base + s->offset, s->size, "%s", v);
		else
			what = " is not a valid name";
		break;
	case SPEC_ENDPOINT_OPT:
		if (*v == '\0') {
			memset((char *)base + s->offset, 0, sizeof ss); /* AF_UNSPEC: off */
			break;
		}
		/* fall through */
	case SPEC_HOST:
	case SPEC_ENDPOINT:
		if ((s->kind == SPEC_HOST ? addr_parse_host(v, &ss)
		                          : addr_parse_endpoint(v, &ss)) == 0)
			memcpy((char *)base + s->offset, &ss, sizeof ss);
		else if (s->kind == SPEC_HOST)
			what = " is not an IP address (no port, no brackets, no names)";
		else
			what = endpoint_hint(v);
		break;
	case SPEC_PATH:
		if (!*v || strlen(v) >= s->size)
			what = " is not a usable file name";
		else
			snprintf((char *)base + s->offset, s->size, "%s", v);
		break;
	case SPEC_TARGET: {
		struct config_forward *f = base;
		char why[400];
		/* Left with neither family nor host: load_forward reads that as original. */
		if (config_capture_is_original(v)) {
			memset(&f->target, 0, sizeof f->target);
			f->target_host[0] = '\0';
			break;
		}
		if (addr_parse_endpoint(v, &f->target) == 0)
			break;
		memset(&f->target, 0, sizeof f->target);
		if (v[0] == '[' || strchr(v, ':') != strrchr(v, ':')) {
			what = endpoint_hint(v);
			break;
		}
		if (config_host_target(v, f->target_host, sizeof f->target_host, &f->target_port,
		                       why, sizeof why) == 0)
			break;
		loader_error(l, line, "[%s] %s: %s", sec, s->key, why);
		return -EINVAL;
	}
	case SPEC_ALLOW:
	case SPEC_RESOLVER: {
		char why[400];
		int rc = s->kind == SPEC_ALLOW
		             ? config_egress_allow(v, &l->c->egress_allow, why, sizeof why)
		             : config_egress_resolver(v, l->c->resolver, sizeof l->c->resolver, why,
		                                      sizeof why);
		if (rc == 0)
			break;
		loader_error(l, line, "[%s] %s: %s", sec, s->key, why);
		return -EINVAL;
	}
	}
	if (!what)
		return 0;
	spec_expected(s, exp, sizeof exp);
	if (*v == '\0')
		loader_error(l, line, "[%s] %s: empty value; expected %s", sec, s->key, exp);
	else
		loader_error(l, line, "[%s] %s: \"%s\"%s; expected %s", sec, s->key, v, what, exp);
	return -EINVAL;
}
