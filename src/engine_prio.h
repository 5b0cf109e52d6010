/*
 * engine_prio: datagram streams, stream 0 and a connection's opening
 * frames go before TCP streams' data in the engine's stream scheduler
 * (docs/ARCHITECTURE.md, "UDP flows beside TCP connections"; docs/PROTOCOL.md,
 * "One connection's life").
 *
 * Start here to see why an engine sets a stream's scheduler priority: both
 * engines run the priority scheduler (usrsctp SCTP_SS_PRIORITY, Linux
 * SCTP_SS_PRIO; the lower value goes first), and a stream id is used by a
 * TCP connection or a UDP flow, one after the other. The engine asks
 * engine_prio_mark() before each send which class the stream now carries;
 * it returns true only when the class changed, and then the engine sets the
 * stream's priority (SCTP_SS_VALUE / SCTP_STREAM_SCHEDULER_VALUE) to
 * engine_prio_value(). One byte per stream; reset when an association
 * comes up (a new association starts every stream at priority 0).
 */
#ifndef SCTPGW_ENGINE_PRIO_H
#define SCTPGW_ENGINE_PRIO_H

#include <stdbool.h>
#include <stdint.h>

enum engine_prio_class {
	ENGINE_PRIO_UNSET = 0, /* as the association started: priority 0 */
	ENGINE_PRIO_DGRAM,     /* UDP flow, or stream 0 (control): goes first */
	ENGINE_PRIO_TCP,       /* TCP connection: after datagrams */
	ENGINE_PRIO_URGENT,    /* a TCP stream's first frames (assoc_send.c): go first */
};

struct engine_prio {
	uint8_t *cls; /* enum engine_prio_class, one per stream id */
	uint32_t n;
};

int engine_prio_init(struct engine_prio *p, uint32_t streams);
void engine_prio_fini(struct engine_prio *p);
/* Every stream back to ENGINE_PRIO_UNSET (a new association). */
void engine_prio_reset(struct engine_prio *p);
/* Whether SID's scheduler priority must be set now for class CLS. */
static inline bool engine_prio_mark(struct engine_prio *p, uint16_t sid, enum engine_prio_class cls)
{
	if (sid >= p->n || p->cls[sid] == cls)
		return false;
	p->cls[sid] = (uint8_t)cls;
	return true;
}
/* The class of a send on SID: stream 0 carries the control frames (CREDIT,
 * REKEY, GOAWAY) and the T3 probe (engine_usrsctp.c), which must not wait
 * for a frame from every busy TCP stream, so it goes first with the
 * datagrams. URGENT (engine.h, send): a frame a deadline waits for on a
 * TCP stream (its first frames: OPEN, OPEN_OK, a refusal; assoc_send.c);
 * the stream goes first until its next send that is not urgent. Only the
 * kernel engine honours it: usrsctp moves a stream whose priority changes
 * while it has data queued nowhere, and the wheel out of order starves
 * stream 0 (engine_usrsctp.c, usr_send). usrsctp's priority scheduler is
 * no fair round robin among equal priorities: a stream that gets a message
 * after its queue ran dry goes to the head of its priority
 * (sctp_ss_prio_add), ahead of the streams that waited longer; with 20
 * busy TCP streams on a 10 Mbit/s link, OPENs reached the peer newest
 * first, the oldest 7 s late (tests/integration/key_rotation_live.sh). And
 * each time a priority-0 stream empties, the turn among the TCP streams
 * restarts at their head. Measured, TCP connections still share evenly (8
 * one way within 1-3% on a 50 ms link, tests/integration/fairness.sh);
 * usrsctp's fair bandwidth scheduler (SCTP_SS_FAIR_BANDWITH, no values,
 * smallest next message first) shared no better and delayed OPENs behind
 * every busy stream (docs/PERFORMANCE.md, "Fairness of the TCP streams"). */
static inline enum engine_prio_class engine_prio_class_of(uint16_t sid, bool dgram, bool urgent)
{
	if (dgram || sid == 0)
		return ENGINE_PRIO_DGRAM;
	return urgent ? ENGINE_PRIO_URGENT : ENGINE_PRIO_TCP;
}
/* The scheduler value of class CLS: datagrams and urgent frames 0, the
 * rest 1. */
static inline uint16_t engine_prio_value(enum engine_prio_class cls)
{
	return cls == ENGINE_PRIO_DGRAM || cls == ENGINE_PRIO_URGENT ? 0 : 1;
}

#endif
