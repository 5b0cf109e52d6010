/*
 * admin: the HTTP admin endpoint ([gateway] admin = ADDR:PORT).
 *
 * Start here to add an endpoint. libmicrohttpd serves it from the
 * gateway's own libev loop, in MHD's "external select" mode with epoll:
 * one ev_io watches MHD's epoll descriptor, one ev_timer follows
 * MHD_get_timeout, and each calls MHD_run, which does only non-blocking
 * work. No thread, so MHD reads the association and connection counters
 * without locks, and a request costs the data path one short callback.
 *
 *   GET  /metrics  Prometheus text format 0.0.4 (metrics.h)
 *   GET  /healthz  200 while the process and its loop run (it answers from the loop)
 *   GET  /readyz   200 when the association is up and authenticated and not
 *                  draining, else 503
 *   GET  /status   JSON, or one record per line with ?format=lines (status.h)
 *   POST /reload   gateway_reload(): 200, or 501 when reload is not available
 *   POST /drain    gateway_drain(): 202
 *
 * Abuse it cannot turn into harm: at most ADMIN_MAX_CONNS connections
 * (more are refused by MHD), requests larger than ADMIN_MEMORY_LIMIT
 * answered 431/413 and closed, a connection idle for ADMIN_IDLE_S closed,
 * and any connection older than ADMIN_LIFETIME_S shut down whatever it is
 * doing (a client trickling one byte a second would otherwise hold its
 * slot forever: MHD's timeout counts only idleness).
 */
#ifndef SCTPGW_ADMIN_H
#define SCTPGW_ADMIN_H

#include <ev.h>
#include <sys/socket.h>

#define ADMIN_MAX_CONNS    32
#define ADMIN_MEMORY_LIMIT (16 * 1024) /* per connection: request line, headers, answer */
#define ADMIN_BODY_MAX     1024        /* POST bodies are ignored; a longer one is refused */
#define ADMIN_IDLE_S       5
#define ADMIN_LIFETIME_S   10

struct gateway;
struct admin;

/* Listen on ADDR and serve G. NULL after logging why. */
struct admin *admin_new(struct ev_loop *loop, const struct sockaddr_storage *addr,
                        struct gateway *g);
/* Stop serving, close every connection. admin_free(NULL) is fine. */
void admin_free(struct admin *a);

#endif
