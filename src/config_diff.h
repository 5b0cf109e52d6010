/*
 * config_diff: what a reload changes, old config against new.
 *
 * Start here to learn which keys reload live. Pure: two struct config in,
 * a plan out, no I/O, so the unit tests check it directly (test_reload.c).
 * reload.c applies the plan to the running gateway.
 *
 * Live (applied by reload.c): forwards added, removed and changed (target,
 * max_connections); path priorities; [sctp] timers; failback_hold_ms;
 * conn_window, conn_window_max, memory_limit, max_connections,
 * idle_timeout_s, connect_timeout_ms, drain_timeout_ms, log_level; the keys
 * in psk_file (read again; a new first key on the connect side rotates
 * the running association's keys, rekey.c).
 * Restart only (CONFIG_DIFF_RESTART: reported "KEY changed: needs a
 * restart", the running value kept): the keys of restart_keys in
 * config_diff.c, and a path added, removed, or with another local or
 * remote address.
 */
#ifndef SCTPGW_CONFIG_DIFF_H
#define SCTPGW_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum config_diff_fwd {
	CONFIG_DIFF_FWD_SAME,    /* nothing changed */
	CONFIG_DIFF_FWD_ADDED,   /* a new listener */
	CONFIG_DIFF_FWD_REMOVED, /* listener closed; its connections finish */
	CONFIG_DIFF_FWD_CHANGED, /* target or max_connections: for new connections */
	CONFIG_DIFF_FWD_MOVED,   /* listen address or protocol: removed, then added */
};

#define CONFIG_DIFF_MAX_RESTART 48
#define CONFIG_DIFF_KEY_MAX     (CONFIG_NAME_MAX + 48)

struct config_diff {
	/* "[gateway] engine changed", "[path.wan3] added", ...: changes that
	 * need a restart; the running value stays. */
	char restart[CONFIG_DIFF_MAX_RESTART][CONFIG_DIFF_KEY_MAX];
	size_t n_restart;
	/* One entry per forward name in either file: old index (or -1) and
	 * new index (or -1). */
	struct {
		enum config_diff_fwd what;
		int old_i, new_i;
	} fwd[2 * CONFIG_MAX_FORWARDS];
	size_t n_fwd;
	bool priorities; /* some path's priority changed */
	bool live;       /* some live key changed (anything but forwards) */
};

/* Compare OLD (running) with NEW (just loaded) into D. */
void config_diff(const struct config *old, const struct config *new, struct config_diff *d);

/* Make NEW what will run after the reload: every restart-only value (and
 * the path list, with NEW's priorities) taken back from OLD, so the
 * running config says what runs and the next reload reports them again. */
void config_diff_keep_running(const struct config *old, struct config *new);

const char *config_diff_fwd_name(enum config_diff_fwd what);

#endif
