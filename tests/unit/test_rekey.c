/*
 * Unit tests of key rotation on a live association (rekey.c, REKEY in
 * auth.c) through two real struct assoc over the fake engine: a reload
 * with a new key file rotates the keys while transfers run, and nothing is
 * dropped; a forged REKEY or a peer without the key changes nothing; the
 * engines' SCTP-AUTH keys follow the handshake and the rotation.
 * The cryptography alone (phases, messages in flight, forged and replayed
 * answers) is tested in test_auth.c.
 */
#include "pair.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "test_keys.h"

/* C holds the keys WHICH (N of them, in order). */
static void hold_keys(struct config *c, const int *which, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->psk[i] = test_key(which[i]);
	c->n_psk = n;
}

/* Reload gateway X with its config C holding the keys WHICH: as SIGHUP
 * does after reading the key file again. */
static void reload_keys(struct assoc *x, struct config *c, const int *which, size_t n)
{
	hold_keys(c, which, n);
	assoc_reload(x, c);
	/* The old key's grace time, short for the test. */
	x->hello_timeout = 0.3;
}

static void in_use(struct assoc *x, int which)
{
	assert_memory_equal(x->auth.key_id, test_key(which).id, CRYPTO_KEYID_LEN);
}

/* Both start with key 0; B's reload adds key 1 as the next one, A's puts
 * key 1 first: the keys rotate on the association while six transfers
 * run; every byte arrives, no connection is reset, the association is
 * the same one, and the old keys are erased after the grace time. */
static void reload__new_first_key__rotates_while_transfers_run(void **state)
{
	struct fx *f = *state;
	int k0[] = {0}, k01[] = {0, 1}, k10[] = {1, 0};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k0, 1);
	fx_start(f);
	in_use(f->a, 0);
	struct bulk b;
	bulk_start_full(f, &b, 6, 400 * 1000, 7);
	fake_engine_set_full(f->eb, false);
	for (int i = 0; i < 50; i++) {
		bulk_step(&b);
		ev_run(f->loop, EVRUN_ONCE);
	}
	reload_keys(f->b, f->cb, k01, 2);
	assert_int_equal(f->b->n_rekeys + f->a->n_rekeys, 0); /* the accept side waits */
	/* B's data sealed under the old key queue toward A behind the ACK. */
	fake_engine_hold(f->ea, FAKE_HOLD_ALL);
	reload_keys(f->a, f->ca, k10, 2);
	for (int i = 0; i < 20; i++) {
		bulk_step(&b);
		ev_run(f->loop, EVRUN_ONCE);
	}
	fake_engine_release(f->ea);
	RUN_UNTIL(f, bulk_step(&b) && f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	bulk_check(&b);
	in_use(f->a, 1);
	in_use(f->b, 1);
	assert_int_equal(f->a->auth.tx_phase, 1);
	assert_int_equal(f->b->auth.tx_phase, 1);
	for (int i = 0; i < b.n; i++) {
		assert_true(conn_is_open(f->a, b.l[i].sid));
		ping(f, &b.l[i]);
	}
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->b->n_up, 1);
	assert_int_equal(f->a->n_rekey_failed + f->b->n_rekey_failed, 0);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
	assert_int_equal(f->a->n_msg_missing + f->b->n_msg_missing, 0);
	/* The old receiving keys go after the grace time. */
	RUN_UNTIL(f, !f->a->auth.rx[0] && !f->b->auth.rx[0]);
	ping(f, &b.l[0]);
	/* The same file again: the key in use is first, nothing to do. */
	reload_keys(f->a, f->ca, k10, 2);
	run_for(f, 0.1);
	assert_int_equal(f->a->n_rekeys, 1);
	assert_int_equal(f->a->n_rekey_failed, 0);
}

/* A's new first key is not in B's file: the rotation is refused, both
 * log and count it, the old key stays and the connection carries on. */
