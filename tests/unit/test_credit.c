/*
 * Unit tests for per-connection flow control (credit) and memory_limit:
 * two gateways in one process (pair.h).
 *
 * Each side advertises its conn_window in OPEN / OPEN_OK and grants more
 * with CREDIT as it writes into its TCP socket; what a connection buffers
 * toward a slow TCP reader never exceeds its window, and one stalled reader
 * stalls nobody else. docs/PROTOCOL.md, "Credit", is the reference.
 */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every DATA frame E sent on SID carried at most MAX payload bytes. */
static void assert_data_frames_at_most(const struct fake_engine *e, uint16_t sid, size_t max)
{
	for (size_t i = 0; i < e->n_sent; i++)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == FRAME_DATA &&
		    e->sent[i].len - FRAME_HEADER_LEN > max)
			fail_msg(
			    "DATA frame #%zu on stream %u carries %zu bytes; the window is %zu", i,
			    sid, e->sent[i].len - FRAME_HEADER_LEN, max);
}

/* Move LEN bytes each way through L at once and check both arrive intact. */
static void both_ways(struct fx *f, const struct link *l, size_t len, uint32_t seed)
{
	uint8_t *up = pattern(len, seed), *down = pattern(len, seed + 1);
	struct writer wu = {.fd = l->client, .data = up, .len = len, .shut_after = true};
	struct writer wd = {.fd = l->target, .data = down, .len = len, .shut_after = true};
	struct reader ru = {.fd = l->target}, rd = {.fd = l->client};
	RUN_UNTIL(f, wr_step(&wu) & wr_step(&wd) & rd_step(&ru) & rd_step(&rd));
	assert_int_equal(ru.err, 0);
	assert_int_equal(rd.err, 0);
	assert_int_equal(ru.len, len);
	assert_int_equal(rd.len, len);
	assert_memory_equal(ru.buf, up, len);
	assert_memory_equal(rd.buf, down, len);
	free(ru.buf);
	free(rd.buf);
	free(up);
	free(down);
}

/* Keep W writing until TO has read W's whole stream and its end; check it
 * arrived intact, and free W's data. */
static void finish_one_way(struct fx *f, struct writer *w, int to)
{
	struct reader r = {.fd = to};
	RUN_UNTIL(f, (wr_step(w) & rd_step(&r)));
	assert_int_equal(r.err, 0);
	assert_true(r.eof);
	assert_int_equal(r.len, w->len);
	assert_memory_equal(r.buf, w->data, w->len);
	free(r.buf);
	free((void *)w->data);
}

/* LEN bytes from FROM to TO (FROM half-closes after them), intact. */
static void one_way(struct fx *f, int from, int to, size_t len, uint32_t seed)
{
	struct writer w = {.fd = from, .data = pattern(len, seed), .len = len, .shut_after = true};
	finish_one_way(f, &w, to);
}

/* Like one_way, in four parts with a pause of two measurement periods
 * (window.h) after each: on a fast machine the whole transfer may take
 * less than one period, and a window's growth is measured per period, so
 * the pauses make sure that several periods end while bytes flow. */
static void paced_one_way(struct fx *f, int from, int to, size_t len, uint32_t seed)
{
	struct writer w = {.fd = from, .data = pattern(len, seed)};
	struct reader r = {.fd = to};
	for (int part = 1; part <= 4; part++) {
		w.len = len * (size_t)part / 4;
		w.shut_after = part == 4;
		RUN_UNTIL(f, (wr_step(&w) & rd_got(&r, w.len)));
		run_for(f, 2 * WINDOW_MIN_PERIOD);
	}
	RUN_UNTIL(f, rd_step(&r));
	assert_int_equal(r.err, 0);
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, w.data, len);
	free(r.buf);
	free((void *)w.data);
}

/* --- the window bounds what is buffered; a stall stays local ---------- */

