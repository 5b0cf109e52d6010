/*
 * addr: socket addresses as users write them.
 *
 * "192.0.2.1:80", "[2001:db8::1]:443" (endpoints) and "198.18.1.1",
 * "2001:2::1" (bare hosts). Literal addresses only: nothing here resolves
 * names, so nothing here blocks.
 */
#ifndef SCTPGW_ADDR_H
#define SCTPGW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text addr_format() writes: "[v6%scope]:65535" and a NUL. */
#define ADDR_STRLEN 64

/* Parse "host:port" (IPv6 in brackets). Port 1..65535 is required.
 * Returns 0 or -EINVAL. */
int addr_parse_endpoint(const char *text, struct sockaddr_storage *out);

/* Parse a bare IPv4 or IPv6 literal (no port, no brackets); port set 0.
 * Returns 0 or -EINVAL. */
int addr_parse_host(const char *text, struct sockaddr_storage *out);

/* Length of the sockaddr for its family (sizeof sockaddr_in or _in6). */
socklen_t addr_len(const struct sockaddr_storage *a);

uint16_t addr_port(const struct sockaddr_storage *a);
void addr_set_port(struct sockaddr_storage *a, uint16_t port);

/* "198.18.0.1:80" / "[2001:2::1]:80"; port omitted when 0. Returns buf. */
const char *addr_format(const struct sockaddr_storage *a, char *buf, size_t len);

/* Same family, address and port. */
bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* A, with an IPv4-mapped IPv6 address (::ffff:a.b.c.d) turned into plain
 * IPv4, port kept: both name the same host. Anything else unchanged. */
struct sockaddr_storage addr_unmapped(const struct sockaddr_storage *a);

#endif
