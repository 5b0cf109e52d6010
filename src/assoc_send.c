/*
 * assoc_send: everything the association sends goes through here (assoc.h,
 * "It also schedules everything sent"). The pump, a zero-delay timer that
 * runs once per loop iteration while there is work and the engine has
 * room, sends in this order: the one frame the engine refused last (its
 * sealed bytes kept), the owed GOAWAY and REKEY, the owed refusals of the
 * peer's OPENs and UDP flows' end frames (a bit per stream id each), then
 * one frame from each ready connection in turn (conn_pull), a batch per
 * turn. Every message is sealed (auth_seal) in one place, assoc_send_sealed,
 * on its way to the engine.
 *
 * Urgent sends (engine.h: the stream goes before the TCP streams' data
 * until its next send that is not urgent): every frame on a stream with no
 * TCP connection (the refusals, RST then CLOSED; a UDP flow's OPEN and end
 * frames), and a connection's frames while it has sent fewer than
 * ASSOC_URGENT_BYTES of data before them. So its OPEN, OPEN_OK (with a
 * target's first words, an SMTP or SSH banner, which must not take the
 * stream back down while OPEN_OK waits), an RST that refuses it, and the
 * whole of a short exchange go before bulk data: the opener's deadline
 * waits for them, and usrsctp's priority scheduler serves the stream that
 * waited longest last (engine_prio.h). Priority is per stream, for
 * everything queued on it, in both stacks: so the end frames of a
 * connection that sent more stay behind, or they would lift its queued
 * data (which the peer throws away after an RST) ahead of every other
 * connection.
 *
 * Start here to follow one outgoing byte: assoc_conn_ready, assoc_pump,
 * send_pulled, assoc_send_sealed, engine_send. What comes in is in
 * assoc_recv.c.
 */
#include "assoc.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"

#define ASSOC_PUMP_BATCH 64 /* frames per turn of the pump before others get theirs */

static int assoc_send_sealed(struct assoc *a, uint16_t sid, const void *msg, size_t len,
                             size_t *wire_len, bool urgent);
static int engine_send(struct assoc *a, uint16_t sid, const uint8_t *plain, size_t plain_len,
                       const void *wire, size_t wire_len, bool sealed, bool urgent);

bool assoc_refusal_owed(const struct assoc *a, uint16_t sid)
{
	return (a->refuse_bits[sid / 64] >> (sid % 64)) & 1;
}

/* Send the end frames UDP flows owe (assoc_flow_end) until the engine is
 * full; false while some remain. */
static bool send_flow_ends(struct assoc *a)
{
	struct frame rst = {.type = FRAME_RST, .u.rst = FRAME_RST_TIMEOUT};
	struct frame closed = {.type = FRAME_CLOSED};
	uint64_t *maps[2] = {a->flow_rst_bits, a->flow_closed_bits};
	for (size_t m = 0; m < 2; m++) {
		for (size_t w = 0; a->n_flow_owed > 0 && w < ASSOC_SID_WORDS; w++) {
			while (maps[m][w]) {
				uint16_t sid =
				    (uint16_t)(w * 64 + (size_t)__builtin_ctzll(maps[m][w]));
				if (assoc_send_frame(a, sid, m == 0 ? &rst : &closed) == -EAGAIN)
					return false;
				maps[m][w] &= ~((uint64_t)1 << (sid % 64));
				a->n_flow_owed--;
			}
		}
	}
	return true;
}

/* Send the owed refusals (RST, then CLOSED, per stream) until the engine
 * is full; false while some remain. The peer reuses the id only after
 * our CLOSED, so the bit of an id cannot be set twice. */
