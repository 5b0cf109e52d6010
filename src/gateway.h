/*
 * gateway: one running sctpgw process.
 *
 * Owns the association and one listener per forward, and handles signals:
 * SIGTERM/SIGINT drain (stop accepting, let connections finish for up to
 * drain_timeout_ms, reset the rest, close the association gracefully, exit);
 * SIGUSR1 logs a status dump. With [gateway] admin set it also serves the
 * HTTP admin endpoint (admin.h), which reads the same counters through
 * gateway_snapshot and calls gateway_drain / gateway_reload.
 */
#ifndef SCTPGW_GATEWAY_H
#define SCTPGW_GATEWAY_H

#include "config.h"

struct gateway;
struct snapshot;

/* Run until stopped by a signal. Returns the process exit status. */
int gateway_run(const struct config *c);

/* Drain as SIGTERM does: stop accepting, let connections finish for up to
 * drain_timeout_ms, reset the rest, close the association, leave the loop.
 * 0, or -EALREADY when already draining (nothing more happens). */
int gateway_drain(struct gateway *g);

/* Load the config file again and apply it. 0, or -errno (the old config
 * keeps running); -ENOSYS while reload is not implemented. */
int gateway_reload(struct gateway *g);

/* The numbers /metrics and /status serve (snapshot.h). */
void gateway_snapshot(struct gateway *g, struct snapshot *s);

#endif