static void credit__stalled_client__stalls_only_its_own_connection(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 16 * 1024;
	fx_start(f);
	struct link stalled = open_link_opts(f, f->a, SMALL_BUFS);
	struct link other = open_link(f, f->a);

	/* The target sends far more than the window; the client reads
	 * nothing. A buffers at most its window, B runs out of credit and
	 * stops reading the target. */
	size_t len = 600 * 1000;
	uint8_t *p = pattern(len, 6);
	struct writer w = {.fd = stalled.target, .data = p, .len = len, .shut_after = true};
	struct conn *ca = conn_at(f->a, stalled.sid), *cb = conn_at(f->b, stalled.sid);
	RUN_UNTIL(f, (wr_step(&w), cb->tx_credit == 0 && !fake_engine_busy()));
	assert_false(ev_is_active(&cb->rio));
	assert_true(ca->out.len <= f->ca->conn_window);
	assert_true(ca->out.cap <= f->ca->conn_window);
	assert_int_equal(ca->rx_avail, 0);
	size_t log_before = f->eb->n_sent;

	/* Meanwhile another connection moves 1 MB each way as if nothing
	 * happened. The stalled one moves only what the client's kernel
	 * buffer may still take (the gateway grants only that): less than
	 * one window. */
	both_ways(f, &other, 1000 * 1000, 40);
	size_t moved = 0;
	for (size_t i = log_before; i < f->eb->n_sent; i++)
		if (f->eb->sent[i].sid == stalled.sid && f->eb->sent[i].head[0] == FRAME_DATA)
			moved += f->eb->sent[i].len - FRAME_HEADER_LEN;
	if (moved > f->ca->conn_window)
		fail_msg("the stalled connection moved %zu bytes meanwhile", moved);
	assert_true(ca->out.len <= f->ca->conn_window);

	/* The client reads again: everything arrives, in order. */
	finish_one_way(f, &w, stalled.client);
	close_tracked(f, stalled.client);
	close_tracked(f, other.client);
	RUN_UNTIL(f, all_idle(f));
}

static void credit__reader_resuming_after_a_long_pause__gets_everything(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 64 * 1024;
	fx_start(f);
	struct link l = open_link_opts(f, f->a, SMALL_BUFS);

	size_t len = 600 * 1000;
	uint8_t *p = pattern(len, 8);
	struct writer w = {.fd = l.target, .data = p, .len = len, .shut_after = true};
	struct conn *ca = conn_at(f->a, l.sid), *cb = conn_at(f->b, l.sid);
	RUN_UNTIL(f, (wr_step(&w), cb->tx_credit == 0 && !fake_engine_busy()));
	/* A long pause: nothing moves, nothing grows, nothing times out. */
	size_t sent = fake_engine_count_sent(f->eb, l.sid, FRAME_DATA);
	for (int i = 0; i < 15; i++) {
		run_for(f, 0.1);
		wr_step(&w);
		assert_true(ca->out.len <= f->ca->conn_window);
	}
	assert_int_equal(fake_engine_count_sent(f->eb, l.sid, FRAME_DATA), sent);
	assert_int_equal(cb->tx_credit, 0);

	finish_one_way(f, &w, l.client);
	close_tracked(f, l.client);
	RUN_UNTIL(f, all_idle(f));
}

/* --- windows of any size move data ------------------------------------ */

static void credit__window_smaller_than_one_data_frame__carries_everything(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 1000;
	f->cb->conn_window = 1500;
	fx_start(f);
	struct link l = open_link(f, f->a);
	both_ways(f, &l, 300 * 1000, 21);
	/* A sends only what B's window allows, and B what A's allows. */
	assert_data_frames_at_most(f->ea, l.sid, 1500);
	assert_data_frames_at_most(f->eb, l.sid, 1000);
	assert_true(fake_engine_count_sent(f->ea, l.sid, FRAME_CREDIT) > 0);
	assert_true(fake_engine_count_sent(f->eb, l.sid, FRAME_CREDIT) > 0);
	RUN_UNTIL(f, all_idle(f));
}

static void credit__window_of_one_byte__carries_everything(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 1;
	f->cb->conn_window = 1;
	fx_start(f);
	struct link l = open_link(f, f->a);
	both_ways(f, &l, 1500, 22);
	assert_data_frames_at_most(f->ea, l.sid, 1);
	assert_data_frames_at_most(f->eb, l.sid, 1);
	/* One byte, one grant: a 1-byte window cannot batch. */
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_DATA), 1500);
	assert_true(fake_engine_count_sent(f->ea, l.sid, FRAME_CREDIT) >= 1499);
	RUN_UNTIL(f, all_idle(f));
}

/* The engine refuses a DATA frame for good (-EMSGSIZE, not -EAGAIN): its
 * bytes are gone, so the connection is reset at both ends rather than
 * carried on with a hole; the other connection does not notice. */
