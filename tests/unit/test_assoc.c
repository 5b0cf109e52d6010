/*
 * Unit tests for assoc and tcp_conn: two gateways in one process (pair.h).
 * Flow control has its own driver, test_credit.c.
 *
 * Three tests are regressions: they failed against the first version of
 * tcp_conn.c, stream.c and assoc.c (see their comments).
 */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the association ------------------------------------------------- */

static void assoc__two_gateways__exchange_hello_and_become_ready(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	assert_string_equal(f->a->peer_name, "gw-b");
	assert_string_equal(f->b->peer_name, "gw-a");
	assert_int_equal(f->a->n_up, 1);
	assert_int_equal(f->b->n_up, 1);
	assert_int_equal(f->a->streams->n, 4096);
	assert_int_equal(f->b->streams->n, 4096);
	assert_true(f->a->streams->own_odd);
	assert_false(f->b->streams->own_odd);
	/* HELLO on stream 0 is the first thing each side says. */
	assert_true(f->ea->n_sent >= 1);
	assert_int_equal(f->ea->sent[0].sid, 0);
	assert_int_equal(f->ea->sent[0].head[0], FRAME_HELLO);
	assert_int_equal(f->eb->sent[0].sid, 0);
	assert_int_equal(f->eb->sent[0].head[0], FRAME_HELLO);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

static void assoc__stream_counts_differ__both_use_the_smaller(void **state)
{
	struct fx *f = *state;
	fx_create(f);
	fake_engine_set_streams(f->ea, 100);
	fake_engine_set_streams(f->eb, 7);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	assert_int_equal(f->a->streams->n, 7);
	assert_int_equal(f->b->streams->n, 7);
	/* So A's ids stop at 5 as B expects: 1 3 5, then none. */
	int rc;
	for (int i = 0; i < 3; i++) {
		open_client(f, f->a, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(last_sid(f->a), 2 * i + 1);
	}
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOSPC);
	expect_reset(f, c);
}

static void conn_open__before_the_association_is_ready__refuses_the_client(void **state)
{
	struct fx *f = *state;
	fx_create(f); /* never started */
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOTCONN);
	expect_reset(f, c);
	assert_int_equal(f->a->n_conns, 0);
	assert_int_equal(f->a->n_refused, 1);
}

/* --- data ------------------------------------------------------------ */

static void conn__bytes__flow_both_ways_unchanged(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	assert_int_equal(l.sid, 1);

	size_t up = 700 * 1000 + 7, down = 1100 * 1000 + 3;
	uint8_t *pu = pattern(up, 1), *pd = pattern(down, 2);
	struct writer wu = {.fd = l.client, .data = pu, .len = up};
	struct writer wd = {.fd = l.target, .data = pd, .len = down};
	struct reader ru = {.fd = l.target}, rd = {.fd = l.client};
	RUN_UNTIL(f, (wr_step(&wu) & wr_step(&wd) & rd_got(&ru, up) & rd_got(&rd, down)));
	assert_int_equal(wu.err, 0);
	assert_int_equal(wd.err, 0);
	assert_int_equal(ru.len, up);
	assert_int_equal(rd.len, down);
	assert_memory_equal(ru.buf, pu, up);
	assert_memory_equal(rd.buf, pd, down);
	free(ru.buf);
	free(rd.buf);
	free(pu);
	free(pd);

	/* Payloads went in DATA frames no larger than the protocol allows. */
	for (size_t i = 0; i < f->ea->n_sent; i++)
		if (f->ea->sent[i].head[0] == FRAME_DATA)
			assert_true(f->ea->sent[i].len <= FRAME_MAX);

	/* Both close: everything is released on both sides. */
	close_tracked(f, l.client);
	close_tracked(f, l.target);
	RUN_UNTIL(f, all_idle(f));
	assert_int_equal(slot_state(f->a, 1), STREAM_FREE);
	assert_int_equal(fake_engine_count_sent(f->eb, 1, FRAME_CLOSED), 1);
	assert_int_equal(fake_engine_count_sent(f->ea, 1, FRAME_CLOSED), 0);
}

static void conn__half_close__target_reads_eof_and_reply_arrives_in_full(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);

	send_now(l.client, "GET /big\n", 9);
	assert_int_equal(shutdown(l.client, SHUT_WR), 0);
	expect_bytes(f, l.target, (const uint8_t *)"GET /big\n", 9, true);

	/* Half-closed: both conns live on, and the target still talks. */
	assert_int_equal(f->a->n_conns, 1);
	assert_int_equal(f->b->n_conns, 1);
	size_t len = 400 * 1000;
	uint8_t *reply = pattern(len, 3);
	struct writer w = {.fd = l.target, .data = reply, .len = len, .shut_after = true};
	struct reader r = {.fd = l.client};
	RUN_UNTIL(f, (wr_step(&w) & rd_step(&r)));
	assert_int_equal(w.err, 0);
	assert_int_equal(r.err, 0);
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, reply, len);
	free(r.buf);
	free(reply);

	RUN_UNTIL(f, all_idle(f));
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_RST), 0);
	assert_int_equal(fake_engine_count_sent(f->eb, l.sid, FRAME_RST), 0);
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_FIN), 1);
	assert_int_equal(fake_engine_count_sent(f->eb, l.sid, FRAME_FIN), 1);
}

static void conn__fin__never_overtakes_data(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);

	size_t len = 2 * 1000 * 1000;
	uint8_t *p = pattern(len, 4);
	struct writer w = {.fd = l.client, .data = p, .len = len, .shut_after = true};
	struct reader r = {.fd = l.target};
	RUN_UNTIL(f, (wr_step(&w) & rd_step(&r)));
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);

	/* On the wire: one FIN, after the last DATA. */
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_FIN), 1);
	assert_true(last_sent_index(f->ea, l.sid, FRAME_DATA) <
	            sent_index(f->ea, l.sid, FRAME_FIN, 0));
}

static void conn__fin__never_overtakes_data_while_the_engine_is_full(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);

	fake_engine_set_full(f->ea, true);
	size_t len = 100 * 1000;
	uint8_t *p = pattern(len, 5);
	struct writer w = {.fd = l.client, .data = p, .len = len, .shut_after = true};
	RUN_UNTIL(f, wr_step(&w));
	RUN_UNTIL(f, f->ea->n_eagain > 0);
	settle(f);
	/* Data and FIN wait for room; nothing reached the target. */
	struct conn *c = conn_at(f->a, l.sid);
	assert_non_null(c);
	assert_true(f->a->held_len > 0);
	assert_int_equal(f->a->held_sid, l.sid);
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_FIN), 0);
	struct reader r = {.fd = l.target};
	rd_step(&r);
	assert_int_equal(r.len, 0);
	assert_false(r.eof);

	fake_engine_set_full(f->ea, false);
	RUN_UNTIL(f, rd_step(&r));
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);
	assert_true(last_sent_index(f->ea, l.sid, FRAME_DATA) <
	            sent_index(f->ea, l.sid, FRAME_FIN, 0));
}

