/* assoc: see assoc.h for the states. */
#include "assoc.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "ratelimit.h"

#define ASSOC_BACKOFF_MIN 0.1 /* seconds before the first reconnect */
#define ASSOC_BACKOFF_MAX 5.0 /* and never longer than this */
#define ASSOC_PUMP_BATCH  64  /* frames per turn of the pump before others get theirs */

static int assoc_send(struct assoc *a, uint16_t sid, const void *msg, size_t len);
static int assoc_send_sealed(struct assoc *a, uint16_t sid, const void *msg, size_t len,
                             size_t *wire_len);
static int engine_send(struct assoc *a, uint16_t sid, const uint8_t *plain, size_t plain_len,
                       const void *wire, size_t wire_len, bool sealed);
static int assoc_send_frame(struct assoc *a, uint16_t sid, const struct frame *f);
static void pump_update(struct assoc *a);

const char *assoc_state_name(enum assoc_state s)
{
	static const char *const names[] = {"down", "connecting", "hello", "ready", "closing"};
	return names[s];
}

static void set_state(struct assoc *a, enum assoc_state s)
{
	log_debug("association state %s -> %s", assoc_state_name(a->state), assoc_state_name(s));
	a->state = s;
}

/* Every connection is reset (its TCP peer sees RST); no frame is sent. */
static void kill_all(struct assoc *a)
{
	struct conn *c;
	while ((c = TAILQ_FIRST(&a->conns)) != NULL)
		conn_kill(c);
	udp_flows_kill_all(a->flows);
}

static void forget_association(struct assoc *a)
{
	ev_timer_stop(a->loop, &a->hello_timer);
	ev_timer_stop(a->loop, &a->rekey_timer);
	ev_timer_stop(a->loop, &a->null_timer);
	a->rekey_owed = false;
	auth_reset(&a->auth);
	path_assoc_down(&a->paths);
	assoc_drop_early(a);
	kill_all(a);
	stream_table_free(a->streams);
	a->streams = NULL;
	/* A new association starts with an empty send buffer and owes no
	 * writable for the old one's -EAGAIN, nor the old one's frames. */
	a->engine_full = false;
	a->held_len = a->held_wire_len = 0;
	pump_update(a);
	memset(a->refuse_bits, 0, sizeof a->refuse_bits);
	memset(a->refuse_egress, 0, sizeof a->refuse_egress);
	a->n_refusals = 0;
	a->refuse_rst_sent = 0;
	memset(a->flow_rst_bits, 0, sizeof a->flow_rst_bits);
	memset(a->flow_closed_bits, 0, sizeof a->flow_closed_bits);
	a->n_flow_owed = 0;
}

static void report_closed(struct assoc *a)
{
	if (a->closed_reported)
		return;
	a->closed_reported = true;
	if (a->on_closed)
		a->on_closed(a->ctx);
}

/* Connect role: try again after the back-off. libev forbids setting an
 * active timer, and an SCTP restart (down, then up at once) can leave the
 * previous one running, so stop it first. */
static void schedule_retry(struct assoc *a)
{
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_set(&a->retry, a->backoff, 0.);
	ev_timer_start(a->loop, &a->retry);
}

static void try_open(struct assoc *a)
{
	set_state(a, ASSOC_CONNECTING);
	int rc = a->engine->ops->open(a->engine);
	if (rc < 0 && rc != -EALREADY) {
		set_state(a, ASSOC_DOWN);
		schedule_retry(a);
	}
}

static void assoc_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct assoc *a = w->data;
	a->backoff = a->backoff * 2 > ASSOC_BACKOFF_MAX ? ASSOC_BACKOFF_MAX : a->backoff * 2;
	if (a->state == ASSOC_DOWN)
		try_open(a);
}

/* Abort the association ourselves; engine down follows. */
static void abort_assoc(struct assoc *a, const char *why)
{
	a->we_aborted = true;
	a->engine->ops->abort(a->engine, why);
}

