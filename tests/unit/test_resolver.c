/* Unit tests for resolver: c-ares on the loop, without any DNS server
 * (numeric names answer at once; a server that is not there fails). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "resolver.h"

struct answer {
	int calls;
	int status;
	size_t n;
	struct sockaddr_storage first;
};

static void on_answer(void *ctx, int status, const char *why, const struct sockaddr_storage *addrs,
                      size_t n)
{
	struct answer *a = ctx;
	assert_non_null(why);
	a->calls++;
	a->status = status;
	a->n = n;
	if (n)
		a->first = addrs[0];
}

static void run_until(struct ev_loop *loop, const struct answer *a, double seconds)
{
	ev_tstamp end = ev_time() + seconds;
	while (a->calls == 0 && ev_time() < end)
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
}

/* c-ares answers a numeric name inside ares_getaddrinfo; the owner still
 * hears of it only from the loop, with the port it asked for. */
static void resolver_lookup__immediate_answer__is_delivered_from_the_loop(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct resolver *r = resolver_new(loop, "127.0.0.1:1", 200);
	assert_non_null(r);
	struct answer a = {0};
	assert_non_null(resolver_lookup(r, "192.0.2.7", 5432, on_answer, &a));
	assert_int_equal(a.calls, 0);
	run_until(loop, &a, 5);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.first.ss_family, AF_INET);
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a.first;
	assert_int_equal(ntohs(s4->sin_port), 5432);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0xc0000207);
	resolver_free(r);
	ev_loop_destroy(loop);
}

/* A cancelled query never calls back, answered or not. */
static void resolver_cancel__before_delivery__never_calls_back(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct resolver *r = resolver_new(loop, "127.0.0.1:1", 200);
	struct answer a = {0}, b = {0};
	resolver_cancel(resolver_lookup(r, "2001:db8::1", 80, on_answer, &a));
	resolver_cancel(resolver_lookup(r, "db.example", 80, on_answer, &a));
	assert_non_null(resolver_lookup(r, "192.0.2.8", 80, on_answer, &b));
	run_until(loop, &b, 5);
	assert_int_equal(b.calls, 1);
	ev_tstamp end = ev_time() + 1.0;
	while (ev_time() < end)
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
	assert_int_equal(a.calls, 0);
	resolver_free(r);
	ev_loop_destroy(loop);
}

/* No server answers (nothing on 127.0.0.1:1): the lookup fails within
 * c-ares' tries, not never, and says so. */
static void resolver_lookup__no_server__fails_in_bounded_time(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct resolver *r = resolver_new(loop, "127.0.0.1:1", 200);
	struct answer a = {0};
	ev_tstamp t0 = ev_time();
	assert_non_null(resolver_lookup(r, "db.example", 80, on_answer, &a));
	run_until(loop, &a, 10);
	assert_int_equal(a.calls, 1);
	assert_true(a.status == -EIO || a.status == -ETIMEDOUT);
	assert_int_equal(a.n, 0);
	assert_true(ev_time() - t0 < 5);
	resolver_free(r);
	ev_loop_destroy(loop);
}

/* Freed with queries in flight: no callback, no leak (ASan/valgrind). */
static void resolver_free__with_queries_in_flight__calls_nobody(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct resolver *r = resolver_new(loop, "127.0.0.1:1", 200);
	struct answer a = {0};
	assert_non_null(resolver_lookup(r, "db.example", 80, on_answer, &a));
	assert_non_null(resolver_lookup(r, "192.0.2.9", 80, on_answer, &a));
	resolver_free(r);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(a.calls, 0);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolver_lookup__immediate_answer__is_delivered_from_the_loop),
	    cmocka_unit_test(resolver_cancel__before_delivery__never_calls_back),
	    cmocka_unit_test(resolver_lookup__no_server__fails_in_bounded_time),
	    cmocka_unit_test(resolver_free__with_queries_in_flight__calls_nobody),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