static void conn__one_message_send_window__carries_everything_in_order(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l1 = open_link(f, f->a);
	struct link l2 = open_link(f, f->b);

	/* Every side may have only one message undelivered: nearly every send
	 * meets -EAGAIN and goes through the wait queue. */
	fake_engine_set_limit(f->ea, 1);
	fake_engine_set_limit(f->eb, 1);
	size_t len = 600 * 1000;
	uint8_t *p[4];
	struct writer w[4];
	struct reader r[4];
	int from[4] = {l1.client, l1.target, l2.client, l2.target};
	int to[4] = {l1.target, l1.client, l2.target, l2.client};
	for (int i = 0; i < 4; i++) {
		p[i] = pattern(len + (size_t)i, 10 + (uint32_t)i);
		w[i] = (struct writer){
		    .fd = from[i], .data = p[i], .len = len + (size_t)i, .shut_after = true};
		r[i] = (struct reader){.fd = to[i]};
	}
	RUN_UNTIL(f, (wr_step(&w[0]) & wr_step(&w[1]) & wr_step(&w[2]) & wr_step(&w[3]) &
	              rd_step(&r[0]) & rd_step(&r[1]) & rd_step(&r[2]) & rd_step(&r[3])));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r[i].err, 0);
		assert_true(r[i].eof);
		assert_int_equal(r[i].len, len + (size_t)i);
		assert_memory_equal(r[i].buf, p[i], len + (size_t)i);
		free(r[i].buf);
		free(p[i]);
	}
	assert_true(f->ea->n_eagain > 0);
	assert_true(f->eb->n_eagain > 0);
	RUN_UNTIL(f, all_idle(f));
}

/* --- resets and refusals --------------------------------------------- */

static void conn__client_reset__target_sees_econnreset(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	ping(f, &l);

	close_with_rst(f, l.client);
	expect_reset(f, l.target);
	RUN_UNTIL(f, all_idle(f));
	assert_sent_rst(f->ea, l.sid, FRAME_RST_RESET);
	assert_int_equal(fake_engine_count_sent(f->eb, l.sid, FRAME_CLOSED), 1);
}

static void conn__target_reset__client_sees_econnreset(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	ping(f, &l);

	close_with_rst(f, l.target);
	expect_reset(f, l.client);
	RUN_UNTIL(f, all_idle(f));
	assert_sent_rst(f->eb, l.sid, FRAME_RST_RESET);
}

static void conn__rst_after_fin__resets_the_half_closed_connection(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	ping(f, &l);

	/* The target is done sending (FIN reaches A), then goes away hard. */
	assert_int_equal(shutdown(l.target, SHUT_WR), 0);
	expect_bytes(f, l.client, NULL, 0, true);
	close_with_rst(f, l.target);
	/* The client still talks; B cannot deliver it and resets: A gets an
	 * RST after the FIN, which the protocol allows. */
	send_now(l.client, "more", 4);
	RUN_UNTIL(f, all_idle(f));
	/* The client, past its EOF (CLOSE_WAIT), sees the reset as an error. */
	int err = 0;
	socklen_t elen = sizeof err;
	assert_int_equal(getsockopt(l.client, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
	if (err != EPIPE && err != ECONNRESET)
		fail_msg("client socket error %d (%s), want a reset", err, strerror(err));
	assert_sent_rst(f->eb, l.sid, FRAME_RST_RESET);
	assert_true(sent_index(f->eb, l.sid, FRAME_FIN, 0) <
	            sent_index(f->eb, l.sid, FRAME_RST, 0));
	/* A took it as the peer's reset, not as a protocol error. */
	assert_sent_rst(f->ea, l.sid, FRAME_RST_RESET);
}

/* Every frame EV sent on SID with TYPE went with send's URGENT = WANT
 * (at least one did). */
static void assert_urgent(const struct fake_engine *ev, uint16_t sid, uint8_t type, bool want)
{
	size_t n = 0;
	for (size_t i = 0; i < ev->n_sent; i++) {
		const struct fake_sent *s = &ev->sent[i];
		if (s->sid != sid || s->head[0] != type)
			continue;
		n++;
		if (s->urgent != want)
			fail_msg("stream %u: frame type 0x%02x #%zu went %s", sid, type, n,
			         s->urgent ? "urgent" : "not urgent");
	}
	if (n == 0)
		fail_msg("stream %u: no frame of type 0x%02x was sent", sid, type);
}

/* The flake of key_rotation_live: with 20 transfers on a 10 Mbit/s link,
 * usrsctp's priority scheduler let OPENs wait 7 s behind the other
 * connections' data (engine_prio.h) and the opener reset its clients. A
 * connection's frames go urgent (before the TCP streams' data, engine.h)
 * until it has sent ASSOC_URGENT_BYTES: its OPEN, OPEN_OK, first bytes; a
 * refusal too. Then not, and neither does the RST of a connection that
 * sent more (priority is per stream: it would lift the connection's queued
 * data, which the peer throws away, ahead of everyone). Stream 0 never. */
static void conn__first_frames_go_urgent__bulk_and_its_reset_do_not(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	ping(f, &l);
	size_t len = 2 * FRAME_DATA_MAX; /* more than one frame, past ASSOC_URGENT_BYTES */
	uint8_t *p = pattern(len, 9);
	struct writer w = {.fd = l.client, .data = p, .len = len};
	struct reader r = {.fd = l.target};
	RUN_UNTIL(f, (wr_step(&w) & rd_got(&r, len)));
	assert_int_equal(w.err, 0);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);
	close_with_rst(f, l.client);
	expect_reset(f, l.target);
	RUN_UNTIL(f, all_idle(f));
	assert_urgent(f->ea, l.sid, FRAME_OPEN, true);
	assert_urgent(f->eb, l.sid, FRAME_OPEN_OK, true);
	/* A's first DATA (the ping) and B's only one (the answer) are urgent;
	 * A's last, after 16 KiB, is not, nor is A's RST after it. */
	assert_true(f->ea->sent[sent_index(f->ea, l.sid, FRAME_DATA, 0)].urgent);
	assert_urgent(f->eb, l.sid, FRAME_DATA, true);
	assert_false(f->ea->sent[last_sent_index(f->ea, l.sid, FRAME_DATA)].urgent);
	/* And the urgent ones stop at ASSOC_URGENT_BYTES: the frame that
	 * crosses it is cut there (not a whole 64 KiB put before the others). */
	size_t urgent_len = 0;
	for (size_t i = 0; i < f->ea->n_sent; i++)
		if (f->ea->sent[i].sid == l.sid && f->ea->sent[i].head[0] == FRAME_DATA &&
		    f->ea->sent[i].urgent)
			urgent_len += f->ea->sent[i].len;
	assert_in_range(urgent_len, ASSOC_URGENT_BYTES, ASSOC_URGENT_BYTES + 256);
	assert_urgent(f->ea, l.sid, FRAME_RST, false);
	assert_urgent(f->ea, 0, FRAME_HELLO, false);

	/* A refusal (the target's port is closed) is urgent, RST and CLOSED. */
	closed_port(&f->target.target);
	size_t mark = f->eb->n_sent;
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	RUN_UNTIL(f, all_idle(f));
	assert_sent_rst_since(f->eb, mark, sid, FRAME_RST_REFUSED);
	for (size_t i = mark; i < f->eb->n_sent; i++)
		if (f->eb->sent[i].sid == sid)
			assert_true(f->eb->sent[i].urgent);
}

static void conn__target_refuses__client_sees_reset_and_ids_free_only_after_closed(void **state)
{
	struct fx *f = *state;
	closed_port(&f->target.target);
	fx_start(f);
	/* Hold A's RST on the way to B, and B's CLOSED on the way to A. */
	fake_engine_hold(f->eb, FRAME_RST);
	fake_engine_hold(f->ea, FRAME_CLOSED);

	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	RUN_UNTIL(f, f->a->n_conns == 0);
	assert_sent_rst(f->eb, sid, FRAME_RST_REFUSED);

	/* A is done but its id waits for CLOSED; B waits for A's RST. */
	assert_int_equal(slot_state(f->a, sid), STREAM_WAIT_CLOSED);
	assert_int_equal(f->a->streams->active, 1);
	assert_int_equal(f->b->n_conns, 1);
	assert_int_equal(slot_state(f->b, sid), STREAM_ACTIVE);
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_CLOSED), 0);

	fake_engine_release(f->eb);
	RUN_UNTIL(f, f->b->n_conns == 0);
	assert_int_equal(slot_state(f->b, sid), STREAM_FREE);
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_CLOSED), 1);
	settle(f);
	assert_int_equal(slot_state(f->a, sid), STREAM_WAIT_CLOSED);

	fake_engine_release(f->ea);
	RUN_UNTIL(f, slot_state(f->a, sid) == STREAM_FREE);
	assert_true(all_idle(f));
}