/* Abort for a protocol violation on stream 0; engine down follows. */
void assoc_protocol_abort(struct assoc *a, const char *why)
{
	log_error_limited("association: protocol error from peer: %s; aborting the association",
	                  why);
	abort_assoc(a, why);
}

/* The peer's address as this gateway knows it: the engines accept only
 * the configured remote addresses, so the primary path's is the one. */
const char *assoc_peer_addr(const struct assoc *a, char *buf, size_t len)
{
	if (a->paths.n == 0)
		return "?";
	return addr_format(&a->paths.paths[a->paths.primary].remote, buf, len);
}

/* The handshake failed: log it with the peer, count it, abort. The
 * connect side retries with its back-off, which only a READY resets. */
static void auth_abort(struct assoc *a, const char *peer, const char *why)
{
	char addr[ADDR_STRLEN];
	a->n_auth_failed++;
	log_error_limited("association: authentication of peer %s at %s failed: %s; aborting the "
	                  "association (%llu failed so far)",
	                  peer && *peer ? peer : "?", assoc_peer_addr(a, addr, sizeof addr), why,
	                  (unsigned long long)a->n_auth_failed);
	abort_assoc(a, "authentication failed");
}

static void send_hello(struct assoc *a)
{
	struct frame f = {.type = FRAME_HELLO};
	f.u.hello.version_min = FRAME_VERSION_MIN;
	f.u.hello.version_max = FRAME_VERSION;
	f.u.hello.role = a->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_CONNECT : FRAME_ROLE_ACCEPT;
	f.u.hello.features = FRAME_FEATURES;
	f.u.hello.streams = a->streams->n;
	snprintf(f.u.hello.name, sizeof f.u.hello.name, "%s", a->name);
	auth_fill_hello(&a->auth, &f.u.hello);
	uint8_t buf[AUTH_HELLO_MAX];
	ssize_t n = frame_encode(&f, buf, sizeof buf);
	int rc = n < 0 ? (int)n : assoc_send(a, 0, buf, (size_t)n);
	if (rc == 0)
		auth_hello_sent(&a->auth, buf, (size_t)n);
	if (rc < 0) {
		log_error_limited("association: cannot send HELLO: %s", strerror(-rc));
		abort_assoc(a, "cannot send HELLO");
	}
}

static void on_up(void *ctx, uint16_t streams)
{
	struct assoc *a = ctx;
	a->we_aborted = false;
	if (a->state == ASSOC_CLOSING) {
		abort_assoc(a, "shutting down");
		return;
	}
	if (streams < 3) {
		log_error_limited("association: only %u streams negotiated; need at least 3",
		                  streams);
		abort_assoc(a, "too few streams");
		return;
	}
	/* Up without our open() (an SCTP restart): no retry is due. */
	ev_timer_stop(a->loop, &a->retry);
	if (a->peer_goaway)
		log_info("association: a new association: the peer's GOAWAY no longer holds; new "
		         "clients are carried again");
	a->peer_goaway = false;
	path_assoc_up(&a->paths);
	a->streams = stream_table_new(streams, a->role == CONFIG_ROLE_CONNECT);
	if (!a->streams) {
		abort_assoc(a, "out of memory");
		return;
	}
	int rc = auth_begin(&a->auth, streams);
	if (rc < 0) {
		log_error("association: cannot start the handshake: %s", strerror(-rc));
		abort_assoc(a, "cannot start the handshake");
		return;
	}
	assoc_chunk_begin(a);
	set_state(a, ASSOC_HELLO);
	ev_timer_set(&a->hello_timer, a->hello_timeout, 0.);
	ev_timer_start(a->loop, &a->hello_timer);
	send_hello(a);
}

/* The peer holds the association without completing the handshake
 * (no HELLO, or no AUTH after it): abort (the connect role then retries
 * with its back-off). The state stays HELLO until the peer's AUTH checked
 * out (go_ready), so one deadline covers both steps. */
