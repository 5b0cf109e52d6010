/*
 * Unit tests for auth: the handshake and the sealing, two struct auth
 * talking through encoded HELLO and AUTH frames, no engine at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "test_keys.h"

struct side {
	struct auth x;
	uint8_t hello[AUTH_HELLO_MAX];
	size_t hello_len;
	struct frame_hello h;
	uint8_t proof[CRYPTO_MAC_LEN];
};

static struct crypto_psk key(int which)
{
	return test_key(which);
}

/* Make a side's HELLO as assoc.c does: fill, encode, record. */
static void begin(struct side *s, bool connect, bool encrypt, const int *keys, size_t n)
{
	struct crypto_psk k[2];
	for (size_t i = 0; i < n; i++)
		k[i] = key(keys[i]);
	auth_fini(&s->x);
	auth_init(&s->x, connect, encrypt, connect ? "site-a" : "site-b", k, n);
	assert_int_equal(auth_begin(&s->x, 16), 0);
	struct frame f = {.type = FRAME_HELLO};
	f.u.hello.version_min = f.u.hello.version_max = FRAME_VERSION;
	f.u.hello.role = connect ? FRAME_ROLE_CONNECT : FRAME_ROLE_ACCEPT;
	f.u.hello.streams = 16;
	snprintf(f.u.hello.name, sizeof f.u.hello.name, "%s", s->x.name);
	auth_fill_hello(&s->x, &f.u.hello);
	ssize_t len = frame_encode(&f, s->hello, sizeof s->hello);
	assert_true(len > 0);
	s->hello_len = (size_t)len;
	auth_hello_sent(&s->x, s->hello, s->hello_len);
	struct frame back;
	assert_int_equal(frame_decode(s->hello, s->hello_len, &back), 0);
	s->h = back.u.hello;
}

/* Both sides hold the keys K[0] (one key), encrypt = yes. */
static void begin_both(struct side *c, struct side *a, const int *k)
{
	begin(c, true, true, k, 1);
	begin(a, false, true, k, 1);
}

/* Each side takes the other's HELLO; returns both results. */
static void exchange(struct side *c, struct side *a, int *rc_c, int *rc_a)
{
	char why[256];
	*rc_c = auth_peer_hello(&c->x, a->hello, a->hello_len, &a->h, c->proof, why, sizeof why);
	*rc_a = auth_peer_hello(&a->x, c->hello, c->hello_len, &c->h, a->proof, why, sizeof why);
	if (*rc_c == 0)
		auth_tx_start(&c->x);
	if (*rc_a == 0)
		auth_tx_start(&a->x);
}

static void fini(struct side *c, struct side *a)
{
	auth_fini(&c->x);
	auth_fini(&a->x);
}

static void handshake__same_key__both_prove_it_and_messages_flow(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int k[] = {0}, rc_c, rc_a;
	begin_both(&c, &a, k);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(rc_c, 0);
	assert_int_equal(rc_a, 0);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), 0);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), 0);
	assert_true(auth_rx_sealed(&c.x) && auth_rx_sealed(&a.x));

	const char msg[] = "known plaintext: the secret recipe";
	uint8_t wire[128], back[128];
	size_t n, m;
	assert_int_equal(auth_seal(&c.x, 3, (const uint8_t *)msg, sizeof msg, wire, &n), 0);
	auth_sent(&c.x, 3);
	assert_int_equal(n, sizeof msg + AUTH_OVERHEAD);
	assert_null(memmem(wire, n, "secret", 6)); /* encrypted */
	assert_int_equal(auth_open(&a.x, 3, wire, n, back, &m), 0);
	assert_int_equal(m, sizeof msg);
	assert_memory_equal(back, msg, sizeof msg);
	/* The other direction has its own key. */
	assert_int_equal(auth_seal(&a.x, 3, (const uint8_t *)msg, sizeof msg, wire, &n), 0);
	assert_int_equal(auth_open(&a.x, 3, wire, n, back, &m), -EBADMSG);
	assert_int_equal(auth_open(&c.x, 3, wire, n, back, &m), 0);
	fini(&c, &a);
}

