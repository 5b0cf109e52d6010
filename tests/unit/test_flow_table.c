/*
 * Unit tests for flow_table: UDP flows found by (forward, client, original
 * destination), through growth and removal.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flow_table.h"

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in s;
	memset(&s, 0xAA, sizeof s); /* padding must not matter */
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 s;
	memset(&s, 0, sizeof s);
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s.sin6_addr);
	return s;
}

static void flow_table__same_client__found_different_port_or_forward__not(void **state)
{
	(void)state;
	struct flow_table t;
	assert_int_equal(flow_table_init(&t), 0);
	struct sockaddr_in a = v4("198.18.0.1", 5000), b = v4("198.18.0.1", 5001);
	struct flow_entry e;
	flow_key_make(&e.key, 0, (struct sockaddr *)&a, NULL);
	flow_table_insert(&t, &e);

	struct sockaddr_in a2 = v4("198.18.0.1", 5000); /* other padding bytes */
	memset(a2.sin_zero, 0x55, sizeof a2.sin_zero);
	struct flow_key k;
	flow_key_make(&k, 0, (struct sockaddr *)&a2, NULL);
	assert_ptr_equal(flow_table_find(&t, &k), &e);
	flow_key_make(&k, 0, (struct sockaddr *)&b, NULL);
	assert_null(flow_table_find(&t, &k));
	flow_key_make(&k, 1, (struct sockaddr *)&a, NULL);
	assert_null(flow_table_find(&t, &k));
	flow_table_fini(&t);
}

static void flow_table__original_destination__is_part_of_the_key(void **state)
{
	(void)state;
	struct flow_table t;
	assert_int_equal(flow_table_init(&t), 0);
	struct sockaddr_in6 c = v6("2001:2::1", 4000), o1 = v6("2001:2:1::53", 53),
	                    o2 = v6("2001:2:1::54", 53);
	struct flow_entry e1, e2;
	flow_key_make(&e1.key, 0, (struct sockaddr *)&c, (struct sockaddr *)&o1);
	flow_key_make(&e2.key, 0, (struct sockaddr *)&c, (struct sockaddr *)&o2);
	flow_table_insert(&t, &e1);
	flow_table_insert(&t, &e2);
	struct flow_key k;
	flow_key_make(&k, 0, (struct sockaddr *)&c, (struct sockaddr *)&o2);
	assert_ptr_equal(flow_table_find(&t, &k), &e2);
	flow_key_make(&k, 0, (struct sockaddr *)&c, NULL);
	assert_null(flow_table_find(&t, &k));
	flow_table_fini(&t);
}

static void flow_table__many_flows__all_found_through_growth_and_removal(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct flow_table t;
	assert_int_equal(flow_table_init(&t), 0);
	struct flow_entry *e = calloc(N, sizeof *e);
	assert_non_null(e);
	for (int i = 0; i < N; i++) {
		struct sockaddr_in a = v4("198.18.0.1", 0);
		a.sin_addr.s_addr = htonl(0xC6120000u + (uint32_t)i / 1000);
		a.sin_port = htons((uint16_t)(1024 + i));
		flow_key_make(&e[i].key, 0, (struct sockaddr *)&a, NULL);
		flow_table_insert(&t, &e[i]);
	}
	assert_int_equal(t.n, N);
	assert_true(t.n_buckets >= N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(flow_table_find(&t, &e[i].key), &e[i]);
	for (int i = 0; i < N; i += 2)
		flow_table_remove(&t, &e[i]);
	assert_int_equal(t.n, N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(flow_table_find(&t, &e[i].key), i % 2 ? &e[i] : NULL);
	free(e);
	flow_table_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flow_table__same_client__found_different_port_or_forward__not),
	    cmocka_unit_test(flow_table__original_destination__is_part_of_the_key),
	    cmocka_unit_test(flow_table__many_flows__all_found_through_growth_and_removal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