static bool send_refusals(struct assoc *a)
{
	/* The reason: [egress] allow (its own bit), else draining or no
	 * resources (a bit per stream is all that is kept). */
	struct frame rst = {.type = FRAME_RST};
	struct frame closed = {.type = FRAME_CLOSED};
	for (size_t w = 0; a->n_refusals > 0 && w < ASSOC_SID_WORDS; w++) {
		while (a->refuse_bits[w]) {
			uint16_t sid =
			    (uint16_t)(w * 64 + (size_t)__builtin_ctzll(a->refuse_bits[w]));
			uint64_t bit = (uint64_t)1 << (sid % 64);
			rst.u.rst = a->refuse_egress[w] & bit ? FRAME_RST_NOT_ALLOWED
			            : a->draining             ? FRAME_RST_DRAINING
			                                      : FRAME_RST_RESOURCES;
			if (a->refuse_rst_sent != sid) {
				if (assoc_send_frame(a, sid, &rst) == -EAGAIN)
					return false;
				a->refuse_rst_sent = sid;
			}
			if (assoc_send_frame(a, sid, &closed) == -EAGAIN)
				return false;
			a->refuse_rst_sent = 0;
			a->refuse_bits[w] &= ~bit;
			a->refuse_egress[w] &= ~bit;
			a->n_refusals--;
		}
	}
	return send_flow_ends(a);
}

/* No conn will follow this OPEN: owe RST and, as the RST is all we will
 * ever send, CLOSED right after it. They wait, in the association, for
 * room in the engine like every other control frame: a refusal is never
 * dropped (one bit per stream id bounds what is owed). The opener's own
 * RST then arrives on an idle stream. */
void assoc_refuse_open(struct assoc *a, uint16_t sid)
{
	a->refuse_bits[sid / 64] |= (uint64_t)1 << (sid % 64);
	a->n_refusals++;
	assoc_pump_update(a);
}

/* The engine refused a frame of SID for good (not -EAGAIN: too large, a
 * stream it does not have, ...). Its bytes are lost, and the connection's
 * stream would go on with a hole the peer cannot see (its counter still
 * matches), so the connection is reset. -ENOTCONN: the association is
 * going down, which ends every connection anyway. */
static void send_refused(struct assoc *a, uint16_t sid, int rc)
{
	if (rc == -ENOTCONN || !a->streams)
		return;
	struct stream_slot *slot = stream_get(a->streams, sid);
	if (!slot || !slot->conn || slot->dgram)
		return;
	log_warn_limited("stream %u: the engine refused a frame (%s); resetting the connection "
	                 "(its bytes would have a hole)",
	                 sid, strerror(-rc));
	conn_abort(slot->conn, FRAME_RST_RESET);
}

/* Send one pulled frame, or keep it (the only one kept) for when the
 * engine has room again. False when the engine is full. */
static bool send_pulled(struct assoc *a, uint16_t sid, size_t len, bool urgent)
{
	size_t wire_len = 0;
	int rc = assoc_send_sealed(a, sid, a->scratch, len, &wire_len, urgent);
	if (rc == -EAGAIN) {
		a->held_sid = sid;
		a->held_len = len;
		a->held_urgent = urgent;
		/* Keep the sealed bytes: the next try sends them unless a
		 * rekey moved the key or counter in between (send_held). */
		a->held_wire_len = wire_len;
		if (wire_len > 0) {
			uint8_t *t = a->held_buf;
			a->held_buf = a->seal_buf;
			a->seal_buf = t;
			a->held_tx_gen = a->auth.tx_gen;
			a->held_ctr = a->auth.tx_ctr[sid];
		}
		return false;
	}
	if (rc < 0)
		send_refused(a, sid, rc);
	a->n_frames++;
	return true;
}

/* Send the frame the engine refused last (held_len > 0): its sealed bytes
 * as they are when the sending key and the stream's counter are those it
 * was sealed with (a rekey between refusal and now changes them), else
 * sealed again. False when the engine is still full. */
static bool send_held(struct assoc *a)
{
	size_t len = a->held_len, wire_len = a->held_wire_len;
	uint16_t sid = a->held_sid;
	a->held_len = a->held_wire_len = 0;
	if (wire_len == 0 || !auth_tx_sealed(&a->auth) || a->auth.tx_gen != a->held_tx_gen ||
	    a->auth.tx_ctr[sid] != a->held_ctr)
		return send_pulled(a, sid, len, a->held_urgent);
	int rc = engine_send(a, sid, a->scratch, len, a->held_buf, wire_len, true, a->held_urgent);
	if (rc == -EAGAIN) {
		a->held_len = len;
		a->held_wire_len = wire_len;
		return false;
	}
	if (rc < 0)
		send_refused(a, sid, rc);
	a->n_frames++;
	return true;
}