static void credit__data_frame_refused_by_the_engine__resets_only_its_connection(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link bad = open_link(f, f->a);
	struct link other = open_link(f, f->a);
	fake_engine_fail_next(f->ea, FRAME_DATA, EMSGSIZE);
	uint8_t byte = 'x';
	send_now(bad.client, &byte, 1);
	expect_reset(f, bad.client);
	expect_reset(f, bad.target);
	RUN_UNTIL(f, f->a->n_conns == 1 && f->b->n_conns == 1);
	assert_null(conn_at(f->a, bad.sid));
	assert_null(conn_at(f->b, bad.sid));
	ping(f, &other);
}

static void credit__grants__are_batched_to_a_quarter_of_the_window(void **state)
{
	struct fx *f = *state;
	f->cb->conn_window = 64 * 1024;
	fx_start(f);
	struct link l = open_link(f, f->a);
	size_t len = 1024 * 1024;
	one_way(f, l.client, l.target, len, 23);
	/* 1 MiB through a 64 KiB window: at least 16 KiB per grant. */
	size_t grants = fake_engine_count_sent(f->eb, l.sid, FRAME_CREDIT);
	if (grants == 0 || grants > len / (16 * 1024))
		fail_msg("%zu CREDIT frames for %zu bytes through a %zu-byte window", grants, len,
		         f->cb->conn_window);
	close_tracked(f, l.target);
	RUN_UNTIL(f, all_idle(f));
}

/* CREDIT for our direction may follow the peer's FIN: the peer stopped
 * sending, not receiving. */
static void credit__after_the_peers_fin__still_moves_our_direction(void **state)
{
	struct fx *f = *state;
	f->cb->conn_window = 4096;
	fx_start(f);
	struct link l = open_link(f, f->a);
	assert_int_equal(shutdown(l.target, SHUT_WR), 0);
	expect_bytes(f, l.client, NULL, 0, true); /* B's FIN reached the client */
	one_way(f, l.client, l.target, 200 * 1000, 24);
	long fin = sent_index(f->eb, l.sid, FRAME_FIN, 0);
	long credit = last_sent_index(f->eb, l.sid, FRAME_CREDIT);
	assert_true(fin >= 0 && credit > fin);
	RUN_UNTIL(f, all_idle(f));
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

/* --- a peer that breaks the rules ------------------------------------- */

static void credit__peer_sending_beyond_its_credit__resets_only_that_connection(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 16 * 1024;
	fx_start(f);
	struct link keep = open_link(f, f->a);
	struct link victim = open_link(f, f->a);
	ping(f, &victim);

	/* B sent 5 bytes ("pong!"); one frame of the rest of A's window plus
	 * one byte is one byte too many. */
	size_t len = FRAME_HEADER_LEN + f->ca->conn_window - 5 + 1;
	uint8_t *msg = calloc(1, len);
	assert_non_null(msg);
	frame_data_header(msg);
	fake_engine_inject(f->ea, victim.sid, msg, len);
	free(msg);
	expect_reset(f, victim.client);
	expect_reset(f, victim.target);
	assert_sent_rst(f->ea, victim.sid, FRAME_RST_PROTOCOL);
	ping(f, &keep);
	RUN_UNTIL(f, f->a->n_conns == 1 && f->b->n_conns == 1);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
	assert_int_equal(f->a->state, ASSOC_READY);
}

static void credit__exactly_the_window_in_one_frame__is_accepted(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 16 * 1024;
	fx_start(f);
	struct link l = open_link(f, f->a);
	/* As if B had sent one frame of exactly A's window: allowed. B never
	 * sent it, so B must not hear a grant for it: hold A's CREDITs. */
	fake_engine_hold(f->eb, FRAME_CREDIT);
	size_t n = f->ca->conn_window;
	uint8_t *msg = malloc(FRAME_HEADER_LEN + n);
	assert_non_null(msg);
	frame_data_header(msg);
	memset(msg + FRAME_HEADER_LEN, 'w', n);
	fake_engine_inject(f->ea, l.sid, msg, FRAME_HEADER_LEN + n);
	expect_bytes(f, l.client, msg + FRAME_HEADER_LEN, n, false);
	free(msg);
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_RST), 0);
}