/* Issue 9: the exit gateway's [egress] allow does not name the target (it
 * listens, so a connect would work): no connection, RST reason 8, the
 * client is reset, both sides count it. */
static void conn__target_outside_egress_allow__is_refused_with_reason_8(void **state)
{
	struct fx *f = *state;
	f->cb->egress_allow.n = 0; /* B allows nothing */
	fx_start(f);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	RUN_UNTIL(f, f->a->n_conns == 0 && f->b->n_conns == 0);
	assert_sent_rst(f->eb, sid, FRAME_RST_NOT_ALLOWED);
	assert_int_equal(f->b->n_egress_refused, 1);
	assert_int_equal(f->a->n_egress_peer, 1);
	assert_true(accept4(f->target_listen, NULL, NULL, SOCK_NONBLOCK) < 0);
	RUN_UNTIL(f, slot_state(f->a, sid) == STREAM_FREE);
	assert_true(all_idle(f));
}

/* A host-name target reaches an exit gateway without a resolver (c-ares
 * did not start): RST reason 9, counted on both sides. */
static void conn__host_name_without_a_resolver__is_refused_with_reason_9(void **state)
{
	struct fx *f = *state;
	memset(&f->target.target, 0, sizeof f->target.target);
	snprintf(f->target.host, sizeof f->target.host, "db.internal");
	f->target.host_port = 5432;
	fx_start(f);
	assert_null(f->b->resolver);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	RUN_UNTIL(f, f->a->n_conns == 0 && f->b->n_conns == 0);
	assert_sent_rst(f->eb, sid, FRAME_RST_NO_NAME);
	assert_int_equal(f->b->n_unresolved, 1);
	assert_int_equal(f->a->n_unresolved_peer, 1);
	RUN_UNTIL(f, slot_state(f->a, sid) == STREAM_FREE);
	assert_true(all_idle(f));
}

static void stream__id__is_reused_only_after_closed(void **state)
{
	struct fx *f = *state;
	f->ca->max_streams = 5; /* A opens 1 and 3 only */
	f->cb->max_streams = 5;
	fx_start(f);
	fake_engine_hold(f->ea, FRAME_CLOSED);

	struct link l1 = open_link(f, f->a);
	assert_int_equal(l1.sid, 1);
	ping(f, &l1);
	close_tracked(f, l1.client);
	close_tracked(f, l1.target);
	RUN_UNTIL(f, f->a->n_conns == 0 && f->b->n_conns == 0);
	assert_int_equal(slot_state(f->a, 1), STREAM_WAIT_CLOSED);

	struct link l2 = open_link(f, f->a);
	assert_int_equal(l2.sid, 3);
	int rc;
	int c3 = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOSPC);
	expect_reset(f, c3);
	assert_int_equal(f->a->n_refused, 1);

	fake_engine_release(f->ea);
	RUN_UNTIL(f, slot_state(f->a, 1) == STREAM_FREE);
	struct link l4 = open_link(f, f->a);
	assert_int_equal(l4.sid, 1);
	ping(f, &l4);
	ping(f, &l2);
}

/* One step of N transfers each way; true when all are complete. */
static bool all_moved(struct writer *wu, struct writer *wd, struct reader *ru, struct reader *rd,
                      int n, size_t up_len, size_t down_len)
{
	bool done = true;
	for (int i = 0; i < n; i++) {
		done &= wr_step(&wu[i]);
		done &= wr_step(&wd[i]);
		done &= rd_got(&ru[i], up_len);
		done &= rd_got(&rd[i], down_len);
	}
	return done;
}

