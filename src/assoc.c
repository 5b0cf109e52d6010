/*
 * assoc: the life of the association (assoc.h has the states): opening it
 * (connect role: again with capped back-off), the handshake (HELLO, AUTH:
 * auth.h), READY, its end (every connection reset, the loss counted),
 * reload, drain and shutdown; and the objects it owns, made in assoc_new.
 * What it sends is in assoc_send.c, what it receives in assoc_recv.c, its
 * books on the connections in assoc_conns.c, key rotation in rekey.c.
 */
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
	assoc_pump_update(a);
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
void assoc_abort(struct assoc *a, const char *why)
{
	a->we_aborted = true;
	a->engine->ops->abort(a->engine, why);
}

/* Abort for a protocol violation on stream 0; engine down follows. */
void assoc_protocol_abort(struct assoc *a, const char *why)
{
	log_error_limited("association: protocol error from peer: %s; aborting the association",
	                  why);
	assoc_abort(a, why);
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
	assoc_abort(a, "authentication failed");
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
		assoc_abort(a, "cannot send HELLO");
	}
}

static void on_up(void *ctx, uint16_t streams)
{
	struct assoc *a = ctx;
	a->we_aborted = false;
	if (a->state == ASSOC_CLOSING) {
		assoc_abort(a, "shutting down");
		return;
	}
	if (streams < 3) {
		log_error_limited("association: only %u streams negotiated; need at least 3",
		                  streams);
		assoc_abort(a, "too few streams");
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
		assoc_abort(a, "out of memory");
		return;
	}
	int rc = auth_begin(&a->auth, streams);
	if (rc < 0) {
		log_error("association: cannot start the handshake: %s", strerror(-rc));
		assoc_abort(a, "cannot start the handshake");
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
		assoc_abort(a, "no HELLO in time");
		return;
	}
	char addr[ADDR_STRLEN];
	a->n_auth_failed++;
	log_error("association: peer %s at %s sent HELLO but no AUTH within %.1f s of the "
	          "association coming up; aborting it (%llu failed so far)",
	          a->peer_name[0] ? a->peer_name : "?", assoc_peer_addr(a, addr, sizeof addr),
	          a->hello_timeout, (unsigned long long)a->n_auth_failed);
	assoc_abort(a, "no AUTH in time");
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
		assoc_abort(a, "no common protocol version");
		return;
	}
	uint8_t ours = a->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_CONNECT : FRAME_ROLE_ACCEPT;
	if (h->role == ours) {
		log_error_limited(
		    "association: peer %s also has role = %s; exactly one side must connect",
		    h->name, config_role_name(a->role));
		assoc_abort(a, "both gateways have the same role");
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
			assoc_abort(a, "out of memory");
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
		assoc_abort(a, "cannot send AUTH");
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
		assoc_pump_update(a);
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

static void on_path_event(void *ctx)
{
	struct assoc *a = ctx;
	path_event(&a->paths);
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
	                              .writable = assoc_on_writable,
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
	assoc_pump_update(a); /* sent once READY (go_ready) and the engine has room */
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
