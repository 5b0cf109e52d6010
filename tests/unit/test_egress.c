/* Unit tests for egress (the matcher) and config_egress (the text of
 * [egress] allow and resolver, and host-name targets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config_egress.h"
#include "egress.h"

static struct egress_list list_of(const char *text)
{
	struct egress_list l;
	char why[512] = "";
	int rc = config_egress_allow(text, &l, why, sizeof why);
	if (rc != 0)
		fail_msg("\"%s\": %s", text, why);
	return l;
}

static struct sockaddr_storage dst(const char *ip, uint16_t port)
{
	struct sockaddr_storage s = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&s;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	}
	return s;
}

static bool allows(const char *list, const char *ip, uint16_t port)
{
	struct egress_list l = list_of(list);
	struct sockaddr_storage d = dst(ip, port);
	return egress_allows(&l, &d);
}

static void egress_allows__empty_list__allows_nothing(void **state)
{
	(void)state;
	struct egress_list l = {0};
	struct sockaddr_storage d = dst("127.0.0.1", 80);
	assert_false(egress_allows(&l, &d));
	assert_false(allows("", "10.0.0.1", 80));
	assert_false(allows("  ,, ", "::1", 80));
}

static void egress_allows__ipv4_networks_and_ports__match_as_written(void **state)
{
	(void)state;
	const char *l = "10.0.0.0/8, 192.0.2.10:443 127.0.0.1:2222";
	assert_true(allows(l, "10.0.0.1", 1));
	assert_true(allows(l, "10.255.255.255", 65535));
	assert_false(allows(l, "11.0.0.0", 80));
	assert_false(allows(l, "9.255.255.255", 80));
	assert_true(allows(l, "192.0.2.10", 443));
	assert_false(allows(l, "192.0.2.10", 80));
	assert_false(allows(l, "192.0.2.11", 443));
	assert_true(allows(l, "127.0.0.1", 2222));
	assert_false(allows(l, "127.0.0.1", 2223));
	/* An IPv4 rule never matches an IPv6 destination. */
	assert_false(allows(l, "::1", 2222));
}

static void egress_allows__ipv6_networks_and_ports__match_as_written(void **state)
{
	(void)state;
	const char *l = "[2001:db8::]/32:53, [::1]:80, 2001:2::/48 fe80::1";
	assert_true(allows(l, "2001:db8::1", 53));
	assert_true(allows(l, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 53));
	assert_false(allows(l, "2001:db8::1", 54));
	assert_false(allows(l, "2001:db9::", 53));
	assert_true(allows(l, "::1", 80));
	assert_false(allows(l, "::1", 81));
	assert_true(allows(l, "2001:2:0:ffff::1", 1));
	assert_false(allows(l, "2001:2:1::1", 1));
	assert_true(allows(l, "fe80::1", 9));
	assert_false(allows(l, "fe80::2", 9));
	assert_false(allows(l, "127.0.0.1", 80));
}

/* Every prefix length, on both sides of its boundary: the rule is the
 * all-ones address cut to P bits; the all-ones destination is inside it,
 * and with bit P-1 flipped it is outside. */
static void egress_allows__every_prefix_length__splits_at_its_bit(void **state)
{
	(void)state;
	for (unsigned fam = 0; fam < 2; fam++) {
		unsigned full = fam ? 128 : 32;
		for (unsigned p = 0; p <= full; p++) {
			struct egress_list l = {.n = 1};
			struct egress_rule *r = &l.rule[0];
			r->family = fam ? AF_INET6 : AF_INET;
			r->prefix = (uint8_t)p;
			for (unsigned bit = 0; bit < p; bit++)
				r->addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			struct sockaddr_storage d =
			    dst(fam ? "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" : "255.255.255.255",
			        80);
			uint8_t *a = fam ? ((struct sockaddr_in6 *)&d)->sin6_addr.s6_addr
			                 : (uint8_t *)&((struct sockaddr_in *)&d)->sin_addr;
			assert_true(egress_allows(&l, &d));
			if (p == 0)
				continue;
			a[(p - 1) / 8] ^= (uint8_t)(0x80 >> ((p - 1) % 8));
			assert_false(egress_allows(&l, &d));
			/* and the rule, formatted, parses back to itself */
			char text[80];
			struct egress_list back = list_of(egress_rule_format(r, text, sizeof text));
			assert_memory_equal(&back.rule[0], r, sizeof *r);
		}
	}
	assert_true(allows("::/0", "2001:db8::1", 1));
	assert_true(allows("0.0.0.0/0", "192.0.2.1", 1));
}

/* Mapped destinations reach IPv4 hosts: only IPv4 rules allow them. */
static void egress_allows__ipv4_mapped_destination__is_matched_as_ipv4(void **state)
{
	(void)state;
	assert_true(allows("10.0.0.0/8", "::ffff:10.1.2.3", 80));
	assert_false(allows("::/0", "::ffff:10.1.2.3", 80));
	assert_false(allows("::/0", "::ffff:127.0.0.1", 80));
	assert_true(allows("127.0.0.1:22", "::ffff:127.0.0.1", 22));
	struct sockaddr_storage d = dst("::ffff:192.0.2.1", 443);
	egress_normalize(&d);
	assert_int_equal(d.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&d)->sin_port), 443);
	assert_int_equal(ntohl(((struct sockaddr_in *)&d)->sin_addr.s_addr), 0xc0000201);
}

/* 0.0.0.0 and :: connect to this host itself: never allowed. */
static void egress_allows__unspecified_address__is_never_allowed(void **state)
{
	(void)state;
	assert_false(allows("0.0.0.0/0", "0.0.0.0", 80));
	assert_false(allows("::/0", "::", 80));
	assert_false(allows("0.0.0.0/0", "::ffff:0.0.0.0", 80));
	assert_true(allows("0.0.0.0/0", "0.0.0.1", 80));
}