static void handshake__different_keys__no_key_in_common(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int kc[] = {0}, ka[] = {1}, rc_c, rc_a;
	begin(&c, true, true, kc, 1);
	begin(&a, false, true, ka, 1);
	char why[256] = "";
	rc_c = auth_peer_hello(&c.x, a.hello, a.hello_len, &a.h, c.proof, why, sizeof why);
	assert_int_equal(rc_c, -EACCES);
	assert_non_null(strstr(why, "no key in common"));
	rc_a = auth_peer_hello(&a.x, c.hello, c.hello_len, &c.h, a.proof, why, sizeof why);
	assert_int_equal(rc_a, -EACCES);
	fini(&c, &a);
}

/* A key with the same id but other bytes cannot happen by chance; a peer
 * that claims our id without the key fails at the proof. */
static void handshake__claimed_key_id_without_the_key__fails_the_proof(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int k0[] = {0}, k1[] = {1}, rc_c, rc_a;
	begin(&c, true, true, k0, 1);
	begin(&a, false, true, k1, 1);
	memcpy(a.x.keys[0].id, key(0).id, CRYPTO_KEYID_LEN); /* a liar */
	begin(&a, false, true, k1, 1);
	a.x.keys[0] = key(1);
	memcpy(a.x.keys[0].id, key(0).id, CRYPTO_KEYID_LEN);
	/* Re-make its HELLO with the stolen id. */
	memcpy(a.h.key_ids[0], key(0).id, CRYPTO_KEYID_LEN);
	struct frame f = {.type = FRAME_HELLO, .u.hello = a.h};
	a.hello_len = (size_t)frame_encode(&f, a.hello, sizeof a.hello);
	auth_hello_sent(&a.x, a.hello, a.hello_len);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(rc_c, 0);
	assert_int_equal(rc_a, 0);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), -EACCES);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), -EACCES);
	assert_false(auth_rx_sealed(&c.x));
	fini(&c, &a);
}

static void handshake__insecure_on_one_side__is_refused_by_both(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int k[] = {0}, rc_c, rc_a;
	begin(&c, true, true, k, 1);
	begin(&a, false, true, NULL, 0);
	char why[256] = "";
	rc_c = auth_peer_hello(&c.x, a.hello, a.hello_len, &a.h, c.proof, why, sizeof why);
	assert_int_equal(rc_c, -EACCES);
	assert_non_null(strstr(why, "the peer has no key"));
	rc_a = auth_peer_hello(&a.x, c.hello, c.hello_len, &c.h, a.proof, why, sizeof why);
	assert_int_equal(rc_a, -EACCES);
	assert_non_null(strstr(why, "we have none"));
	/* Both insecure: nothing to prove, nothing sealed. */
	begin(&c, true, true, NULL, 0);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(rc_c, 1);
	assert_int_equal(rc_a, 1);
	assert_false(auth_tx_sealed(&c.x));
	fini(&c, &a);
}

/* An attacker recorded the connect side's HELLO and AUTH of association 1
 * and plays them to the accept side in association 2: the accept side's
 * nonce is new, so the recorded proof does not fit. */
static void handshake__replayed_from_an_earlier_association__is_rejected(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int k[] = {0}, rc_c, rc_a;
	begin_both(&c, &a, k);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), 0);
	struct side recorded = c;

	begin(&a, false, true, k, 1); /* association 2: a fresh nonce */
	char why[256];
	assert_int_equal(auth_peer_hello(&a.x, recorded.hello, recorded.hello_len, &recorded.h,
	                                 a.proof, why, sizeof why),
	                 0);
	assert_int_equal(auth_peer_proof(&a.x, recorded.proof), -EACCES);
	fini(&c, &a);
}

