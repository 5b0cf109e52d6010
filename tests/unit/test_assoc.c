/*
 * Unit tests for assoc and tcp_conn: two gateways in one process.
 *
 * Gateway A (connect role) and gateway B (accept role) are real struct
 * assoc joined back to back by the fake engine (fake_engine.h). The TCP
 * sides are real loopback sockets: the test connects a "client" socket to
 * its own listener and hands the accepted end to conn_open(), and the exit
 * side connects for real to a "target" listener the test owns. Everything
 * runs on one libev loop that the test turns with RUN_UNTIL().
 *
 * Three tests are regressions: they failed against the first version of
 * tcp_conn.c, stream.c and assoc.c (see their comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assoc.h"
#include "fake_engine.h"
#include "log.h"

#define MAX_FDS 128
#ifndef WAIT_S
#define WAIT_S 10.0 /* no scenario needs more than a fraction of this */
#endif

struct fx {
	struct ev_loop *loop;
	ev_timer tick; /* keeps EVRUN_ONCE from sleeping long */
	struct config *ca, *cb;
	struct assoc *a, *b; /* a: connect role, b: accept role */
	struct fake_engine *ea, *eb;
	int client_listen; /* test clients connect here; the accepted end goes to conn_open */
	struct sockaddr_storage client_addr;
	int target_listen; /* the exit side connects here */
	struct frame_open target;
	int fds[MAX_FDS];
	size_t n_fds;
	unsigned closed_reports;
};

/* Turn the loop until COND holds; fail the test after WAIT_S seconds. */
#define RUN_UNTIL(f, cond)                                                                         \
	do {                                                                                       \
		ev_tstamp end_ = ev_time() + WAIT_S;                                               \
		while (!(cond)) {                                                                  \
			if (ev_time() > end_)                                                      \
				fail_msg("line %d: timed out waiting for %s", __LINE__, #cond);    \
			ev_run((f)->loop, EVRUN_ONCE);                                             \
		}                                                                                  \
	} while (0)

/* Turn the loop for about SECONDS whatever happens. */
static void run_for(struct fx *f, double seconds)
{
	ev_tstamp end = ev_time() + seconds;
	while (ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE);
}

/* Turn the loop until the fake engines have had nothing to deliver for a
 * while (loopback TCP completes within an iteration or two). */
static void settle(struct fx *f)
{
	int quiet = 0;
	ev_tstamp end = ev_time() + WAIT_S;
	while (quiet < 25) {
		ev_run(f->loop, EVRUN_ONCE);
		quiet = fake_engine_busy() ? 0 : quiet + 1;
		if (ev_time() > end)
			fail_msg("the fake engines never went quiet");
	}
}

/* --- sockets --------------------------------------------------------- */

static int track(struct fx *f, int fd)
{
	assert_true(fd >= 0);
	assert_true(f->n_fds < MAX_FDS);
	f->fds[f->n_fds++] = fd;
	return fd;
}

static void close_tracked(struct fx *f, int fd)
{
	for (size_t i = 0; i < f->n_fds; i++) {
		if (f->fds[i] == fd) {
			f->fds[i] = f->fds[--f->n_fds];
			break;
		}
	}
	close(fd);
}

/* Close so the other end sees RST. */
static void close_with_rst(struct fx *f, int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
	close_tracked(f, fd);
}

static int listen_loopback(struct sockaddr_storage *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 128), 0);
	socklen_t len = sizeof *addr;
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

