/*
 * fuzz_assoc: libFuzzer target for the association and connection state
 * machines (src/assoc.c, src/tcp_conn.c) driven by a hostile peer.
 *
 * Start here to fuzz what a peer gateway can do to us. One gateway (struct
 * assoc) runs on the fake engine (tests/unit/fake_engine.h) made peerless:
 * what it sends is only logged, and the fuzz input plays the peer and the
 * TCP world around it. The input is a short header (role, stream count,
 * window, memory_limit, connect timeout, whether a valid HELLO comes first)
 * followed by steps, one opcode byte each:
 *
 *   raw message on a stream, or a well-formed HELLO / OPEN / OPEN_OK /
 *   DATA / FIN / RST / CLOSED / CREDIT with fields from the input;
 *   a client connects (the gateway opens a stream); a TCP end (client or
 *   target) writes, reads, half-closes or resets; the engine gets full or
 *   has room again; the association goes down, and (connect role) comes
 *   up again.
 *
 * After every step the loop runs until the fake engine is quiet, then
 * check() asserts the invariants: connection list and count agree, memory
 * reservation == the sum of the live connections' windows (each between
 * conn_window and conn_window_max, grown only when both HELLOs announced
 * window growth) <= memory_limit, credit within the windows, buffered
 * bytes within the receive window, and the stream table consistent with
 * the live connections; and on the wire, no stream ever carried more DATA
 * from the gateway than the peer granted on it (windows plus increments,
 * summed over the run). A broken invariant aborts, which libFuzzer reports
 * as a crash.
 *
 * TCP is deterministic and fast: the gateway's connect() to a target is
 * replaced below by one end of a UNIX socketpair (dup2'ed onto its socket);
 * the target port picks the outcome (at once, in progress, refused, or in
 * progress until the target end reads). Clients are socketpairs too.
 */
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
#include "config_egress.h"
#include "fake_engine.h"
#include "frame.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_ENDS  64  /* TCP ends the harness holds (clients and targets) */
#define MAX_STEPS 400 /* steps taken from one input */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			/* stdout: -close_fd_mask=2 closes stderr */                               \
			printf("fuzz_assoc: invariant broken: %s (line %d)\n", #cond, __LINE__);   \
			fflush(stdout);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* --- the input ------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t take16(struct input *in)
{
	uint16_t hi = take8(in);
	return (uint16_t)(hi << 8 | take8(in));
}

static uint32_t take32(struct input *in)
{
	uint32_t hi = take16(in);
	return hi << 16 | take16(in);
}

/* Windows and increments: the edges first, any value on the side. */
static uint32_t take_amount(struct input *in)
{
	static const uint32_t edges[] = {0,           1,           2,           3,          100,
	                                 4096,        65535,       65536,       65537,      262144,
	                                 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
	uint8_t k = take8(in);
	if (k < sizeof edges / sizeof edges[0])
		return edges[k];
	if (k < 128)
		return k;
	return take32(in);
}

/* --- the TCP world ---------------------------------------------------- */

struct world {
	int ends[MAX_ENDS]; /* the harness's end of each client or target pair */
	size_t n_ends;
	struct input *in; /* connect() reads nothing from it: the port decides */
};

static struct world world;

static int pair_nb(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	int small = 4096; /* back-pressure within a few frames */
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	return 0;
}

static void keep_end(int fd)
{
	if (world.n_ends == MAX_ENDS) {
		close(fd);
		return;
	}
	world.ends[world.n_ends++] = fd;
}

/* The exit gateway's connect() to a target: never a real network. */
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)len;
	uint16_t port = 0;
	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	static const int refusals[] = {ECONNREFUSED, ENETUNREACH, EMFILE, EACCES};
	int sv[2];
	switch (port % 4) {
	case 2:
		errno = refusals[(port / 4) % 4];
		return -1;
	default:
		if (pair_nb(sv) < 0 || dup2(sv[0], fd) < 0) {
			errno = ENOBUFS;
			return -1;
		}
		close(sv[0]);
		keep_end(sv[1]);
		if (port % 4 == 0)
			return 0;
		if (port % 4 == 3) {
			/* Not writable until the target end reads: connect
			 * completes late (or the connect timeout fires). */
			static const uint8_t junk[1024];
			while (write(fd, junk, sizeof junk) > 0)
				;
		}
		errno = EINPROGRESS;
		return -1;
	}
}