/* On a fresh pair (A's HELLO features masked by UNSET), B grants A's
 * connection INC more credit than it has: only that connection is reset,
 * with reason "protocol error", and the association goes on. */
static void expect_credit_refused(struct fx *f, uint32_t unset, uint32_t inc)
{
	fx_start(f);
	assert_true(f->a->features & FRAME_FEATURE_WINDOW_GROWTH); /* both HELLOs carry it */
	f->a->features &= ~unset;
	struct link keep = open_link(f, f->a);
	struct link victim = open_link(f, f->a);
	/* A has sent nothing: its credit is B's whole window already. */
	struct frame cr = {.type = FRAME_CREDIT, .u.credit = inc};
	uint8_t buf[16];
	ssize_t n = frame_encode(&cr, buf, sizeof buf);
	assert_true(n > 0);
	fake_engine_inject(f->ea, victim.sid, buf, (size_t)n);
	expect_reset(f, victim.client);
	expect_reset(f, victim.target);
	assert_sent_rst(f->ea, victim.sid, FRAME_RST_PROTOCOL);
	ping(f, &keep);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

/* A peer that did not announce window growth in its HELLO may not grant
 * past the window it advertised. */
static void credit__credit_beyond_the_advertised_window__resets_that_connection(void **state)
{
	expect_credit_refused(*state, FRAME_FEATURE_WINDOW_GROWTH, 1);
}

/* With growth, a grant may pass the advertised window, but never raise
 * the credit past FRAME_CREDIT_MAX. */
static void credit__credit_past_the_growth_bound__resets_that_connection(void **state)
{
	expect_credit_refused(*state, 0, FRAME_CREDIT_MAX);
}

/* --- growing windows (window.h) ----------------------------------------- */

/* A bulk transfer through windows that start small: the receiver's window
 * grows past its start (the sender accepted the larger grants), never
 * past conn_window_max, the data arrives intact, and memory_limit counts
 * exactly the windows of the open connections. */
static void credit__window_filled_by_a_fast_sender__grows_up_to_its_max(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = f->cb->conn_window = 4096;
	f->ca->conn_window_max = f->cb->conn_window_max = 256 * 1024;
	fx_start(f);
	struct link l = open_link(f, f->a);
	struct conn *cb = conn_at(f->b, l.sid);
	paced_one_way(f, l.client, l.target, 1000 * 1000, 21);
	assert_true(cb->rxw.size > 4096);
	assert_true(cb->rxw.size <= 256 * 1024);
	assert_int_equal(f->b->mem_reserved, cb->rxw.size); /* B's only connection */
	assert_int_equal(fake_engine_count_sent(f->ea, l.sid, FRAME_RST), 0);
	assert_int_equal(fake_engine_count_sent(f->eb, l.sid, FRAME_RST), 0);
}

/* Growth that memory_limit cannot hold is refused: the window stays as
 * it is and the transfer still completes. */
static void credit__growth_beyond_memory_limit__keeps_the_window(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = f->cb->conn_window = 4096;
	f->ca->conn_window_max = f->cb->conn_window_max = 256 * 1024;
	f->cb->memory_limit = 3 * 4096; /* room for one doubling at most */
	fx_start(f);
	struct link l = open_link(f, f->a);
	struct conn *cb = conn_at(f->b, l.sid);
	paced_one_way(f, l.client, l.target, 500 * 1000, 22);
	assert_true(cb->rxw.size <= 2 * 4096);
	assert_true(f->b->mem_reserved <= f->cb->memory_limit);
}

/* Growth stops at 3/4 of memory_limit: with room for exactly two windows,
 * a busy connection does not grow into the second one, so a new
 * connection still opens. */
static void credit__busy_window__leaves_room_for_a_new_connection(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = f->cb->conn_window = 4096;
	f->ca->conn_window_max = f->cb->conn_window_max = 256 * 1024;
	f->cb->memory_limit = 2 * 4096;
	fx_start(f);
	struct link l = open_link(f, f->a);
	struct conn *cb = conn_at(f->b, l.sid);
	paced_one_way(f, l.client, l.target, 500 * 1000, 23);
	assert_int_equal(cb->rxw.size, 4096);
	struct link second = open_link(f, f->a);
	ping(f, &second);
	assert_int_equal(f->b->mem_reserved, 2 * 4096);
}

/* --- memory ----------------------------------------------------------- */

static void credit__idle_connection__holds_no_buffer(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 40000; /* not a power of two: growth must stop at it */
	fx_start(f);
	struct link l = open_link_opts(f, f->a, SMALL_BUFS);
	size_t len = 500 * 1000;
	uint8_t *p = pattern(len, 9);
	struct writer w = {.fd = l.target, .data = p, .len = len};
	struct conn *ca = conn_at(f->a, l.sid);
	RUN_UNTIL(f, (wr_step(&w), ca->out.len > 0 && !fake_engine_busy()));
	assert_true(ca->out.cap <= f->ca->conn_window);
	struct reader r = {.fd = l.client};
	RUN_UNTIL(f, (wr_step(&w) & rd_got(&r, len)));
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);
	ping(f, &l);
	settle(f);
	/* Open and idle: no buffer, no held frame, on either side. */
	struct conn *cb = conn_at(f->b, l.sid);
	assert_null(ca->out.data);
	assert_null(cb->out.data);
	assert_int_equal(f->a->held_len, 0);
	assert_int_equal(f->b->held_len, 0);
	print_message("idle connection: struct conn is %zu bytes, no buffers\n", sizeof *ca);
}