static void assoc_hello_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct assoc *a = w->data;
	if (a->state != ASSOC_HELLO)
		return;
	if (a->auth.state == AUTH_HELLO) {
		log_error("association: no HELLO from the peer within %.1f s of the association "
		          "coming up; aborting it",
		          a->hello_timeout);
		abort_assoc(a, "no HELLO in time");
		return;
	}
	char addr[ADDR_STRLEN];
	a->n_auth_failed++;
	log_error("association: peer %s at %s sent HELLO but no AUTH within %.1f s of the "
	          "association coming up; aborting it (%llu failed so far)",
	          a->peer_name[0] ? a->peer_name : "?", assoc_peer_addr(a, addr, sizeof addr),
	          a->hello_timeout, (unsigned long long)a->n_auth_failed);
	abort_assoc(a, "no AUTH in time");
}

static void go_ready(struct assoc *a);

void assoc_on_hello(struct assoc *a, const struct frame_hello *h, uint16_t streams,
                    const uint8_t *raw, size_t raw_len)
{
	if (a->state != ASSOC_HELLO) {
		assoc_protocol_abort(a, "a second HELLO");
		return;
	}
	if (h->version_max < FRAME_VERSION_MIN || h->version_min > FRAME_VERSION) {
		/* Version 1 (sctpgw 0.1) had no per-connection credit; a v2
		 * gateway cannot carry its connections without overrunning
		 * their windows, a v3 one knows neither egress refusals nor
		 * host names, so there is no fallback. */
		log_error_limited(
		    "association: peer %s speaks protocol versions %u..%u, we speak %u..%u; "
		    "no common version, so both gateways need an sctpgw release that speaks "
		    "a common one (version 2 brought per-connection flow control, 3 the "
		    "authenticated, encrypted association, 4 [egress] allow and host-name "
		    "targets)",
		    h->name, h->version_min, h->version_max, FRAME_VERSION_MIN, FRAME_VERSION);
		abort_assoc(a, "no common protocol version");
		return;
	}
	uint8_t ours = a->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_CONNECT : FRAME_ROLE_ACCEPT;
	if (h->role == ours) {
		log_error_limited(
		    "association: peer %s also has role = %s; exactly one side must connect",
		    h->name, config_role_name(a->role));
		abort_assoc(a, "both gateways have the same role");
		return;
	}
	snprintf(a->peer_name, sizeof a->peer_name, "%s", h->name);
	if (!h->has_auth) {
		assoc_protocol_abort(a, "a version 3 or 4 HELLO without its nonce");
		return;
	}
	/* A peer without window growth gets fixed windows (docs/PROTOCOL.md). */
	a->features = h->features & FRAME_FEATURES;
	if (h->streams < streams) {
		/* Both sides must agree on the id range; the smaller view wins. */
		struct stream_table *t =
		    stream_table_new(h->streams, a->role == CONFIG_ROLE_CONNECT);
		if (!t) {
			abort_assoc(a, "out of memory");
			return;
		}
		stream_table_free(a->streams);
		a->streams = t;
	}
	char why[256];
	struct frame proof = {.type = FRAME_AUTH};
	int rc = auth_peer_hello(&a->auth, raw, raw_len, h, proof.u.proof, why, sizeof why);
	if (rc < 0) {
		auth_abort(a, h->name, why);
		return;
	}
	if (rc == 1) {
		go_ready(a); /* both sides insecure = yes */
		return;
	}
	if (!assoc_chunk_sync(a)) /* the peer's packets under the new key: accepted */
		return;
	rc = assoc_send_frame(a, 0, &proof);
	if (rc < 0) {
		log_error("association: cannot send AUTH: %s", strerror(-rc));
		abort_assoc(a, "cannot send AUTH");
		return;
	}
	auth_tx_start(&a->auth);
}