/* An on-path attacker sets the NO_ENCRYPT bit in one HELLO to downgrade
 * to integrity only: the proofs cover both HELLOs and fail. */
static void handshake__hello_altered_on_the_path__fails_the_proof(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int k[] = {0}, rc_c, rc_a;
	begin_both(&c, &a, k);
	c.h.features |= FRAME_FEATURE_NO_ENCRYPT;
	struct frame f = {.type = FRAME_HELLO, .u.hello = c.h};
	c.hello_len = (size_t)frame_encode(&f, c.hello, sizeof c.hello); /* what a receives */
	char why[256];
	rc_a = auth_peer_hello(&a.x, c.hello, c.hello_len, &c.h, a.proof, why, sizeof why);
	rc_c = auth_peer_hello(&c.x, a.hello, a.hello_len, &a.h, c.proof, why, sizeof why);
	assert_int_equal(rc_a, 0);
	assert_int_equal(rc_c, 0);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), -EACCES);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), -EACCES);
	fini(&c, &a);
}

/* Rotation: the connect side's order decides which common key is used. */
static void handshake__two_keys__connect_sides_first_common_key_wins(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	int rc_c, rc_a;
	int old_only[] = {0}, old_new[] = {0, 1}, new_old[] = {1, 0}, new_only[] = {1};

	/* Step 1: B gets the next key; A has only the old one. */
	begin(&c, true, true, old_only, 1);
	begin(&a, false, true, old_new, 2);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), 0);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), 0);
	assert_memory_equal(c.x.keys[c.x.key].id, key(0).id, CRYPTO_KEYID_LEN);
	/* Step 2: A lists the new key first. */
	begin(&c, true, true, new_old, 2);
	begin(&a, false, true, old_new, 2);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), 0);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), 0);
	assert_memory_equal(a.x.keys[a.x.key].id, key(1).id, CRYPTO_KEYID_LEN);
	/* Step 3: B drops the old key. */
	begin(&a, false, true, new_only, 1);
	begin(&c, true, true, new_old, 2);
	exchange(&c, &a, &rc_c, &rc_a);
	assert_int_equal(auth_peer_proof(&a.x, c.proof), 0);
	assert_int_equal(auth_peer_proof(&c.x, a.proof), 0);
	fini(&c, &a);
}

static void ready_pair(struct side *c, struct side *a, bool encrypt_c, bool encrypt_a)
{
	int k[] = {2}, rc_c, rc_a;
	begin(c, true, encrypt_c, k, 1);
	begin(a, false, encrypt_a, k, 1);
	exchange(c, a, &rc_c, &rc_a);
	assert_int_equal(auth_peer_proof(&c->x, a->proof), 0);
	assert_int_equal(auth_peer_proof(&a->x, c->proof), 0);
}

static void open__replayed_moved_or_missing_messages__are_not_delivered(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	uint8_t w[5][64], back[64];
	size_t n[5], m;
	for (int i = 0; i < 5; i++) {
		uint8_t msg[8] = {0x12, 0, (uint8_t)i};
		assert_int_equal(auth_seal(&c.x, 5, msg, sizeof msg, w[i], &n[i]), 0);
		auth_sent(&c.x, 5);
	}
	assert_int_equal(auth_open(&a.x, 5, w[0], n[0], back, &m), 0);
	assert_int_equal(back[2], 0);
	/* The same message again: a replay. */
	assert_int_equal(auth_open(&a.x, 5, w[0], n[0], back, &m), -EALREADY);
	/* Message 1 moved to stream 6: the stream id is authenticated. */
	assert_int_equal(auth_open(&a.x, 6, w[1], n[1], back, &m), -EBADMSG);
	assert_int_equal(auth_open(&a.x, 5, w[1], n[1], back, &m), 0);
	/* Message 2 lost (deleted on the path): 3 shows the gap. */
	assert_int_equal(auth_open(&a.x, 5, w[3], n[3], back, &m), -ERANGE);
	/* The stream goes on after the gap. */
	assert_int_equal(auth_open(&a.x, 5, w[4], n[4], back, &m), 0);
	assert_int_equal(back[2], 4);
	/* Altered counter, altered byte, truncated: not authentic. */
	uint8_t bad[64];
	memcpy(bad, w[4], n[4]);
	bad[7] ^= 1;
	assert_int_equal(auth_open(&a.x, 5, bad, n[4], back, &m), -EBADMSG);
	memcpy(bad, w[4], n[4]);
	bad[10] ^= 0x80;
	assert_int_equal(auth_open(&a.x, 5, bad, n[4], back, &m), -EBADMSG);
	assert_int_equal(auth_open(&a.x, 5, w[4], AUTH_OVERHEAD - 1, back, &m), -EBADMSG);
	fini(&c, &a);
}

