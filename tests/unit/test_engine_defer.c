/*
 * Unit tests for the re-entrancy rule of engine.h, against the real
 * user-space engine: no callback runs inside an ops call; the down that
 * abort causes comes from the loop, once, and nothing comes after free.
 *
 * usrsctp is one stack per process, so this driver creates one engine
 * (connect role, toward a loopback port where nobody answers) per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "engine.h"
#include "log.h"

struct seen {
	bool in_op; /* an ops call is running */
	unsigned downs, downs_in_op, ups;
	char why[128];
};

static void cb_up(void *ctx, uint16_t streams)
{
	(void)streams;
	((struct seen *)ctx)->ups++;
}

static void cb_down(void *ctx, bool graceful, const char *why)
{
	(void)graceful;
	struct seen *s = ctx;
	s->downs++;
	if (s->in_op)
		s->downs_in_op++;
	snprintf(s->why, sizeof s->why, "%s", why);
}

static void cb_message(void *ctx, uint16_t sid, const uint8_t *msg, size_t len)
{
	(void)ctx, (void)sid, (void)msg, (void)len;
}

static void cb_none(void *ctx)
{
	(void)ctx;
}

/* A UDP port free right now on loopback. */
static uint16_t free_udp_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static struct engine *make(struct ev_loop *loop, struct seen *s)
{
	struct engine_params p = {0};
	p.role = CONFIG_ROLE_CONNECT;
	p.port = 5757;
	p.transport = CONFIG_TRANSPORT_UDP;
	p.udp_encap_port = free_udp_port();
	p.remote_udp_encap_port = free_udp_port(); /* nobody answers there */
	p.max_streams = 16;
	p.n_addrs = 1;
	assert_int_equal(addr_parse_host("127.0.0.1", &p.local[0]), 0);
	assert_int_equal(addr_parse_endpoint("127.0.0.1:5757", &p.remote[0]), 0);
	p.heartbeat_interval_ms = 1000;
	p.rto_initial_ms = 1000;
	p.rto_min_ms = 200;
	p.rto_max_ms = 3000;
	p.path_max_retrans = 3;
	p.assoc_max_retrans = 4;
	p.sndbuf = p.rcvbuf = 1 << 20;
	p.path_mtu = CONFIG_PATH_MTU_MIN;
	struct engine_callbacks cb = {.up = cb_up,
	                              .down = cb_down,
	                              .message = cb_message,
	                              .writable = cb_none,
	                              .path_event = cb_none};
	struct engine *e = engine_usrsctp_new(loop, &p, &cb, s);
	assert_non_null(e);
	return e;
}

static void run_a_little(struct ev_loop *loop)
{
	for (int i = 0; i < 5; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void abort__while_connecting__reports_down_from_the_loop_once(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {0};
	struct engine *e = make(loop, &s);
	s.in_op = true;
	assert_int_equal(e->ops->open(e), 0);
	e->ops->abort(e, "test abort");
	e->ops->abort(e, "second abort"); /* no association left: nothing more */
	s.in_op = false;
	assert_int_equal(s.downs, 0);
	run_a_little(loop);
	assert_int_equal(s.downs, 1);
	assert_int_equal(s.downs_in_op, 0);
	assert_string_equal(s.why, "test abort");
	assert_int_equal(s.ups, 0);
	engine_free(e);
	ev_loop_destroy(loop);
}

static void free__with_a_down_pending__delivers_nothing(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {0};
	struct engine *e = make(loop, &s);
	assert_int_equal(e->ops->open(e), 0);
	e->ops->abort(e, "test abort");
	engine_free(e);
	run_a_little(loop);
	assert_int_equal(s.downs, 0);
	ev_loop_destroy(loop);
}

int main(void)
{
	log_init("test", LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(abort__while_connecting__reports_down_from_the_loop_once),
	    cmocka_unit_test(free__with_a_down_pending__delivers_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