static void conn__both_sides_opening_at_once__get_no_collisions(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	enum { K = 6 };
	int clients[2 * K];
	uint16_t sids[2 * K];
	/* All opens happen before the loop runs: the OPENs cross. */
	for (int i = 0; i < 2 * K; i++) {
		int rc;
		struct assoc *opener = i % 2 ? f->b : f->a;
		clients[i] = open_client(f, opener, &rc);
		assert_int_equal(rc, 0);
		sids[i] = last_sid(opener);
		assert_int_equal(sids[i] % 2, i % 2 ? 0 : 1);
		for (int j = 0; j < i; j++)
			if (j % 2 == i % 2)
				assert_int_not_equal(sids[i], sids[j]);
	}

	/* Each client names itself; each target answers with its own bytes. */
	size_t len = 50 * 1000;
	uint8_t *up[2 * K], *down[2 * K];
	for (int i = 0; i < 2 * K; i++) {
		up[i] = pattern(len, 100 + (uint32_t)i);
		up[i][0] = (uint8_t)i;
		down[i] = pattern(len, 200 + (uint32_t)i);
		send_now(clients[i], up[i], 1);
	}
	int targets[2 * K];
	for (int i = 0; i < 2 * K; i++) {
		int t = accept_target(f);
		uint8_t who = 0xff;
		RUN_UNTIL(f, read(t, &who, 1) == 1);
		assert_true(who < 2 * K);
		targets[who] = t;
	}
	struct writer wu[2 * K], wd[2 * K];
	struct reader ru[2 * K], rd[2 * K];
	for (int i = 0; i < 2 * K; i++) {
		wu[i] = (struct writer){.fd = clients[i], .data = up[i] + 1, .len = len - 1};
		wd[i] = (struct writer){.fd = targets[i], .data = down[i], .len = len};
		ru[i] = (struct reader){.fd = targets[i]};
		rd[i] = (struct reader){.fd = clients[i]};
	}
	RUN_UNTIL(f, all_moved(wu, wd, ru, rd, 2 * K, len - 1, len));
	for (int i = 0; i < 2 * K; i++) {
		assert_int_equal(ru[i].len, len - 1);
		assert_memory_equal(ru[i].buf, up[i] + 1, len - 1);
		assert_int_equal(rd[i].len, len);
		assert_memory_equal(rd[i].buf, down[i], len);
		free(ru[i].buf);
		free(rd[i].buf);
		free(up[i]);
		free(down[i]);
	}
	/* Each side holds K connections it opened and K the peer opened, on
	 * the ids of the right parity. */
	assert_int_equal(f->a->n_conns, 2 * K);
	assert_int_equal(f->b->n_conns, 2 * K);
	for (int i = 0; i < 2 * K; i++) {
		struct conn *ca = conn_at(f->a, sids[i]), *cb = conn_at(f->b, sids[i]);
		assert_non_null(ca);
		assert_non_null(cb);
		assert_int_equal(ca->opener, i % 2 == 0);
		assert_int_equal(cb->opener, i % 2 == 1);
	}
	for (int i = 0; i < 2 * K; i++) {
		close_tracked(f, clients[i]);
		close_tracked(f, targets[i]);
	}
	RUN_UNTIL(f, all_idle(f));
}

