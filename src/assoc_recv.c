/*
 * assoc_recv: what the association does with each message the engine
 * delivers (assoc.h): stream 0's association frames (HELLO, AUTH, GOAWAY,
 * REKEY) go to the handshake and rotation code; a connection stream's
 * message is opened (auth_open: forged, replayed and missing ones are
 * dropped, counted, and the connection they hit reset), decoded and routed
 * to the conn or UDP flow on its stream, or starts one (the peer's OPEN:
 * drain, limits, memory_limit and [egress] allow may refuse it). Messages
 * that overtake the peer's HELLO are kept, within a bound, until it comes.
 *
 * Start here to follow one incoming byte: assoc_on_message, then deliver,
 * then on_stream_frame. What is sent is in assoc_send.c (the pump).
 */
#include "assoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "ratelimit.h"

static void on_goaway(struct assoc *a);

#define ASSOC_EARLY_MAX_BYTES (256 * 1024) /* early messages kept before HELLO */
/* What one kept message costs beside its bytes: its struct, its slot in
 * the array (which grows by doubling) and the allocator's header. Counted
 * so that many tiny messages cannot cost more than the bound says. */
#define ASSOC_EARLY_OVERHEAD 64

struct early_msg {
	uint16_t sid;
	size_t len;
	uint8_t bytes[];
};

void assoc_drop_early(struct assoc *a)
{
	for (size_t i = 0; i < a->n_early; i++)
		free(a->early[i]);
	free(a->early);
	a->early = NULL;
	a->n_early = a->early_cap = a->early_bytes = 0;
}

/* The peer's OPEN of a UDP flow: [egress] allow first, as for a TCP
 * connection (tcp_conn.c), then the flow table. A flow carries an
 * address, never a host name (the opener's config refuses those). */
static void accept_flow(struct assoc *a, uint16_t sid, const struct frame_open *o)
{
	struct frame_open open = *o;
	egress_normalize(&open.target);
	if (open.target.ss_family == AF_UNSPEC || !egress_allows(&a->egress, &open.target)) {
		char dst[FRAME_HOST_MAX + 8];
		assoc_egress_refused(a, sid, o->name, "UDP ",
		                     frame_open_target_text(&open, dst, sizeof dst));
		a->refuse_egress[sid / 64] |= (uint64_t)1 << (sid % 64);
		assoc_refuse_open(a, sid);
		return;
	}
	if (udp_flow_accept(a->flows, sid, &open) < 0)
		assoc_refuse_open(a, sid);
}

/* A frame for a connection's stream. */
static void on_stream_frame(struct assoc *a, uint16_t sid, const struct frame *f, int rc)
{
	struct stream_slot *slot = stream_get(a->streams, sid);
	if (!slot) {
		assoc_protocol_abort(a, "message on a stream outside the negotiated range");
		return;
	}
	struct udp_flow *flow = slot->state == STREAM_ACTIVE && slot->dgram ? slot->conn : NULL;
	struct conn *c = slot->state == STREAM_ACTIVE && !slot->dgram ? slot->conn : NULL;

	if (rc < 0 && flow) {
		udp_flow_on_frame(flow, f, rc);
		return;
	}
	if (rc < 0) {
		if (c)
			conn_protocol_error(c, rc == -ENOTSUP ? "unknown message type"
			                                      : "malformed message");
		else
			log_warn_limited("stream %u: %s message on an idle stream ignored", sid,
			                 rc == -ENOTSUP ? "unknown" : "malformed");
		return;
	}

	switch (f->type) {
	case FRAME_HELLO:
		assoc_protocol_abort(a, "HELLO outside stream 0");
		return;
	case FRAME_OPEN:
		/* Every OPEN starts a new generation of the id's datagram
		 * counters (auth.h), here as on the opener's side. */
		if (auth_flow_begin(&a->auth, sid) < 0) {
			assoc_protocol_abort(a, "a stream id opened too often");
			return;
		}
		if (c) {
			conn_protocol_error(c, "OPEN on a stream in use");
			return;
		}
		if (flow) {
			log_warn_limited("stream %u: OPEN on a UDP flow in use; ignored", sid);
			return;
		}
		if (stream_is_own(a->streams, sid) || slot->state != STREAM_FREE ||
		    assoc_refusal_owed(a, sid)) {
			/* The peer may only open ids of its own parity. */
			log_warn_limited("stream %u: peer opened a stream it does not own; ignored",
			                 sid);
			return;
		}
		if (a->draining) {
			a->n_draining_refused++;
			log_info_limited("stream %u: refusing the peer's OPEN for forward %s: "
			                 "draining (RST reason 10; %llu refused so far)",
			                 sid, f->u.open.name,
			                 (unsigned long long)a->n_draining_refused);
			assoc_refuse_open(a, sid);
		} else if (f->flags & FRAME_OPEN_DATAGRAM) {
			accept_flow(a, sid, &f->u.open);
		} else if (!limits_admit_open(&a->limits, a->n_conns, sid, f->u.open.name)) {
			assoc_refuse_open(a, sid);
		} else if (!assoc_has_room(a)) {
			char who[16];
			snprintf(who, sizeof who, "stream %u", sid);
			assoc_refused_for_memory(a, "peer's OPEN on", who, f->u.open.name);
			assoc_refuse_open(a, sid);
		} else if (conn_accept(a, sid, &f->u.open) < 0) {
			log_warn_limited("stream %u: out of memory for a new connection", sid);
			assoc_refuse_open(a, sid);
		}
		return;
	case FRAME_CLOSED:
		if (stream_closed(a->streams, sid) < 0)
			log_warn_limited(
			    "stream %u: CLOSED for a stream not waiting for it; ignored", sid);
		return;
	case FRAME_DGRAM:
		if (flow)
			udp_flow_on_frame(flow, f, 0);
		else
			a->flows->c.drop_stale++; /* its flow ended here already */
		return;
	default:
		if (flow)
			udp_flow_on_frame(flow, f, 0);
		else if (c)
			conn_on_frame(c, f);
		else
			/* Late frames of a finished connection arrive before any
			 * OPEN that reuses the id, so they are safe to drop. */
			log_debug("stream %u: %s on an idle stream ignored", sid,
			          frame_type_name(f->type));
		return;
	}
}

