/*
 * replay: the anti-replay window of one datagram stream (like IPsec's,
 * RFC 4303 section 3.4.3).
 *
 * Start here to see why a datagram is accepted out of order but never
 * twice. Datagrams travel unordered and may be abandoned (PR-SCTP), so a
 * receiver cannot insist on "the next counter"; instead it remembers the
 * highest sequence number it accepted (TOP - 1) and, for the REPLAY_WINDOW
 * numbers below it, which ones it has seen. A number above everything seen
 * slides the window up; one inside the window is accepted once; one below
 * it is too old to tell from a replay and is refused.
 *
 *   seq >= top                  fresh: accepted, window slides to seq + 1
 *   top - W <= seq < top        accepted once (its bit), then a replay
 *   seq < top - W               too old: refused
 *
 * Check first, mark only after the message proved authentic, so a forged
 * counter cannot move the window.
 */
#ifndef SCTPGW_REPLAY_H
#define SCTPGW_REPLAY_H

#include <stdint.h>

#define REPLAY_WINDOW 256 /* sequence numbers remembered below the highest */

struct replay {
	uint64_t top;                      /* highest accepted + 1; 0: nothing accepted yet */
	uint64_t bits[REPLAY_WINDOW / 64]; /* bit (seq % W): seq seen, for top - W <= seq < top */
};

/* Forget everything: the next number is fresh whatever it is. */
void replay_reset(struct replay *r);

/* 0: SEQ would be accepted; -EALREADY: seen already; -ESTALE: below the
 * window (too old to tell). Changes nothing. */
int replay_check(const struct replay *r, uint64_t seq);

/* Record SEQ as seen (after replay_check said 0 and the message proved
 * authentic). */
void replay_mark(struct replay *r, uint64_t seq);

#endif