/* Bytes read from TCP on G's connections that the engine has not taken:
 * what waits in the gateway's memory on the way out. */
static size_t pulled_not_sent(struct fx *f, struct assoc *g, struct fake_engine *e)
{
	(void)f;
	size_t read = 0, sent = 0;
	struct conn *c;
	TAILQ_FOREACH(c, &g->conns, link)
	{
		read += c->bytes_up;
		for (size_t i = 0; i < e->n_sent; i++)
			if (e->sent[i].sid == c->sid && e->sent[i].head[0] == FRAME_DATA)
				sent += e->sent[i].len - FRAME_HEADER_LEN;
	}
	return read - sent;
}

/* While the engine is full no connection reads its TCP socket: one frame
 * at most waits in memory, not one per connection. */
static void credit__engine_full__at_most_one_frame_waits_in_memory(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct bulk b;
	bulk_start_full(f, &b, 6, 300 * 1000, 30);
	run_for(f, 0.2);
	assert_true(f->eb->n_eagain > 0);
	assert_true(pulled_not_sent(f, f->b, f->eb) <= FRAME_DATA_MAX);
	fake_engine_set_full(f->eb, false);
	fake_engine_set_limit(f->eb, 2); /* still often full on the way */
	bool done;
	do {
		done = bulk_step(&b);
		assert_true(pulled_not_sent(f, f->b, f->eb) <= FRAME_DATA_MAX);
		ev_run(f->loop, EVRUN_ONCE);
	} while (!done);
	bulk_check(&b);
}

/* Send what FD takes of BUF now (the content does not matter here). */
static void keep_full(int fd, const uint8_t *buf, size_t len)
{
	while (send(fd, buf, len, MSG_NOSIGNAL) > 0)
		;
}

/* Read and count what FD has now. */
static size_t count_in(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	while ((n = read(fd, buf, len)) > 0)
		got += (size_t)n;
	return got;
}

/* Eight bulk connections behind one engine that is the bottleneck: each
 * gets its share. While all eight always have bytes waiting, the bytes
 * delivered per connection stay within 20% of each other. */