/* The peer is READY once our HELLO reached it and may open streams at once;
 * its own HELLO can arrive after those OPENs. Until it does, the peer can
 * send only OPEN, RST and FIN (no DATA before our OPEN_OK), so a small
 * bound is generous; past it the peer is misbehaving. */
static void keep_early(struct assoc *a, uint16_t sid, const uint8_t *msg, size_t len)
{
	size_t cost = len + ASSOC_EARLY_OVERHEAD;
	if (a->early_bytes + cost > ASSOC_EARLY_MAX_BYTES) {
		assoc_protocol_abort(a, "too many connection messages before HELLO");
		return;
	}
	if (a->n_early == a->early_cap) {
		size_t cap = a->early_cap ? a->early_cap * 2 : 16;
		struct early_msg **v = realloc(a->early, cap * sizeof *v);
		if (!v) {
			assoc_protocol_abort(a, "out of memory for messages before HELLO");
			return;
		}
		a->early = v;
		a->early_cap = cap;
	}
	struct early_msg *m = malloc(sizeof *m + len);
	if (!m) {
		assoc_protocol_abort(a, "out of memory for messages before HELLO");
		return;
	}
	m->sid = sid;
	m->len = len;
	memcpy(m->bytes, msg, len);
	a->early[a->n_early++] = m;
	a->early_bytes += cost;
}

/* A sealed message from SID that did not open (auth_open's RC): never
 * delivered. Its stream may have lost data with it, so the connection on
 * it is reset rather than left with a hole; the association goes on. */
static void drop_sealed(struct assoc *a, uint16_t sid, int rc)
{
	char addr[ADDR_STRLEN];
	const char *what;
	bool lost = true;
	if (rc == -ESTALE) {
		/* A datagram of a flow that ended (or far behind the window):
		 * late, not forged; nothing else is lost with it. */
		a->flows->c.drop_stale++;
		return;
	}
	if (rc == -EALREADY) {
		a->n_msg_replayed++;
		what = "replayed (an old counter)";
		lost = false; /* an extra copy; the stream itself is whole */
	} else if (rc == -ERANGE) {
		a->n_msg_missing++;
		what = "authentic, but messages before it are missing";
	} else {
		a->n_msg_forged++;
		what = "not authentic (forged, or altered on the path)";
	}
	log_warn("stream %u: a message from %s is %s; dropped (%llu forged, %llu replayed, %llu "
	         "gaps so far)",
	         sid, assoc_peer_addr(a, addr, sizeof addr), what,
	         (unsigned long long)a->n_msg_forged, (unsigned long long)a->n_msg_replayed,
	         (unsigned long long)a->n_msg_missing);
	if (!lost || sid == 0 || !a->streams)
		return;
	struct stream_slot *slot = stream_get(a->streams, sid);
	if (slot && slot->state == STREAM_ACTIVE && slot->conn)
		conn_protocol_error(slot->conn,
		                    "a message failed authentication; its data is lost");
}

