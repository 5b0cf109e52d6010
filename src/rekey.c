/*
 * rekey: the association's keys after the handshake: key rotation on a
 * live association, the association's side of it (auth.h holds the
 * cryptography, docs/SECURITY.md the design, docs/PROTOCOL.md the REKEY
 * frames), and the SCTP-AUTH keys of the engine that follow the
 * handshake's and each rotation's keys (assoc_chunk_sync, at the end).
 *
 * Start here to see what a reload with a new key file does to the
 * association: the connect side asks (assoc_rekey_start), the accept side
 * answers, both switch their sending key; the old receiving key is erased
 * a grace time after (the handshake's deadline, 10 s or 3 x rto_max),
 * longer while messages under it still arrive (rekey_old_key_in_use; one
 * that arrives after costs its connection). The old phase's SCTP-AUTH key
 * stays until the next rotation (assoc_chunk_sync). The same timer gives
 * up a REKEY never answered. A rotation
 * that fails is logged and counted and keeps the old keys; the
 * association and its connections carry on either way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "assoc.h"
#include "log.h"
#include "ratelimit.h"

/* The longest the previous key stays while messages under it still arrive
 * (rekey_old_key_in_use), in seconds. */
#define REKEY_OLD_KEY_MAX 120.0

static void rekey_send(struct assoc *a, const struct frame_rekey *r)
{
	struct frame f = {.type = FRAME_REKEY, .u.rekey = *r};
	int rc = assoc_send_ctl(a, 0, &f);
	log_debug("association: REKEY (kind %u) %s", r->kind,
	          rc == 0         ? "queued"
	          : rc == -EAGAIN ? "owed: the engine is full"
	                          : "not sent");
	if (rc == -EAGAIN)
		assoc_rekey_owe(a, r);
	else if (rc < 0)
		log_warn("association: cannot send REKEY: %s", strerror(-rc));
}

static void rekey_failed(struct assoc *a, const char *why)
{
	char id[17];
	a->n_rekey_failed++;
	auth_key_id_hex(a->auth.key_id, id);
	log_warn("association: key rotation with %s failed: %s; key id %s stays in use, the "
	         "association and its connections carry on (%llu rotations failed so far)",
	         a->peer_name, why, id, (unsigned long long)a->n_rekey_failed);
}

/* Both directions use the new key from here (our side): count, log, and
 * erase the old receiving key after the grace time. */
static void rekey_switched(struct assoc *a)
{
	char id[17];
	a->n_rekeys++;
	auth_key_id_hex(a->auth.key_id, id);
	log_info("association: key rotated on the live association with %s: key id %s now "
	         "in use; %zu connection%s carry on (%llu rotations)",
	         a->peer_name, id, a->n_conns, a->n_conns == 1 ? "" : "s",
	         (unsigned long long)a->n_rekeys);
	a->rekey_switched_at = ev_now(a->loop);
	a->rekey_old_seen = a->auth.rx_opened[a->auth.tx_phase ^ 1];
	ev_timer_stop(a->loop, &a->rekey_timer);
	ev_timer_set(&a->rekey_timer, a->hello_timeout, 0.);
	ev_timer_start(a->loop, &a->rekey_timer);
}

/* Whether messages sealed under the old key still arrive (a deep send queue
 * on a slow or lossy path, or retransmissions backing off, can hold them
 * past the grace time): then the old key stays another grace time, up to
 * REKEY_OLD_KEY_MAX after the switch. Erasing it would drop them and reset
 * their connections; keeping it for ever would let a leaked old key forge
 * messages until the next rotation. */
static bool rekey_old_key_in_use(struct assoc *a)
{
	unsigned old = a->auth.tx_phase ^ 1;
	if (!a->auth.rx[old] || a->auth.rx_opened[old] == a->rekey_old_seen ||
	    ev_now(a->loop) - a->rekey_switched_at >= REKEY_OLD_KEY_MAX)
		return false;
	log_debug("association: %llu messages under the previous key since the last look; it "
	          "stays %.1f s more",
	          (unsigned long long)(a->auth.rx_opened[old] - a->rekey_old_seen),
	          a->hello_timeout);
	a->rekey_old_seen = a->auth.rx_opened[old];
	ev_timer_set(&a->rekey_timer, a->hello_timeout, 0.);
	ev_timer_start(a->loop, &a->rekey_timer);
	return true;
}

void assoc_rekey_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct assoc *a = w->data;
	if (a->auth.rk && a->auth.connect) {
		auth_rekey_cancel(&a->auth);
		rekey_failed(a, "the peer did not answer the REKEY");
	} else if (!rekey_old_key_in_use(a) && auth_rekey_erase_old(&a->auth)) {
		log_debug("association: the previous key is erased");
	}
	assoc_chunk_sync(a);
}

void assoc_null_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct assoc *a = w->data;
	if (a->state != ASSOC_READY || !a->chunk_null)
		return;
	a->chunk_null_due = true; /* the handshake's grace time is over */
	assoc_chunk_sync(a);
}

