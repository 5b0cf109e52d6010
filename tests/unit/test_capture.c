/*
 * Unit tests for capture: the loop guard against this gateway's own
 * listen addresses, and target = original on a connection that was not
 * captured (a client connected straight to the listener) is refused.
 * The netfilter half (REDIRECT, TPROXY) runs in tests/integration/capture.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "capture.h"
#include "log.h"

static struct sockaddr_storage ep(const char *text)
{
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint(text, &a), 0);
	return a;
}

static void capture_is_own__exact_listen_address__is_a_loop(void **state)
{
	(void)state;
	struct sockaddr_storage own[2] = {ep("198.18.10.1:15001"), ep("[2001:2:10::1]:15001")};
	struct sockaddr_storage d = ep("198.18.10.1:15001");
	assert_true(capture_is_own(&d, own, 2));
	d = ep("[2001:2:10::1]:15001");
	assert_true(capture_is_own(&d, own, 2));
	d = ep("[::ffff:198.18.10.1]:15001"); /* the same host, IPv4-mapped */
	assert_true(capture_is_own(&d, own, 2));
}

static void capture_is_own__other_host_or_port__is_carried(void **state)
{
	(void)state;
	struct sockaddr_storage own[2] = {ep("198.18.10.1:15001"), ep("0.0.0.0:15002")};
	struct sockaddr_storage d = ep("198.18.20.2:80");
	assert_false(capture_is_own(&d, own, 2));
	d = ep("198.18.10.1:80"); /* our host, but no listener on that port */
	assert_false(capture_is_own(&d, own, 2));
	/* A wildcard listener's port on a host that is not ours (192.0.2.0/24
	 * is on no interface of a test machine). */
	d = ep("192.0.2.7:15002");
	assert_false(capture_is_own(&d, own, 2));
	d = ep("[2001:db8::7]:15002");
	assert_false(capture_is_own(&d, own, 2));
}

static void capture_is_own__wildcard_listener_on_a_local_address__is_a_loop(void **state)
{
	(void)state;
	struct sockaddr_storage own[2] = {ep("0.0.0.0:15002"), ep("[::]:15003")};
	struct sockaddr_storage d = ep("127.0.0.1:15002");
	assert_true(capture_is_own(&d, own, 2));
	d = ep("[::1]:15003");
	assert_true(capture_is_own(&d, own, 2));
	d = ep("127.0.0.1:15003"); /* the IPv6 wildcard is V6ONLY */
	assert_false(capture_is_own(&d, own, 2));
}

/* A client that connects to a tproxy listener directly: its "original
 * destination" is the listener, so target = original must refuse it. */
static void capture_destination__direct_client_of_a_listener__is_refused_as_a_loop(void **state)
{
	(void)state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	struct sockaddr_storage la = ep("127.0.0.1:1"); /* port 1: replaced below */
	addr_set_port(&la, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&la, addr_len(&la)), 0);
	socklen_t len = sizeof la;
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&la, &len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&la, addr_len(&la)), 0);
	int afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	struct sockaddr_storage own[1] = {la}, dst;
	unsigned long long before = capture_refused_loop_total();
	assert_int_equal(capture_original_dst(afd, CONFIG_CAPTURE_TPROXY, &dst), 0);
	assert_true(addr_equal(&dst, &la));
	assert_int_equal(capture_destination(afd, CONFIG_CAPTURE_TPROXY, "t", own, 1, &dst),
	                 -ELOOP);
	assert_int_equal(capture_refused_loop_total(), before + 1);
	close(afd);
	close(cfd);
	close(lfd);
}

int main(void)
{
	FILE *null = fopen("/dev/null", "w");
	log_set_output(null);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(capture_is_own__exact_listen_address__is_a_loop),
	    cmocka_unit_test(capture_is_own__other_host_or_port__is_carried),
	    cmocka_unit_test(capture_is_own__wildcard_listener_on_a_local_address__is_a_loop),
	    cmocka_unit_test(
	        capture_destination__direct_client_of_a_listener__is_refused_as_a_loop),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fclose(null);
	return rc;
}
