/* Unit tests for addr: literal addresses as users write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

/* Parses TEXT as an endpoint and formats it back. */
static const char *endpoint_roundtrip(const char *text, char *buf, size_t len)
{
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint(text, &a), 0);
	return addr_format(&a, buf, len);
}

static void addr_parse_endpoint__ipv4_with_port__is_parsed(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint("192.0.2.10:80", &a), 0);
	assert_int_equal(a.ss_family, AF_INET);
	assert_int_equal(addr_port(&a), 80);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a;
	assert_int_equal(sin->sin_addr.s_addr, htonl(0xc000020a));
	assert_int_equal(addr_len(&a), sizeof(struct sockaddr_in));
}

static void addr_parse_endpoint__ipv6_in_brackets__is_parsed(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	struct in6_addr want;
	assert_int_equal(addr_parse_endpoint("[2001:db8::1]:443", &a), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_int_equal(addr_port(&a), 443);
	inet_pton(AF_INET6, "2001:db8::1", &want);
	assert_memory_equal(&((const struct sockaddr_in6 *)&a)->sin6_addr, &want, sizeof want);
	assert_int_equal(addr_len(&a), sizeof(struct sockaddr_in6));
}

static void addr_parse_endpoint__extreme_ports__are_accepted(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint("127.0.0.1:1", &a), 0);
	assert_int_equal(addr_port(&a), 1);
	assert_int_equal(addr_parse_endpoint("[::1]:65535", &a), 0);
	assert_int_equal(addr_port(&a), 65535);
}

static void addr_parse_endpoint__malformed_text__is_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",                      /* empty */
	    "192.0.2.1",             /* no port */
	    "192.0.2.1:",            /* empty port */
	    ":80",                   /* no host */
	    "192.0.2.1:0",           /* port 0 */
	    "192.0.2.1:65536",       /* port too big */
	    "192.0.2.1:99999999999", /* port overflow */
	    "192.0.2.1:80x",         /* trailing garbage */
	    "192.0.2.1:80 ",         /* trailing blank */
	    "192.0.2.1: 80",         /* blank before port */
	    "192.0.2.1:+80",         /* sign */
	    "192.0.2.1:-80",         /* negative */
	    "192.0.2.1:0x50",        /* hex */
	    "192.0.2:80",            /* short IPv4 */
	    "192.0.2.256:80",        /* octet too big */
	    "localhost:80",          /* names are not resolved */
	    "2001:db8::1:443",       /* IPv6 without brackets */
	    "[2001:db8::1]",         /* brackets, no port */
	    "[2001:db8::1]443",      /* no colon after bracket */
	    "[2001:db8::1:443",      /* no closing bracket */
	    "[192.0.2.1]:80",        /* brackets are for IPv6 only */
	    "[]:80",                 /* empty brackets */
	    "[2001:db8::1]:443x",    /* trailing garbage */
	    "[fe80::1%]:80",         /* empty scope */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sockaddr_storage a;
		if (addr_parse_endpoint(bad[i], &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint(NULL, &a), -EINVAL);
}

static void addr_parse_endpoint__failure__leaves_output_untouched(void **state)
{
	(void)state;
	struct sockaddr_storage a, before;
	assert_int_equal(addr_parse_endpoint("192.0.2.1:80", &a), 0);
	before = a;
	assert_int_equal(addr_parse_endpoint("[2001:db8::1]:0", &a), -EINVAL);
	assert_memory_equal(&a, &before, sizeof a);
}

static void addr_parse_endpoint__numeric_ipv6_scope__is_kept(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint("[fe80::1%7]:80", &a), 0);
	assert_int_equal(((const struct sockaddr_in6 *)&a)->sin6_scope_id, 7);
}

static void addr_parse_host__ipv4_and_ipv6_literals__are_parsed_with_port_zero(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_host("198.18.1.1", &a), 0);
	assert_int_equal(a.ss_family, AF_INET);
	assert_int_equal(addr_port(&a), 0);
	assert_int_equal(addr_parse_host("2001:2::1", &a), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_int_equal(addr_port(&a), 0);
	assert_int_equal(addr_parse_host("::ffff:192.0.2.1", &a), 0);
	assert_int_equal(a.ss_family, AF_INET6);
}