static void reload__peer_without_the_key__refused_and_old_key_stays(void **state)
{
	struct fx *f = *state;
	int k0[] = {0}, k10[] = {1, 0};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k0, 1);
	fx_start(f);
	struct link l = open_link(f, f->a);
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekey_failed == 1 && f->b->n_rekey_failed == 1);
	in_use(f->a, 0);
	in_use(f->b, 0);
	assert_int_equal(f->a->n_rekeys + f->b->n_rekeys, 0);
	assert_int_equal(f->a->state, ASSOC_READY);
	assert_int_equal(f->a->n_up, 1);
	ping(f, &l);
}

/* A REKEY injected on the path (not sealed under the session's key) is
 * dropped and counted as forged; the keys and the association stay. */
static void forged_rekey__dropped_and_association_stays(void **state)
{
	struct fx *f = *state;
	int k0[] = {0}, k01[] = {0, 1};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k01, 2);
	fx_start(f);
	struct link l = open_link(f, f->a);
	struct frame fr = {.type = FRAME_REKEY};
	fr.u.rekey.kind = FRAME_REKEY_REQUEST;
	memcpy(fr.u.rekey.key_id, test_key(1).id, CRYPTO_KEYID_LEN);
	inject_frame(f->eb, 0, &fr);
	RUN_UNTIL(f, f->b->n_msg_forged == 1);
	run_for(f, 0.1);
	in_use(f->b, 0);
	assert_null(f->b->auth.rx[1]);
	assert_int_equal(f->b->n_rekeys, 0);
	assert_int_equal(f->b->state, ASSOC_READY);
	assert_int_equal(f->b->n_up, 1);
	ping(f, &l);
}

/* A frame the engine refused keeps its sealed bytes for the next try
 * (assoc.c send_held), but not across a change of the sending key: B
 * holds a DATA frame sealed under the old key when the rotation ends, A
 * then erases the old receiving key, and only after that does B's engine
 * take the frame. It must go sealed again under the new key; sent as it
 * was held, A would find no key for it and count it as forged. */
static void rekey__frame_held_across_the_switch__sealed_again_under_the_new_key(void **state)
{
	struct fx *f = *state;
	int k0[] = {0}, k01[] = {0, 1}, k10[] = {1, 0};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k0, 1);
	fx_start(f);
	struct bulk b;
	bulk_start_full(f, &b, 2, 2 * 1000 * 1000, 11);
	fake_engine_set_full(f->eb, false);
	reload_keys(f->b, f->cb, k01, 2);
	reload_keys(f->a, f->ca, k10, 2);
	/* B answered the REQUEST (its new receiving key is in) and sent the ACK. */
	RUN_UNTIL(f, (bulk_step(&b), f->b->auth.rx[1] != NULL && !f->b->rekey_owed));
	assert_int_equal(f->b->n_rekeys, 0);
	fake_engine_set_full(f->eb, true);
	RUN_UNTIL(f, (bulk_step(&b), f->b->held_wire_len > 0));
	uint64_t sealed_with = f->b->held_tx_gen;
	RUN_UNTIL(f, f->b->n_rekeys == 1 && f->a->n_rekeys == 1);
	assert_true(f->b->held_wire_len > 0);
	assert_int_not_equal(f->b->auth.tx_gen, sealed_with);
	RUN_UNTIL(f, f->a->auth.rx[0] == NULL);
	fake_engine_set_full(f->eb, false);
	RUN_UNTIL(f, bulk_step(&b));
	bulk_check(&b);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->b->n_up, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* Both engines authenticate the chunks, both hold key 0 only, the
 * association is up (the grace times short for the test). */
static void chunk_up(struct fx *f)
{
	int k0[] = {0};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k0, 1);
	fx_create(f);
	f->ea->chunk_auth = f->eb->chunk_auth = true;
	f->a->hello_timeout = f->b->hello_timeout = 0.3;
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
}

