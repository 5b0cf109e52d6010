/*
 * Unit tests of authentication and sealing through two real struct assoc
 * (or one and a scripted peer that holds the key), over the fake engine:
 * what the issue asks of a pair of gateways, without any SCTP stack.
 */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

/* Config C holds the keys of TEXT (a key file's content). */
static void give_key(struct config *c, const char *text)
{
	char err[256] = "";
	int n = crypto_psk_parse(text, strlen(text), c->psk, err, sizeof err);
	if (n < 0)
		fail_msg("%s", err);
	c->n_psk = (size_t)n;
}

static void new_key(char *line, size_t len)
{
	assert_int_equal(crypto_psk_generate(line, len), 0);
}

/* Both gateways' configs hold the same new key. */
static void give_one_key(struct fx *f)
{
	char k[64];
	new_key(k, sizeof k);
	give_key(f->ca, k);
	give_key(f->cb, k);
}

/* Both gateways hold the same new key; start them and wait for READY. */
static void start_with_one_key(struct fx *f)
{
	give_one_key(f);
	fx_start(f);
}

static void pair__matching_keys__authenticate_and_carry_data(void **state)
{
	struct fx *f = *state;
	start_with_one_key(f);
	assert_int_equal(f->a->auth.state, AUTH_SEALED);
	assert_int_equal(f->b->auth.state, AUTH_SEALED);
	struct link l = open_link(f, f->a);
	ping(f, &l);
	struct link m = open_link(f, f->b);
	ping(f, &m);
	assert_int_equal(f->a->n_auth_failed + f->b->n_auth_failed, 0);
	assert_int_equal(f->a->n_msg_forged + f->b->n_msg_forged, 0);
	/* Every message after the handshake went sealed: none of A's
	 * messages on the connection's stream starts with a frame type. */
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_DATA), 0);
	assert_true(fake_engine_count_sent(f->ea, l.sid, -1) > 0);
}

/* Different keys: both sides log and count it, the association is
 * aborted before READY, no stream opens, and the connect side backs off
 * (a handful of attempts in two seconds, not hundreds). */
static void pair__mismatched_keys__abort_before_any_stream_and_back_off(void **state)
{
	struct fx *f = *state;
	char ka[64], kb[64];
	new_key(ka, sizeof ka);
	new_key(kb, sizeof kb);
	give_key(f->ca, ka);
	give_key(f->cb, kb);
	fx_create(f);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->n_auth_failed >= 1 && f->b->n_auth_failed >= 1);
	int rc;
	open_client(f, f->a, &rc); /* a client arrives meanwhile */
	run_for(f, 2.0);
	assert_int_equal(f->a->n_up, 0);
	assert_int_equal(f->b->n_up, 0);
	assert_int_equal(f->a->n_opened + f->b->n_opened, 0);
	assert_int_equal(fake_engine_count_sent(f->ea, 1, -1), 0);
	assert_true(f->ea->n_abort + f->eb->n_abort >= 1);
	/* Back-off 0.1, 0.2, 0.4, 0.8 s: at most about 5 attempts. */
	assert_true(f->ea->n_open <= 6);
	assert_true(f->a->n_auth_failed >= 2);
}

static void pair__key_on_one_side_only__is_refused(void **state)
{
	struct fx *f = *state;
	char k[64];
	new_key(k, sizeof k);
	give_key(f->cb, k); /* A runs insecure */
	fx_create(f);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->n_auth_failed >= 1 && f->b->n_auth_failed >= 1);
	assert_int_equal(f->a->n_up + f->b->n_up, 0);
}

/* The connect side alone against a scripted accept side that holds the
 * key. The script completes association 1 and keeps its HELLO and AUTH;
 * played again into association 2 they fail: A's nonce is new. */
