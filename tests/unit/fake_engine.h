/*
 * fake_engine: an in-process engine for unit tests, no SCTP stack at all.
 *
 * Start here to test assoc and tcp_conn. fake_engine.c provides engine_new()
 * and engine_params_from_config(), so a test links it instead of engine.c.
 * Two fake engines paired with fake_engine_pair() are the two ends of one
 * association inside one process: what one sends is copied into the other's
 * inbox and handed to its callbacks from an ev_idle watcher, one event per
 * loop iteration, so nothing is delivered until the test runs the loop and
 * no callback ever runs inside an ops function.
 *
 * The test can also make sends fail with -EAGAIN (writable follows once
 * there is room), take the association down, inject raw messages as if the
 * peer had sent them, hold back messages of one type, and read a log of
 * every message each side sent. An unpaired engine made "peerless" comes up
 * on its own and drops what it sends (after logging it): a scripted peer.
 */
#ifndef SCTPGW_TEST_FAKE_ENGINE_H
#define SCTPGW_TEST_FAKE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct fake_ev;

#define FAKE_KEYS 8 /* SCTP-AUTH keys installed at once */

/* One message a side sent, as the log keeps it. */
struct fake_sent {
	uint16_t sid;
	size_t len;
	uint8_t head[3]; /* type, flags and the first body byte (RST reason) */
	bool urgent;     /* send's URGENT (engine.h) */
};

struct fake_engine {
	struct engine base;
	struct engine_params params;
	struct fake_engine *peer;
	struct fake_engine *next_all; /* every live fake engine */

	bool peerless;      /* no peer: open brings it up alone, sends are dropped */
	uint16_t streams;   /* stream count UP reports here (0: min of both params) */
	bool listening;     /* accept role: open() was called */
	bool up;            /* an association exists (UP queued or delivered) */
	bool shutting_down; /* SHUTDOWN sent, DOWN not yet */
	int hold_type;      /* FAKE_HOLD_NONE, FAKE_HOLD_ALL or a frame type */
	int hold_sid;       /* -1, or a stream whose messages wait (fake_engine_hold_sid) */
	int hold_sid2;      /* -1, or a second such stream */

	bool full;    /* every send gets -EAGAIN */
	int fail_err; /* the next send of a fail_type frame gets -fail_err */
	uint8_t fail_type;
	unsigned n_dgram;  /* unordered datagrams sent (send_dgram) */
	size_t limit;      /* at most this many sent messages undelivered (0: no limit) */
	size_t in_flight;  /* sent by this side, not yet delivered */
	bool owe_writable; /* a send got -EAGAIN: writable follows when there is room */

	struct fake_ev *inbox_head, **inbox_tail; /* events for this side, in order */
	ev_idle idle;

	/* What happened, for assertions. */
	unsigned n_open, n_up, n_down, n_abort, n_shutdown, n_eagain, n_writable;
	unsigned n_set_timers; /* reloads that reached the engine */
	char last_abort[128];
	char last_down[128];
	struct fake_sent *sent;
	size_t n_sent, sent_cap;
	struct engine_stats stats; /* what the stats op reports: set by the test */

	/* SCTP-AUTH, modelled (chunk_key): with chunk_auth set on both ends
	 * CHECK succeeds; keys by number (0, the null key, at each up). As
	 * usrsctp does, a message takes the number and bytes of the key
	 * active when it is QUEUED (send), and its packets carry them until
	 * they arrive: a message whose key number the receiver does not hold
	 * when it is DELIVERED, or holds with other bytes, is counted in the
	 * receiver's n_auth_bad (a real stack would drop every copy of it
	 * and the association would stall; here it is still delivered, and
	 * the test sees the count). DELETE is refused while a message queued
	 * under the key has not reached the peer (usrsctp's key refcount). */
	bool chunk_auth;
	struct fake_key {
		bool set;
		uint16_t id;
		size_t len;
		uint8_t key[64];
	} keys[FAKE_KEYS];
	uint16_t active;
	unsigned n_auth_bad, n_key_ops;
};

#define FAKE_HOLD_NONE (-2)
#define FAKE_HOLD_ALL  (-1)

/* The fake behind an engine made by engine_new(). */
struct fake_engine *fake_of(struct engine *e);

/* Make X and Y the two ends of one association. */
void fake_engine_pair(struct fake_engine *x, struct fake_engine *y);

/* No peer: open() brings E up with STREAMS streams; sends are only logged. */
void fake_engine_set_peerless(struct fake_engine *e, uint16_t streams);

/* The stream count UP reports to E (to make the two sides disagree). */
void fake_engine_set_streams(struct fake_engine *e, uint16_t streams);

/* Sends from E get -EAGAIN while FULL; writable follows when cleared. */
void fake_engine_set_full(struct fake_engine *e, bool full);

/* The next send by E of a frame of TYPE fails with -ERR (not -EAGAIN: the
 * engine refuses it for good). */
void fake_engine_fail_next(struct fake_engine *e, uint8_t type, int err);

/* At most N messages sent by E may wait for delivery (0: no limit). */
void fake_engine_set_limit(struct fake_engine *e, size_t n);

/* The association is lost: both ends get down(WHY); undelivered messages
 * are dropped. */
void fake_engine_down(struct fake_engine *e, const char *why);

/* The association restarts (an SCTP restart): both ends get down, then up
 * at once, with no open() in between. */
void fake_engine_restart(struct fake_engine *e);

/* Deliver MSG on SID to TO as if its peer had sent it (after whatever the
 * peer already sent). */
void fake_engine_inject(struct fake_engine *to, uint16_t sid, const void *msg, size_t len);

/* Stop delivering messages to TO whose type byte is TYPE (FAKE_HOLD_ALL:
 * every message) until fake_engine_release(). Order within a stream is kept,
 * as SCTP keeps it: what follows a held message on its stream waits too;
 * other streams go on. Up, down and writable still go. */
void fake_engine_hold(struct fake_engine *to, int type);
void fake_engine_release(struct fake_engine *to);
/* Hold every message to TO on stream SID (later ones on SID wait behind
 * them; other streams flow) until fake_engine_release(). */
void fake_engine_hold_sid(struct fake_engine *to, uint16_t sid);
/* Hold a second stream as well (each hold_sid call replaces the first). */
void fake_engine_hold_sid2(struct fake_engine *to, uint16_t sid);
/* Let the messages of held stream SID go; the other held stream stays. */
void fake_engine_release_sid(struct fake_engine *to, uint16_t sid);
/* The SCTP-AUTH key number ID as E holds it, or NULL. */
const struct fake_key *fake_engine_key(const struct fake_engine *e, uint16_t id);

/* Messages waiting in TO's inbox. */
size_t fake_engine_queued(const struct fake_engine *to);

/* True when some fake engine has an event it could deliver now. */
bool fake_engine_busy(void);

/* How many messages E sent on SID with type byte TYPE (-1: any type). */
size_t fake_engine_count_sent(const struct fake_engine *e, uint16_t sid, int type);

/* The next call to engine_new() fails (returns NULL). */
void fake_engine_fail_next_new(void);

#endif
