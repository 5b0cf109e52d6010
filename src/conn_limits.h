/*
 * conn_limits: how many connections a gateway carries, and for how long an idle
 * one may stay ([gateway] max_connections, idle_timeout_s,
 * [forward.NAME] max_connections; sctpgw.ini(5)).
 *
 * Start here: the association embeds one struct limits. Before a new
 * connection is made, the listener (entry side: a client) asks
 * limits_admit_client() and the association (exit side: the peer's OPEN)
 * asks limits_admit_open(); a refusal is counted and logged (rate-limited)
 * and the caller resets the client or answers RST "resources". The
 * per-forward counts follow conn_open (limits_conn_opened) and the
 * connection's end (limits_conn_gone). The idle sweep walks the
 * association's connections every idle_timeout_s / 4 and resets those
 * that moved no byte either way for idle_timeout_s.
 * memory_limit (assoc.c) is the other bound; whichever is reached first
 * refuses.
 */
#ifndef SCTPGW_CONN_LIMITS_H
#define SCTPGW_CONN_LIMITS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct assoc;
struct conn;

/* Why a client of a forward was reset instead of carried (the metric
 * sctpgw_forward_connections_refused_total{reason}, docs/OPERATIONS.md). */
enum limits_refusal {
	LIMITS_REFUSED_NOT_READY,       /* no association (or not authenticated yet) */
	LIMITS_REFUSED_MAX_CONNECTIONS, /* [gateway] max_connections */
	LIMITS_REFUSED_FORWARD_LIMIT,   /* [forward.NAME] max_connections */
	LIMITS_REFUSED_MEMORY,          /* memory_limit */
	LIMITS_REFUSED_STREAMS,         /* no free stream */
	LIMITS_REFUSED_PEER,            /* the peer answered OPEN with RST (target refused...) */
	LIMITS_REFUSED_TIMEOUT,         /* the peer answered OPEN too late */
	LIMITS_REFUSED_N_,
};

/* "not_ready", "max_connections", ...: the label value. */
const char *limits_refusal_name(enum limits_refusal r);

struct limits {
	struct ev_loop *loop;
	struct assoc *assoc;
	unsigned max_total;      /* connections both ways; 0: no limit of its own */
	unsigned idle_timeout_s; /* 0: off */
	bool keepalive;          /* [gateway] tcp_keepalive and its timers */
	int keep_idle, keep_interval, keep_count;
	size_t n_forwards;
	struct {
		char name[CONFIG_NAME_MAX];
		unsigned max;  /* 0: no limit of its own */
		unsigned open; /* clients of this forward now carried */
		/* Since start, for /metrics (the peer's refusals count in
		 * accepted too: their OPEN went out). */
		uint64_t accepted; /* clients carried: an OPEN went to the peer */
		uint64_t refused[LIMITS_REFUSED_N_];
		uint64_t bytes_up, bytes_down; /* of its connections that ended */
	} fwd[CONFIG_MAX_FORWARDS];
	ev_timer sweep;
	uint64_t n_refused_total;   /* at max_connections, both sides */
	uint64_t n_refused_forward; /* at a forward's max_connections */
	uint64_t n_idle_reset;      /* reset by the idle timeout */
};

void limits_init(struct limits *l, struct ev_loop *loop, struct assoc *a, const struct config *c);
/* Reload: max_connections (total and per forward, matched by name),
 * idle_timeout_s. Connections already carried stay; a lower limit only
 * refuses new ones. */
void limits_reload(struct limits *l, const struct config *c);
void limits_stop(struct limits *l);

/* Entry side: may a client of forward FWD (at WHO) be carried while N_CONNS
 * connections are? False: refused, counted and logged. */
bool limits_admit_client(struct limits *l, size_t n_conns, const char *fwd, const char *who);
/* Exit side: may the peer's OPEN on SID for forward FWD be carried? */
bool limits_admit_open(struct limits *l, size_t n_conns, uint16_t sid, const char *fwd);

/* Bound what the kernel holds for one TCP socket to about WINDOW each way
 * (issue 12, item 3): SO_SNDBUF and SO_RCVBUF of WINDOW / 2 (at least
 * 64 KiB), which the kernel doubles for its own accounting. Without it TCP autotuning let one
 * connection whose far end stopped reading hold megabytes (docs/
 * ARCHITECTURE.md, "Backpressure and memory"). Best effort: a failure
 * leaves the kernel's defaults. */
void limits_socket_bufs(int fd, size_t window);

/* TCP keepalive on a client or target socket as [gateway] tcp_keepalive*
 * say (issue 10, item 7): a peer that vanished without FIN or RST (host
 * gone, link cut) stops answering the probes, the kernel fails the socket
 * with ETIMEDOUT after idle + interval x count seconds, and the connection
 * is reset on both sides, its stream freed. Best effort, as above. */
void limits_socket_keepalive(const struct limits *l, int fd);

/* C (an opener, its target set) now counts against its forward. */
void limits_conn_opened(struct limits *l, struct conn *c);
/* C's OPEN goes to the peer: one more client of its forward carried. */
void limits_conn_carried(struct limits *l, struct conn *c);
/* A client of forward FWD was reset for WHY: count it. */
void limits_refused(struct limits *l, const char *fwd, enum limits_refusal why);
/* C ends: it no longer counts. */
void limits_conn_gone(struct limits *l, struct conn *c);

#endif