static void alone__handshake_replayed_into_a_new_association__is_rejected(void **state)
{
	struct fx *f = *state;
	char k[64];
	new_key(k, sizeof k);
	give_key(f->ca, k);
	struct assoc *a = fx_alone(f, false, 16);

	struct auth peer = {0};
	auth_init(&peer, false, true, "scripted", f->ca->psk, f->ca->n_psk);
	assert_int_equal(auth_begin(&peer, 16), 0);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 16);
	auth_fill_hello(&peer, &h.u.hello);
	uint8_t hb[AUTH_HELLO_MAX];
	ssize_t hn = frame_encode(&h, hb, sizeof hb);
	assert_true(hn > 0);
	auth_hello_sent(&peer, hb, (size_t)hn);
	struct frame a_hello;
	assert_int_equal(frame_decode(a->auth.hello, a->auth.hello_len, &a_hello), 0);
	struct frame proof = {.type = FRAME_AUTH};
	char why[256];
	assert_int_equal(auth_peer_hello(&peer, a->auth.hello, a->auth.hello_len, &a_hello.u.hello,
	                                 proof.u.proof, why, sizeof why),
	                 0);
	fake_engine_inject(f->ea, 0, hb, (size_t)hn);
	inject_frame(f->ea, 0, &proof);
	RUN_UNTIL(f, a->state == ASSOC_READY);
	assert_int_equal(a->n_up, 1);

	/* Association 2: the recorded exchange again. */
	fake_engine_down(f->ea, "test: association lost");
	RUN_UNTIL(f, a->state == ASSOC_HELLO);
	fake_engine_inject(f->ea, 0, hb, (size_t)hn);
	inject_frame(f->ea, 0, &proof);
	RUN_UNTIL(f, a->n_auth_failed == 1);
	assert_int_equal(a->n_up, 1);
	assert_true(f->ea->n_abort >= 1);
	auth_fini(&peer);
}

/* After authentication a forged message on a connection's stream is
 * dropped and counted; that connection is reset (its data may have a
 * hole), the association and the other connections go on. */
static void pair__forged_message__dropped_counted_and_only_its_connection_reset(void **state)
{
	struct fx *f = *state;
	start_with_one_key(f);
	struct link victim = open_link(f, f->a);
	struct link other = open_link(f, f->a);
	uint8_t forged[64];
	memset(forged, 0, sizeof forged);
	forged[8] = FRAME_DATA; /* counter 0, "DATA", no valid tag */
	fake_engine_inject(f->eb, victim.sid, forged, sizeof forged);
	RUN_UNTIL(f, f->b->n_msg_forged == 1);
	expect_reset(f, victim.target);
	ping(f, &other);
	assert_int_equal(f->b->state, ASSOC_READY);
	/* A plain (unsealed) frame is no better than a forged one. */
	struct frame d = {.type = FRAME_FIN};
	inject_frame(f->eb, other.sid, &d);
	RUN_UNTIL(f, f->b->n_msg_forged == 2);
	assert_int_equal(f->b->state, ASSOC_READY);
}

/* A's AUTH is held on its way to B, so B is still checking when A, READY
 * (it has B's AUTH), opens a connection: the OPEN overtakes A's AUTH on
 * another stream. B keeps it sealed and unhandled (no connection to the
 * target) until A's AUTH checks out, then handles it. */
static void pair__open_that_overtakes_the_auth__waits_for_it(void **state)
{
	struct fx *f = *state;
	char k[64];
	new_key(k, sizeof k);
	give_key(f->ca, k);
	give_key(f->cb, k);
	fx_create(f);
	fake_engine_hold(f->eb, FRAME_AUTH);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY);
	int rc;
	int client = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	RUN_UNTIL(f, f->b->n_early == 1);
	run_for(f, 0.2);
	assert_int_equal(f->b->state, ASSOC_HELLO);
	assert_int_equal(f->b->n_conns, 0);
	/* Kept as it came, sealed, and counted against the bound like any
	 * early message: its bytes + 64 (ASSOC_EARLY_OVERHEAD). */
	size_t sealed = 0;
	for (size_t i = 0; i < f->ea->n_sent; i++)
		if (f->ea->sent[i].sid == last_sid(f->a))
			sealed = f->ea->sent[i].len;
	assert_true(sealed > FRAME_HEADER_LEN + AUTH_OVERHEAD);
	assert_int_equal(f->b->early_bytes, sealed + 64);
	int t = accept4(f->target_listen, NULL, NULL, SOCK_NONBLOCK);
	assert_true(t < 0); /* nobody connected to the target */
	fake_engine_release(f->eb);
	RUN_UNTIL(f, f->b->state == ASSOC_READY);
	int target = accept_target(f);
	RUN_UNTIL(f, f->b->n_conns == 1);
	struct link l = {.client = client, .target = target, .sid = last_sid(f->a)};
	RUN_UNTIL(f, conn_is_open(f->a, l.sid));
	ping(f, &l);
}

