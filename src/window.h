/*
 * window: one connection's receive window, sized by how it is used.
 *
 * Start here for per-connection flow control on long paths. A connection's
 * window (the bytes the peer may send that this gateway has not yet granted
 * back with CREDIT, docs/PROTOCOL.md) caps it at window / round-trip time.
 * A fixed window is either too small for a long fast path or too large a
 * reservation for a thousand idle connections, so it follows the use, as
 * Linux TCP's receive-buffer autotuning does:
 *
 *   - it starts at conn_window;
 *   - each measurement period (one round trip of the path, at least
 *     WINDOW_MIN_PERIOD) counts the bytes written into the TCP socket; when
 *     they reach half the window, the sender was held back by it, and the
 *     window doubles, up to conn_window_max (the growth is reserved out of
 *     memory_limit first, assoc_conn_grow; refused growth keeps the window
 *     as it is);
 *   - after WINDOW_IDLE without a byte (or WINDOW_IDLE_RTTS round trips,
 *     whichever is longer) it shrinks back to conn_window: the bytes
 *     consumed next are not granted back until the window is down there
 *     again, and that much of its reservation is released
 *     (assoc_conn_shrink).
 *
 * Pure: no I/O, no clock; the caller passes the time and the round trip.
 */
#ifndef SCTPGW_WINDOW_H
#define SCTPGW_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define WINDOW_MIN_PERIOD 0.005 /* s: measurement period on a path with no measured RTT */
#define WINDOW_IDLE       1.0   /* s: no bytes this long and the window shrinks back */
#define WINDOW_IDLE_RTTS  8     /* ... or this many round trips, if longer */

struct window {
	uint32_t size;         /* the window now: the peer may have this many bytes ungranted */
	uint32_t initial;      /* conn_window: where it starts and shrinks back to */
	uint32_t max;          /* conn_window_max */
	uint32_t ungranted;    /* written into the TCP socket, not yet granted back */
	uint32_t shrinking;    /* still to withhold before the window is down to initial */
	uint64_t period_bytes; /* consumed since period_start */
	double period_start;
	double last_use; /* when bytes were last consumed */
};

void window_init(struct window *w, uint32_t initial, uint32_t max, double now);

/* N bytes went into the TCP socket at NOW; RTT is the path's smoothed
 * round trip in seconds (0 when unknown). Returns by how many bytes the
 * window wants to grow (0: not now); the caller reserves them and calls
 * window_grow, or does not. */
uint32_t window_consumed(struct window *w, uint32_t n, double now, double rtt);

/* The caller reserved BY more bytes (at most what window_consumed asked
 * for): the window is that much larger, and the peer is owed that much
 * more credit. */
void window_grow(struct window *w, uint32_t by);

/* Withhold what the window still has to shrink by, out of the bytes to
 * grant: returns by how much the window shrank now, which the caller gives
 * back to memory_limit (assoc_conn_shrink). */
uint32_t window_shrink(struct window *w);

/* Whether the bytes to grant reach a quarter of the window (at least 1),
 * once the shrinking is withheld: then a grant is worth a frame, so it
 * costs one small frame per window/4 bytes. */
bool window_grant_due(const struct window *w);

/* How much credit to send now: window_shrink, then 0 until
 * window_grant_due, then all the bytes to grant. *RELEASED gets what
 * window_shrink released. */
uint32_t window_grant(struct window *w, uint32_t *released);

#endif