static void addr_parse_host__ports_brackets_and_names__are_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "198.18.1.1:80",
	    "[2001:2::1]",
	    "[2001:2::1]:80",
	    "198.18.1",
	    "198.18.1.1 ",
	    " 198.18.1.1",
	    "198.18.1.1x",
	    "2001:2::1::2",
	    "gateway.example",
	    "01.2.3.4",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sockaddr_storage a;
		if (addr_parse_host(bad[i], &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

static void addr_format__each_family__writes_the_form_users_write(void **state)
{
	(void)state;
	char buf[ADDR_STRLEN];
	struct sockaddr_storage a;

	assert_string_equal(endpoint_roundtrip("192.0.2.10:80", buf, sizeof buf), "192.0.2.10:80");
	assert_string_equal(endpoint_roundtrip("[2001:0db8:0::1]:443", buf, sizeof buf),
	                    "[2001:db8::1]:443");
	assert_string_equal(endpoint_roundtrip("[fe80::1%4000000000]:80", buf, sizeof buf),
	                    "[fe80::1%4000000000]:80");
	assert_int_equal(addr_parse_host("198.18.1.1", &a), 0);
	assert_string_equal(addr_format(&a, buf, sizeof buf), "198.18.1.1");
	assert_int_equal(addr_parse_host("2001:2::1", &a), 0);
	assert_string_equal(addr_format(&a, buf, sizeof buf), "2001:2::1");
}

static void addr_format__longest_address__fits_addr_strlen(void **state)
{
	(void)state;
	char buf[ADDR_STRLEN];
	const char *text = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535";
	assert_string_equal(endpoint_roundtrip(text, buf, sizeof buf),
	                    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
}

static void addr_format__small_buffer__is_truncated_and_terminated(void **state)
{
	(void)state;
	char buf[8];
	assert_string_equal(endpoint_roundtrip("192.0.2.10:80", buf, sizeof buf), "192.0.2");
}

static void addr_set_port__then_addr_port__returns_it(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_host("2001:2::1", &a), 0);
	addr_set_port(&a, 5757);
	assert_int_equal(addr_port(&a), 5757);
	assert_int_equal(addr_parse_host("198.18.1.1", &a), 0);
	addr_set_port(&a, 9899);
	assert_int_equal(addr_port(&a), 9899);
}

static void addr_equal__compares_family_address_and_port(void **state)
{
	(void)state;
	struct sockaddr_storage a, b;
	assert_int_equal(addr_parse_endpoint("127.0.0.1:8080", &a), 0);
	assert_int_equal(addr_parse_endpoint("127.0.0.1:8080", &b), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(addr_parse_endpoint("127.0.0.1:8081", &b), 0);
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse_endpoint("127.0.0.2:8080", &b), 0);
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse_endpoint("[::ffff:127.0.0.1]:8080", &b), 0);
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse_endpoint("[::1]:8080", &a), 0);
	assert_int_equal(addr_parse_endpoint("[::1]:8080", &b), 0);
	assert_true(addr_equal(&a, &b));
}

static void addr_len__unset_family__is_zero(void **state)
{
	(void)state;
	struct sockaddr_storage a;
	memset(&a, 0, sizeof a);
	assert_int_equal(addr_len(&a), 0);
	assert_int_equal(addr_port(&a), 0);
	assert_false(addr_equal(&a, &a));
}

static void addr_unmapped__v4_mapped__becomes_ipv4_with_its_port(void **state)
{
	(void)state;
	struct sockaddr_storage a, u;
	char buf[ADDR_STRLEN];
	assert_int_equal(addr_parse_endpoint("[::ffff:198.18.10.1]:15001", &a), 0);
	u = addr_unmapped(&a);
	assert_string_equal(addr_format(&u, buf, sizeof buf), "198.18.10.1:15001");
	assert_int_equal(addr_parse_endpoint("[2001:2::1]:80", &a), 0);
	u = addr_unmapped(&a);
	assert_true(addr_equal(&u, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(addr_parse_endpoint__ipv4_with_port__is_parsed),
	    cmocka_unit_test(addr_parse_endpoint__ipv6_in_brackets__is_parsed),
	    cmocka_unit_test(addr_parse_endpoint__extreme_ports__are_accepted),
	    cmocka_unit_test(addr_parse_endpoint__malformed_text__is_rejected),
	    cmocka_unit_test(addr_parse_endpoint__failure__leaves_output_untouched),
	    cmocka_unit_test(addr_parse_endpoint__numeric_ipv6_scope__is_kept),
	    cmocka_unit_test(addr_parse_host__ipv4_and_ipv6_literals__are_parsed_with_port_zero),
	    cmocka_unit_test(addr_parse_host__ports_brackets_and_names__are_rejected),
	    cmocka_unit_test(addr_format__each_family__writes_the_form_users_write),
	    cmocka_unit_test(addr_format__longest_address__fits_addr_strlen),
	    cmocka_unit_test(addr_format__small_buffer__is_truncated_and_terminated),
	    cmocka_unit_test(addr_set_port__then_addr_port__returns_it),
	    cmocka_unit_test(addr_equal__compares_family_address_and_port),
	    cmocka_unit_test(addr_len__unset_family__is_zero),
	    cmocka_unit_test(addr_unmapped__v4_mapped__becomes_ipv4_with_its_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
