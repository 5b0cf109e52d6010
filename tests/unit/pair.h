/*
 * pair: two gateways in one process, for the unit tests of assoc and
 * tcp_conn (test_assoc.c, test_credit.c).
 *
 * Gateway A (connect role) and gateway B (accept role) are real struct
 * assoc joined back to back by the fake engine (fake_engine.h). The TCP
 * sides are real loopback sockets: the test connects a "client" socket to
 * its own listener and hands the accepted end to conn_open(), and the exit
 * side connects for real to a "target" listener the test owns. Everything
 * runs on one libev loop that the test turns with RUN_UNTIL().
 */
#ifndef SCTPGW_TEST_PAIR_H
#define SCTPGW_TEST_PAIR_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>

#include "assoc.h"
#include "fake_engine.h"

#define MAX_FDS 128
#ifndef WAIT_S
/* A deadline for failures only: under valgrind on a loaded 2-core machine
 * the one-message-window test needed more than 10 s. */
#define WAIT_S 60.0
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
void run_for(struct fx *f, double seconds);

/* Turn the loop until the fake engines have had nothing to deliver for a
 * while (loopback TCP completes within an iteration or two). */
void settle(struct fx *f);

/* --- sockets --------------------------------------------------------- */

int track(struct fx *f, int fd);

void close_tracked(struct fx *f, int fd);

/* Close so the other end sees RST. */
void close_with_rst(struct fx *f, int fd);

int listen_loopback(struct sockaddr_storage *addr);

/* A loopback port nobody listens on. */
void closed_port(struct sockaddr_storage *addr);

void set_nonblock(int fd);

/* Small kernel buffers on both sockets of a client connection, so what the
 * gateway cannot write stays in its own buffer. */
#define SMALL_BUFS 1
/* Large kernel buffers on both sockets, so a client that writes whenever
 * it can always has more queued than the gateway reads in one frame. */
#define BIG_BUFS 2

/* Connect a client and hand the accepted end to conn_open(OPENER). Returns
 * the client's socket (non-blocking); *RC gets conn_open's result. */
int open_client_opts(struct fx *f, struct assoc *opener, int *rc, int opts);

int open_client(struct fx *f, struct assoc *opener, int *rc);

/* The next connection the exit side made to the target listener. */
int accept_target(struct fx *f);

/* --- byte streams ---------------------------------------------------- */

uint8_t *pattern(size_t len, uint32_t seed);

struct reader {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	bool eof;
	int err;
};

/* Read what is there; true once the stream ended (EOF or an error). */
bool rd_step(struct reader *r);

/* True once N bytes (or the end) arrived. */
bool rd_got(struct reader *r, size_t n);

struct writer {
	int fd;
	const uint8_t *data;
	size_t len, off;
	bool shut_after; /* shutdown(SHUT_WR) right after the last byte */
	bool shut;
	int err;
};

/* Write what fits; true once everything went (or writing failed). */
bool wr_step(struct writer *w);

void send_now(int fd, const void *p, size_t len);

/* Read FD until the stream ends; it must end with a reset. */
void expect_reset(struct fx *f, int fd);

/* Read exactly LEN bytes equal to WANT from FD, then (if EOF) the end. */
void expect_bytes(struct fx *f, int fd, const uint8_t *want, size_t len, bool eof);

/* --- gateways -------------------------------------------------------- */

/* cmocka setup and teardown: a loop, two default configs (A connect, B
 * accept), the client and target listeners. Tests adjust f->ca / f->cb,
 * then fx_start() or fx_create(). SCTPGW_TEST_LOG=debug shows the logs. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* An assoc on_closed callback (ctx: the fx) counting into closed_reports. */
void fx_count_closed(void *ctx);

/* Create both gateways (configs as the test left them) without starting. */
void fx_create(struct fx *f);

/* Create, start and wait until both gateways are READY. */
void fx_start(struct fx *f);

/* Only gateway A (or B when ACCEPT_SIDE), against a scripted peer that
 * reports STREAMS streams. Waits for our HELLO to go out. */
struct assoc *fx_alone(struct fx *f, bool accept_side, uint16_t streams);

void inject_frame(struct fake_engine *to, uint16_t sid, const struct frame *fr);

/* A valid HELLO of our protocol version from a peer of ROLE. */
struct frame hello(uint8_t role, uint16_t streams);

/* Bring a fx_alone() gateway to READY with a proper HELLO from the peer. */
void alone_ready(struct fx *f, struct assoc *x, uint16_t streams);

struct conn *conn_at(struct assoc *a, uint16_t sid);

enum stream_state slot_state(struct assoc *a, uint16_t sid);

bool conn_is_open(struct assoc *a, uint16_t sid);

uint16_t last_sid(struct assoc *a);

/* A carried connection: client socket, target socket, its stream. */
struct link {
	int client, target;
	uint16_t sid;
};

/* Open a connection through OPENER and wait until data may flow. */
struct link open_link_opts(struct fx *f, struct assoc *opener, int opts);

struct link open_link(struct fx *f, struct assoc *opener);

/* A few bytes each way arrive unchanged. */
void ping(struct fx *f, const struct link *l);

/* Nothing left anywhere: every conn freed, every stream FREE. */
bool all_idle(struct fx *f);

/* Index in E's log of its Nth message on SID of TYPE (-1: none). */
long sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type, size_t nth);

long last_sent_index(const struct fake_engine *e, uint16_t sid, uint8_t type);

/* E sent exactly one RST on SID and it carried REASON. */
void assert_sent_rst(const struct fake_engine *e, uint16_t sid, enum frame_rst_reason why);

/* The same, counting only messages from number MARK on (for reused ids). */
void assert_sent_rst_since(const struct fake_engine *e, size_t mark, uint16_t sid,
                           enum frame_rst_reason why);

#endif