/* A version 2 gateway (no nonce, no AUTH) is refused by version, before
 * any key is looked at. */
static void alone__version_2_peer__is_refused(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 16);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 16);
	h.u.hello.version_min = h.u.hello.version_max = 2;
	uint8_t b[AUTH_HELLO_MAX];
	ssize_t n = frame_encode(&h, b, sizeof b);
	size_t v2 = FRAME_HEADER_LEN + 14 + strlen(h.u.hello.name); /* cut the extension */
	assert_true(n > (ssize_t)v2);
	fake_engine_inject(f->ea, 0, b, v2);
	RUN_UNTIL(f, f->ea->n_abort == 1);
	assert_non_null(strstr(f->ea->last_abort, "no common protocol version"));
	assert_int_equal(a->n_up, 0);
}

/* The engine is full while six connections send, with encryption on: the
 * pump keeps one pulled frame (plaintext, in scratch) and sends it again
 * when there is room. Sealing happens only in assoc_send and the counter
 * moves on only when the engine took the message, so the re-sent frame
 * carries the counter the peer expects: every byte arrives, in order, and
 * nothing fails to open. */
static void pair__engine_full_with_encryption__held_frame_resent_and_opens(void **state)
{
	struct fx *f = *state;
	start_with_one_key(f);
	assert_int_equal(f->b->auth.state, AUTH_SEALED);
	struct bulk b;
	bulk_start_full(f, &b, 6, 300 * 1000, 60);
	run_for(f, 0.2);
	assert_true(f->eb->n_eagain > 0);
	assert_true(f->b->held_len > 0); /* a frame waits, pulled but not sent */
	fake_engine_set_full(f->eb, false);
	fake_engine_set_limit(f->eb, 2); /* still often full on the way */
	unsigned eagain = f->eb->n_eagain;
	while (!bulk_step(&b))
		ev_run(f->loop, EVRUN_ONCE);
	assert_true(f->eb->n_eagain > eagain); /* held again on the way */
	bulk_check(&b);
	assert_int_equal(f->a->n_msg_forged + f->a->n_msg_replayed + f->a->n_msg_missing, 0);
	assert_int_equal(f->b->n_msg_forged + f->b->n_msg_replayed + f->b->n_msg_missing, 0);
	assert_int_equal(f->a->n_auth_failed + f->b->n_auth_failed, 0);
}

/* The HELLO deadline covers the AUTH step: A has B's HELLO (and sent its
 * own AUTH) but B's AUTH never reaches it. A aborts at the deadline,
 * counts a failed handshake, never went READY; the connect role retries
 * and, with the AUTH let through, comes up. */
static void pair__auth_never_comes__aborted_at_the_hello_deadline(void **state)
{
	struct fx *f = *state;
	give_one_key(f);
	fx_create(f);
	assert_true(f->a->hello_timeout >= 10.0);
	f->a->hello_timeout = 0.3;
	fake_engine_hold(f->ea, FRAME_AUTH); /* B's AUTH to A waits */
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->auth.state == AUTH_PROOF);
	ev_tstamp t0 = ev_time();
	RUN_UNTIL(f, f->ea->n_abort == 1);
	assert_true(ev_time() - t0 >= 0.2);
	assert_non_null(strstr(f->ea->last_abort, "no AUTH in time"));
	assert_int_equal(f->a->n_up, 0);
	assert_int_equal(f->a->n_auth_failed, 1);
	fake_engine_release(f->ea);
	f->a->hello_timeout = 10.0;
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	assert_false(ev_is_active(&f->a->hello_timer));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pair__matching_keys__authenticate_and_carry_data,
	                                    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        pair__mismatched_keys__abort_before_any_stream_and_back_off, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(pair__key_on_one_side_only__is_refused, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        alone__handshake_replayed_into_a_new_association__is_rejected, fx_setup,
	        fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        pair__forged_message__dropped_counted_and_only_its_connection_reset, fx_setup,
	        fx_teardown),
	    cmocka_unit_test_setup_teardown(alone__version_2_peer__is_refused, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(pair__open_that_overtakes_the_auth__waits_for_it,
	                                    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        pair__engine_full_with_encryption__held_frame_resent_and_opens, fx_setup,
	        fx_teardown),
	    cmocka_unit_test_setup_teardown(pair__auth_never_comes__aborted_at_the_hello_deadline,
	                                    fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