/* ... and the null key is gone. */
static void chunk_start(struct fx *f)
{
	chunk_up(f);
	RUN_UNTIL(f, !fake_engine_key(f->ea, 0) && !fake_engine_key(f->eb, 0));
}

/* SCTP-AUTH (rekey.c, assoc_chunk_sync): both engines authenticate the
 * chunks, so both install the handshake's key 1 and send with it, delete
 * the null key after the grace time, and on a rotation install the
 * rotation's key (the same number on both) and send with it. Every message,
 * during the handshake, the rotation (B's data flowing toward A all
 * along) and the transfers, arrives under a key its receiver holds, with
 * the same bytes, when it arrives: none would be dropped by a real stack. */
static void chunk_auth__keys_follow_handshake_and_rotation__never_a_key_the_peer_lacks(void **state)
{
	struct fx *f = *state;
	int k01[] = {0, 1}, k10[] = {1, 0};
	chunk_up(f);
	struct fake_engine *e[2] = {f->ea, f->eb};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(e[i]->active, 1);
		assert_non_null(fake_engine_key(e[i], 1));
		assert_int_equal(fake_engine_key(e[i], 1)->len, CRYPTO_KEY_LEN);
	}
	assert_memory_equal(fake_engine_key(f->ea, 1)->key, fake_engine_key(f->eb, 1)->key,
	                    CRYPTO_KEY_LEN);
	/* the null key */
	RUN_UNTIL(f, !fake_engine_key(f->ea, 0) && !fake_engine_key(f->eb, 0));

	struct bulk b;
	bulk_start_full(f, &b, 4, 200 * 1000, 3);
	fake_engine_set_full(f->eb, false);
	for (int i = 0; i < 30; i++) {
		bulk_step(&b);
		ev_run(f->loop, EVRUN_ONCE);
	}
	/* B's data keeps flowing toward A across the rotation. */
	reload_keys(f->b, f->cb, k01, 2);
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, bulk_step(&b) && f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	bulk_check(&b);
	uint16_t now = f->ea->active;
	assert_int_not_equal(now, 0);
	assert_int_not_equal(now, 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(e[i]->active, now);
		assert_non_null(fake_engine_key(e[i], now));
		assert_int_equal(e[i]->n_auth_bad, 0);
	}
	assert_memory_equal(fake_engine_key(f->ea, now)->key, fake_engine_key(f->eb, now)->key,
	                    CRYPTO_KEY_LEN);
	ping(f, &b.l[0]);
	assert_int_equal(f->ea->n_auth_bad + f->eb->n_auth_bad, 0);
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
}

/* One engine without SCTP-AUTH: no key is installed on either side (the
 * HELLO bit is missing on one), and the association works as before. */
static void chunk_auth__one_side_without__no_keys_and_works(void **state)
{
	struct fx *f = *state;
	int k0[] = {0};
	hold_keys(f->ca, k0, 1);
	hold_keys(f->cb, k0, 1);
	fx_create(f);
	f->ea->chunk_auth = true; /* B's engine has none */
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	struct link l = open_link(f, f->a);
	ping(f, &l);
	assert_int_equal(f->ea->n_key_ops + f->eb->n_key_ops, 0);
	assert_int_equal(f->ea->active, 0);
}

/* usrsctp fixes a message's SCTP-AUTH key number when it is queued, and
 * its retransmissions keep it: messages B queued under the handshake's
 * key reach A only long after the rotation and its grace time (a deep
 * send queue on a slow link). A still holds that key: the stack takes
 * them, the association lives on. */