static void assoc__down__resets_every_connection_and_leaves_none(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l[3];
	l[0] = open_link(f, f->a);
	l[1] = open_link(f, f->b);
	l[2] = open_link(f, f->a);
	for (int i = 0; i < 3; i++)
		ping(f, &l[i]);
	/* Some data still in flight when the association dies. */
	send_now(l[0].client, "lost", 4);

	fake_engine_down(f->ea, "test: path lost");
	RUN_UNTIL(f, f->ea->n_down == 1 && f->eb->n_down == 1);
	assert_int_equal(f->a->n_conns, 0);
	assert_int_equal(f->b->n_conns, 0);
	assert_true(TAILQ_EMPTY(&f->a->conns));
	assert_true(TAILQ_EMPTY(&f->a->ready));
	for (int i = 0; i < 3; i++) {
		expect_reset(f, l[i].client);
		expect_reset(f, l[i].target);
	}
	/* The connect side comes back by itself and serves again. */
	RUN_UNTIL(f, f->a->n_up == 2 && f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	assert_int_equal(f->a->streams->active, 0);
	assert_int_equal(f->b->streams->active, 0);
	struct link again = open_link(f, f->a);
	assert_int_equal(again.sid, 1);
	ping(f, &again);
}

static void assoc_shutdown__resets_connections_and_reports_closed_once(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	f->a->on_closed = fx_count_closed;
	f->a->ctx = f;
	struct link l = open_link(f, f->a);
	ping(f, &l);

	assoc_shutdown(f->a);
	assert_int_equal(f->a->n_conns, 0);
	assert_int_equal(f->closed_reports, 0); /* only once SHUTDOWN is done */
	expect_reset(f, l.client);
	expect_reset(f, l.target);
	RUN_UNTIL(f, f->closed_reports == 1);
	assert_int_equal(f->a->state, ASSOC_CLOSING);
	assert_int_equal(f->ea->n_shutdown, 1);
	run_for(f, 0.3); /* no retry, no second report */
	assert_int_equal(f->a->state, ASSOC_CLOSING);
	assert_int_equal(f->closed_reports, 1);
	assert_int_equal(f->ea->n_open, 1);
	assert_int_equal(f->b->n_conns, 0);
}

/* --- what the peer sends --------------------------------------------- */

static void conn__malformed_frame__resets_only_that_connection(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link keep = open_link(f, f->a);
	static const uint8_t bad[][2] = {
	    {FRAME_RST, 0},    /* truncated: no reason */
	    {FRAME_DATA, 0},   /* empty DATA */
	    {FRAME_CREDIT, 0}, /* truncated: no increment */
	    {0x7e, 0},         /* unknown type */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct link victim = open_link(f, f->a);
		ping(f, &victim);
		size_t mark = f->ea->n_sent;
		fake_engine_inject(f->ea, victim.sid, bad[i], sizeof bad[i]);
		expect_reset(f, victim.client);
		expect_reset(f, victim.target);
		assert_sent_rst_since(f->ea, mark, victim.sid, FRAME_RST_PROTOCOL);
		ping(f, &keep);
		RUN_UNTIL(f, f->a->n_conns == 1 && f->b->n_conns == 1 &&
		                 slot_state(f->a, victim.sid) == STREAM_FREE);
	}
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
	assert_int_equal(f->a->state, ASSOC_READY);
}

static void conn__peer_data_or_credit_before_open_ok__resets_that_connection(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	static const uint8_t data[] = {FRAME_DATA, 0, 'e', 'a', 'r', 'l', 'y'};
	static const uint8_t credit[] = {FRAME_CREDIT, 0, 0, 0, 1, 0};
	const uint8_t *early[] = {data, credit};
	size_t len[] = {sizeof data, sizeof credit};
	for (size_t i = 0; i < 2; i++) {
		fake_engine_hold(f->eb, FRAME_OPEN); /* B never hears of it for now */
		int rc;
		int c = open_client(f, f->a, &rc);
		assert_int_equal(rc, 0);
		uint16_t sid = last_sid(f->a);
		assert_int_equal(conn_at(f->a, sid)->state, CONN_OPENING);

		size_t mark = f->ea->n_sent;
		fake_engine_inject(f->ea, sid, early[i], len[i]);
		expect_reset(f, c);
		settle(f); /* the RST goes on the pump's next turn */
		assert_sent_rst_since(f->ea, mark, sid, FRAME_RST_PROTOCOL);

		fake_engine_release(f->eb);
		RUN_UNTIL(f, all_idle(f));
	}
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

static void assoc__unknown_message_on_stream_0__is_ignored(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	static const uint8_t unknown[] = {0x7f, 0, 'f', 'u', 't', 'u', 'r', 'e'};
	fake_engine_inject(f->ea, 0, unknown, sizeof unknown);
	fake_engine_inject(f->eb, 0, unknown, 2);
	settle(f);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
	assert_int_equal(f->ea->n_down + f->eb->n_down, 0);
	assert_int_equal(f->a->state, ASSOC_READY);
	assert_int_equal(f->b->state, ASSOC_READY);
	struct link l = open_link(f, f->a);
	ping(f, &l);
}

static void assoc__malformed_or_misplaced_message_on_stream_0__aborts(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);

	uint8_t bad_magic[64];
	struct frame h = hello(FRAME_ROLE_ACCEPT, 100);
	ssize_t n = frame_encode(&h, bad_magic, sizeof bad_magic);
	assert_true(n > 0);
	bad_magic[2] ^= 0xff;
	static const uint8_t truncated_hello[] = {FRAME_HELLO, 0, 'S', 'G'};
	static const uint8_t empty_data[] = {FRAME_DATA, 0};
	static const uint8_t fin[] = {FRAME_FIN, 0};
	uint8_t second_hello[64];
	ssize_t n2 = frame_encode(&h, second_hello, sizeof second_hello);
	assert_true(n2 > 0);
	struct {
		const uint8_t *msg;
		size_t len;
		const char *why;
	} cases[] = {
	    {truncated_hello, sizeof truncated_hello, "malformed"},
	    {bad_magic, (size_t)n, "malformed"},
	    {empty_data, sizeof empty_data, "malformed"},
	    {fin, sizeof fin, "connection message on stream 0"},
	    {second_hello, (size_t)n2, "second HELLO"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fake_engine_inject(f->ea, 0, cases[i].msg, cases[i].len);
		RUN_UNTIL(f, f->ea->n_abort == i + 1);
		if (!strstr(f->ea->last_abort, cases[i].why))
			fail_msg("case %zu: abort reason \"%s\", want \"%s\"", i, f->ea->last_abort,
			         cases[i].why);
		if (i == 0) {
			expect_reset(f, l.client);
			expect_reset(f, l.target);
		}
		/* Down on both sides, then the connect side tries again. */
		RUN_UNTIL(f, f->a->n_up == i + 2 && f->a->state == ASSOC_READY &&
		                 f->b->state == ASSOC_READY);
		assert_int_equal(f->a->n_conns + f->b->n_conns, 0);
	}
	assert_int_equal(f->eb->n_abort, 0);
}

static void assoc__hello_from_a_peer_with_the_same_role__aborts(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	assert_int_equal(f->ea->sent[0].head[0], FRAME_HELLO);
	struct frame h = hello(FRAME_ROLE_CONNECT, 10);
	inject_frame(f->ea, 0, &h);
	RUN_UNTIL(f, f->ea->n_down == 1);
	assert_int_equal(f->ea->n_abort, 1);
	assert_non_null(strstr(f->ea->last_abort, "same role"));
	assert_int_equal(a->n_up, 0);
	assert_int_not_equal(a->state, ASSOC_READY);
}

static void assoc__hello_from_an_accept_peer_to_an_accept_gateway__aborts(void **state)
{
	struct fx *f = *state;
	struct assoc *b = fx_alone(f, true, 10);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 10);
	inject_frame(f->eb, 0, &h);
	RUN_UNTIL(f, f->eb->n_down == 1);
	assert_int_equal(f->eb->n_abort, 1);
	assert_non_null(strstr(f->eb->last_abort, "same role"));
	assert_int_equal(b->n_up, 0);
	assert_int_equal(b->state, ASSOC_DOWN);
}

/* A HELLO speaking versions MIN..MAX, none of them ours, aborts. */
static void expect_version_abort(struct fx *f, uint8_t min, uint8_t max)
{
	struct assoc *a = fx_alone(f, false, 10);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 10);
	h.u.hello.version_min = min;
	h.u.hello.version_max = max;
	inject_frame(f->ea, 0, &h);
	RUN_UNTIL(f, f->ea->n_down == 1);
	assert_int_equal(f->ea->n_abort, 1);
	assert_non_null(strstr(f->ea->last_abort, "version"));
	assert_int_equal(a->n_up, 0);
}

static void assoc__hello_without_a_common_version__aborts(void **state)
{
	/* A gateway of sctpgw 0.1 speaks version 1 only: no credit. */
	expect_version_abort(*state, 1, 1);
}

/* A version 3 gateway (sctpgw before issue 9) knows neither egress
 * refusals nor host names: refused, and the log names both ranges. */
static void assoc__hello_from_a_version_3_peer__aborts_naming_both_ranges(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	assert_non_null(mem);
	log_set_output(mem);
	expect_version_abort(*state, 3, 3);
	log_set_output(NULL); /* back to stderr */
	fclose(mem);
	assert_non_null(strstr(text, "speaks protocol versions 3..3, we speak 4..4"));
	free(text);
}

static void assoc__hello_from_a_newer_peer_without_our_version__aborts(void **state)
{
	expect_version_abort(*state, FRAME_VERSION + 1, 9);
}

static void assoc__hello_with_a_range_around_our_version__is_accepted(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 10);
	h.u.hello.version_min = 1;
	h.u.hello.version_max = 9;
	inject_frame(f->ea, 0, &h);
	RUN_UNTIL(f, a->state == ASSOC_READY);
	assert_int_equal(f->ea->n_abort, 0);
}

/* An SCTP restart reports down then up with no open() between: the connect
 * role's retry timer, started by the down, must not stay armed (a second
 * down would then set an active timer, which libev forbids). */