/* Datagrams: accepted in any order, each once; ordered messages on the
 * same stream keep their exact-order check beside them. */
static void dgram__out_of_order__accepted_once_and_ordered_frames_unaffected(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	assert_int_equal(auth_flow_begin(&c.x, 7), 0); /* OPEN sent */
	assert_int_equal(auth_flow_begin(&a.x, 7), 0); /* OPEN received */
	uint8_t w[6][64], back[64];
	size_t n[6], m;
	for (int i = 0; i < 6; i++) {
		uint8_t msg[6] = {0x17, 0, (uint8_t)i};
		assert_int_equal(auth_seal_dgram(&c.x, 7, msg, sizeof msg, w[i], &n[i]), 0);
	}
	uint8_t ctl[4] = {0x11, 0, 0, 1}, wc[64];
	size_t nc;
	assert_int_equal(auth_seal(&c.x, 7, ctl, sizeof ctl, wc, &nc), 0);
	auth_sent(&c.x, 7);
	/* 3 overtakes 0..2, 1 is lost for good, the ordered frame in between. */
	assert_int_equal(auth_open(&a.x, 7, w[3], n[3], back, &m), 1);
	assert_int_equal(back[2], 3);
	assert_int_equal(auth_open(&a.x, 7, w[0], n[0], back, &m), 1);
	assert_int_equal(auth_open(&a.x, 7, wc, nc, back, &m), 0);
	assert_int_equal(auth_open(&a.x, 7, w[2], n[2], back, &m), 1);
	assert_int_equal(auth_open(&a.x, 7, w[5], n[5], back, &m), 1);
	/* Each again: replays. */
	assert_int_equal(auth_open(&a.x, 7, w[3], n[3], back, &m), -EALREADY);
	assert_int_equal(auth_open(&a.x, 7, w[0], n[0], back, &m), -EALREADY);
	/* Moved to another stream: not authentic. */
	assert_int_equal(auth_open(&a.x, 9, w[4], n[4], back, &m), -EBADMSG);
	assert_int_equal(auth_open(&a.x, 7, w[4], n[4], back, &m), 1);
	fini(&c, &a);
}

/* A datagram of the flow that used the id before (late, after the id was
 * opened again) is refused, not delivered to the new flow. */
static void dgram__of_an_earlier_flow_on_the_id__is_stale(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	uint8_t old[64], cur[64], back[64], msg[4] = {0x17, 0, 'x', 'y'};
	size_t no, nn, m;
	auth_flow_begin(&c.x, 3);
	auth_flow_begin(&a.x, 3);
	assert_int_equal(auth_seal_dgram(&c.x, 3, msg, sizeof msg, old, &no), 0);
	auth_flow_begin(&c.x, 3); /* the flow ended; a new OPEN on the id */
	auth_flow_begin(&a.x, 3);
	assert_int_equal(auth_seal_dgram(&c.x, 3, msg, sizeof msg, cur, &nn), 0);
	assert_int_equal(auth_open(&a.x, 3, old, no, back, &m), -ESTALE);
	assert_int_equal(auth_open(&a.x, 3, cur, nn, back, &m), 1);
	/* The old one had seq 0 like the new one: only the generation tells. */
	fini(&c, &a);
}