/* A loopback port nobody listens on. */
static void closed_port(struct sockaddr_storage *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t len = sizeof *addr;
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	close(fd);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* Small kernel buffers on both sockets of a client connection, so what the
 * gateway cannot write stays in its own buffer. */
#define SMALL_BUFS 1

/* Connect a client and hand the accepted end to conn_open(OPENER). Returns
 * the client's socket (non-blocking); *RC gets conn_open's result. */
static int open_client_opts(struct fx *f, struct assoc *opener, int *rc, int opts)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	if (opts & SMALL_BUFS) {
		int small = 4096;
		setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	assert_int_equal(connect(c, (struct sockaddr *)&f->client_addr, sizeof(struct sockaddr_in)),
	                 0);
	int s = -1;
	for (int i = 0; i < 1000 && s < 0; i++) {
		s = accept4(f->client_listen, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			usleep(1000);
	}
	assert_true(s >= 0);
	if (opts & SMALL_BUFS) {
		int small = 4096;
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	}
	set_nonblock(c);
	track(f, c);
	*rc = conn_open(opener, s, &f->target);
	return c;
}

static int open_client(struct fx *f, struct assoc *opener, int *rc)
{
	return open_client_opts(f, opener, rc, 0);
}

/* The next connection the exit side made to the target listener. */
static int accept_target(struct fx *f)
{
	int t;
	RUN_UNTIL(f,
	          (t = accept4(f->target_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0);
	return track(f, t);
}

/* --- byte streams ---------------------------------------------------- */

static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1664525u + 1013904223u;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

struct reader {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	bool eof;
	int err;
};

/* Read what is there; true once the stream ended (EOF or an error). */
static bool rd_step(struct reader *r)
{
	while (!r->eof && !r->err) {
		if (r->len == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			r->buf = realloc(r->buf, r->cap);
			assert_non_null(r->buf);
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n > 0)
			r->len += (size_t)n;
		else if (n == 0)
			r->eof = true;
		else if (errno == EAGAIN || errno == EINTR)
			break;
		else
			r->err = errno;
	}
	return r->eof || r->err;
}

/* True once N bytes (or the end) arrived. */
static bool rd_got(struct reader *r, size_t n)
{
	rd_step(r);
	return r->len >= n || r->eof || r->err;
}

struct writer {
	int fd;
	const uint8_t *data;
	size_t len, off;
	bool shut_after; /* shutdown(SHUT_WR) right after the last byte */
	bool shut;
	int err;
};

/* Write what fits; true once everything went (or writing failed). */
static bool wr_step(struct writer *w)
{
	while (w->off < w->len && !w->err) {
		ssize_t n = send(w->fd, w->data + w->off, w->len - w->off, MSG_NOSIGNAL);
		if (n > 0)
			w->off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			w->err = n < 0 ? errno : EIO;
	}
	if (w->off == w->len && w->shut_after && !w->shut) {
		assert_int_equal(shutdown(w->fd, SHUT_WR), 0);
		w->shut = true;
	}
	return w->off == w->len || w->err;
}

static void send_now(int fd, const void *p, size_t len)
{
	assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read FD until the stream ends; it must end with a reset. */
static void expect_reset(struct fx *f, int fd)
{
	struct reader r = {.fd = fd};
	RUN_UNTIL(f, rd_step(&r));
	free(r.buf);
	if (r.err != ECONNRESET)
		fail_msg("want ECONNRESET, got %s after %zu bytes", r.eof ? "EOF" : strerror(r.err),
		         r.len);
}

/* Read exactly LEN bytes equal to WANT from FD, then (if EOF) the end. */
static void expect_bytes(struct fx *f, int fd, const uint8_t *want, size_t len, bool eof)
{
	struct reader r = {.fd = fd};
	RUN_UNTIL(f, eof ? rd_step(&r) : rd_got(&r, len));
	if (r.err)
		fail_msg("reading: %s after %zu of %zu bytes", strerror(r.err), r.len, len);
	if (eof && !r.eof)
		fail_msg("no EOF after %zu bytes", r.len);
	assert_int_equal(r.len, len);
	if (len)
		assert_memory_equal(r.buf, want, len);
	free(r.buf);
}

/* --- gateways -------------------------------------------------------- */

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void on_closed(void *ctx)
{
	struct fx *f = ctx;
	f->closed_reports++;
}

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	const char *lvl = getenv("SCTPGW_TEST_LOG");
	enum log_level level = LOG_ERROR;
	if (lvl)
		log_level_parse(lvl, &level);
	log_init("test", level);

	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	ev_timer_init(&f->tick, tick_cb, 0.002, 0.002);
	ev_timer_start(f->loop, &f->tick);

	f->ca = malloc(sizeof *f->ca);
	f->cb = malloc(sizeof *f->cb);
	assert_non_null(f->ca);
	assert_non_null(f->cb);
	config_defaults(f->ca);
	config_defaults(f->cb);
	f->ca->role = CONFIG_ROLE_CONNECT;
	f->cb->role = CONFIG_ROLE_ACCEPT;
	snprintf(f->ca->name, sizeof f->ca->name, "gw-a");
	snprintf(f->cb->name, sizeof f->cb->name, "gw-b");

	f->client_listen = listen_loopback(&f->client_addr);
	f->target_listen = listen_loopback(&f->target.target);
	snprintf(f->target.name, sizeof f->target.name, "fwd");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assoc_free(f->a);
	assoc_free(f->b);
	for (size_t i = 0; i < f->n_fds; i++)
		close(f->fds[i]);
	close(f->client_listen);
	close(f->target_listen);
	ev_timer_stop(f->loop, &f->tick);
	ev_loop_destroy(f->loop);
	free(f->ca);
	free(f->cb);
	free(f);
	return 0;
}

/* Create both gateways (configs as the test left them) without starting. */
static void fx_create(struct fx *f)
{
	f->a = assoc_new(f->loop, f->ca);
	f->b = assoc_new(f->loop, f->cb);
	assert_non_null(f->a);
	assert_non_null(f->b);
	f->ea = fake_of(f->a->engine);
	f->eb = fake_of(f->b->engine);
	fake_engine_pair(f->ea, f->eb);
}

/* Create, start and wait until both gateways are READY. */
static void fx_start(struct fx *f)
{
	fx_create(f);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
}

/* Only gateway A (or B when ACCEPT_SIDE), against a scripted peer that
 * reports STREAMS streams. Waits for our HELLO to go out. */
static struct assoc *fx_alone(struct fx *f, bool accept_side, uint16_t streams)
{
	struct assoc *x = assoc_new(f->loop, accept_side ? f->cb : f->ca);
	assert_non_null(x);
	fake_engine_set_peerless(fake_of(x->engine), streams);
	if (accept_side) {
		f->b = x;
		f->eb = fake_of(x->engine);
	} else {
		f->a = x;
		f->ea = fake_of(x->engine);
	}
	assert_int_equal(assoc_start(x), 0);
	RUN_UNTIL(f, x->state == ASSOC_HELLO);
	return x;
}

static void inject_frame(struct fake_engine *to, uint16_t sid, const struct frame *fr)
{
	uint8_t buf[128];
	ssize_t n = frame_encode(fr, buf, sizeof buf);
	assert_true(n > 0);
	fake_engine_inject(to, sid, buf, (size_t)n);
}

static struct frame hello(uint8_t role, uint16_t streams)
{
	struct frame fr = {.type = FRAME_HELLO};
	fr.u.hello.version_min = 1;
	fr.u.hello.version_max = 1;
	fr.u.hello.role = role;
	fr.u.hello.streams = streams;
	snprintf(fr.u.hello.name, sizeof fr.u.hello.name, "scripted");
	return fr;
}

/* Bring a fx_alone() gateway to READY with a proper HELLO from the peer. */
static void alone_ready(struct fx *f, struct assoc *x, uint16_t streams)
{
	struct frame h =
	    hello(x->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_ACCEPT : FRAME_ROLE_CONNECT, streams);
	inject_frame(fake_of(x->engine), 0, &h);
	RUN_UNTIL(f, x->state == ASSOC_READY);
}

static struct conn *conn_at(struct assoc *a, uint16_t sid)
{
	if (!a->streams)
		return NULL;
	struct stream_slot *s = stream_get(a->streams, sid);
	return s && s->state == STREAM_ACTIVE ? s->conn : NULL;
}

static enum stream_state slot_state(struct assoc *a, uint16_t sid)
{
	assert_non_null(a->streams);
	struct stream_slot *s = stream_get(a->streams, sid);
	assert_non_null(s);
	return s->state;
}

static bool conn_is_open(struct assoc *a, uint16_t sid)
{
	struct conn *c = conn_at(a, sid);
	return c && c->state == CONN_OPEN;
}

static uint16_t last_sid(struct assoc *a)
{
	struct conn *c = TAILQ_LAST(&a->conns, conn_list);
	assert_non_null(c);
	return c->sid;
}

/* A carried connection: client socket, target socket, its stream. */
struct link {
	int client, target;
	uint16_t sid;
};

/* Open a connection through OPENER and wait until data may flow. */
static struct link open_link_opts(struct fx *f, struct assoc *opener, int opts)
{
	struct link l;
	int rc;
	l.client = open_client_opts(f, opener, &rc, opts);
	assert_int_equal(rc, 0);
	l.sid = last_sid(opener);
	l.target = accept_target(f);
	RUN_UNTIL(f, conn_is_open(opener, l.sid));
	return l;
}

static struct link open_link(struct fx *f, struct assoc *opener)
{
	return open_link_opts(f, opener, 0);
}

/* A few bytes each way arrive unchanged. */
static void ping(struct fx *f, const struct link *l)
{
	send_now(l->client, "ping", 4);
	expect_bytes(f, l->target, (const uint8_t *)"ping", 4, false);
	send_now(l->target, "pong!", 5);
	expect_bytes(f, l->client, (const uint8_t *)"pong!", 5, false);
}

/* Nothing left anywhere: every conn freed, every stream FREE. */
static bool all_idle(struct fx *f)
{
	return f->a->n_conns == 0 && f->b->n_conns == 0 && f->a->streams && f->b->streams &&
	       f->a->streams->active == 0 && f->b->streams->active == 0;
}

/* Index in E's log of its Nth message on SID of TYPE (-1: none). */
static long sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type, size_t nth)
{
	for (size_t i = 0; i < e->n_sent; i++)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == type && nth-- == 0)
			return (long)i;
	return -1;
}

static long last_sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type)
{
	for (size_t i = e->n_sent; i-- > 0;)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == type)
			return (long)i;
	return -1;
}