void assoc_rekey_start(struct assoc *a)
{
	if (a->state != ASSOC_READY || !a->auth.connect)
		return;
	struct frame_rekey r;
	int rc = auth_rekey_request(&a->auth, &r);
	if (rc == -EALREADY || rc == -EINVAL)
		return; /* the key in use stays first, or no keys (insecure) */
	if (rc < 0) {
		rekey_failed(a, rc == -EBUSY ? "a rotation is under way already; reload again "
		                               "once it is over"
		                             : strerror(-rc));
		return;
	}
	char id[17];
	auth_key_id_hex(r.key_id, id);
	log_info("association: rotating to key id %s on the live association (REKEY sent)", id);
	rekey_send(a, &r);
	/* No answer in time: given up (the timer tells). */
	ev_timer_stop(a->loop, &a->rekey_timer);
	ev_timer_set(&a->rekey_timer, a->hello_timeout, 0.);
	ev_timer_start(a->loop, &a->rekey_timer);
}

static void on_rekey(struct assoc *a, const struct frame_rekey *in);

void assoc_on_rekey(struct assoc *a, const struct frame_rekey *in)
{
	on_rekey(a, in);
	assoc_chunk_sync(a); /* a new phase's key, or the new one active */
}

static void on_rekey(struct assoc *a, const struct frame_rekey *in)
{
	struct frame_rekey out;
	char id[17];
	auth_key_id_hex(in->key_id, id);
	int rc;
	log_debug("association: REKEY (kind %u) received", in->kind);
	switch (in->kind) {
	case FRAME_REKEY_REQUEST:
		rc = auth_rekey_on_request(&a->auth, in, &out);
		if (rc == -EINVAL) {
			rekey_failed(a, "a REKEY request out of place (ignored)");
			return;
		}
		rekey_send(a, &out); /* the ACK, saying yes or no */
		if (rc == -ENOKEY) {
			char why[96];
			snprintf(why, sizeof why,
			         "the peer asked for key id %s and this gateway does not hold it",
			         id);
			rekey_failed(a, why);
		} else if (rc < 0) {
			rekey_failed(a, strerror(-rc));
		}
		return;
	case FRAME_REKEY_ACK:
		ev_timer_stop(a->loop, &a->rekey_timer);
		rc = auth_rekey_on_ack(&a->auth, in, &out);
		if (rc == 0) {
			rekey_send(a, &out); /* CONFIRM, sealed under the new key */
			rekey_switched(a);
			return;
		}
		char why[128];
		snprintf(why, sizeof why, "%s",
		         rc == -ENOKEY ? "the peer does not hold the new key (reload its key file "
		                         "first, then this gateway's again)"
		         : rc == -EACCES ? "the peer's proof does not match (a forged answer?)"
		         : rc == -EINVAL ? "an answer to no REKEY (ignored)"
		                         : strerror(-rc));
		rekey_failed(a, why);
		return;
	case FRAME_REKEY_CONFIRM:
		rc = auth_rekey_on_confirm(&a->auth, in);
		if (rc == 0)
			rekey_switched(a);
		else
			rekey_failed(a, rc == -EACCES ? "the peer's confirmation does not match"
			                              : "a confirmation of no REKEY (ignored)");
		return;
	default:
		rekey_failed(a, "an unknown REKEY kind (ignored)");
	}
}

/* ---- SCTP-AUTH keys in the engine ------------------------------------ */

void assoc_chunk_begin(struct assoc *a)
{
	a->n_chunk_installed = 0;
	a->chunk_active = 0;
	a->chunk_null = true;
	a->chunk_null_due = false;
	const struct engine_ops *o = a->engine->ops;
	if (!a->packet_auth) { /* said at start (assoc_log_security) */
		a->auth.chunk_auth_here = false;
		return;
	}
	int rc = o->chunk_key ? o->chunk_key(a->engine, ENGINE_KEY_CHECK, 0, NULL, 0) : -EOPNOTSUPP;
	a->auth.chunk_auth_here = rc == 0 && a->auth.n_keys > 0;
	if (rc < 0 && a->auth.n_keys > 0)
		log_warn_limited("association: no SCTP-AUTH on this association (%s): a packet "
		                 "altered on the path costs the connection it hits",
		                 rc == -EOPNOTSUPP ? "the peer's stack or ours does not "
		                                     "authenticate data chunks (packet_auth = no "
		                                     "there?)"
		                                   : strerror(-rc));
}

static bool chunk_op(struct assoc *a, enum engine_key_op op, uint16_t id, const uint8_t *key)
{
	static const char *const what[] = {[ENGINE_KEY_ADD] = "install",
	                                   [ENGINE_KEY_ACTIVATE] = "activate",
	                                   [ENGINE_KEY_DELETE] = "delete"};
	int rc = a->engine->ops->chunk_key(a->engine, op, id, key, key ? CRYPTO_KEY_LEN : 0);
	if (rc == 0) {
		log_debug("association: SCTP-AUTH key %u: %s", id, what[op]);
		return true;
	}
	log_error("association: cannot %s SCTP-AUTH key %u: %s; aborting the association", what[op],
	          id, strerror(-rc));
	a->we_aborted = true;
	a->engine->ops->abort(a->engine, "SCTP-AUTH key refused");
	return false;
}

