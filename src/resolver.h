/*
 * resolver: host names to addresses, on the event loop, with c-ares.
 *
 * Start here for host-name targets (docs/ARCHITECTURE.md, "resolver"). The
 * exit gateway asks once per connection (no cache here: c-ares keeps none,
 * so every connection sees the records as DNS serves them now, TTLs
 * included). c-ares' sockets are watched by ev_io watchers this object
 * owns (ARES_OPT_SOCK_STATE_CB tells which), its timeouts by one ev_timer
 * (ares_timeout), so the loop never blocks on DNS.
 *
 * Answers are always delivered from the loop, never from inside
 * resolver_lookup (c-ares may answer at once, e.g. from /etc/hosts): a
 * caller can count on its state being as it left it. A query the caller
 * no longer wants is cancelled and its callback never runs.
 */
#ifndef SCTPGW_RESOLVER_H
#define SCTPGW_RESOLVER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVER_ADDRS_MAX 16 /* addresses kept from one answer, in its order */

struct resolver;
struct resolver_query;

/* STATUS: 0 (N >= 1 addresses, port set, in the order c-ares gives them:
 * RFC 6724), -ENOENT (no such name, or no address of either family),
 * -ETIMEDOUT (no answer from the servers), -EIO (any other failure). WHY
 * says it in words, for logs. */
typedef void (*resolver_cb)(void *ctx, int status, const char *why,
                            const struct sockaddr_storage *addrs, size_t n);

/* SERVERS: c-ares' CSV of "addr:port" (config_egress.h), or "" for the
 * servers of /etc/resolv.conf. TIMEOUT_MS: how long one try may take
 * (c-ares tries each server up to twice). NULL on failure, logged. */
struct resolver *resolver_new(struct ev_loop *loop, const char *servers, unsigned timeout_ms);
void resolver_free(struct resolver *r);

/* Look NAME up, IPv6 and IPv4 together; CB(CTX, ...) later, once. NULL
 * when out of memory (CB never runs). */
struct resolver_query *resolver_lookup(struct resolver *r, const char *name, uint16_t port,
                                       resolver_cb cb, void *ctx);

/* The caller no longer wants Q's answer: its callback will not run. */
void resolver_cancel(struct resolver_query *q);

/* "c-ares 1.18.1, servers 198.18.20.2:53" for the start-up log. */
const char *resolver_describe(const struct resolver *r, char *buf, size_t len);

#endif