void assoc_on_auth(struct assoc *a, const struct frame *f)
{
	if (a->state != ASSOC_HELLO || a->auth.state != AUTH_PROOF) {
		assoc_protocol_abort(a, "AUTH out of order");
		return;
	}
	if (auth_peer_proof(&a->auth, f->u.proof) < 0) {
		auth_abort(
		    a, a->peer_name,
		    "its proof does not match: it holds a different key with the same id, or "
		    "replayed a handshake recorded from an earlier association");
		return;
	}
	go_ready(a);
}

/* The handshake is done (the peer's AUTH checked out, or both sides run
 * insecure = yes): the deadline is met. */
static void go_ready(struct assoc *a)
{
	ev_timer_stop(a->loop, &a->hello_timer);
	set_state(a, ASSOC_READY);
	a->backoff = ASSOC_BACKOFF_MIN;
	a->n_up++;
	upwatch_up(&a->upwatch);
	char id[17] = "-";
	if (a->auth.key >= 0)
		auth_key_id_hex(a->auth.key_id, id);
	log_info("association up: peer %s, protocol %u, %u streams, engine %s, key id %s, "
	         "protection %s",
	         a->peer_name, FRAME_VERSION, a->streams->n, a->engine->ops->name, id,
	         auth_mode_name(&a->auth));
	if (a->auth.state == AUTH_OPEN)
		log_warn("association with %s is NOT authenticated or encrypted (insecure = yes)",
		         a->peer_name);
	if (!assoc_chunk_sync(a)) /* what we send: under the new key */
		return;
	if (a->draining) {
		a->goaway_owed = true; /* draining already: tell this peer too */
		pump_update(a);
	}
	assoc_replay_early(a);
}

const char *assoc_loss_name(enum assoc_loss l)
{
	static const char *const names[ASSOC_LOSS_N_] = {
	    [ASSOC_LOSS_SHUTDOWN] = "shutdown",
	    [ASSOC_LOSS_HANDSHAKE] = "handshake",
	    [ASSOC_LOSS_ABORTED] = "aborted",
	    [ASSOC_LOSS_LOST] = "lost",
	};
	return l < ASSOC_LOSS_N_ ? names[l] : "?";
}

static void on_down(void *ctx, bool graceful, const char *why)
{
	struct assoc *a = ctx;
	bool was_ready = a->state == ASSOC_READY;
	size_t lost = a->n_conns;

	if (was_ready || a->state == ASSOC_HELLO || a->state == ASSOC_CLOSING)
		a->n_lost[graceful                    ? ASSOC_LOSS_SHUTDOWN
		          : a->state == ASSOC_HELLO   ? ASSOC_LOSS_HANDSHAKE
		          : a->we_aborted             ? ASSOC_LOSS_ABORTED
		          : a->state == ASSOC_CLOSING ? ASSOC_LOSS_SHUTDOWN
		                                      : ASSOC_LOSS_LOST]++;
	else
		a->n_attempts_failed++;

	/* The peer may have refused our key before we could judge its HELLO
	 * (it aborts as soon as it has ours): say so here too, so both sides
	 * of a failed handshake log it and count it. When we aborted, we
	 * logged why already. */
	bool in_handshake = a->state == ASSOC_HELLO && !a->we_aborted;
	a->we_aborted = false;
	if (in_handshake) {
		char addr[ADDR_STRLEN];
		a->n_auth_failed++;
		log_error("association: the association with %s at %s ended during "
		          "authentication (%s): the peer refused it; if this repeats, check that "
		          "both gateways have the same psk_file (%llu failed so far)",
		          a->peer_name[0] ? a->peer_name : "the peer",
		          assoc_peer_addr(a, addr, sizeof addr), why,
		          (unsigned long long)a->n_auth_failed);
	}
	forget_association(a);
	if (a->state == ASSOC_CLOSING) {
		log_info("association closed (%s)", why);
		report_closed(a);
		return;
	}
	upwatch_attempt_failed(&a->upwatch, why);
	if (was_ready || a->state == ASSOC_HELLO) {
		/* Graceful or not, the tunnel is gone until it comes back: a
		 * warning (journalctl -p warning), and the count of upwatch
		 * starts again. */
		log_warn("association down: %s%s; %zu connection%s reset", why,
		         !was_ready ? " (during the handshake)"
		         : graceful ? " (the peer closed it)"
		                    : "",
		         lost, lost == 1 ? "" : "s");
		a->failed_attempts = 0;
		if (was_ready)
			upwatch_start(&a->upwatch);
	} else if (a->failed_attempts++ == 0) {
		/* Said once; the retries that follow only at debug level. */
		log_info("association attempt failed: %s; retrying every %.1f s at most", why,
		         ASSOC_BACKOFF_MAX);
	} else {
		log_debug("association attempt failed: %s; retrying in %.1f s", why, a->backoff);
	}
	set_state(a, ASSOC_DOWN);
	if (a->role == CONFIG_ROLE_CONNECT)
		schedule_retry(a);
}

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
	pump_update(a);
}