static void assoc__sctp_restart__leaves_no_retry_timer_running(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	f->a->backoff = 5.0; /* so the timer cannot fire before the check */
	fake_engine_restart(f->ea);
	RUN_UNTIL(f, f->ea->n_up == 2 && f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	assert_false(ev_is_active(&f->a->retry));
	/* A real loss now retries as usual. */
	fake_engine_down(f->ea, "test: path lost");
	RUN_UNTIL(f, f->a->state == ASSOC_DOWN);
	assert_true(ev_is_active(&f->a->retry));
}

/* The peer answers neither OPEN_OK nor RST in time: the client is reset at
 * the deadline, counted and logged; the id stays ours until the late
 * answer has been settled with RST and CLOSED, then serves again. */
static void conn_open__no_answer_within_the_deadline__resets_the_client(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	f->a->open_timeout = 0.3;
	fake_engine_hold(f->eb, FRAME_OPEN);
	int rc;
	ev_tstamp t0 = ev_time();
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	assert_true(ev_time() - t0 >= 0.25);
	assert_int_equal(f->a->n_open_timeouts, 1);
	settle(f);
	assert_sent_rst(f->ea, sid, FRAME_RST_TIMEOUT);
	assert_int_not_equal(slot_state(f->a, sid), STREAM_FREE);

	/* The OPEN finally arrives: B connects, answers OPEN_OK, then meets
	 * our RST; the id is free only after B's CLOSED. */
	fake_engine_release(f->eb);
	int t = accept_target(f);
	expect_reset(f, t);
	RUN_UNTIL(f, all_idle(f));
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_CLOSED), 1);
	struct link l = open_link(f, f->a);
	ping(f, &l);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

static void retransmit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct fake_engine *e = w->data;
	e->stats.retransmitted_chunks += 2;
}

/* A user's view of a busy, lossy link: while the association is up and
 * SCTP retransmits (the OPEN or OPEN_OK may be among what it resends), the
 * opener waits past open_timeout, a grace at a time; but a peer that never
 * answers is still noticed, at open_timeout_max. Without the graces the
 * first client was reset at 0.3 s. */
static void conn_open__while_sctp_retransmits__waits_longer_but_not_forever(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	f->a->open_timeout = 0.3;
	f->a->open_grace = 0.2;
	f->a->open_timeout_max = 1.0;
	ev_timer rtx;
	ev_timer_init(&rtx, retransmit_cb, 0.05, 0.05);
	rtx.data = f->ea;
	ev_timer_start(f->loop, &rtx);

	/* The OPEN arrives after 0.6 s: the connection opens. */
	fake_engine_hold(f->eb, FRAME_OPEN);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	run_for(f, 0.6);
	assert_int_equal(f->a->n_open_timeouts, 0);
	assert_true(f->a->n_open_graces >= 1);
	fake_engine_release(f->eb);
	int t = accept_target(f);
	struct link l = {.client = c, .target = t, .sid = last_sid(f->a)};
	ping(f, &l);
	assert_int_equal(f->a->n_open_timeouts, 0);

	/* No answer ever, SCTP retransmitting all along: reset at 1 s. */
	fake_engine_hold(f->eb, FRAME_OPEN);
	ev_tstamp t0 = ev_time();
	c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	expect_reset(f, c);
	double waited = ev_time() - t0;
	if (waited < 0.95 || waited > 3.0) /* 3: time enough for a loaded valgrind run */
		fail_msg("reset after %.2f s, want 1 s (open_timeout_max)", waited);
	assert_int_equal(f->a->n_open_timeouts, 1);

	/* SCTP quiet (nothing to resend, the peer has it all): reset at
	 * open_timeout, as before. */
	ev_timer_stop(f->loop, &rtx);
	uint64_t graces = f->a->n_open_graces;
	t0 = ev_time();
	c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	expect_reset(f, c);
	assert_true(ev_time() - t0 >= 0.25);
	assert_int_equal(f->a->n_open_timeouts, 2);
	assert_int_equal(f->a->n_open_graces, graces);
	/* The two OPENs arrive late: B connects, then meets A's RST. */
	fake_engine_release(f->eb);
	for (int i = 0; i < 2; i++)
		expect_reset(f, accept_target(f));
	close_tracked(f, l.client);
	close_tracked(f, l.target);
	RUN_UNTIL(f, all_idle(f));
}

/* Messages that overtake HELLO are kept, but only up to a bound: a peer
 * that floods them before its HELLO is misbehaving. */
static void assoc__flood_of_messages_before_hello__aborts(void **state)
{
	struct fx *f = *state;
	fx_alone(f, false, 10);
	static uint8_t msg[FRAME_MAX];
	frame_data_header(msg);
	for (int i = 0; i < 5 && f->ea->n_down == 0; i++) {
		fake_engine_inject(f->ea, 2, msg, sizeof msg);
		run_for(f, 0.01);
	}
	RUN_UNTIL(f, f->ea->n_down == 1);
	assert_int_equal(f->ea->n_abort, 1);
	assert_non_null(strstr(f->ea->last_abort, "before HELLO"));
	assert_int_equal(f->a->n_conns, 0);
}

/* The bound counts what each message costs, not only its bytes: thousands
 * of one-byte messages reach it long before they cost megabytes. */
static void assoc__flood_of_tiny_messages_before_hello__aborts(void **state)
{
	struct fx *f = *state;
	fx_alone(f, false, 10);
	static const uint8_t one = FRAME_FIN;
	size_t sent = 0;
	for (; sent < 20000 && f->ea->n_down == 0; sent++) {
		fake_engine_inject(f->ea, 2, &one, 1);
		if (sent % 1000 == 999)
			run_for(f, 0.01);
	}
	RUN_UNTIL(f, f->ea->n_down == 1);
	assert_int_equal(f->ea->n_abort, 1);
	assert_non_null(strstr(f->ea->last_abort, "before HELLO"));
	assert_true(f->a->n_early == 0);
}

/* A peer that never sends HELLO cannot hold the association: it is
 * aborted at the deadline, and the connect role tries again. */
static void assoc__no_hello_within_the_deadline__aborts_and_retries(void **state)
{
	struct fx *f = *state;
	fx_alone(f, false, 10);
	assert_true(f->a->hello_timeout >= 10.0);
	f->a->hello_timeout = 0.2;
	/* Take the association down and up again so the new deadline runs. */
	fake_engine_restart(f->ea);
	RUN_UNTIL(f, f->ea->n_up == 2);
	ev_tstamp t0 = ev_time();
	RUN_UNTIL(f, f->ea->n_abort == 1);
	assert_true(ev_time() - t0 >= 0.15);
	assert_non_null(strstr(f->ea->last_abort, "HELLO"));
	unsigned opens = f->ea->n_open;
	RUN_UNTIL(f, f->ea->n_open > opens && f->a->state == ASSOC_HELLO);
	/* ...and a peer that does answer makes it READY. */
	alone_ready(f, f->a, 10);
	assert_int_equal(f->a->state, ASSOC_READY);
	assert_false(ev_is_active(&f->a->hello_timer));
}

