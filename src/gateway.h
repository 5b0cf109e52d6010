/*
 * gateway: one running sctpgw process.
 *
 * Owns the association and one listener per forward, and handles signals:
 * SIGTERM/SIGINT drain (stop accepting, let connections finish for up to
 * drain_timeout_ms, reset the rest, close the association gracefully, exit);
 * SIGUSR1 logs a status dump.
 */
#ifndef SCTPGW_GATEWAY_H
#define SCTPGW_GATEWAY_H

#include "config.h"

/* Run until stopped by a signal. Returns the process exit status. */
int gateway_run(const struct config *c);

#endif