/* A seal the engine refused (-EAGAIN) is not counted: the retry uses the
 * same counter and opens in order. */
static void seal__not_sent__keeps_the_counter(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	uint8_t w[64], back[64];
	size_t n, m;
	uint8_t msg[4] = {0x13, 0, 0, 0};
	assert_int_equal(auth_seal(&c.x, 2, msg, sizeof msg, w, &n), 0); /* refused */
	assert_int_equal(auth_seal(&c.x, 2, msg, sizeof msg, w, &n), 0);
	auth_sent(&c.x, 2);
	assert_int_equal(auth_open(&a.x, 2, w, n, back, &m), 0);
	fini(&c, &a);
}

/* encrypt = no on both sides: the frame is visible, still authenticated.
 * On one side only: both encrypt. */
static void seal__encrypt_no_on_both__is_integrity_only(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	const char msg[] = "known plaintext";
	uint8_t w[64], back[64];
	size_t n, m;

	ready_pair(&c, &a, false, false);
	assert_true(c.x.integrity_only && a.x.integrity_only);
	assert_int_equal(auth_seal(&c.x, 1, (const uint8_t *)msg, sizeof msg, w, &n), 0);
	assert_non_null(memmem(w, n, "known plaintext", 15));
	w[AUTH_COUNTER_LEN + 2] ^= 1;
	assert_int_equal(auth_open(&a.x, 1, w, n, back, &m), -EBADMSG);
	w[AUTH_COUNTER_LEN + 2] ^= 1;
	assert_int_equal(auth_open(&a.x, 1, w, n, back, &m), 0);
	assert_memory_equal(back, msg, sizeof msg);
	fini(&c, &a);

	ready_pair(&c, &a, false, true);
	assert_false(c.x.integrity_only || a.x.integrity_only);
	assert_int_equal(auth_seal(&c.x, 1, (const uint8_t *)msg, sizeof msg, w, &n), 0);
	assert_null(memmem(w, n, "known plaintext", 15));
	fini(&c, &a);
}

/* ---- key rotation (REKEY) ---------------------------------------------- */

/* SIDE seals MSG-tag I on SID (ordered) into W; counted as sent. */
static size_t seal_one(struct side *s, uint16_t sid, uint8_t i, uint8_t w[64])
{
	uint8_t msg[8] = {0x12, 0, i};
	size_t n;
	assert_int_equal(auth_seal(&s->x, sid, msg, sizeof msg, w, &n), 0);
	auth_sent(&s->x, sid);
	return n;
}

/* FROM's message W opens at TO on SID with RC (and, when 0 or 1, tag I). */
static void opens(struct side *to, uint16_t sid, const uint8_t *w, size_t n, int rc, uint8_t i)
{
	uint8_t back[64];
	size_t m;
	assert_int_equal(auth_open(&to->x, sid, w, n, back, &m), rc);
	if (rc >= 0)
		assert_int_equal(back[2], i);
}

/* Both hold key 2 in use; a reload gave each the keys K (in order). */
static void reload_both(struct side *c, struct side *a, const int *kc, size_t nc, const int *ka,
                        size_t na)
{
	struct crypto_psk k[2];
	for (size_t i = 0; i < nc; i++)
		k[i] = key(kc[i]);
	auth_set_keys(&c->x, k, nc);
	for (size_t i = 0; i < na; i++)
		k[i] = key(ka[i]);
	auth_set_keys(&a->x, k, na);
}

