/*
 * ackwatch: notice sent data that nothing will ever retransmit.
 *
 * usrsctp 0.9.5.0 can lose the retransmission timer of a path: a T3 timer
 * that expires before its chunks are older than the path's srtt + 4 x rttvar
 * marks nothing for retransmission, and its restart safeguard trusts a
 * running-timer count that drifts upwards. Chunks then sit unacknowledged
 * with no timer; only a SACK would restart one, and the peer sends SACKs
 * only for new data, which a full send buffer or a closed window prevents.
 * The association hangs while heartbeats are still answered. It happens
 * when a path fails under load (see docs/FAILOVER.md).
 *
 * A healthy association with data outstanding always shows one of: the
 * outstanding count changing, a SACK arriving, or a T3 timeout (a running
 * timer expires within rto_max). ackwatch samples those three every
 * period longer than rto_max; a sample where none of them moved means the
 * timer is gone, and the engine kicks the stack (engine_usrsctp.c).
 *
 * Pure bookkeeping: no usrsctp, no clock, unit-tested in tests/unit.
 */
#ifndef SCTPGW_ACKWATCH_H
#define SCTPGW_ACKWATCH_H

#include <stdbool.h>
#include <stdint.h>

/* Kicks per association before the engine gives up and aborts it: each
 * kick costs a little path MTU for the rest of the association. */
#define ACKWATCH_MAX_KICKS 8

struct ackwatch {
	bool primed;       /* a previous sample exists */
	uint32_t unacked;  /* messages sent and not yet acknowledged */
	uint32_t sacks;    /* SACK chunks received, ever (a counter) */
	uint32_t timeouts; /* T3 timeouts, ever (a counter) */
	unsigned kicks;    /* kicks in this association */
};

enum ackwatch_verdict {
	ACKWATCH_OK,      /* progress, or nothing outstanding */
	ACKWATCH_KICK,    /* stuck: make the stack retransmit */
	ACKWATCH_GIVE_UP, /* stuck after ACKWATCH_MAX_KICKS kicks */
};

/* Forget everything: a new association starts. */
void ackwatch_reset(struct ackwatch *w);

/* Take one sample (one period after the last). */
enum ackwatch_verdict ackwatch_sample(struct ackwatch *w, uint32_t unacked, uint32_t sacks,
                                      uint32_t timeouts);

#endif