static void on_path_event(void *ctx)
{
	struct assoc *a = ctx;
	path_event(&a->paths);
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
static bool send_pulled(struct assoc *a, uint16_t sid, size_t len)
{
	size_t wire_len = 0;
	int rc = assoc_send_sealed(a, sid, a->scratch, len, &wire_len);
	if (rc == -EAGAIN) {
		a->held_sid = sid;
		a->held_len = len;
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
		return send_pulled(a, sid, len);
	int rc = engine_send(a, sid, a->scratch, len, a->held_buf, wire_len, true);
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
		bool more = false;
		size_t len = conn_pull(c, a->scratch, &more); /* C may be gone if !more */
		if (more)
			assoc_conn_ready(a, c);
		if (len > 0 && !send_pulled(a, sid, len))
			break;
	}
out:
	pump_update(a);
}

static void assoc_pump_cb(struct ev_loop *loop, ev_timer *w, int revents)
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
static void pump_update(struct assoc *a)
{
	bool work = a->held_len > 0 || a->n_refusals > 0 || a->n_flow_owed > 0 ||
	            !TAILQ_EMPTY(&a->ready) ||
	            ((a->goaway_owed || a->rekey_owed) && a->state == ASSOC_READY);
	if (work && !a->engine_full)
		pump_soon(a);
	else
		ev_timer_stop(a->loop, &a->pump);
}

static void on_writable(void *ctx)
{
	struct assoc *a = ctx;
	a->engine_full = false;
	assoc_pump(a);
}

/* The opener's deadline for an answer to OPEN (assoc_open_grace). */
static void set_open_deadline(struct assoc *a, const struct config *c)
{
	a->open_timeout = (c->connect_timeout_ms + ASSOC_OPEN_MARGIN_MS) / 1000.0;
	a->open_grace = c->rto_max_ms / 1000.0;
	a->open_timeout_max = a->open_timeout + (double)c->assoc_max_retrans * a->open_grace;
}

struct assoc *assoc_new(struct ev_loop *loop, const struct config *cfg)
{
	struct assoc *a = calloc(1, sizeof *a);
	if (!a || !(a->scratch = malloc(FRAME_MAX)) ||
	    !(a->seal_mem = malloc(2 * FRAME_WIRE_MAX)) ||
	    !(a->open_buf = malloc(FRAME_WIRE_MAX))) {
		if (a) {
			free(a->scratch);
			free(a->seal_mem);
		}
		free(a);
		log_error("out of memory");
		return NULL;
	}
	a->seal_buf = a->seal_mem;
	a->held_buf = a->seal_mem + FRAME_WIRE_MAX;
	a->loop = loop;
	a->role = cfg->role;
	snprintf(a->name, sizeof a->name, "%s", cfg->name);
	a->connect_timeout_ms = cfg->connect_timeout_ms;
	a->egress = cfg->egress_allow;
	snprintf(a->config_file, sizeof a->config_file, "%s",
	         cfg->file[0] ? cfg->file : "the config file");
	set_open_deadline(a, cfg);
	a->conn_window = cfg->conn_window;
	a->conn_window_max = cfg->conn_window_max;
	a->memory_limit = cfg->memory_limit;
	a->mem_ceiling = cfg->memory_limit;
	a->udp_lifetime_ms = cfg->udp_lifetime_ms;
	a->flows = udp_flows_new(loop, a, cfg);
	if (!a->flows) {
		free(a->scratch);
		free(a->seal_mem);
		free(a->open_buf);
		free(a);
		log_error("out of memory");
		return NULL;
	}
	limits_init(&a->limits, loop, a, cfg);
	a->packet_auth = cfg->packet_auth;
	auth_init(&a->auth, cfg->role == CONFIG_ROLE_CONNECT, cfg->encrypt, cfg->name, cfg->psk,
	          cfg->n_psk);
	TAILQ_INIT(&a->conns);
	TAILQ_INIT(&a->ready);
	ev_timer_init(&a->pump, assoc_pump_cb, 0., 0.);
	a->pump.data = a;
	a->backoff = ASSOC_BACKOFF_MIN;
	ev_timer_init(&a->retry, assoc_retry_cb, 0., 0.);
	a->retry.data = a;
	upwatch_init(&a->upwatch, loop, cfg, &a->n_auth_failed, &a->n_up);
	/* HELLO is one small message: SCTP delivers it within a few
	 * retransmissions unless the association itself fails. */
	double rto_max = cfg->rto_max_ms / 1000.0;
	a->hello_timeout = ASSOC_HELLO_TIMEOUT > 3 * rto_max ? ASSOC_HELLO_TIMEOUT : 3 * rto_max;
	ev_timer_init(&a->hello_timer, assoc_hello_timeout_cb, 0., 0.);
	a->hello_timer.data = a;
	ev_timer_init(&a->rekey_timer, assoc_rekey_timeout_cb, 0., 0.);
	a->rekey_timer.data = a;
	ev_timer_init(&a->null_timer, assoc_null_timeout_cb, 0., 0.);
	a->null_timer.data = a;

	path_table_init(&a->paths, loop, cfg);
	struct engine_params p;
	engine_params_from_config(&p, cfg);
	struct engine_callbacks cb = {.up = on_up,
	                              .down = on_down,
	                              .message = assoc_on_message,
	                              .writable = on_writable,
	                              .path_event = on_path_event};
	a->engine = engine_new(cfg->engine, loop, &p, &cb, a);
	path_attach(&a->paths, a->engine);
	if (!a->engine) {
		auth_fini(&a->auth);
		udp_flows_free(a->flows);
		free(a->scratch);
		free(a->seal_mem);
		free(a->open_buf);
		free(a);
		return NULL;
	}
	assoc_log_security(a);
	log_info("flow control: windows of %zu bytes per connection, growing with use up to %zu; "
	         "memory_limit %zu bytes holds %zu connections at the first",
	         a->conn_window, a->conn_window_max, a->memory_limit,
	         a->memory_limit / a->conn_window);
	return a;
}

void assoc_free(struct assoc *a)
{
	if (!a)
		return;
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_stop(a->loop, &a->hello_timer);
	ev_timer_stop(a->loop, &a->rekey_timer);
	ev_timer_stop(a->loop, &a->null_timer);
	ev_timer_stop(a->loop, &a->pump);
	upwatch_stop(&a->upwatch);
	limits_stop(&a->limits);
	assoc_drop_early(a);
	kill_all(a);
	udp_flows_free(a->flows);
	path_table_fini(&a->paths);
	engine_free(a->engine);
	stream_table_free(a->streams);
	auth_fini(&a->auth);
	free(a->scratch);
	free(a->seal_mem);
	free(a->open_buf);
	free(a);
}

void assoc_reload(struct assoc *a, const struct config *c)
{
	if (a->conn_window != c->conn_window || a->conn_window_max != c->conn_window_max ||
	    a->memory_limit != c->memory_limit)
		log_info("reload: windows of %zu bytes per connection, growing up to %zu, "
		         "memory_limit %zu bytes (were %zu, %zu, %zu; connections open now keep "
		         "theirs)",
		         c->conn_window, c->conn_window_max, c->memory_limit, a->conn_window,
		         a->conn_window_max, a->memory_limit);
	a->conn_window = c->conn_window;
	a->conn_window_max = c->conn_window_max;
	a->memory_limit = c->memory_limit;
	/* A lower limit refuses new connections until the old ones have
	 * given back enough; what they hold is theirs. */
	a->mem_ceiling = a->mem_reserved > c->memory_limit ? a->mem_reserved : c->memory_limit;
	a->connect_timeout_ms = c->connect_timeout_ms;
	set_open_deadline(a, c);
	double rto_max = c->rto_max_ms / 1000.0;
	a->hello_timeout = ASSOC_HELLO_TIMEOUT > 3 * rto_max ? ASSOC_HELLO_TIMEOUT : 3 * rto_max;
	limits_reload(&a->limits, c);
	if (memcmp(&a->egress, &c->egress_allow, sizeof a->egress) != 0)
		log_info("reload: [egress] allow now has %zu entr%s; connections open now keep "
		         "theirs",
		         c->egress_allow.n, c->egress_allow.n == 1 ? "y" : "ies");
	a->egress = c->egress_allow;
	if (c->n_psk > 0 && a->auth.n_keys > 0) {
		auth_set_keys(&a->auth, c->psk, c->n_psk);
		assoc_rekey_start(a);
	}
	struct engine_params p;
	engine_params_from_config(&p, c);
	int rc = a->engine->ops->set_timers(a->engine, &p);
	if (rc < 0)
		log_warn("reload: the engine refused some [sctp] timers: %s; see the lines above",
		         strerror(-rc));
	path_reload(&a->paths, c);
}

int assoc_start(struct assoc *a)
{
	upwatch_start(&a->upwatch);
	if (a->role == CONFIG_ROLE_ACCEPT) {
		int rc = a->engine->ops->open(a->engine);
		if (rc < 0)
			return rc;
		log_info("waiting for the peer gateway to connect");
		return 0;
	}
	try_open(a);
	return 0;
}

void assoc_goaway(struct assoc *a)
{
	if (a->draining)
		return;
	a->draining = true;
	a->goaway_owed = true;
	pump_update(a); /* sent once READY (go_ready) and the engine has room */
}

void assoc_shutdown(struct assoc *a)
{
	enum assoc_state was = a->state;
	if (was == ASSOC_CLOSING)
		return;
	ev_timer_stop(a->loop, &a->retry);
	upwatch_stop(&a->upwatch);
	set_state(a, ASSOC_CLOSING);
	kill_all(a);
	a->engine->ops->shutdown(a->engine);
	/* With an association, on_down reports the end once SHUTDOWN is done. */
	if (was != ASSOC_HELLO && was != ASSOC_READY)
		report_closed(a);
}

/* Whether the frame PLAIN is one a deadline waits for (engine.h, send):
 * a connection's OPEN (the opener resets its client without an answer
 * within open_timeout), OPEN_OK, or RST (a refusal; a reset the peer must
 * not learn seconds late). The stream scheduler would otherwise let it
 * wait behind other connections' bulk data (engine_prio.h). */
static bool frame_urgent(const uint8_t *plain, size_t plain_len)
{
	return plain_len > 0 &&
	       (plain[0] == FRAME_OPEN || plain[0] == FRAME_OPEN_OK || plain[0] == FRAME_RST);
}

/* Give the engine WIRE (WIRE_LEN bytes: PLAIN sealed, or PLAIN itself)
 * on SID, and count what went. */
static int engine_send(struct assoc *a, uint16_t sid, const uint8_t *plain, size_t plain_len,
                       const void *wire, size_t wire_len, bool sealed)
{
	int rc = a->engine->ops->send(a->engine, sid, wire, wire_len,
	                              sid != 0 && frame_urgent(plain, plain_len));
	if (rc == -EAGAIN)
		a->engine_full = true;
	if (rc == 0 && sealed)
		auth_sent(&a->auth, sid);
	/* The OPEN is out: a new generation of the id's datagram counters
	 * (auth.h), as the peer will count it on receipt. */
	if (rc == 0 && sid != 0 && plain_len > 0 && plain[0] == FRAME_OPEN &&
	    auth_flow_begin(&a->auth, sid) < 0)
		abort_assoc(a, "a stream id opened too often");
	return rc;
}

/* Seal MSG (once the handshake is done) and send it. *WIRE_LEN (if not
 * NULL) gets the sealed length, 0 when it went in clear. */
static int assoc_send_sealed(struct assoc *a, uint16_t sid, const void *msg, size_t len,
                             size_t *wire_len)
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
	return engine_send(a, sid, msg, len, sealed ? a->seal_buf : msg, n, sealed);
}