/* E sent exactly one RST on SID and it carried REASON. */
static void assert_sent_rst(const struct fake_engine *e, uint16_t sid, enum frame_rst_reason why)
{
	assert_int_equal(fake_engine_count_sent(e, sid, FRAME_RST), 1);
	long i = sent_index(e, sid, FRAME_RST, 0);
	assert_int_equal(e->sent[i].head[2], why);
}

/* E sent exactly one RST on SID since its message number MARK, carrying
 * REASON (ids are reused: earlier connections on SID do not count). */
static void assert_sent_rst_since(const struct fake_engine *e, size_t mark, uint16_t sid,
                                  enum frame_rst_reason why)
{
	size_t n = 0;
	for (size_t i = mark; i < e->n_sent; i++) {
		if (e->sent[i].sid != sid || e->sent[i].head[0] != FRAME_RST)
			continue;
		assert_int_equal(e->sent[i].head[2], why);
		n++;
	}
	assert_int_equal(n, 1);
}

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
	assert_non_null(c->tx);
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

static void conn__slow_client__pauses_the_association_and_resumes(void **state)
{
	struct fx *f = *state;
	f->ca->conn_buffer = 16 * 1024;
	fx_start(f);
	fake_engine_set_limit(f->eb, 4);
	struct link l = open_link_opts(f, f->a, SMALL_BUFS);

	size_t len = 3 * 1000 * 1000;
	uint8_t *p = pattern(len, 6);
	struct writer w = {.fd = l.target, .data = p, .len = len, .shut_after = true};
	/* The client does not read: A stops taking messages, B stops sending. */
	RUN_UNTIL(f, (wr_step(&w), !f->ea->receiving && f->eb->n_eagain > 0));
	assert_int_equal(f->a->rx_full, 1);
	struct conn *c = conn_at(f->a, l.sid);
	assert_non_null(c);
	assert_true(c->out.len > f->ca->conn_buffer);

	struct reader r = {.fd = l.client};
	RUN_UNTIL(f, (wr_step(&w) & rd_step(&r)));
	assert_true(r.eof);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.buf, p, len);
	free(r.buf);
	free(p);
	assert_true(f->ea->receiving);
	assert_int_equal(f->a->rx_full, 0);
	close_tracked(f, l.client);
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
	assert_true(TAILQ_EMPTY(&f->a->waiting));
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
	f->a->on_closed = on_closed;
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
	    {FRAME_RST, 0},  /* truncated: no reason */
	    {FRAME_DATA, 0}, /* empty DATA */
	    {0x7e, 0},       /* unknown type */
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