/* Once the peer has proved the key, every message it sends is sealed:
 * open *MSG into open_buf. False when it did not open (dropped). *DGRAM:
 * it came in the datagram counter space (auth.h). */
static bool unseal(struct assoc *a, uint16_t sid, const uint8_t **msg, size_t *len, bool *dgram)
{
	*dgram = false;
	if (!auth_rx_sealed(&a->auth))
		return true;
	int rc = auth_open(&a->auth, sid, *msg, *len, a->open_buf, len);
	if (rc < 0) {
		drop_sealed(a, sid, rc);
		return false;
	}
	*dgram = rc == 1;
	*msg = a->open_buf;
	return true;
}

/* A message on a connection's stream from a READY peer: open, decode, route. */
static void deliver(struct assoc *a, uint16_t sid, const uint8_t *msg, size_t len)
{
	bool dgram;
	if (!unseal(a, sid, &msg, &len, &dgram))
		return;
	struct frame f;
	int rc = frame_decode(msg, len, &f);
	/* Sealed, a DGRAM frame travels in the datagram counter space and
	 * nothing else does: each counter check fits its delivery. */
	if (rc == 0 && auth_rx_sealed(&a->auth) && dgram != (f.type == FRAME_DGRAM))
		rc = -EBADMSG;
	on_stream_frame(a, sid, &f, rc);
}

/* HELLO arrived: handle what overtook it, in arrival order. */
void assoc_replay_early(struct assoc *a)
{
	struct early_msg **v = a->early;
	size_t n = a->n_early;
	a->early = NULL;
	a->n_early = a->early_cap = a->early_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (a->state == ASSOC_READY)
			deliver(a, v[i]->sid, v[i]->bytes, v[i]->len);
		free(v[i]);
	}
	free(v);
}

void assoc_on_message(void *ctx, uint16_t sid, const uint8_t *msg, size_t len)
{
	struct assoc *a = ctx;
	struct frame f;

	if (a->state != ASSOC_HELLO && a->state != ASSOC_READY)
		return;
	if (sid == 0) {
		bool dgram;
		if (!unseal(a, sid, &msg, &len, &dgram))
			return;
		if (dgram) {
			assoc_protocol_abort(a, "a datagram on stream 0");
			return;
		}
		int rc = frame_decode(msg, len, &f);
		if (rc == -ENOTSUP) {
			/* Newer peers may add association messages; we skip them. */
			log_warn_limited(
			    "association: unknown message type 0x%02x on stream 0 ignored", msg[0]);
		} else if (rc < 0) {
			assoc_protocol_abort(a, "malformed message on stream 0");
		} else if (f.type == FRAME_HELLO) {
			assoc_on_hello(a, &f.u.hello, a->streams->n, msg, len);
		} else if (f.type == FRAME_AUTH) {
			assoc_on_auth(a, &f);
		} else if (f.type == FRAME_GOAWAY) {
			on_goaway(a);
		} else if (f.type == FRAME_REKEY) {
			if (a->state == ASSOC_READY)
				assoc_on_rekey(a, &f.u.rekey); /* insecure: refused there */
			else
				assoc_protocol_abort(a, "REKEY before the handshake ended");
		} else {
			assoc_protocol_abort(a, "connection message on stream 0");
		}
		return;
	}
	if (a->state == ASSOC_HELLO) {
		/* Opened (or refused) once the peer has proved the key. */
		keep_early(a, sid, msg, len);
		return;
	}
	deliver(a, sid, msg, len);
}

/* The peer drains: from now on no client is carried toward it (no OPEN
 * is sent); its GOAWAY holds until this association ends. */
static void on_goaway(struct assoc *a)
{
	if (a->state != ASSOC_READY) {
		assoc_protocol_abort(a, "GOAWAY before the handshake ended");
		return;
	}
	if (a->peer_goaway)
		return;
	a->peer_goaway = true;
	log_info("association: peer %s is draining (GOAWAY): new clients are reset here, no "
	         "stream is opened toward it; %zu connection%s open now carry on",
	         a->peer_name, a->n_conns, a->n_conns == 1 ? "" : "s");
}