static void fairness__eight_bulk_connections__share_a_full_engine_evenly(void **state)
{
	struct fx *f = *state;
	/* Windows wide enough that credit never runs out: the fake engine
	 * hands over one event per loop iteration, so CREDIT frames queue
	 * behind DATA and small windows would measure that, not the order in
	 * which the association serves connections. */
	f->ca->conn_window = f->cb->conn_window = 16 << 20;
	fx_start(f);
	enum { N = 8 };
	struct link l[N];
	for (int i = 0; i < N; i++)
		l[i] = open_link_opts(f, f->a, BIG_BUFS);
	fake_engine_set_limit(f->ea, 4); /* the engine, not TCP, is the limit */
	static uint8_t buf[64 * 1024];
	memset(buf, 'x', sizeof buf);
	/* What the association chose to send, per connection: DATA payload
	 * in A's log of sent messages, counted once the pipeline is full. */
	size_t got[N] = {0}, mark = 0, seen = 0, total = 0;
	size_t warm = N * (size_t)(256 << 10), goal = N * (size_t)(1 << 20);
	ev_tstamp end = ev_time() + WAIT_S;
	while (total < goal) {
		for (int i = 0; i < N; i++) {
			keep_full(l[i].client, buf, sizeof buf);
			count_in(l[i].target, buf, sizeof buf);
		}
		for (; seen < f->ea->n_sent; seen++) {
			const struct fake_sent *m = &f->ea->sent[seen];
			if (m->head[0] != FRAME_DATA)
				continue;
			size_t payload = m->len - FRAME_HEADER_LEN;
			if (mark < warm) {
				mark += payload;
				continue;
			}
			for (int i = 0; i < N; i++)
				if (m->sid == l[i].sid)
					got[i] += payload;
			total += payload;
		}
		if (ev_time() > end)
			fail_msg("only %zu of %zu bytes in time", total, goal);
		ev_run(f->loop, EVRUN_ONCE);
	}
	size_t lo = SIZE_MAX, hi = 0;
	for (int i = 0; i < N; i++) {
		lo = got[i] < lo ? got[i] : lo;
		hi = got[i] > hi ? got[i] : hi;
	}
	print_message("8 connections: least %zu, most %zu bytes (%.2f)\n", lo, hi,
	              (double)hi / (double)lo);
	for (int i = 0; i < N; i++)
		print_message("  connection %d: %zu bytes\n", i, got[i]);
	assert_true(hi <= lo * 1.2);
	for (int i = 0; i < N; i++) {
		close_tracked(f, l[i].client);
		close_tracked(f, l[i].target);
	}
}

/* The largest DATA payload A sent on SID from its log entry FROM on. */
static size_t largest_data(const struct fake_engine *e, uint16_t sid, size_t from)
{
	size_t most = 0;
	for (size_t i = from; i < e->n_sent; i++)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == FRAME_DATA &&
		    e->sent[i].len - FRAME_HEADER_LEN > most)
			most = e->sent[i].len - FRAME_HEADER_LEN;
	return most;
}

/* While this side sends datagrams, a TCP DATA frame carries at most
 * ASSOC_DATA_BESIDE_DGRAM bytes: a datagram goes before queued TCP frames
 * but after the one being sent (docs/ARCHITECTURE.md, "UDP flows beside
 * TCP connections"). Before the first datagram, and again once none was
 * sent for ASSOC_DGRAM_RECENT, frames are full size. */
static void data_frames__while_datagrams_flow__stay_small(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = f->cb->conn_window = 16 << 20;
	fx_start(f);
	struct link l = open_link_opts(f, f->a, BIG_BUFS);
	size_t from = f->ea->n_sent;
	one_way(f, l.client, l.target, 4 << 20, 71);
	assert_true(largest_data(f->ea, l.sid, from) > ASSOC_DATA_BESIDE_DGRAM);

	struct link m = open_link_opts(f, f->a, BIG_BUFS);
	uint8_t dg[FRAME_HEADER_LEN + 8] = {0};
	frame_dgram_header(dg);
	assert_int_equal(assoc_send_dgram(f->a, 1, dg, sizeof dg, true), 0);
	from = f->ea->n_sent;
	one_way(f, m.client, m.target, 4 << 20, 72);
	assert_true(largest_data(f->ea, m.sid, from) > 0);
	assert_true(largest_data(f->ea, m.sid, from) <= ASSOC_DATA_BESIDE_DGRAM);
	assert_true(ev_now(f->loop) - f->a->dgram_at < ASSOC_DGRAM_RECENT); /* it all ran within */

	f->a->dgram_at -= ASSOC_DGRAM_RECENT; /* as if the last datagram were that old */
	struct link n = open_link_opts(f, f->a, BIG_BUFS);
	from = f->ea->n_sent;
	one_way(f, n.client, n.target, 4 << 20, 73);
	assert_true(largest_data(f->ea, n.sid, from) > ASSOC_DATA_BESIDE_DGRAM);
	struct link *all[] = {&l, &m, &n};
	for (size_t i = 0; i < 3; i++) {
		close_tracked(f, all[i]->client);
		close_tracked(f, all[i]->target);
	}
}

