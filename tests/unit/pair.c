/* pair: see pair.h. */
#include "pair.h"

#include "config_egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void run_for(struct fx *f, double seconds)
{
	ev_tstamp end = ev_time() + seconds;
	while (ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE);
}

/* Turn the loop until the fake engines have had nothing to deliver for a
 * while (loopback TCP completes within an iteration or two). */
void settle(struct fx *f)
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

int track(struct fx *f, int fd)
{
	assert_true(fd >= 0);
	assert_true(f->n_fds < MAX_FDS);
	f->fds[f->n_fds++] = fd;
	return fd;
}

void close_tracked(struct fx *f, int fd)
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
void close_with_rst(struct fx *f, int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
	close_tracked(f, fd);
}

int listen_loopback(struct sockaddr_storage *addr)
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
void closed_port(struct sockaddr_storage *addr)
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

void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* Connect a client and hand the accepted end to conn_open(OPENER). Returns
 * the client's socket (non-blocking); *RC gets conn_open's result. */
int open_client_opts(struct fx *f, struct assoc *opener, int *rc, int opts)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	if (opts & SMALL_BUFS) {
		int small = 4096;
		setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	int big = 4 << 20;
	if (opts & BIG_BUFS)
		setsockopt(c, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	assert_int_equal(connect(c, (struct sockaddr *)&f->client_addr, sizeof(struct sockaddr_in)),
	                 0);
	int s = -1;
	for (int i = 0; i < 1000 && s < 0; i++) {
		s = accept4(f->client_listen, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			usleep(1000);
	}
	assert_true(s >= 0);
	set_nonblock(c);
	track(f, c);
	*rc = conn_open(opener, s, &f->target);
	/* After conn_open, which sizes the socket's buffers itself
	 * (limits_socket_bufs): these tests want the sizes they name. */
	if (*rc == 0 && (opts & SMALL_BUFS)) {
		int small = 4096;
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	}
	if (*rc == 0 && (opts & BIG_BUFS))
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	return c;
}

int open_client(struct fx *f, struct assoc *opener, int *rc)
{
	return open_client_opts(f, opener, rc, 0);
}

/* The next connection the exit side made to the target listener. */
int accept_target(struct fx *f)
{
	int t;
	RUN_UNTIL(f,
	          (t = accept4(f->target_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0);
	return track(f, t);
}

/* --- byte streams ---------------------------------------------------- */

uint8_t *pattern(size_t len, uint32_t seed)
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

/* Read what is there; true once the stream ended (EOF or an error). */
bool rd_step(struct reader *r)
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
bool rd_got(struct reader *r, size_t n)
{
	rd_step(r);
	return r->len >= n || r->eof || r->err;
}

/* Write what fits; true once everything went (or writing failed). */
bool wr_step(struct writer *w)
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

void send_now(int fd, const void *p, size_t len)
{
	assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read FD until the stream ends; it must end with a reset. */
void expect_reset(struct fx *f, int fd)
{
	struct reader r = {.fd = fd};
	RUN_UNTIL(f, rd_step(&r));
	free(r.buf);
	if (r.err != ECONNRESET)
		fail_msg("want ECONNRESET, got %s after %zu bytes", r.eof ? "EOF" : strerror(r.err),
		         r.len);
}

/* Read exactly LEN bytes equal to WANT from FD, then (if EOF) the end. */
void expect_bytes(struct fx *f, int fd, const uint8_t *want, size_t len, bool eof)
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

void fx_count_closed(void *ctx)
{
	struct fx *f = ctx;
	f->closed_reports++;
}

int fx_setup(void **state)
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
	/* Targets are on loopback: both may connect there ([egress] allow). */
	char why[256];
	assert_int_equal(
	    config_egress_allow("127.0.0.0/8 ::1", &f->ca->egress_allow, why, sizeof why), 0);
	f->cb->egress_allow = f->ca->egress_allow;
	/* Fixed windows unless a test asks for growth (window.h): a window
	 * never grows past max(conn_window, conn_window_max). */
	f->ca->conn_window_max = f->cb->conn_window_max = 0;
	f->ca->role = CONFIG_ROLE_CONNECT;
	f->cb->role = CONFIG_ROLE_ACCEPT;
	snprintf(f->ca->name, sizeof f->ca->name, "gw-a");
	snprintf(f->cb->name, sizeof f->cb->name, "gw-b");

	f->client_listen = listen_loopback(&f->client_addr);
	f->target_listen = listen_loopback(&f->target.target);
	snprintf(f->target.name, sizeof f->target.name, "fwd");
	f->target.window = 65536; /* for OPENs the tests inject as the peer */
	*state = f;
	return 0;
}

int fx_teardown(void **state)
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
void fx_create(struct fx *f)
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
void fx_start(struct fx *f)
{
	fx_create(f);
	assert_int_equal(assoc_start(f->b), 0);
	assert_int_equal(assoc_start(f->a), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
}

/* Only gateway A (or B when ACCEPT_SIDE), against a scripted peer that
 * reports STREAMS streams. Waits for our HELLO to go out. */
struct assoc *fx_alone(struct fx *f, bool accept_side, uint16_t streams)
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

void inject_frame(struct fake_engine *to, uint16_t sid, const struct frame *fr)
{
	uint8_t buf[128];
	ssize_t n = frame_encode(fr, buf, sizeof buf);
	assert_true(n > 0);
	fake_engine_inject(to, sid, buf, (size_t)n);
}

struct frame hello(uint8_t role, uint16_t streams)
{
	struct frame fr = {.type = FRAME_HELLO};
	fr.u.hello.version_min = FRAME_VERSION;
	fr.u.hello.version_max = FRAME_VERSION;
	fr.u.hello.role = role;
	fr.u.hello.streams = streams;
	snprintf(fr.u.hello.name, sizeof fr.u.hello.name, "scripted");
	return fr;
}

/* Bring a fx_alone() gateway to READY with a proper HELLO from the peer. */
void alone_ready(struct fx *f, struct assoc *x, uint16_t streams)
{
	struct frame h =
	    hello(x->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_ACCEPT : FRAME_ROLE_CONNECT, streams);
	inject_frame(fake_of(x->engine), 0, &h);
	RUN_UNTIL(f, x->state == ASSOC_READY);
}

struct conn *conn_at(struct assoc *a, uint16_t sid)
{
	if (!a->streams)
		return NULL;
	struct stream_slot *s = stream_get(a->streams, sid);
	return s && s->state == STREAM_ACTIVE ? s->conn : NULL;
}

enum stream_state slot_state(struct assoc *a, uint16_t sid)
{
	assert_non_null(a->streams);
	struct stream_slot *s = stream_get(a->streams, sid);
	assert_non_null(s);
	return s->state;
}

bool conn_is_open(struct assoc *a, uint16_t sid)
{
	struct conn *c = conn_at(a, sid);
	return c && c->state == CONN_OPEN;
}

uint16_t last_sid(struct assoc *a)
{
	struct conn *c = TAILQ_LAST(&a->conns, conn_list);
	assert_non_null(c);
	return c->sid;
}

/* Open a connection through OPENER and wait until data may flow. */
struct link open_link_opts(struct fx *f, struct assoc *opener, int opts)
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

struct link open_link(struct fx *f, struct assoc *opener)
{
	return open_link_opts(f, opener, 0);
}

void bulk_start_full(struct fx *f, struct bulk *b, int n, size_t len, uint32_t seed)
{
	assert_true(n <= BULK_MAX);
	b->n = n;
	b->len = len;
	for (int i = 0; i < n; i++)
		b->l[i] = open_link(f, f->a);
	fake_engine_set_full(f->eb, true);
	for (int i = 0; i < n; i++) {
		b->p[i] = pattern(len, seed + (uint32_t)i);
		b->w[i] = (struct writer){.fd = b->l[i].target, .data = b->p[i], .len = len};
		b->r[i] = (struct reader){.fd = b->l[i].client};
		wr_step(&b->w[i]);
	}
}

bool bulk_step(struct bulk *b)
{
	bool done = true;
	for (int i = 0; i < b->n; i++) {
		bool wrote = wr_step(&b->w[i]); /* both, every time */
		bool got = rd_got(&b->r[i], b->len);
		done = done && wrote && got;
	}
	return done;
}

void bulk_check(struct bulk *b)
{
	for (int i = 0; i < b->n; i++) {
		assert_int_equal(b->r[i].len, b->len);
		assert_memory_equal(b->r[i].buf, b->p[i], b->len);
		free(b->r[i].buf);
		free(b->p[i]);
	}
}

/* A few bytes each way arrive unchanged. */
void ping(struct fx *f, const struct link *l)
{
	send_now(l->client, "ping", 4);
	expect_bytes(f, l->target, (const uint8_t *)"ping", 4, false);
	send_now(l->target, "pong!", 5);
	expect_bytes(f, l->client, (const uint8_t *)"pong!", 5, false);
}

/* Nothing left anywhere: every conn freed, every stream FREE. */
bool all_idle(struct fx *f)
{
	assert_true(assoc_invariants_hold(f->a));
	assert_true(assoc_invariants_hold(f->b));
	return f->a->n_conns == 0 && f->b->n_conns == 0 && f->a->streams && f->b->streams &&
	       f->a->streams->active == 0 && f->b->streams->active == 0;
}

/* Index in E's log of its Nth message on SID of TYPE (-1: none). */
long sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type, size_t nth)
{
	for (size_t i = 0; i < e->n_sent; i++)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == type && nth-- == 0)
			return (long)i;
	return -1;
}

long last_sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type)
{
	for (size_t i = e->n_sent; i-- > 0;)
		if (e->sent[i].sid == sid && e->sent[i].head[0] == type)
			return (long)i;
	return -1;
}

/* E sent exactly one RST on SID and it carried REASON. */
void assert_sent_rst(const struct fake_engine *e, uint16_t sid, enum frame_rst_reason why)
{
	assert_int_equal(fake_engine_count_sent(e, sid, FRAME_RST), 1);
	long i = sent_index(e, sid, FRAME_RST, 0);
	assert_int_equal(e->sent[i].head[2], why);
}

/* E sent exactly one RST on SID since its message number MARK, carrying
 * REASON (ids are reused: earlier connections on SID do not count). */
void assert_sent_rst_since(const struct fake_engine *e, size_t mark, uint16_t sid,
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