/* Send F on stream 0, owed (*OWED): false when the engine is full (still
 * owed); otherwise it is owed no more and *SENT says whether it went. */
static bool send_owed(struct assoc *a, bool *owed, const struct frame *f, bool *sent)
{
	int rc = assoc_send_frame(a, 0, f);
	if (rc == -EAGAIN)
		return false;
	*owed = false;
	*sent = rc == 0;
	if (rc < 0)
		log_warn("association: cannot send %s: %s", frame_type_name((uint8_t)f->type),
		         strerror(-rc));
	return true;
}

/* The send scheduler. While the engine has room, the held frame goes
 * first, then the owed refusals, then one frame from each ready
 * connection in turn (round robin: a connection with more to send goes
 * back to the tail), at most ASSOC_PUMP_BATCH frames per turn so TCP
 * sockets and incoming messages get theirs. A connection that has
 * nothing to send is on no list and costs nothing here. */
static void assoc_pump(struct assoc *a)
{
	a->n_pumps++;
	if (a->held_len > 0 && !send_held(a))
		goto out;
	bool sent;
	if (a->goaway_owed && a->state == ASSOC_READY) {
		struct frame f = {.type = FRAME_GOAWAY};
		if (!send_owed(a, &a->goaway_owed, &f, &sent))
			goto out;
		if (sent)
			log_info("association: GOAWAY sent to %s: it opens no more streams here",
			         a->peer_name);
	}
	if (a->rekey_owed && a->state == ASSOC_READY) {
		struct frame f = {.type = FRAME_REKEY, .u.rekey = a->rekey_frame};
		if (!send_owed(a, &a->rekey_owed, &f, &sent))
			goto out;
	}
	if (!send_refusals(a))
		goto out;
	for (int budget = ASSOC_PUMP_BATCH; budget > 0 && !a->engine_full; budget--) {
		struct conn *c = TAILQ_FIRST(&a->ready);
		if (!c)
			break;
		TAILQ_REMOVE(&a->ready, c, ready_link);
		c->ready = false;
		a->n_ready--;
		uint16_t sid = c->sid;
		bool urgent = c->bytes_up < ASSOC_URGENT_BYTES, more = false;
		size_t len = conn_pull(c, a->scratch, &more); /* C may be gone if !more */
		if (more)
			assoc_conn_ready(a, c);
		if (len > 0 && !send_pulled(a, sid, len, urgent))
			break;
	}
out:
	assoc_pump_update(a);
}

void assoc_pump_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	assoc_pump(w->data);
}

/* Run the pump in the next loop iteration (a zero-delay timer: the loop
 * does not sleep while it is pending, and every watcher still gets its
 * turn in between). */
static void pump_soon(struct assoc *a)
{
	if (!ev_is_active(&a->pump)) {
		ev_timer_set(&a->pump, 0., 0.);
		ev_timer_start(a->loop, &a->pump);
	}
}

/* The pump runs once per loop iteration while there is work and room. */
void assoc_pump_update(struct assoc *a)
{
	bool work = a->held_len > 0 || a->n_refusals > 0 || a->n_flow_owed > 0 ||
	            !TAILQ_EMPTY(&a->ready) ||
	            ((a->goaway_owed || a->rekey_owed) && a->state == ASSOC_READY);
	if (work && !a->engine_full)
		pump_soon(a);
	else
		ev_timer_stop(a->loop, &a->pump);
}

void assoc_on_writable(void *ctx)
{
	struct assoc *a = ctx;
	a->engine_full = false;
	assoc_pump(a);
}

/* Give the engine WIRE (WIRE_LEN bytes: PLAIN sealed, or PLAIN itself)
 * on SID, and count what went. */
static int engine_send(struct assoc *a, uint16_t sid, const uint8_t *plain, size_t plain_len,
                       const void *wire, size_t wire_len, bool sealed, bool urgent)
{
	int rc = a->engine->ops->send(a->engine, sid, wire, wire_len, urgent);
	if (rc == -EAGAIN)
		a->engine_full = true;
	if (rc == 0 && sealed)
		auth_sent(&a->auth, sid);
	/* The OPEN is out: a new generation of the id's datagram counters
	 * (auth.h), as the peer will count it on receipt. */
	if (rc == 0 && sid != 0 && plain_len > 0 && plain[0] == FRAME_OPEN &&
	    auth_flow_begin(&a->auth, sid) < 0)
		assoc_abort(a, "a stream id opened too often");
	return rc;
}

