/* addr: see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest host text we accept: a full IPv6 literal plus "%" and an interface
 * name. Anything longer cannot be an address, so we refuse it before copying. */
#define ADDR_HOST_MAX (INET6_ADDRSTRLEN + 1 + IF_NAMESIZE)

/* Decimal digits only, 1..65535: "+80", " 80", "0x50" and "80a" are refused
 * because strtoul would quietly accept some of them. */
static int addr_parse_port(const char *text, uint16_t *out)
{
	unsigned long v = 0;

	if (*text == '\0')
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "fe80::1%eth0" or "fe80::1%2": link-local addresses are ambiguous without
 * the interface, so the scope is part of the address. A name is looked up in
 * the kernel's interface table (no DNS, no blocking). */
static int addr_parse_scope(const char *text, uint32_t *out)
{
	unsigned long v = 0;
	bool numeric = *text != '\0';

	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9') {
			numeric = false;
			break;
		}
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	if (numeric) {
		*out = (uint32_t)v;
		return 0;
	}
	if (*text == '\0' || strlen(text) >= IF_NAMESIZE)
		return -EINVAL;
	unsigned idx = if_nametoindex(text);
	if (idx == 0)
		return -EINVAL;
	*out = idx;
	return 0;
}

/* The address part only: IPv4 dotted quad, or IPv6 with an optional scope. */
static int addr_parse_literal(const char *text, size_t len, struct sockaddr_storage *out)
{
	char buf[ADDR_HOST_MAX + 1];

	if (len == 0 || len > ADDR_HOST_MAX)
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';

	memset(out, 0, sizeof *out);

	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}

	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	char *pct = strchr(buf, '%');
	if (pct)
		*pct = '\0';
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return -EINVAL;
	if (pct && addr_parse_scope(pct + 1, &sin6->sin6_scope_id) != 0)
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	return 0;
}

int addr_parse_host(const char *text, struct sockaddr_storage *out)
{
	struct sockaddr_storage tmp;

	/* Parse into a scratch copy so a failure never leaves *out half written. */
	if (!text || addr_parse_literal(text, strlen(text), &tmp) != 0)
		return -EINVAL;
	*out = tmp;
	return 0;
}

int addr_parse_endpoint(const char *text, struct sockaddr_storage *out)
{
	struct sockaddr_storage tmp;
	const char *host, *port;
	size_t host_len;
	uint16_t p;

	if (!text)
		return -EINVAL;
	if (text[0] == '[') {
		/* Brackets are only for IPv6: inside them a colon is not the port. */
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		host = text + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
	} else {
		/* Without brackets there must be exactly one colon, so an IPv6
		 * literal cannot lose its last group to the port by accident. */
		const char *colon = strchr(text, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		host = text;
		host_len = (size_t)(colon - text);
		port = colon + 1;
	}

	if (addr_parse_literal(host, host_len, &tmp) != 0)
		return -EINVAL;
	if ((text[0] == '[') != (tmp.ss_family == AF_INET6))
		return -EINVAL;
	if (addr_parse_port(port, &p) != 0)
		return -EINVAL;
	addr_set_port(&tmp, p);
	*out = tmp;
	return 0;
}

socklen_t addr_len(const struct sockaddr_storage *a)
{
	switch (a->ss_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

uint16_t addr_port(const struct sockaddr_storage *a)
{
	switch (a->ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	default:
		return 0;
	}
}

void addr_set_port(struct sockaddr_storage *a, uint16_t port)
{
	switch (a->ss_family) {
	case AF_INET:
		((struct sockaddr_in *)a)->sin_port = htons(port);
		break;
	case AF_INET6:
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
		break;
	default:
		break;
	}
}

const char *addr_format(const struct sockaddr_storage *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	char scope[IF_NAMESIZE + 1] = "";
	uint16_t port = addr_port(a);

	if (len == 0)
		return buf;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		if (port)
			snprintf(buf, len, "%s:%u", host, port);
		else
			snprintf(buf, len, "%s", host);
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)a;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		if (sin6->sin6_scope_id) {
			char name[IF_NAMESIZE];
			/* Prefer the name a user wrote; fall back to the number
			 * when the interface has gone away. */
			if (if_indextoname(sin6->sin6_scope_id, name))
				snprintf(scope, sizeof scope, "%%%s", name);
			else
				snprintf(scope, sizeof scope, "%%%u", sin6->sin6_scope_id);
		}
		if (port)
			snprintf(buf, len, "[%s%s]:%u", host, scope, port);
		else
			snprintf(buf, len, "%s%s", host, scope);
	} else {
		snprintf(buf, len, "(unspecified)");
	}
	return buf;
}

bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
	}
	/* Unset or foreign families never compare equal: nothing here can
	 * tell what their bytes mean. */
	return false;
}

struct sockaddr_storage addr_unmapped(const struct sockaddr_storage *a)
{
	struct sockaddr_storage h = *a;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	if (a->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		struct sockaddr_in *h4 = (struct sockaddr_in *)&h;
		memset(&h, 0, sizeof h);
		h4->sin_family = AF_INET;
		h4->sin_port = a6->sin6_port;
		memcpy(&h4->sin_addr, &a6->sin6_addr.s6_addr[12], 4);
	}
	return h;
}