static void assoc__open_from_the_peer_on_our_parity__is_ignored(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	alone_ready(f, a, 10);
	size_t sent_before = f->ea->n_sent;
	struct frame open = {.type = FRAME_OPEN};
	open.u.open = f->target;
	for (uint16_t sid = 1; sid < 10; sid += 2)
		inject_frame(f->ea, sid, &open);
	settle(f);
	assert_int_equal(a->n_conns, 0);
	assert_int_equal(a->streams->active, 0);
	for (uint16_t sid = 1; sid < 10; sid += 2)
		assert_int_equal(slot_state(a, sid), STREAM_FREE);
	assert_int_equal(f->ea->n_sent, sent_before);
	assert_int_equal(f->ea->n_abort, 0);
	assert_true(accept4(f->target_listen, NULL, NULL, 0) < 0);
	/* Our own ids are still ours: the first goes to our first client. */
	int rc;
	open_client(f, a, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(last_sid(a), 1);

	/* The same OPEN on the peer's parity is served. */
	inject_frame(f->ea, 2, &open);
	accept_target(f);
	RUN_UNTIL(f, fake_engine_count_sent(f->ea, 2, FRAME_OPEN_OK) == 1);
}

static void assoc__open_from_the_peer_on_our_parity__is_ignored_by_the_accept_side(void **state)
{
	struct fx *f = *state;
	struct assoc *b = fx_alone(f, true, 10);
	alone_ready(f, b, 10);
	struct frame open = {.type = FRAME_OPEN};
	open.u.open = f->target;
	inject_frame(f->eb, 4, &open);
	settle(f);
	assert_int_equal(b->n_conns, 0);
	assert_int_equal(slot_state(b, 4), STREAM_FREE);
	assert_int_equal(fake_engine_count_sent(f->eb, 4, -1), 0);
	assert_true(accept4(f->target_listen, NULL, NULL, 0) < 0);
}

static void assoc__frames_on_an_idle_stream__are_ignored(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	alone_ready(f, a, 10);
	size_t sent_before = f->ea->n_sent;
	static const uint8_t msgs[][6] = {
	    {FRAME_DATA, 0, 'x', 'y'},
	    {FRAME_FIN, 0},
	    {FRAME_RST, 0, FRAME_RST_RESET},
	    {FRAME_OPEN_OK, 0, 0, 0, 0x10, 0},
	    {FRAME_CREDIT, 0, 0, 0, 0x10, 0},
	    {FRAME_CLOSED, 0},
	    {FRAME_RST, 0},    /* malformed */
	    {FRAME_CREDIT, 0}, /* malformed */
	    {0x7e, 0},         /* unknown */
	};
	static const size_t lens[] = {4, 2, 3, 6, 6, 2, 2, 2, 2};
	for (uint16_t sid = 1; sid <= 2; sid++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
			fake_engine_inject(f->ea, sid, msgs[i], lens[i]);
	settle(f);
	assert_int_equal(f->ea->n_abort, 0);
	assert_int_equal(a->state, ASSOC_READY);
	assert_int_equal(a->n_conns, 0);
	assert_int_equal(a->streams->active, 0);
	assert_int_equal(slot_state(a, 1), STREAM_FREE);
	assert_int_equal(slot_state(a, 2), STREAM_FREE);
	assert_int_equal(f->ea->n_sent, sent_before);
	/* And the stray CLOSED did not hand id 1 out twice. */
	int rc;
	open_client(f, a, &rc);
	assert_int_equal(last_sid(a), 1);
	open_client(f, a, &rc);
	assert_int_equal(last_sid(a), 3);
}

static void assoc__message_beyond_the_negotiated_streams__aborts(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	alone_ready(f, a, 10);
	static const uint8_t data[] = {FRAME_DATA, 0, 'x'};
	fake_engine_inject(f->ea, 10, data, sizeof data);
	RUN_UNTIL(f, f->ea->n_abort == 1);
	assert_non_null(strstr(f->ea->last_abort, "range"));
}

static void assoc_new__engine_failure__returns_null(void **state)
{
	struct fx *f = *state;
	fake_engine_fail_next_new();
	assert_null(assoc_new(f->loop, f->ca));
}

/* --- regressions ----------------------------------------------------- */

/*
 * Regression (tcp_conn.c): the exit side used to read the target as soon as
 * the TCP connect completed, while OPEN_OK could still be owed after an
 * -EAGAIN. When the engine had room again before writable() ran, target
 * bytes went out as DATA ahead of OPEN_OK and the opener reset the client
 * ("DATA before the connection is open").
 */
static void conn__target_data_while_open_ok_waits__does_not_overtake_open_ok(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	fake_engine_set_full(f->eb, true);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	int t = accept_target(f);
	RUN_UNTIL(f, conn_is_open(f->b, sid) && f->eb->n_eagain > 0);
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_OPEN_OK), 0);

	/* The target speaks first, and the engine has room again: both are
	 * ready in the same loop iteration. */
	send_now(t, "banner\n", 7);
	fake_engine_set_full(f->eb, false);
	RUN_UNTIL(f, fake_engine_count_sent(f->eb, sid, FRAME_DATA) > 0 &&
	                 fake_engine_count_sent(f->eb, sid, FRAME_OPEN_OK) > 0);
	long ok = sent_index(f->eb, sid, FRAME_OPEN_OK, 0);
	long data = sent_index(f->eb, sid, FRAME_DATA, 0);
	if (data < ok)
		fail_msg("B sent DATA (#%ld) before OPEN_OK (#%ld) on stream %u", data, ok, sid);
	expect_bytes(f, c, (const uint8_t *)"banner\n", 7, false);
}

/*
 * Regression (stream.c): the exit side sends CLOSED as soon as it is
 * finished itself, while the opener may still be writing the last bytes to
 * a slow client (its slot still ACTIVE). stream_closed() used to refuse that
 * CLOSED, and stream_done() then left the id in WAIT_CLOSED for the life of
 * the association: the id leaked, and once all had leaked every new client
 * was refused.
 */
