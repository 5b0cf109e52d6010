/*
 * notify: tell a service manager (systemd, Type=notify) how the gateway is.
 *
 * Start here for the systemd integration. The gateway calls notify_new once
 * its listeners are open and the association is started (READY=1), and
 * notify_stopping when a stop signal starts the drain (STOPPING=1). In
 * between, under a service manager, a check watcher compares the
 * association's state and primary path after every turn of the event loop
 * and sends STATUS= when they changed; when the manager asked for a
 * watchdog (WATCHDOG_USEC), a timer
 * of the same loop sends WATCHDOG=1 at half that period, so a loop that
 * hangs stops the pings and the manager restarts the service.
 *
 * Without NOTIFY_SOCKET (not started by systemd) every call does nothing;
 * built without libsystemd (meson -Dsystemd=disabled) likewise.
 */
#ifndef SCTPGW_NOTIFY_H
#define SCTPGW_NOTIFY_H

#include <ev.h>

struct assoc;

/* Send READY=1 and start watching A. NULL only when out of memory (logged);
 * the gateway runs on without notifications then. */
struct notify *notify_new(struct ev_loop *loop, const struct assoc *a);
/* STOPPING=1 with a STATUS line saying so. */
void notify_stopping(struct notify *n);
/* Stop the watchers. notify_free(NULL) is fine. */
void notify_free(struct notify *n);

#endif
