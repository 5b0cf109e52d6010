/*
 * gateway: one running sctpgw process.
 *
 * Owns the association, one listener per forward and the running config,
 * and handles signals: SIGHUP reloads the config file (reload.c,
 * gateway_reload); SIGTERM/SIGINT drain (gateway_drain: stop accepting, tell
 * the peer GOAWAY, let connections finish for up to drain_timeout_ms, reset
 * the rest, close the association gracefully, exit 0); SIGUSR1 logs a
 * status dump. With [gateway] admin set it also serves the HTTP admin
 * endpoint (admin.h), which reads the same counters through gateway_snapshot
 * and calls gateway_drain / gateway_reload.
 */
#ifndef SCTPGW_GATEWAY_H
#define SCTPGW_GATEWAY_H

#include <ev.h>
#include <stdbool.h>

#include "config.h"

struct admin;
struct assoc;
struct listener;
struct notify;
struct resolver;
struct snapshot;
struct udp_listener;

struct gateway {
	struct ev_loop *loop;
	struct config *cfg; /* what runs now (owned; a reload replaces it) */
	struct assoc *assoc;
	struct listener *listeners[CONFIG_MAX_FORWARDS]; /* one per forward, any order */
	size_t n_listeners;
	struct udp_listener *udp_listeners[CONFIG_MAX_FORWARDS]; /* protocol = udp */
	size_t n_udp_listeners;
	unsigned drain_timeout_ms;
	bool draining;
	struct notify *notify; /* systemd Type=notify; NULL without */
	struct admin *admin;   /* [gateway] admin; NULL when off */
	const char *transport; /* "udp" or "sctp": what the wire carries */
	ev_tstamp started;
	struct resolver *resolver; /* host-name targets (resolver.h); NULL: c-ares failed */
	ev_signal sigterm, sigint, sigusr1, sighup;
	ev_timer drain_poll, deadline;
	ev_timer log_flush; /* reports what rate-limited log sites suppressed */
	uint64_t n_reloads, n_reload_failed;
};

/* Run until stopped by a signal. Returns the process exit status. */
int gateway_run(const struct config *c);

/* Read the config file again and apply it (reload.c): forwards added,
 * removed, changed; priorities, timers, limits live; keys that need a
 * restart are logged "KEY changed: needs a restart" and keep their running
 * value. Returns 0 when the new config was applied; -EINVAL when the file
 * is broken (every error logged as --check prints it; the old config keeps
 * running); -EADDRINUSE (or another -errno) when a new forward cannot
 * listen (nothing changed); -EBUSY while draining. */
int gateway_reload(struct gateway *g);

/* Start draining (SIGTERM, SIGINT, the admin endpoint's drain): stop the
 * listeners, send GOAWAY so the peer opens nothing more here, let the
 * connections finish for up to drain_timeout_ms, reset what remains, close
 * the association with SHUTDOWN; the process then exits 0. A second call
 * does nothing and returns -EALREADY; 0 otherwise. */
int gateway_drain(struct gateway *g);

/* Whether a drain has begun (readiness is false from then on). */
bool gateway_draining(const struct gateway *g);

/* The numbers /metrics and /status serve (snapshot.h). */
void gateway_snapshot(struct gateway *g, struct snapshot *s);

#endif