static void stream__closed_before_the_opener_drained_its_client__still_frees_the_id(void **state)
{
	struct fx *f = *state;
	f->ca->max_streams = 3; /* A has exactly one id: 1 */
	f->cb->max_streams = 3;
	f->ca->conn_window = 4 * 1000 * 1000; /* credit does not stop B */
	fx_start(f);
	struct link l = open_link_opts(f, f->a, SMALL_BUFS);
	assert_int_equal(l.sid, 1);

	/* The client is done talking; the target answers more than the
	 * client's socket and A's (SMALL_BUFS: sized after conn_open) hold,
	 * then closes. The client reads nothing yet. */
	assert_int_equal(shutdown(l.client, SHUT_WR), 0);
	expect_bytes(f, l.target, NULL, 0, true);
	size_t len = 1000 * 1000;
	uint8_t *p = pattern(len, 7);
	struct writer w = {.fd = l.target, .data = p, .len = len, .shut_after = true};
	RUN_UNTIL(f, wr_step(&w) && f->b->n_conns == 0 && fake_engine_queued(f->ea) == 0);
	assert_int_equal(fake_engine_count_sent(f->eb, 1, FRAME_CLOSED), 1);
	struct conn *c = conn_at(f->a, 1);
	assert_non_null(c);          /* still writing to the client... */
	assert_true(c->out.len > 0); /* ...so CLOSED arrived first */

	struct reader r = {.fd = l.client};
	RUN_UNTIL(f, rd_step(&r));
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);
	RUN_UNTIL(f, f->a->n_conns == 0);
	run_for(f, 0.2);
	if (slot_state(f->a, 1) != STREAM_FREE)
		fail_msg("stream 1 stays %s after CLOSED arrived while the opener still wrote "
		         "to its client; the id is lost",
		         slot_state(f->a, 1) == STREAM_WAIT_CLOSED ? "WAIT_CLOSED" : "ACTIVE");
	int rc;
	int c2 = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	(void)c2;
}

/*
 * Regression (assoc.c on_message once aborted on "connection message before
 * HELLO"): SCTP orders messages within a stream only. B becomes READY when A's HELLO
 * arrives and may open a connection at once; if B's own HELLO (stream 0) is
 * delayed, e.g. lost and retransmitted, B's OPEN (stream 2) can reach A
 * first. B broke no rule: A keeps the OPEN until the HELLO arrives and the
 * association survives.
 */
static void assoc__open_overtaking_the_peers_hello__does_not_abort(void **state)
{
	struct fx *f = *state;
	fx_create(f);
	fake_engine_hold(f->ea, FRAME_HELLO); /* B's HELLO to A is late */
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->b->state == ASSOC_READY);
	assert_int_equal(f->a->state, ASSOC_HELLO);
	int rc;
	open_client(f, f->b, &rc);
	assert_int_equal(rc, 0);
	RUN_UNTIL(f, fake_engine_queued(f->ea) == 1 || f->ea->n_abort > 0);

	fake_engine_release(f->ea);
	settle(f);
	if (f->ea->n_abort)
		fail_msg("A aborted the association (\"%s\") for an OPEN that "
		         "overtook the peer's HELLO",
		         f->ea->last_abort);
	assert_int_equal(f->a->state, ASSOC_READY);
	assert_int_equal(f->a->n_up, 1);
	/* ...and the kept OPEN was handled: A carries the connection. */
	assert_int_equal(f->a->n_conns, 1);
	assert_int_equal(fake_engine_count_sent(f->ea, 2, FRAME_OPEN_OK), 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(assoc__two_gateways__exchange_hello_and_become_ready),
	    T(assoc__stream_counts_differ__both_use_the_smaller),
	    T(conn_open__before_the_association_is_ready__refuses_the_client),
	    T(conn__bytes__flow_both_ways_unchanged),
	    T(conn__half_close__target_reads_eof_and_reply_arrives_in_full),
	    T(conn__fin__never_overtakes_data),
	    T(conn__fin__never_overtakes_data_while_the_engine_is_full),
	    T(conn__one_message_send_window__carries_everything_in_order),
	    T(conn__client_reset__target_sees_econnreset),
	    T(conn__target_reset__client_sees_econnreset),
	    T(conn__first_frames_go_urgent__bulk_and_its_reset_do_not),
	    T(conn__rst_after_fin__resets_the_half_closed_connection),
	    T(conn__target_refuses__client_sees_reset_and_ids_free_only_after_closed),
	    T(stream__id__is_reused_only_after_closed),
	    T(conn__both_sides_opening_at_once__get_no_collisions),
	    T(assoc__down__resets_every_connection_and_leaves_none),
	    T(assoc__sctp_restart__leaves_no_retry_timer_running),
	    T(conn_open__no_answer_within_the_deadline__resets_the_client),
	    T(conn_open__while_sctp_retransmits__waits_longer_but_not_forever),
	    T(assoc_shutdown__resets_connections_and_reports_closed_once),
	    T(conn__malformed_frame__resets_only_that_connection),
	    T(conn__peer_data_or_credit_before_open_ok__resets_that_connection),
	    T(assoc__unknown_message_on_stream_0__is_ignored),
	    T(assoc__malformed_or_misplaced_message_on_stream_0__aborts),
	    T(assoc__hello_from_a_peer_with_the_same_role__aborts),
	    T(assoc__hello_from_an_accept_peer_to_an_accept_gateway__aborts),
	    T(assoc__hello_without_a_common_version__aborts),
	    T(assoc__hello_from_a_newer_peer_without_our_version__aborts),
	    T(assoc__hello_from_a_version_3_peer__aborts_naming_both_ranges),
	    T(conn__target_outside_egress_allow__is_refused_with_reason_8),
	    T(conn__host_name_without_a_resolver__is_refused_with_reason_9),
	    T(assoc__hello_with_a_range_around_our_version__is_accepted),
	    T(assoc__flood_of_messages_before_hello__aborts),
	    T(assoc__flood_of_tiny_messages_before_hello__aborts),
	    T(assoc__no_hello_within_the_deadline__aborts_and_retries),
	    T(assoc__open_from_the_peer_on_our_parity__is_ignored),
	    T(assoc__open_from_the_peer_on_our_parity__is_ignored_by_the_accept_side),
	    T(assoc__frames_on_an_idle_stream__are_ignored),
	    T(assoc__message_beyond_the_negotiated_streams__aborts),
	    T(assoc_new__engine_failure__returns_null),
	    /* regressions */
	    T(conn__target_data_while_open_ok_waits__does_not_overtake_open_ok),
	    T(stream__closed_before_the_opener_drained_its_client__still_frees_the_id),
	    T(assoc__open_overtaking_the_peers_hello__does_not_abort),
	};
#undef T
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
