/*
 * stream: which SCTP stream carries which connection.
 *
 * Stream 0 is the association's control stream. The remaining ids are split
 * by parity so both gateways can open connections at the same moment without
 * ever picking the same id: the connect-role gateway opens odd ids, the
 * accept-role gateway even ids. An id belongs to the gateway that opened it
 * (its "owner"); only the owner reuses it, and only after the other side has
 * said, with FRAME_CLOSED, that the old connection is over on its side too.
 *
 * Slot states, for an id this gateway owns:
 *
 *   FREE --alloc--> ACTIVE --conn done--> WAIT_CLOSED --CLOSED rcvd--> FREE
 *                      \--CLOSED rcvd (still writing to our client): noted;
 *                          conn done --> FREE
 *
 * and for an id the peer owns:
 *
 *   FREE --OPEN rcvd--> ACTIVE --conn done, CLOSED sent--> FREE
 *
 * The lowest free id of our parity is taken first. usrsctp looks for queued
 * data by walking its stream array from id 0 up to the first stream that has
 * some (sctp_is_there_unsent_data, on every send), so a busy connection on a
 * high id costs a walk over every id below it, per packet: after churn had
 * moved a bulk transfer to id ~15000, that walk was 54% of the sending
 * gateway's CPU and halved its throughput. Low ids keep the walk short.
 * Reuse stays safe: an id is free again only after the peer's CLOSED, which
 * follows everything the peer sent on it, in order.
 */
#ifndef SCTPGW_STREAM_H
#define SCTPGW_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream_state {
	STREAM_FREE,        /* no connection; an OPEN may arrive (peer's ids) */
	STREAM_ACTIVE,      /* a connection rides it */
	STREAM_WAIT_CLOSED, /* our id, our connection done, waiting for the peer's CLOSED */
};

struct stream_slot {
	enum stream_state state;
	bool peer_closed; /* our id: CLOSED came while we were still ACTIVE */
	bool dgram;       /* conn is a struct udp_flow (udp_flow.h), not a struct conn */
	void *conn;       /* the connection while ACTIVE, else NULL */
};

struct stream_table {
	uint16_t n;   /* usable ids are 1 .. n-1 */
	bool own_odd; /* we open odd ids (connect role) */
	struct stream_slot *slots;
	uint64_t *free_bits; /* bit k set: our id first + 2k is free */
	size_t words;        /* in free_bits */
	size_t low;          /* no bit is set in the words below this one */
	size_t n_free;
	size_t active; /* slots not FREE */
};

/* N streams (ids 0..N-1) as negotiated by the association. Returns NULL on
 * allocation failure. */
struct stream_table *stream_table_new(uint16_t n, bool own_odd);
void stream_table_free(struct stream_table *t);

/* True when SID is one this gateway opens. */
bool stream_is_own(const struct stream_table *t, uint16_t sid);

/* Take the lowest free id of our parity for CONN. Returns the id or
 * -ENOSPC when none is free. */
int stream_alloc(struct stream_table *t, void *conn);

/* Give back our SID, taken by stream_alloc, when nothing was ever sent on
 * it (its OPEN did not fit in the engine): FREE at once. */
void stream_unalloc(struct stream_table *t, uint16_t sid);

/* The slot for SID, or NULL when SID is 0 or out of range. */
struct stream_slot *stream_get(struct stream_table *t, uint16_t sid);

/* The connection on SID is finished on this side. Our id: WAIT_CLOSED, or
 * FREE when the peer's CLOSED already came. The peer's id: FREE (the caller
 * sends CLOSED). */
void stream_done(struct stream_table *t, uint16_t sid);

/* The peer's CLOSED arrived for our SID: returns 0 and frees it (or, while
 * our connection still writes its last bytes, notes it for stream_done), or
 * -EPROTO when SID is not ours or not in use. */
int stream_closed(struct stream_table *t, uint16_t sid);

/* The peer opens its SID for CONN: returns 0, -EPROTO when SID is ours or 0,
 * -EBUSY when SID is not free. */
int stream_accept(struct stream_table *t, uint16_t sid, void *conn);

#endif