static void conn__peer_data_before_open_ok__resets_that_connection(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	fake_engine_hold(f->eb, FRAME_OPEN); /* B never hears of it for now */
	int rc;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	assert_int_equal(conn_at(f->a, sid)->state, CONN_OPENING);

	static const uint8_t early[] = {FRAME_DATA, 0, 'e', 'a', 'r', 'l', 'y'};
	fake_engine_inject(f->ea, sid, early, sizeof early);
	expect_reset(f, c);
	assert_sent_rst(f->ea, sid, FRAME_RST_PROTOCOL);

	fake_engine_release(f->eb);
	RUN_UNTIL(f, all_idle(f));
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

static void assoc__hello_without_a_common_version__aborts(void **state)
{
	struct fx *f = *state;
	struct assoc *a = fx_alone(f, false, 10);
	struct frame h = hello(FRAME_ROLE_ACCEPT, 10);
	h.u.hello.version_min = 2;
	h.u.hello.version_max = 9;
	inject_frame(f->ea, 0, &h);
	RUN_UNTIL(f, f->ea->n_down == 1);
	assert_int_equal(f->ea->n_abort, 1);
	assert_non_null(strstr(f->ea->last_abort, "version"));
	assert_int_equal(a->n_up, 0);
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
	static const uint8_t msgs[][4] = {
	    {FRAME_DATA, 0, 'x', 'y'},
	    {FRAME_FIN, 0},
	    {FRAME_RST, 0, FRAME_RST_RESET},
	    {FRAME_OPEN_OK, 0},
	    {FRAME_CLOSED, 0},
	    {FRAME_RST, 0}, /* malformed */
	    {0x7e, 0},      /* unknown */
	};
	static const size_t lens[] = {4, 2, 3, 2, 2, 2, 2};
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
	f->ca->conn_buffer = 4 * 1000 * 1000;
	fx_start(f);
	struct link l = open_link_opts(f, f->a, SMALL_BUFS);
	assert_int_equal(l.sid, 1);

	/* The client is done talking; the target answers more than the
	 * client's socket holds, then closes. The client reads nothing yet. */
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
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(assoc__two_gateways__exchange_hello_and_become_ready),
	    T(assoc__stream_counts_differ__both_use_the_smaller),
	    T(conn_open__before_the_association_is_ready__refuses_the_client),
	    T(conn__bytes__flow_both_ways_unchanged),
	    T(conn__half_close__target_reads_eof_and_reply_arrives_in_full),
	    T(conn__fin__never_overtakes_data),
	    T(conn__fin__never_overtakes_data_while_the_engine_is_full),
	    T(conn__one_message_send_window__carries_everything_in_order),
	    T(conn__slow_client__pauses_the_association_and_resumes),
	    T(conn__client_reset__target_sees_econnreset),
	    T(conn__target_reset__client_sees_econnreset),
	    T(conn__rst_after_fin__resets_the_half_closed_connection),
	    T(conn__target_refuses__client_sees_reset_and_ids_free_only_after_closed),
	    T(stream__id__is_reused_only_after_closed),
	    T(conn__both_sides_opening_at_once__get_no_collisions),
	    T(assoc__down__resets_every_connection_and_leaves_none),
	    T(assoc_shutdown__resets_connections_and_reports_closed_once),
	    T(conn__malformed_frame__resets_only_that_connection),
	    T(conn__peer_data_before_open_ok__resets_that_connection),
	    T(assoc__unknown_message_on_stream_0__is_ignored),
	    T(assoc__malformed_or_misplaced_message_on_stream_0__aborts),
	    T(assoc__hello_from_a_peer_with_the_same_role__aborts),
	    T(assoc__hello_from_an_accept_peer_to_an_accept_gateway__aborts),
	    T(assoc__hello_without_a_common_version__aborts),
	    T(assoc__flood_of_messages_before_hello__aborts),
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
	return cmocka_run_group_tests(tests, NULL, NULL);
}
