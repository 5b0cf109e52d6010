/*
 * snapshot: every number the admin endpoint serves, copied out of the
 * running gateway at one instant.
 *
 * Start here to add a metric: snapshot_take() (snapshot.c) reads the
 * counters the SIGUSR1 status dump reads (assoc, path table, conn_limits,
 * the engine's stats op) into this plain struct; metrics.c renders it as
 * Prometheus text and status.c as JSON or lines. The renderers are pure
 * functions of a snapshot, unit-tested without a gateway (tests/unit/
 * test_metrics.c). Labels are strings in the snapshot so the renderers
 * need no enum tables.
 */
#ifndef SCTPGW_SNAPSHOT_H
#define SCTPGW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "engine.h"
#include "udp_flow.h"

#define SNAPSHOT_LOSSES   4 /* ASSOC_LOSS_N_ */
#define SNAPSHOT_REFUSALS 7 /* LIMITS_REFUSED_N_ */
#define SNAPSHOT_STATES   3 /* enum engine_path_state */

struct snapshot_path {
	char name[CONFIG_NAME_MAX];
	char local[ADDR_STRLEN], remote[ADDR_STRLEN];
	int priority;
	bool known;        /* the engine answered: the fields below are valid */
	const char *state; /* "unconfirmed", "reachable", "unreachable"; "down" when !known */
	bool primary;
	double srtt_s, rto_s;
	uint64_t cwnd_bytes;
	uint64_t failures, failovers;
};

struct snapshot_forward {
	char name[CONFIG_NAME_MAX];
	uint64_t active, accepted;
	uint64_t refused[SNAPSHOT_REFUSALS];
	uint64_t bytes_up, bytes_down; /* client -> target, target -> client */
	unsigned max_connections;      /* 0: none of its own */
};

struct snapshot {
	char gateway[CONFIG_NAME_MAX];
	const char *version, *engine, *transport, *role;
	const char *state;          /* assoc_state_name */
	char peer[CONFIG_NAME_MAX]; /* the peer's name from its HELLO, printable; "" when none */
	bool established;           /* READY: up and authenticated (or insecure on both sides) */
	bool authenticated;         /* the peer proved the key (false with insecure = yes) */
	bool draining;
	double uptime_s;

	uint64_t establishments;
	const char *loss_names[SNAPSHOT_LOSSES];
	uint64_t losses[SNAPSHOT_LOSSES];
	uint64_t attempts_failed;
	uint64_t auth_failures;
	uint64_t rekeys, rekeys_failed; /* key rotations on the live association */
	uint64_t msg_forged, msg_replayed, msg_missing;
	bool have_engine_stats;
	struct engine_stats engine_stats;

	unsigned streams_in_use, streams_limit;
	uint64_t mem_reserved, memory_limit;
	uint64_t conns_active;
	uint64_t fd_shed;
	uint64_t egress_refused, egress_unresolved; /* the peer's OPENs refused here */
	uint64_t goaway_refused;                    /* clients reset: the peer drains */
	uint64_t draining_refused;                  /* the peer's OPENs refused: we drain */
	uint64_t reloads, reloads_failed;           /* set by gateway_snapshot */
	uint64_t udp_flows, udp_max_flows;          /* UDP flows carried now, the cap */
	struct udp_counters udp;                    /* udp_flow.h */

	size_t n_paths;
	struct snapshot_path paths[CONFIG_MAX_PATHS];
	const char *refusal_names[SNAPSHOT_REFUSALS];
	size_t n_forwards;
	struct snapshot_forward forwards[CONFIG_MAX_FORWARDS];
};

struct assoc;

/* Fill S from the running association A (never fails; a path the engine
 * cannot describe is !known). TRANSPORT: "udp" or "sctp"; UPTIME_S since
 * start. */
void snapshot_take(struct snapshot *s, struct assoc *a, const char *transport, bool draining,
                   double uptime_s);

/* Whether S counts as ready for /readyz: established and not draining. */
static inline bool snapshot_ready(const struct snapshot *s)
{
	return s->established && !s->draining;
}

#endif