static void end_close(size_t i, bool reset)
{
	if (reset) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(world.ends[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
	close(world.ends[i]);
	world.ends[i] = world.ends[--world.n_ends];
}

static void end_step(struct input *in)
{
	if (world.n_ends == 0)
		return;
	size_t i = take8(in) % world.n_ends;
	int fd = world.ends[i];
	uint8_t what = take8(in);
	static uint8_t buf[65536];
	switch (what % 5) {
	case 0: { /* write up to 16 KiB of a pattern */
		size_t n = (size_t)(what / 5 + 1) * 331;
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(k * 7);
		(void)!write(fd, buf, n);
		break;
	}
	case 1: /* read everything there is */
		while (read(fd, buf, sizeof buf) > 0)
			;
		break;
	case 2:
		shutdown(fd, SHUT_WR);
		break;
	case 3:
		end_close(i, false);
		break;
	case 4:
		end_close(i, true);
		break;
	}
}

static void close_all_ends(void)
{
	while (world.n_ends > 0)
		end_close(world.n_ends - 1, false);
}

/* --- the gateway ------------------------------------------------------ */

static struct ev_loop *loop;

/* Run the loop until the fake engine and the sockets are quiet. Every
 * event is immediate (no real network), so a bounded number of turns is
 * enough; timers due "now" (a connect timeout of 0) fire too. */
static void settle(void)
{
	int quiet = 0;
	for (int turns = 0; turns < 200 && quiet < 3; turns++) {
		ev_run(loop, EVRUN_NOWAIT);
		quiet = fake_engine_busy() ? 0 : quiet + 1;
	}
}

static void check(const struct assoc *a)
{
	size_t n = 0, reserved = 0;
	const struct conn *c;
	TAILQ_FOREACH(c, &a->conns, link)
	{
		n++;
		CHECK(c->assoc == a);
		/* Our window starts at conn_window and moves between it and
		 * conn_window_max; it grows only when both HELLOs said so. */
		CHECK(c->rxw.initial == a->conn_window);
		CHECK(c->rxw.size >= c->rxw.initial);
		CHECK(c->rxw.size <= a->conn_window_max || c->rxw.size == c->rxw.initial);
		CHECK((a->features & FRAME_FEATURE_WINDOW_GROWTH) || c->rxw.size == c->rxw.initial);
		reserved += c->rxw.size;
		CHECK(c->out.len <= c->rxw.size);
		/* Credit we hold never exceeds the window the peer gave. */
		CHECK(c->tx_credit <= c->tx_window);
		/* What we may still receive + what we hold + what we wrote but
		 * did not grant yet + what we owe in a CREDIT: at most our window
		 * (the rest is in flight). */
		CHECK((uint64_t)c->rx_avail + c->out.len + c->rxw.ungranted + c->rx_grant <=
		      c->rxw.size);
		CHECK(c->sid != 0);
		CHECK(a->streams != NULL);
		const struct stream_slot *s = stream_get(a->streams, c->sid);
		CHECK(s != NULL);
		CHECK(s->state == STREAM_ACTIVE);
		CHECK(s->conn == c);
		CHECK(c->opener == stream_is_own(a->streams, c->sid));
	}
	CHECK(n == a->n_conns);
	CHECK(a->mem_reserved == reserved);
	CHECK(assoc_invariants_hold(a));
	CHECK(a->mem_reserved <= a->memory_limit);
	CHECK(a->early_bytes <= 256 * 1024);

	if (a->state == ASSOC_HELLO || a->state == ASSOC_READY)
		CHECK(a->streams != NULL);
	if (a->state == ASSOC_DOWN || a->state == ASSOC_CONNECTING) {
		CHECK(a->streams == NULL);
		CHECK(n == 0);
	}
	const struct stream_table *t = a->streams;
	if (!t)
		return;
	size_t active = 0, own_free = 0, with_conn = 0;
	for (uint16_t sid = 1; sid < t->n; sid++) {
		const struct stream_slot *s = &t->slots[sid];
		bool own = stream_is_own(t, sid);
		if (s->state != STREAM_FREE)
			active++;
		if (s->state == STREAM_ACTIVE) {
			CHECK(s->conn != NULL);
			with_conn++;
		} else {
			CHECK(s->conn == NULL);
		}
		if (!own)
			CHECK(s->state != STREAM_WAIT_CLOSED && !s->peer_closed);
		if (own) {
			size_t k = (size_t)(sid - (t->own_odd ? 1 : 2)) / 2;
			bool bit = (t->free_bits[k / 64] >> (k % 64)) & 1;
			CHECK(bit == (s->state == STREAM_FREE));
			if (s->state == STREAM_FREE)
				own_free++;
		}
	}
	CHECK(active == t->active);
	CHECK(own_free == t->n_free);
	CHECK(with_conn == n);
}

/* Credit as the wire shows it, per stream id, over the whole run: every
 * window and increment the peer ever gave on the id, and every DATA
 * payload byte the gateway sent on it. Whatever the gateway accepted or
 * refused, and however often the id was reused, it can never have sent
 * more than the peer granted in all. */
static struct {
	uint64_t granted[65536];
	uint64_t sent[65536];
	size_t seen; /* entries of the fake engine's sent log counted */
} wire;

static void peer_sends(struct fake_engine *e, uint16_t sid, const uint8_t *msg, size_t len)
{
	struct frame f;
	if (frame_decode(msg, len, &f) == 0) {
		if (f.type == FRAME_OPEN)
			wire.granted[sid] += f.u.open.window;
		else if (f.type == FRAME_OPEN_OK)
			wire.granted[sid] += f.u.window;
		else if (f.type == FRAME_CREDIT)
			wire.granted[sid] += f.u.credit;
	}
	fake_engine_inject(e, sid, msg, len);
}

static void check_wire(const struct fake_engine *e)
{
	for (; wire.seen < e->n_sent; wire.seen++) {
		const struct fake_sent *m = &e->sent[wire.seen];
		if (m->len >= FRAME_HEADER_LEN && m->head[0] == FRAME_DATA) {
			wire.sent[m->sid] += m->len - FRAME_HEADER_LEN;
			CHECK(wire.sent[m->sid] <= wire.granted[m->sid]);
		}
	}
}

static void inject(struct fake_engine *e, uint16_t sid, const struct frame *f)
{
	uint8_t buf[256];
	ssize_t len = frame_encode(f, buf, sizeof buf);
	if (len > 0)
		peer_sends(e, sid, buf, (size_t)len);
}

static struct frame make_hello(struct input *in, const struct assoc *a, uint16_t streams)
{
	struct frame f = {.type = FRAME_HELLO};
	f.u.hello.version_min = FRAME_VERSION;
	f.u.hello.version_max = FRAME_VERSION;
	f.u.hello.role = a->role == CONFIG_ROLE_CONNECT ? FRAME_ROLE_ACCEPT : FRAME_ROLE_CONNECT;
	f.u.hello.streams = streams;
	snprintf(f.u.hello.name, sizeof f.u.hello.name, "peer");
	/* Version 3 extension with no key ids: the peer runs insecure = yes,
	 * like the gateway under test (no psk_file): READY without AUTH, and
	 * nothing is sealed, so every step reaches the frame handling
	 * (docs/FUZZING.md says why). */
	f.u.hello.has_auth = true;
	f.u.hello.features = FRAME_FEATURES; /* windows may grow */
	if (in) {
		uint8_t k = take8(in);
		if (k & 4)
			f.u.hello.features = 0; /* an old peer: fixed windows */
		if (k & 1)
			f.u.hello.role = (uint8_t)(k >> 1 & 3);
		if (k & 8)
			f.u.hello.streams = (uint16_t)(3 + take8(in) % 64);
		if (k & 16)
			f.u.hello.version_min = f.u.hello.version_max = (uint8_t)(k >> 5);
	}
	return f;
}

static uint16_t take_sid(struct input *in, uint16_t streams)
{
	/* Mostly in range (0 included); now and then just past it. */
	return (uint16_t)(take8(in) % (streams + 2));
}

/* One step of the peer or the world. */
static void step(struct input *in, struct assoc *a, struct fake_engine *e, uint16_t streams)
{
	struct frame f = {0};
	uint8_t op = take8(in);
	uint16_t sid;
	switch (op % 15) {
	case 0: { /* any bytes on any stream */
		sid = take_sid(in, streams);
		size_t len = take8(in);
		uint8_t raw[256];
		for (size_t i = 0; i < len; i++)
			raw[i] = take8(in);
		peer_sends(e, sid, raw, len);
		break;
	}
	case 1:
		f = make_hello(in, a, streams);
		inject(e, 0, &f);
		break;
	case 2: {
		sid = take_sid(in, streams);
		f.type = FRAME_OPEN;
		f.u.open.window = take_amount(in);
		struct sockaddr_in *sin = (struct sockaddr_in *)&f.u.open.target;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons((uint16_t)(1 + take8(in)));
		snprintf(f.u.open.name, sizeof f.u.open.name, "fwd");
		inject(e, sid, &f);
		break;
	}
	case 3:
		sid = take_sid(in, streams);
		f.type = FRAME_OPEN_OK;
		f.u.window = take_amount(in);
		inject(e, sid, &f);
		break;
	case 4: { /* DATA of any length, even past the frame limit */
		sid = take_sid(in, streams);
		uint8_t k = take8(in);
		size_t len = k < 200 ? k : (size_t)take16(in) + (k - 200) * 1024;
		if (len > FRAME_MAX + 16)
			len = FRAME_MAX + 16;
		static uint8_t msg[FRAME_MAX + 16 + FRAME_HEADER_LEN];
		frame_data_header(msg);
		memset(msg + FRAME_HEADER_LEN, 'd', len);
		peer_sends(e, sid, msg, len + FRAME_HEADER_LEN);
		break;
	}
	case 5:
		f.type = FRAME_FIN;
		inject(e, take_sid(in, streams), &f);
		break;
	case 6:
		f.type = FRAME_RST;
		sid = take_sid(in, streams);
		f.u.rst = (enum frame_rst_reason)(take8(in) % FRAME_RST_MAX_);
		inject(e, sid, &f);
		break;
	case 7:
		f.type = FRAME_CLOSED;
		inject(e, take_sid(in, streams), &f);
		break;
	case 8:
		sid = take_sid(in, streams);
		f.type = FRAME_CREDIT;
		f.u.credit = take_amount(in);
		inject(e, sid, &f);
		break;
	case 9: { /* a client connects to a forward */
		int sv[2];
		if (world.n_ends < MAX_ENDS && pair_nb(sv) == 0) {
			keep_end(sv[1]);
			struct frame_open target = {.window = 0};
			struct sockaddr_in *sin = (struct sockaddr_in *)&target.target;
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sin->sin_port = htons(80);
			snprintf(target.name, sizeof target.name, "fwd");
			(void)conn_open(a, sv[0], &target);
		}
		break;
	}
	case 10:
	case 11:
		end_step(in);
		break;
	case 12:
		fake_engine_set_full(e, take8(in) & 1);
		break;
	case 13:
		/* Lost; what follows hits a gateway without an association
		 * (and the connect role's next attempt, step 14). */
		fake_engine_down(e, "fuzz: association lost");
		break;
	case 14:
		/* The connect role's retry timer fires now rather than after
		 * its back-off: a new association, a new HELLO to wait for. */
		if (ev_is_active(&a->retry)) {
			ev_timer_stop(loop, &a->retry);
			ev_invoke(loop, &a->retry, EV_TIMER);
		}
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* Warnings and errors are formatted (their arguments are part of
	 * what is fuzzed); SCTPGW_FUZZ_LOG=debug shows more. Run with
	 * -close_fd_mask=2 to keep them off the terminal. */
	enum log_level level = LOG_WARN;
	const char *lvl = getenv("SCTPGW_FUZZ_LOG");
	if (lvl)
		log_level_parse(lvl, &level);
	log_init("fuzz", level);
	loop = ev_loop_new(EVFLAG_AUTO);
	return loop ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	static const size_t windows[] = {1, 7, 1000, 65536, 262144};

	uint8_t h = take8(&in);
	struct config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return 0;
	config_defaults(cfg);
	cfg->insecure = 1; /* no psk_file, as the loader requires (docs/FUZZING.md) */
	char why[128];     /* targets are on loopback ([egress] allow) */
	if (config_egress_allow("127.0.0.0/8 ::1", &cfg->egress_allow, why, sizeof why) < 0)
		abort();
	cfg->role = h & 1 ? CONFIG_ROLE_ACCEPT : CONFIG_ROLE_CONNECT;
	snprintf(cfg->name, sizeof cfg->name, "gw");
	cfg->conn_window = windows[(h >> 1 & 7) % 5];
	cfg->memory_limit = cfg->conn_window * (1 + (h >> 4 & 3));
	cfg->connect_timeout_ms = h & 0x40 ? 0 : 60000;
	bool hello_first = !(h & 0x80);
	uint16_t streams = (uint16_t)(3 + take8(&in) % 30);

	struct assoc *a = assoc_new(loop, cfg);
	free(cfg); /* runtime objects copy what they need */
	if (!a)
		return 0;
	struct fake_engine *e = fake_of(a->engine);
	fake_engine_set_peerless(e, streams);
	memset(&wire, 0, sizeof wire);
	CHECK(assoc_start(a) == 0);
	settle();
	CHECK(a->state == ASSOC_HELLO);
	if (hello_first) {
		struct frame f = make_hello(NULL, a, streams);
		inject(e, 0, &f);
		settle();
		CHECK(a->state == ASSOC_READY);
	}
	check(a);

	for (int n = 0; n < MAX_STEPS && in.left > 0; n++) {
		step(&in, a, e, streams);
		settle();
		check(a);
		check_wire(e);
	}
	/* The world goes away: every socket closes, then the gateway. */
	close_all_ends();
	settle();
	check(a);
	assoc_free(a);
	settle();
	return 0;
}
