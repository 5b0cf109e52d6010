/*
 * assoc: the one association between two gateways, above the engine seam.
 *
 * Start here to follow a connection. The assoc owns the engine, the stream
 * table and every struct conn. It opens the association (connect role:
 * again and again with capped back-off), exchanges HELLO on stream 0, then
 * routes each incoming frame to the connection on its stream.
 *
 *   DOWN --open()--> CONNECTING --engine up--> HELLO --peer HELLO ok--> READY
 *     ^                  |                       |                       |
 *     +------ engine down (connect role: retry after back-off) ---------+
 *   READY --assoc_shutdown()--> CLOSING --engine down--> DOWN (stays)
 */
#ifndef SCTPGW_ASSOC_H
#define SCTPGW_ASSOC_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "engine.h"
#include "path.h"
#include "stream.h"
#include "tcp_conn.h"

enum assoc_state {
	ASSOC_DOWN,       /* no association; connect role: retry timer runs */
	ASSOC_CONNECTING, /* connect role: an attempt is under way */
	ASSOC_HELLO,      /* SCTP is up; waiting for the peer's HELLO */
	ASSOC_READY,      /* HELLO exchanged: connections may open */
	ASSOC_CLOSING,    /* shutting down for good */
};

TAILQ_HEAD(conn_list, conn);

struct assoc {
	struct ev_loop *loop;
	struct engine *engine;
	enum assoc_state state;
	enum config_role role;
	char name[CONFIG_NAME_MAX];
	char peer_name[FRAME_NAME_MAX + 1];

	unsigned connect_timeout_ms; /* copied from config */
	size_t conn_window;          /* each connection's receive window at start */
	size_t conn_window_max;      /* ... and the most it may grow to (window.h) */
	size_t memory_limit;         /* bound on mem_reserved */
	size_t mem_reserved;         /* the windows of all open connections */
	uint32_t features;           /* FRAME_FEATURE_*: both sides' HELLO bits */
	double rtt;                  /* the primary path's smoothed RTT, s (assoc_rtt) */
	ev_tstamp rtt_at;            /* when rtt was read */

	struct stream_table *streams; /* while HELLO or READY */
	struct path_table paths;
	struct conn_list conns;
	size_t n_conns;
	struct conn_list waiting; /* blocked on engine room, FIFO */
	bool engine_full;         /* the last send found no room; no conn reads TCP */

	/* Connection messages that overtook the peer's HELLO (SCTP orders
	 * each stream, not the association): kept until HELLO, bounded. */
	struct early_msg **early;
	size_t n_early, early_bytes;

	ev_timer retry;
	double backoff;
	uint8_t *scratch; /* one frame, for reading TCP straight into */

	/* Told when the association goes down while CLOSING. */
	void (*on_closed)(void *ctx);
	void *ctx;
	bool closed_reported;
	unsigned failed_attempts; /* since the association was last up */

	/* Counters since start, for the status dump and tests. */
	uint64_t n_up, n_opened, n_refused;
	uint64_t n_refused_memory;   /* new connections refused at memory_limit */
	uint64_t refused_unlogged;   /* of those, not yet in a log line */
	ev_tstamp refused_logged_at; /* last such log line (0: none yet) */
};

/* "down", "connecting", "hello", "ready", "closing". */
const char *assoc_state_name(enum assoc_state s);

/* Create (does not open). Returns NULL after logging on failure. */
struct assoc *assoc_new(struct ev_loop *loop, const struct config *c);
void assoc_free(struct assoc *a);

/* Connect role: start connecting; accept role: start listening. */
int assoc_start(struct assoc *a);

/* Graceful end: reset what is left, SHUTDOWN, then on_closed. */
void assoc_shutdown(struct assoc *a);

/* --- for tcp_conn.c --- */

/* Send one frame on SID. 0, -EAGAIN (call assoc_wait), or -errno. */
int assoc_send(struct assoc *a, uint16_t sid, const void *msg, size_t len);
/* Encode F and send it on SID; same returns as assoc_send. */
int assoc_send_frame(struct assoc *a, uint16_t sid, const struct frame *f);
/* Queue C to be flushed when the engine has room. */
void assoc_wait(struct assoc *a, struct conn *c);
/* Reserve BY more bytes of memory_limit for a growing window: true when
 * they fit (and are now reserved), false when not. Growth never takes the
 * last 1/ASSOC_GROWTH_KEEP of memory_limit: that stays for new
 * connections, so busy windows cannot lock new clients out. */
#define ASSOC_GROWTH_KEEP 4
bool assoc_reserve(struct assoc *a, size_t by);
/* The primary path's smoothed round trip in seconds (0 when unknown),
 * read from the engine at most once a second. */
double assoc_rtt(struct assoc *a);
/* Whether memory_limit leaves room for one more connection's window. */
bool assoc_has_room(const struct assoc *a);
/* A new connection (WHAT: "client" or "peer's OPEN", WHO: its address or
 * stream, on forward FWD) was refused at memory_limit: count it; log at
 * most one line per ASSOC_LOG_EVERY seconds, with the count since. */
void assoc_refused_for_memory(struct assoc *a, const char *what, const char *who, const char *fwd);
/* Take a stream for a new outgoing connection: id or -ENOSPC / -ENOTCONN. */
int assoc_stream_alloc(struct assoc *a, struct conn *c);
/* Bind the peer's SID to C (the slot was checked free). */
void assoc_stream_accept(struct assoc *a, uint16_t sid, struct conn *c);
/* C is finished and about to be freed: unlink it and release its stream. */
void assoc_conn_gone(struct assoc *a, struct conn *c);

#endif
