/*
 * path: which WAN path carries the data, and when that changes.
 *
 * Each [path.NAME] is one remote address of the association. SCTP itself
 * watches every path (heartbeats, retransmission counts, the
 * potentially-failed state of RFC 7829) and already sends around a failing
 * primary; this module applies the user's priorities on top:
 *
 *   - the best (lowest priority value) reachable path is the primary;
 *   - when the primary becomes unreachable, the next best takes over now;
 *   - when a better path comes back, it becomes primary only after it has
 *     stayed reachable for its hold-down, failback_hold_ms, so a flapping
 *     link does not bounce traffic;
 *   - a path that fails again soon after it came back (within twice its
 *     hold-down) is flapping: its hold-down doubles, up to
 *     PATH_HOLD_MAX_FACTOR x failback_hold_ms, and returns to
 *     failback_hold_ms once the path has stayed up for twice the longer one.
 *     A fail-back into a link that is dying again costs a failover each
 *     time, and with usrsctp a lost retransmission timer (ackwatch.h).
 *
 * Every state change is one log line: "path NAME: OLD -> NEW (REASON)" and
 * "primary path: OLD -> NEW (REASON)".
 */
#ifndef SCTPGW_PATH_H
#define SCTPGW_PATH_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "engine.h"

struct path {
	char name[CONFIG_NAME_MAX];
	struct sockaddr_storage local, remote;
	int priority;
	enum engine_path_state state;
	ev_tstamp reachable_since; /* when state last became REACHABLE */
	bool recovered;            /* came back from UNREACHABLE in this association */
	double hold;               /* its fail-back hold-down now, seconds */
	uint64_t n_failures;       /* reachable -> unreachable, since start */
	uint64_t n_failovers;      /* the primary left it because it failed, since start */
};

#define PATH_HOLD_MAX_FACTOR 8

struct path_table {
	struct ev_loop *loop;
	struct engine *engine;
	size_t n;
	struct path paths[CONFIG_MAX_PATHS]; /* engine_params order: best first at start */
	bool up;                             /* an association exists */
	bool degraded;                       /* a path has failed since it came up */
	size_t primary;                      /* index of the path we made primary */
	double hold;                         /* failback_hold_ms in seconds */
	ev_timer failback;                   /* runs while a better path proves itself */
};

/* ORDER[k] = index in C->paths of the k-th best path (lowest priority value
 * first, file order among equals): also the order of the engine's
 * addresses, so path index i here is engine path i. */
void path_order(const struct config *c, size_t order[CONFIG_MAX_PATHS]);

/* Copy the paths of C, best first. ENGINE is set later (path_attach). */
void path_table_init(struct path_table *t, struct ev_loop *loop, const struct config *c);
void path_attach(struct path_table *t, struct engine *e);

/* Reload: the priorities of the paths C names as this table does (by
 * name; addresses cannot change at run time) and failback_hold_ms. When
 * a reachable path is now preferred to the primary it becomes primary at
 * once, logged "primary path: OLD -> NEW (priorities changed by reload)". */
void path_reload(struct path_table *t, const struct config *c);

/* The association came up / went down. */
void path_assoc_up(struct path_table *t);
void path_assoc_down(struct path_table *t);

/* The engine says a path may have changed: re-read, log, choose. */
void path_event(struct path_table *t);

/* One status line per path (SIGUSR1). */
void path_log_status(struct path_table *t);

/* Stop the timer. */
void path_table_fini(struct path_table *t);

const char *path_state_name(enum engine_path_state s);

#endif