static void chunk_auth__old_key_kept_while_messages_queued_under_it(void **state)
{
	struct fx *f = *state;
	int k01[] = {0, 1}, k10[] = {1, 0};
	chunk_start(f);
	struct link l = open_link(f, f->a);
	fake_engine_hold_sid(f->ea, l.sid); /* B's data on l waits in its queue */
	static const uint8_t msg[] = "queued under the handshake's key";
	send_now(l.target, msg, sizeof msg);
	RUN_UNTIL(f, fake_engine_queued(f->ea) > 0);
	uint16_t old = f->eb->active;
	reload_keys(f->b, f->cb, k01, 2);
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	assert_int_not_equal(f->eb->active, old);
	run_for(f, 3 * f->a->hello_timeout); /* every grace time is over */
	assert_non_null(fake_engine_key(f->ea, old));
	fake_engine_release(f->ea);
	run_for(f, 0.1);
	assert_int_equal(f->ea->n_auth_bad + f->eb->n_auth_bad, 0);
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->a->state, ASSOC_READY);
	struct link l2 = open_link(f, f->a);
	ping(f, &l2);
	assert_int_equal(f->ea->n_auth_bad + f->eb->n_auth_bad, 0);
}

/* Messages B sealed under the previous key that wait in the network past
 * the grace time (a deep queue on a slow or lossy link): while such
 * messages keep arriving, A keeps the previous key another grace time
 * (rekey.c rekey_old_key_in_use), so a late one still opens; after a grace
 * time without any, the key is erased. Before, the second message was
 * counted forged and its connection reset. */
static void rekey__old_key_stays_while_messages_under_it_arrive(void **state)
{
	struct fx *f = *state;
	int k01[] = {0, 1}, k10[] = {1, 0};
	chunk_start(f);
	struct link l1 = open_link(f, f->a), l2 = open_link(f, f->a);
	fake_engine_hold_sid(f->ea, l1.sid);
	fake_engine_hold_sid2(f->ea, l2.sid);
	static const uint8_t m1[] = "first, under the old key", m2[] = "second, under the old key";
	send_now(l1.target, m1, sizeof m1);
	send_now(l2.target, m2, sizeof m2);
	RUN_UNTIL(f, fake_engine_queued(f->ea) >= 2);
	reload_keys(f->b, f->cb, k01, 2);
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	double grace = f->a->hello_timeout;
	run_for(f, 0.6 * grace);
	fake_engine_release_sid(f->ea, l1.sid); /* within the grace time */
	expect_bytes(f, l1.client, m1, sizeof m1, false);
	run_for(f, 0.9 * grace); /* past the first grace time */
	fake_engine_release_sid(f->ea, l2.sid);
	expect_bytes(f, l2.client, m2, sizeof m2, false);
	assert_int_equal(f->a->n_msg_forged, 0);
	unsigned old = f->a->auth.tx_phase ^ 1;
	assert_non_null(f->a->auth.rx[old]);
	run_for(f, 2.5 * grace); /* a whole grace time without any: erased */
	assert_null(f->a->auth.rx[old]);
	ping(f, &l1);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
}

/* Two rotations while messages B queued under the handshake's key still
 * wait: the second one puts its key in that phase, and B's stack refuses
 * to delete key 1 while messages of B's hold it (usrsctp's refcount). B
 * keeps it, the association carries on (it used to abort), and key 1
 * goes once those messages are through. (A deletes its key 1 at the
 * second rotation: a message that waits across two rotations is the one
 * case the rule does not cover, docs/SECURITY.md.) */
static void chunk_auth__old_key_held_by_queued_messages__deleted_later_not_aborted(void **state)
{
	struct fx *f = *state;
	int k01[] = {0, 1}, k10[] = {1, 0}, k12[] = {1, 2}, k21[] = {2, 1};
	chunk_start(f);
	struct link l = open_link(f, f->a);
	fake_engine_hold_sid(f->ea, l.sid);
	static const uint8_t msg[] = "queued under the handshake's key";
	send_now(l.target, msg, sizeof msg);
	RUN_UNTIL(f, fake_engine_queued(f->ea) > 0);
	reload_keys(f->b, f->cb, k01, 2);
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	reload_keys(f->b, f->cb, k12, 2);
	reload_keys(f->a, f->ca, k21, 2);
	RUN_UNTIL(f, f->a->n_rekeys == 2 && f->b->n_rekeys == 2);
	assert_int_equal(f->eb->n_abort + f->ea->n_abort, 0);
	assert_int_equal(f->b->state, ASSOC_READY);
	assert_non_null(fake_engine_key(f->eb, 1)); /* held by B's queued message */
	fake_engine_release(f->ea);
	RUN_UNTIL(f, !fake_engine_key(f->eb, 1));
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->eb->n_abort + f->ea->n_abort, 0);
	struct link l2 = open_link(f, f->a);
	ping(f, &l2);
}

