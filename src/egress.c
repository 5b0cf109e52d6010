/* egress: see egress.h. */
#include "egress.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void egress_normalize(struct sockaddr_storage *dst)
{
	if (dst->ss_family != AF_INET6)
		return;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)dst;
	if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(dst, 0, sizeof *dst);
	memcpy(dst, &s4, sizeof s4);
}

/* Whether the first PREFIX bits of A and B are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool egress_allows(const struct egress_list *l, const struct sockaddr_storage *dst)
{
	struct sockaddr_storage d = *dst;
	uint8_t addr[16] = {0};
	uint16_t port;

	egress_normalize(&d);
	if (d.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&d;
		memcpy(addr, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
		if (s4->sin_addr.s_addr == htonl(INADDR_ANY))
			return false;
	} else if (d.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&d;
		memcpy(addr, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return false;
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct egress_rule *r = &l->rule[i];
		if (r->family == d.ss_family && (r->port == 0 || r->port == port) &&
		    prefix_equal(r->addr, addr, r->prefix))
			return true;
	}
	return false;
}

const char *egress_rule_format(const struct egress_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", port[8] = "";
	inet_ntop(r->family, r->addr, a, sizeof a);
	if (r->port)
		snprintf(port, sizeof port, ":%u", r->port);
	unsigned full = r->family == AF_INET ? 32 : 128;
	char pfx[8] = "";
	if (r->prefix != full)
		snprintf(pfx, sizeof pfx, "/%u", r->prefix);
	if (r->family == AF_INET)
		snprintf(buf, len, "%s%s%s", a, pfx, port);
	else if (r->port)
		snprintf(buf, len, "[%s]%s%s", a, pfx, port);
	else
		snprintf(buf, len, "%s%s", a, pfx);
	return buf;
}