/* Seal MSG (once the handshake is done) and send it. *WIRE_LEN (if not
 * NULL) gets the sealed length, 0 when it went in clear. */
static int assoc_send_sealed(struct assoc *a, uint16_t sid, const void *msg, size_t len,
                             size_t *wire_len, bool urgent)
{
	bool sealed = auth_tx_sealed(&a->auth);
	size_t n = len;
	if (sealed) {
		int rc = auth_seal(&a->auth, sid, msg, len, a->seal_buf, &n);
		if (rc < 0)
			return rc;
	}
	if (wire_len)
		*wire_len = sealed ? n : 0;
	return engine_send(a, sid, msg, len, sealed ? a->seal_buf : msg, n, sealed, urgent);
}

int assoc_send(struct assoc *a, uint16_t sid, const void *msg, size_t len)
{
	return assoc_send_sealed(a, sid, msg, len, NULL, sid != 0);
}

void assoc_rekey_owe(struct assoc *a, const struct frame_rekey *r)
{
	a->rekey_frame = *r;
	a->rekey_owed = true;
	assoc_pump_update(a);
}

int assoc_send_ctl(struct assoc *a, uint16_t sid, const struct frame *f)
{
	if (a->state != ASSOC_READY)
		return -ENOTCONN;
	if (a->engine_full)
		return -EAGAIN;
	return assoc_send_frame(a, sid, f);
}

int assoc_send_dgram(struct assoc *a, uint16_t sid, const uint8_t *frame, size_t len,
                     bool unordered)
{
	if (a->state != ASSOC_READY)
		return -ENOTCONN;
	/* Tried even while the pump waits for writable: room may have come
	 * since, and a datagram that finds none is dropped by the engine
	 * without a wait (TCP's frame still goes first on writable). */
	a->dgram_at = ev_now(a->loop); /* smaller TCP frames now (assoc_data_max) */
	const uint8_t *msg = frame;
	if (auth_tx_sealed(&a->auth)) {
		int rc = auth_seal_dgram(&a->auth, sid, frame, len, a->seal_buf, &len);
		if (rc < 0)
			return rc;
		msg = a->seal_buf;
	}
	return a->engine->ops->send_dgram(a->engine, sid, msg, len, unordered, a->udp_lifetime_ms);
}

void assoc_flow_end(struct assoc *a, uint16_t sid, bool rst)
{
	if (!a->streams)
		return;
	stream_done(a->streams, sid);
	struct frame f = {.type = rst ? FRAME_RST : FRAME_CLOSED, .u.rst = FRAME_RST_TIMEOUT};
	if (a->state == ASSOC_READY && !a->engine_full && a->n_flow_owed == 0 &&
	    assoc_send_frame(a, sid, &f) == 0)
		return;
	uint64_t *map = rst ? a->flow_rst_bits : a->flow_closed_bits;
	if (!((map[sid / 64] >> (sid % 64)) & 1)) {
		map[sid / 64] |= (uint64_t)1 << (sid % 64);
		a->n_flow_owed++;
	}
	assoc_pump_update(a);
}

int assoc_send_frame(struct assoc *a, uint16_t sid, const struct frame *f)
{
	uint8_t buf[128];
	ssize_t n = frame_encode(f, buf, sizeof buf);
	if (n < 0)
		return (int)n;
	return assoc_send(a, sid, buf, (size_t)n);
}

void assoc_conn_ready(struct assoc *a, struct conn *c)
{
	if (!c->ready) {
		c->ready = true;
		a->n_ready++;
		TAILQ_INSERT_TAIL(&a->ready, c, ready_link);
	}
	if (!a->engine_full)
		pump_soon(a);
}

size_t assoc_data_max(const struct assoc *a)
{
	return a->dgram_at > 0 && ev_now(a->loop) - a->dgram_at < ASSOC_DGRAM_RECENT
	           ? ASSOC_DATA_BESIDE_DGRAM
	           : FRAME_DATA_MAX;
}
