/*
 * egress: what the peer gateway may ask this gateway to connect to.
 *
 * Start here for the allow list of [egress] allow (docs/SECURITY.md). The
 * exit gateway checks every destination of every OPEN against it before
 * it connects: a fixed target, a captured original destination, and each
 * address a host name resolved to. Nothing is allowed that the list does
 * not name; an empty list (no [egress] section) allows nothing.
 *
 * A rule is a network (address and prefix length) with an optional port.
 * Rules only allow; there is no deny and no order. Pure functions, no I/O:
 * config_egress.c turns the user's text into rules, tests/unit/test_egress.c
 * pins the matching.
 *
 * IPv4-mapped IPv6 destinations (::ffff:a.b.c.d) reach IPv4 hosts, so they
 * are matched as the IPv4 address they stand for (egress_normalize), and only
 * IPv4 rules can allow them; an IPv6 rule such as ::/0 does not. The
 * unspecified addresses 0.0.0.0 and :: reach this host's own services and
 * are never allowed, whatever the list says.
 */
#ifndef SCTPGW_EGRESS_H
#define SCTPGW_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define EGRESS_RULES_MAX 128

struct egress_rule {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix;     /* 0..32 or 0..128 */
	uint16_t port;      /* 0: every port */
	uint8_t addr[16];   /* the network, host bits zero; IPv4 in the first 4 bytes */
};

struct egress_list {
	size_t n;
	struct egress_rule rule[EGRESS_RULES_MAX];
};

/* An IPv4-mapped IPv6 address in DST becomes the plain IPv4 address (same
 * port); anything else is left as it is. */
void egress_normalize(struct sockaddr_storage *dst);

/* Whether some rule of L names DST (AF_INET or AF_INET6, port set),
 * after egress_normalize. */
bool egress_allows(const struct egress_list *l, const struct sockaddr_storage *dst);

/* "10.0.0.0/8", "192.0.2.10:443", "[2001:db8::]/32:53", "[::1]:80".
 * Returns BUF. */
const char *egress_rule_format(const struct egress_rule *r, char *buf, size_t len);

#endif