/* What a user would write wrongly gets a reason and what was expected. */
static void config_egress_allow__bad_entries__are_rejected_with_a_reason(void **state)
{
	(void)state;
	struct {
		const char *text, *says;
	} cases[] = {
	    {"db.internal", "not an IP address"},
	    {"10.0.0.0/33", "prefix length is not a number from 0 to 32"},
	    {"2001:db8::/129", "from 0 to 128"},
	    {"10.0.0.0/-1", "prefix length"},
	    {"10.0.0.0/8:0", "port is not a number from 1 to 65535"},
	    {"10.0.0.0/8:65536", "port"},
	    {"10.0.0.0/8:http", "port"},
	    {"10.0.0.1/8", "expected 10.0.0.0/8"},
	    {"[2001:db8::1]/32:53", "expected [2001:db8::]/32:53"},
	    {"2001:db8::1/32", "expected 2001:db8::/32"},
	    {"::ffff:10.0.0.0/104", "IPv4-mapped"},
	    {"[10.0.0.1]:80", "not an IP address"},
	    {"[2001:db8::", "not a network"},
	    {"[2001:db8::]x", "not a network"},
	    {"10.0.0.0/8;", "prefix length"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct egress_list l;
		char why[512] = "", text[160];
		snprintf(text, sizeof text, "127.0.0.1, %s", cases[i].text);
		assert_int_equal(config_egress_allow(text, &l, why, sizeof why), -EINVAL);
		if (!strstr(why, cases[i].says))
			fail_msg("\"%s\": \"%s\" does not say \"%s\"", cases[i].text, why,
			         cases[i].says);
		assert_non_null(strstr(why, "expected"));
	}
}

static void config_egress_allow__too_many_entries__are_rejected(void **state)
{
	(void)state;
	char text[EGRESS_RULES_MAX * 16 + 32] = "";
	size_t n = 0;
	for (unsigned i = 0; i <= EGRESS_RULES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "10.0.%u.%u ", i / 256, i % 256);
	struct egress_list l;
	char why[512];
	assert_int_equal(config_egress_allow(text, &l, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "at most"));
}

/* Entries format back the way the documentation writes them. */
static void egress_rule_format__every_form__reads_back(void **state)
{
	(void)state;
	const char *forms[] = {"10.0.0.0/8",
	                       "192.0.2.10:443",
	                       "[2001:db8::]/32:53",
	                       "127.0.0.1:2222",
	                       "[::1]:80",
	                       "2001:2::/48",
	                       "::1",
	                       "0.0.0.0/0",
	                       "10.0.0.0/8:22"};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct egress_list l = list_of(forms[i]);
		char buf[80];
		assert_int_equal(l.n, 1);
		assert_string_equal(egress_rule_format(&l.rule[0], buf, sizeof buf), forms[i]);
	}
}

static void config_egress_resolver__servers__become_cares_csv(void **state)
{
	(void)state;
	char out[256], why[256];
	assert_int_equal(config_egress_resolver("198.18.20.2, [2001:2::53]:5353 127.0.0.1:53", out,
	                                        sizeof out, why, sizeof why),
	                 0);
	assert_string_equal(out, "198.18.20.2:53,[2001:2::53]:5353,127.0.0.1:53");
	assert_int_equal(config_egress_resolver("dns.example", out, sizeof out, why, sizeof why),
	                 -EINVAL);
	assert_non_null(strstr(why, "not a DNS server address"));
	assert_int_equal(config_egress_resolver("10.0.0.0/8", out, sizeof out, why, sizeof why),
	                 -EINVAL);
	assert_int_equal(config_egress_resolver(" ", out, sizeof out, why, sizeof why), -EINVAL);
}

static void config_host_target__names__are_checked(void **state)
{
	(void)state;
	char host[254], why[512];
	uint16_t port = 0;
	assert_int_equal(
	    config_host_target("db.internal:5432", host, sizeof host, &port, why, sizeof why), 0);
	assert_string_equal(host, "db.internal");
	assert_int_equal(port, 5432);
	assert_int_equal(
	    config_host_target("db.internal", host, sizeof host, &port, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "no port"));
	assert_int_equal(
	    config_host_target("db_1.internal:80", host, sizeof host, &port, why, sizeof why),
	    -EINVAL);
	assert_non_null(strstr(why, "RFC 1123"));
	assert_int_equal(config_host_target("db.:80", host, sizeof host, &port, why, sizeof why),
	                 -EINVAL);
	assert_int_equal(config_host_target(":80", host, sizeof host, &port, why, sizeof why),
	                 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(egress_allows__empty_list__allows_nothing),
	    cmocka_unit_test(egress_allows__ipv4_networks_and_ports__match_as_written),
	    cmocka_unit_test(egress_allows__ipv6_networks_and_ports__match_as_written),
	    cmocka_unit_test(egress_allows__every_prefix_length__splits_at_its_bit),
	    cmocka_unit_test(egress_allows__ipv4_mapped_destination__is_matched_as_ipv4),
	    cmocka_unit_test(egress_allows__unspecified_address__is_never_allowed),
	    cmocka_unit_test(config_egress_allow__bad_entries__are_rejected_with_a_reason),
	    cmocka_unit_test(config_egress_allow__too_many_entries__are_rejected),
	    cmocka_unit_test(egress_rule_format__every_form__reads_back),
	    cmocka_unit_test(config_egress_resolver__servers__become_cares_csv),
	    cmocka_unit_test(config_host_target__names__are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