static void memory_limit__reached__resets_the_next_client_and_keeps_the_others(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 4096;
	f->ca->memory_limit = 3 * 4096;
	fx_start(f);
	struct link l[3];
	for (int i = 0; i < 3; i++)
		l[i] = open_link(f, f->a);
	assert_int_equal(f->a->mem_reserved, 3 * 4096);

	int rc;
	int refused = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOBUFS);
	expect_reset(f, refused);
	assert_int_equal(f->a->n_refused_memory, 1);
	assert_int_equal(f->a->n_conns, 3);
	for (int i = 0; i < 3; i++)
		both_ways(f, &l[i], 100 * 1000, 50 + (uint32_t)i);

	/* Once one is gone, its reservation is free again. */
	RUN_UNTIL(f, all_idle(f));
	assert_int_equal(f->a->mem_reserved, 0);
	struct link again = open_link(f, f->a);
	ping(f, &again);
	assert_int_equal(f->a->n_refused_memory, 1);
}

static void memory_limit__reached_on_the_exit_side__resets_the_client_and_frees_the_id(void **state)
{
	struct fx *f = *state;
	f->cb->conn_window = 4096;
	f->cb->memory_limit = 2 * 4096;
	fx_start(f);
	struct link l1 = open_link(f, f->a);
	struct link l2 = open_link(f, f->a);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, c);
	assert_sent_rst(f->eb, sid, FRAME_RST_RESOURCES);
	assert_int_equal(f->b->n_refused_memory, 1);
	RUN_UNTIL(f, slot_state(f->a, sid) == STREAM_FREE);
	ping(f, &l1);
	ping(f, &l2);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

/* The refusal of an OPEN at memory_limit (RST, CLOSED) waits for room in
 * a full engine instead of being dropped: the client is reset, the id is
 * freed, and no deadline had to step in. */
static void memory_limit__refusal_while_the_engine_is_full__is_sent_when_room_comes(void **state)
{
	struct fx *f = *state;
	f->cb->conn_window = 4096;
	f->cb->memory_limit = 4096;
	fx_start(f);
	struct link l1 = open_link(f, f->a);
	fake_engine_set_full(f->eb, true);
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	RUN_UNTIL(f, f->b->n_refused_memory == 1);
	run_for(f, 0.05);
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_RST), 0);
	fake_engine_set_full(f->eb, false);
	expect_reset(f, c);
	assert_sent_rst(f->eb, sid, FRAME_RST_RESOURCES);
	assert_int_equal(fake_engine_count_sent(f->eb, sid, FRAME_CLOSED), 1);
	RUN_UNTIL(f, slot_state(f->a, sid) == STREAM_FREE);
	assert_int_equal(f->a->n_open_timeouts, 0);
	ping(f, &l1);
	assert_int_equal(f->ea->n_abort + f->eb->n_abort, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(credit__stalled_client__stalls_only_its_own_connection),
	    T(credit__reader_resuming_after_a_long_pause__gets_everything),
	    T(credit__window_smaller_than_one_data_frame__carries_everything),
	    T(credit__window_of_one_byte__carries_everything),
	    T(credit__data_frame_refused_by_the_engine__resets_only_its_connection),
	    T(credit__grants__are_batched_to_a_quarter_of_the_window),
	    T(credit__after_the_peers_fin__still_moves_our_direction),
	    T(credit__peer_sending_beyond_its_credit__resets_only_that_connection),
	    T(credit__exactly_the_window_in_one_frame__is_accepted),
	    T(credit__credit_beyond_the_advertised_window__resets_that_connection),
	    T(credit__credit_past_the_growth_bound__resets_that_connection),
	    T(credit__window_filled_by_a_fast_sender__grows_up_to_its_max),
	    T(credit__growth_beyond_memory_limit__keeps_the_window),
	    T(credit__busy_window__leaves_room_for_a_new_connection),
	    T(credit__idle_connection__holds_no_buffer),
	    T(credit__engine_full__at_most_one_frame_waits_in_memory),
	    T(fairness__eight_bulk_connections__share_a_full_engine_evenly),
	    T(data_frames__while_datagrams_flow__stay_small),
	    T(memory_limit__reached__resets_the_next_client_and_keeps_the_others),
	    T(memory_limit__reached_on_the_exit_side__resets_the_client_and_frees_the_id),
	    T(memory_limit__refusal_while_the_engine_is_full__is_sent_when_room_comes),
	};
#undef T
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