/* Delete the old key ID if the stack lets us: usrsctp refuses while
 * messages of ours queued under it are still unacknowledged (they hold
 * it). Refused: kept, tried again at the next sync (the grace timer, the
 * next rotation); the association carries on. True when deleted. */
static bool chunk_delete_old(struct assoc *a, uint16_t id)
{
	int rc = a->engine->ops->chunk_key(a->engine, ENGINE_KEY_DELETE, id, NULL, 0);
	if (rc == 0)
		log_debug("association: SCTP-AUTH key %u: delete", id);
	else
		log_debug("association: SCTP-AUTH key %u: not deleted yet (%s: messages queued "
		          "under it?); tried again later",
		          id, strerror(-rc));
	return rc == 0;
}

/* A key number the peer may still send under: either phase's, also after
 * the old phase's AEAD key is erased. The stack fixes a message's key
 * number when the message is queued, and its retransmissions keep it: a
 * deep send queue on a slow link can hold messages queued under the old
 * phase's number longer than any grace time. So a number goes only when
 * the next rotation puts its key in that phase (key N-1 is deleted when
 * key N+1 is installed). */
static bool chunk_wanted(const struct auth *x, uint16_t id)
{
	for (unsigned p = 0; p < 2; p++)
		if (x->chunk_key_id[p] == id)
			return true;
	return false;
}

bool assoc_chunk_sync(struct assoc *a)
{
	struct auth *x = &a->auth;
	if (!x->chunk_auth || (a->state != ASSOC_HELLO && a->state != ASSOC_READY))
		return true;
	/* Receive first: a phase's new key. Its number may be one installed
	 * already (a rotation's number comes from its nonces): that key is
	 * replaced (never the active one: a rotation's number is not). */
	for (unsigned p = 0; p < 2; p++) {
		uint16_t id = x->chunk_key_id[p];
		if (id == 0 || !x->chunk_fresh[p])
			continue;
		for (size_t i = 0; i < a->n_chunk_installed; i++) {
			if (a->chunk_installed[i] != id)
				continue;
			if (!chunk_op(a, ENGINE_KEY_DELETE, id, NULL))
				return false;
			a->chunk_installed[i] = a->chunk_installed[--a->n_chunk_installed];
			break;
		}
		if (a->n_chunk_installed ==
		    sizeof a->chunk_installed / sizeof a->chunk_installed[0]) {
			log_error(
			    "association: SCTP-AUTH: %zu old keys still in use, no room for key "
			    "%u; aborting the association",
			    a->n_chunk_installed, id);
			a->we_aborted = true;
			a->engine->ops->abort(a->engine, "SCTP-AUTH keys exhausted");
			return false;
		}
		if (!chunk_op(a, ENGINE_KEY_ADD, id, x->chunk_key[p]))
			return false;
		a->chunk_installed[a->n_chunk_installed++] = id;
		x->chunk_fresh[p] = false;
	}
	/* Send: the phase we seal in, once the peer proved the key (it
	 * installed this key before its AUTH, or before its answer to a
	 * REKEY). */
	uint16_t act = x->state == AUTH_SEALED ? x->chunk_key_id[x->tx_phase] : 0;
	if (act && act != a->chunk_active) {
		if (!chunk_op(a, ENGINE_KEY_ACTIVATE, act, NULL))
			return false;
		if (a->chunk_active == 0) {
			log_info(
			    "association: SCTP-AUTH: packets authenticated with the handshake's "
			    "key %u; the null key is accepted for %.1f s more",
			    act, a->hello_timeout);
			/* The null key goes a grace time from now: the peer may
			 * still send, or resend, under it until our AUTH is in. */
			ev_timer_stop(a->loop, &a->null_timer);
			ev_timer_set(&a->null_timer, a->hello_timeout, 0.);
			ev_timer_start(a->loop, &a->null_timer);
		}
		a->chunk_active = act;
	}
	/* Forget the numbers no phase holds now (never the active key). */
	for (size_t i = 0; i < a->n_chunk_installed;) {
		uint16_t id = a->chunk_installed[i];
		if (id == a->chunk_active || chunk_wanted(x, id)) {
			i++;
			continue;
		}
		if (!chunk_delete_old(a, id)) {
			i++;
			continue;
		}
		a->chunk_installed[i] = a->chunk_installed[--a->n_chunk_installed];
	}
	if (a->chunk_null && a->chunk_null_due && a->chunk_active) {
		/* Refused while a handshake frame of ours is still unacknowledged
		 * (it holds the null key): tried again a second later. */
		if (!chunk_delete_old(a, 0)) {
			ev_timer_stop(a->loop, &a->null_timer);
			ev_timer_set(&a->null_timer, 1., 0.);
			ev_timer_start(a->loop, &a->null_timer);
			return true;
		}
		a->chunk_null = false;
		log_info("association: SCTP-AUTH: only the handshake's key %u is accepted now; "
		         "a packet altered on the path is dropped before SCTP acknowledges it",
		         a->chunk_active);
	}
	return true;
}