/* The three REKEY messages, through the frame codec as on the wire. */
static struct frame_rekey wire(const struct frame_rekey *r)
{
	struct frame f = {.type = FRAME_REKEY, .u.rekey = *r}, back;
	uint8_t buf[128];
	ssize_t n = frame_encode(&f, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(frame_decode(buf, (size_t)n, &back), 0);
	assert_int_equal(back.type, FRAME_REKEY);
	return back.u.rekey;
}

/* Rotation from key 2 to key 0: both directions switch; messages sealed
 * before the switch and still in flight on several streams (and
 * datagrams, in any order) open after it; the old key is erased after. */
static void rekey__switches_both_directions_and_messages_in_flight_open(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	assert_int_equal(auth_flow_begin(&c.x, 7), 0);
	assert_int_equal(auth_flow_begin(&a.x, 7), 0);
	uint8_t old_c[3][64], old_a[3][64], dg_old[64], late_c[64];
	size_t n_old_c[3], n_old_a[3], n_dg_old, n_late_c;
	for (uint8_t s = 0; s < 3; s++) {
		n_old_c[s] = seal_one(&c, 3 + s, s, old_c[s]);
		n_old_a[s] = seal_one(&a, 3 + s, s, old_a[s]);
	}
	uint8_t dmsg[6] = {0x17, 0, 9};
	assert_int_equal(auth_seal_dgram(&c.x, 7, dmsg, sizeof dmsg, dg_old, &n_dg_old), 0);
	n_late_c = seal_one(&c, 6, 1, late_c);

	int kc[] = {0, 2}, ka[] = {2, 0};
	reload_both(&c, &a, kc, 2, ka, 2);
	struct frame_rekey req, ack, confirm;
	assert_int_equal(auth_rekey_request(&c.x, &req), 0);
	req = wire(&req);
	assert_memory_equal(req.key_id, key(0).id, CRYPTO_KEYID_LEN);
	assert_int_equal(auth_rekey_on_request(&a.x, &req, &ack), 0);
	ack = wire(&ack);
	assert_int_equal(a.x.tx_phase, 0); /* A waits for CONFIRM to send in the new phase */
	assert_int_equal(auth_rekey_on_ack(&c.x, &ack, &confirm), 0);
	confirm = wire(&confirm);
	assert_int_equal(c.x.tx_phase, 1);
	/* C's new-phase messages open at A before A saw CONFIRM. */
	uint8_t w[64];
	size_t n = seal_one(&c, 3, 10, w);
	assert_true(w[0] & 0x40); /* the key-phase bit */
	opens(&a, 3, old_c[0], n_old_c[0], 0, 0);
	opens(&a, 3, w, n, 0, 10);
	assert_int_equal(auth_rekey_on_confirm(&a.x, &confirm), 0);
	assert_int_equal(a.x.tx_phase, 1);
	assert_memory_equal(c.x.key_id, key(0).id, CRYPTO_KEYID_LEN);
	assert_memory_equal(a.x.key_id, key(0).id, CRYPTO_KEYID_LEN);
	assert_memory_equal(c.x.keys[0].id, key(0).id, CRYPTO_KEYID_LEN); /* the reload's keys */

	/* A's new messages open at C; the old ones in flight too, on other
	 * streams, after the new ones. */
	n = seal_one(&a, 3, 11, w);
	opens(&c, 3, old_a[0], n_old_a[0], 0, 0);
	opens(&c, 3, w, n, 0, 11);
	for (uint8_t s = 1; s < 3; s++) {
		opens(&c, 3 + s, old_a[s], n_old_a[s], 0, s);
		opens(&a, 3 + s, old_c[s], n_old_c[s], 0, s);
	}
	/* Datagrams: a new one first, then the old one that it overtook. */
	uint8_t dg_new[64];
	size_t n_dg_new;
	dmsg[2] = 10;
	assert_int_equal(auth_seal_dgram(&c.x, 7, dmsg, sizeof dmsg, dg_new, &n_dg_new), 0);
	opens(&a, 7, dg_new, n_dg_new, 1, 10);
	opens(&a, 7, dg_old, n_dg_old, 1, 9);
	opens(&a, 7, dg_old, n_dg_old, -EALREADY, 0);

	/* After the grace time the old keys are gone: a message sealed under
	 * them no longer opens, new ones do. */
	assert_true(auth_rekey_erase_old(&a.x));
	assert_true(auth_rekey_erase_old(&c.x));
	assert_null(a.x.rx[0]);
	assert_null(c.x.rx[0]);
	opens(&a, 6, late_c, n_late_c, -EBADMSG, 0);
	n = seal_one(&c, 5, 12, w);
	opens(&a, 5, w, n, 0, 12);
	fini(&c, &a);
}

/* A second rotation goes back to phase 0 with a third set of keys. */
static void rekey__twice__each_with_fresh_keys(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	for (int round = 0; round < 2; round++) {
		int k[] = {round == 0 ? 0 : 1, 2};
		reload_both(&c, &a, k, 2, k, 2);
		struct frame_rekey req, ack, confirm;
		assert_int_equal(auth_rekey_request(&c.x, &req), 0);
		assert_int_equal(auth_rekey_on_request(&a.x, &req, &ack), 0);
		assert_int_equal(auth_rekey_on_ack(&c.x, &ack, &confirm), 0);
		assert_int_equal(auth_rekey_on_confirm(&a.x, &confirm), 0);
		assert_int_equal(c.x.tx_phase, (unsigned)(round + 1) % 2);
		uint8_t w[64];
		size_t n = seal_one(&c, 1, (uint8_t)round, w);
		opens(&a, 1, w, n, 0, (uint8_t)round);
		n = seal_one(&a, 1, (uint8_t)round, w);
		opens(&c, 1, w, n, 0, (uint8_t)round);
	}
	/* The key in use is first already: nothing to do. */
	struct frame_rekey req;
	assert_int_equal(auth_rekey_request(&c.x, &req), -EALREADY);
	fini(&c, &a);
}

/* The old keys stay in use after each failure, both ways. */
static void still_old(struct side *c, struct side *a)
{
	assert_int_equal(c->x.tx_phase, 0);
	assert_int_equal(a->x.tx_phase, 0);
	assert_null(c->x.rk);
	assert_memory_equal(c->x.key_id, key(2).id, CRYPTO_KEYID_LEN);
	uint8_t w[64];
	size_t n = seal_one(c, 2, 1, w);
	opens(a, 2, w, n, 0, 1);
	n = seal_one(a, 2, 2, w);
	opens(c, 2, w, n, 0, 2);
}

/* The accept side does not hold the key: refused, nothing changes. */
static void rekey__key_not_held__refused_and_old_keys_stay(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	int kc[] = {0, 2}, ka[] = {2};
	reload_both(&c, &a, kc, 2, ka, 1);
	struct frame_rekey req, ack, confirm;
	assert_int_equal(auth_rekey_request(&c.x, &req), 0);
	assert_int_equal(auth_rekey_on_request(&a.x, &req, &ack), -ENOKEY);
	assert_int_equal(wire(&ack).status, FRAME_REKEY_NO_KEY);
	assert_int_equal(auth_rekey_on_ack(&c.x, &ack, &confirm), -ENOKEY);
	still_old(&c, &a);
	fini(&c, &a);
}

/* A forged ACK (wrong proof), an answer to no REKEY, a REKEY to the wrong
 * side, a forged CONFIRM: each refused, the old keys stay. */
static void rekey__forged_answers__refused_and_old_keys_stay(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	int k[] = {0, 2};
	reload_both(&c, &a, k, 2, k, 2);
	struct frame_rekey req, ack, confirm;
	assert_int_equal(auth_rekey_on_ack(&c.x, &ack, &confirm), -EINVAL); /* none asked */
	assert_int_equal(auth_rekey_request(&c.x, &req), 0);
	assert_int_equal(auth_rekey_on_request(&c.x, &req, &ack), -EINVAL); /* wrong side */
	assert_int_equal(auth_rekey_on_request(&a.x, &req, &ack), 0);
	struct frame_rekey bad = ack;
	bad.proof[0] ^= 1;
	assert_int_equal(auth_rekey_on_ack(&c.x, &bad, &confirm), -EACCES);
	assert_int_equal(auth_rekey_on_ack(&c.x, &ack, &confirm), -EINVAL); /* over */
	/* A forged CONFIRM at A: its new receive key goes too. */
	bad = (struct frame_rekey){.kind = FRAME_REKEY_CONFIRM};
	memcpy(bad.key_id, key(0).id, CRYPTO_KEYID_LEN);
	assert_int_equal(auth_rekey_on_confirm(&a.x, &bad), -EACCES);
	assert_null(a.x.rx[1]);
	still_old(&c, &a);
	fini(&c, &a);
}

/* A rotation recorded in an earlier association (same keys) replayed in
 * a new one: the recorded ACK's proof does not fit the new session (nor
 * the new nonce), so it is refused. */
static void rekey__replayed_from_an_earlier_association__is_refused(void **state)
{
	(void)state;
	struct side c = {0}, a = {0};
	ready_pair(&c, &a, true, true);
	int k[] = {0, 2};
	reload_both(&c, &a, k, 2, k, 2);
	struct frame_rekey req, ack, rec_ack, confirm;
	assert_int_equal(auth_rekey_request(&c.x, &req), 0);
	assert_int_equal(auth_rekey_on_request(&a.x, &req, &rec_ack), 0);
	fini(&c, &a);

	ready_pair(&c, &a, true, true);
	reload_both(&c, &a, k, 2, k, 2);
	assert_int_equal(auth_rekey_request(&c.x, &req), 0);
	assert_int_equal(auth_rekey_on_ack(&c.x, &rec_ack, &confirm), -EACCES);
	still_old(&c, &a);
	/* The same REKEY replayed at A with the earlier nonce: A answers with
	 * a fresh nonce of its own, and the recorded CONFIRM does not fit. */
	struct frame_rekey old_req = req;
	assert_int_equal(auth_rekey_on_request(&a.x, &old_req, &ack), 0);
	assert_memory_not_equal(ack.nonce, rec_ack.nonce, FRAME_NONCE_LEN);
	struct frame_rekey fake = {.kind = FRAME_REKEY_CONFIRM};
	memcpy(fake.key_id, key(0).id, CRYPTO_KEYID_LEN);
	memcpy(fake.proof, rec_ack.proof, FRAME_PROOF_LEN);
	assert_int_equal(auth_rekey_on_confirm(&a.x, &fake), -EACCES);
	fini(&c, &a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dgram__out_of_order__accepted_once_and_ordered_frames_unaffected),
	    cmocka_unit_test(dgram__of_an_earlier_flow_on_the_id__is_stale),
	    cmocka_unit_test(handshake__same_key__both_prove_it_and_messages_flow),
	    cmocka_unit_test(handshake__different_keys__no_key_in_common),
	    cmocka_unit_test(handshake__claimed_key_id_without_the_key__fails_the_proof),
	    cmocka_unit_test(handshake__insecure_on_one_side__is_refused_by_both),
	    cmocka_unit_test(handshake__replayed_from_an_earlier_association__is_rejected),
	    cmocka_unit_test(handshake__hello_altered_on_the_path__fails_the_proof),
	    cmocka_unit_test(handshake__two_keys__connect_sides_first_common_key_wins),
	    cmocka_unit_test(open__replayed_moved_or_missing_messages__are_not_delivered),
	    cmocka_unit_test(seal__not_sent__keeps_the_counter),
	    cmocka_unit_test(seal__encrypt_no_on_both__is_integrity_only),
	    cmocka_unit_test(rekey__switches_both_directions_and_messages_in_flight_open),
	    cmocka_unit_test(rekey__twice__each_with_fresh_keys),
	    cmocka_unit_test(rekey__key_not_held__refused_and_old_keys_stay),
	    cmocka_unit_test(rekey__forged_answers__refused_and_old_keys_stay),
	    cmocka_unit_test(rekey__replayed_from_an_earlier_association__is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