static int assoc_send(struct assoc *a, uint16_t sid, const void *msg, size_t len)
{
	return assoc_send_sealed(a, sid, msg, len, NULL);
}

void assoc_rekey_owe(struct assoc *a, const struct frame_rekey *r)
{
	a->rekey_frame = *r;
	a->rekey_owed = true;
	pump_update(a);
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
	pump_update(a);
}

void assoc_log_security(const struct assoc *a)
{
	if (a->auth.n_keys == 0) {
		log_warn("security: insecure = yes: the peer is not authenticated and traffic is "
		         "neither encrypted nor integrity-protected; anyone who reaches the "
		         "association's port can act as the peer (docs/SECURITY.md)");
		return;
	}
	char id[17];
	/* The key in use, and what the key file held when last read. */
	auth_key_id_hex(a->auth.state == AUTH_SEALED ? a->auth.key_id : a->auth.keys[0].id, id);
	size_t n_file = a->auth.have_next_keys ? a->auth.n_next_keys : a->auth.n_keys;
	if (!a->auth.encrypt)
		log_warn("security: encrypt = no: messages are authenticated but travel in clear; "
		         "only for links already protected (IPsec, WireGuard)");
	if (!a->packet_auth && a->auth.n_keys > 0)
		log_warn(
		    "security: packet_auth = no: no SCTP-AUTH, so a packet altered on the path "
		    "costs the connection it hits; only for links already protected (IPsec, "
		    "WireGuard)");
	log_info("security: pre-shared key id %s%s; %llu handshakes failed, %llu rekeys done, "
	         "%llu rekeys failed, %llu messages forged or altered, %llu replayed, %llu gaps",
	         id, n_file > 1 ? " (and a next key)" : "", (unsigned long long)a->n_auth_failed,
	         (unsigned long long)a->n_rekeys, (unsigned long long)a->n_rekey_failed,
	         (unsigned long long)a->n_msg_forged, (unsigned long long)a->n_msg_replayed,
	         (unsigned long long)a->n_msg_missing);
}

static int assoc_send_frame(struct assoc *a, uint16_t sid, const struct frame *f)
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

double assoc_rtt(struct assoc *a)
{
	ev_tstamp now = ev_now(a->loop);
	if (now - a->rtt_at < 1.0)
		return a->rtt;
	a->rtt_at = now;
	struct engine_path_info info;
	if (a->engine->ops->path_info(a->engine, a->paths.primary, &info) == 0)
		a->rtt = info.srtt_ms / 1000.0;
	return a->rtt;
}

size_t assoc_data_max(const struct assoc *a)
{
	return a->dgram_at > 0 && ev_now(a->loop) - a->dgram_at < ASSOC_DGRAM_RECENT
	           ? ASSOC_DATA_BESIDE_DGRAM
	           : FRAME_DATA_MAX;
}
