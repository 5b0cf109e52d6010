/*
 * Unit tests for conn_log_format: the summary line of a connection names
 * the forward, both ends, the bytes each way, the duration and how it ended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "conn_log.h"

static void conn_log_format__entry_side__names_client_and_target(void **state)
{
	(void)state;
	char buf[512];
	struct conn_summary s = {.forward = "web",
	                         .client = "198.18.10.2:40312",
	                         .target = "198.18.20.2:9000",
	                         .to_target = 1024,
	                         .to_client = 8192,
	                         .seconds = 0.25,
	                         .how = "FIN both ways",
	                         .sid = 4};
	conn_log_format(buf, sizeof buf, &s);
	assert_string_equal(buf, "connection forward web: client 198.18.10.2:40312, target "
	                         "198.18.20.2:9000, 1024 bytes client->target, 8192 bytes "
	                         "target->client, 0.250 s, ended: FIN both ways (stream 4)");
}

static void conn_log_format__exit_side__says_the_client_is_at_the_peer(void **state)
{
	(void)state;
	char buf[512];
	struct conn_summary s = {
	    .forward = "db", .target = "[2001:2:20::2]:5432", .how = "target refused", .sid = 7};
	conn_log_format(buf, sizeof buf, &s);
	assert_non_null(strstr(buf, "client at the peer gateway, target [2001:2:20::2]:5432, 0 "
	                            "bytes client->target"));
	assert_non_null(strstr(buf, "ended: target refused (stream 7)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(conn_log_format__entry_side__names_client_and_target),
	    cmocka_unit_test(conn_log_format__exit_side__says_the_client_is_at_the_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