/* The connect side gives up a REKEY whose ACK is late (it arrives after
 * the deadline and is ignored), while the accept side took the new key:
 * the SCTP-AUTH key numbers must not drift apart. The next rotation
 * succeeds and both ends send and accept the same key number, data
 * keeps flowing. */
static void chunk_auth__late_ack_then_rotation__same_key_numbers(void **state)
{
	struct fx *f = *state;
	int k01[] = {0, 1}, k10[] = {1, 0};
	chunk_start(f);
	struct link l = open_link(f, f->a);
	reload_keys(f->b, f->cb, k01, 2);
	fake_engine_hold(f->ea, FAKE_HOLD_ALL); /* B's ACK to A is late */
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekey_failed == 1); /* A gave up */
	fake_engine_release(f->ea);
	RUN_UNTIL(f, f->a->n_rekey_failed == 2); /* the late ACK: an answer to no REKEY */
	assert_int_equal(f->a->n_rekeys + f->b->n_rekeys, 0);
	ping(f, &l);
	reload_keys(f->a, f->ca, k10, 2); /* again */
	RUN_UNTIL(f, f->a->n_rekeys == 1 && f->b->n_rekeys == 1);
	assert_int_equal(f->ea->active, f->eb->active);
	ping(f, &l);
	struct link l2 = open_link(f, f->a);
	ping(f, &l2);
	assert_int_equal(f->ea->n_auth_bad + f->eb->n_auth_bad, 0);
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
}

/* A reload right after the association came up: its REKEY is refused
 * (B lacks the key) while the null key's grace time runs. The null key
 * (which anyone who saw INIT and INIT-ACK can compute) still goes when
 * that grace time is over. */
static void chunk_auth__failed_rotation_during_null_grace__null_key_still_deleted(void **state)
{
	struct fx *f = *state;
	int k10[] = {1, 0};
	chunk_up(f);
	assert_non_null(fake_engine_key(f->ea, 0));
	reload_keys(f->a, f->ca, k10, 2);
	RUN_UNTIL(f, f->a->n_rekey_failed == 1 && f->b->n_rekey_failed == 1);
	run_for(f, 3 * f->a->hello_timeout);
	assert_null(fake_engine_key(f->ea, 0));
	assert_null(fake_engine_key(f->eb, 0));
	assert_int_equal(f->a->n_up, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(reload__new_first_key__rotates_while_transfers_run),
	    T(reload__peer_without_the_key__refused_and_old_key_stays),
	    T(forged_rekey__dropped_and_association_stays),
	    T(rekey__frame_held_across_the_switch__sealed_again_under_the_new_key),
	    T(chunk_auth__keys_follow_handshake_and_rotation__never_a_key_the_peer_lacks),
	    T(chunk_auth__one_side_without__no_keys_and_works),
	    T(chunk_auth__old_key_kept_while_messages_queued_under_it),
	    T(chunk_auth__old_key_held_by_queued_messages__deleted_later_not_aborted),
	    T(rekey__old_key_stays_while_messages_under_it_arrive),
	    T(chunk_auth__late_ack_then_rotation__same_key_numbers),
	    T(chunk_auth__failed_rotation_during_null_grace__null_key_still_deleted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
