/*
 * Unit tests for engine_peer_expected: which associations an accepting
 * engine keeps (the peer's addresses come packed back to back, IPv4 and
 * IPv6 mixed, as getpaddrs returns them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "engine.h"

struct packed {
	uint8_t buf[4 * sizeof(struct sockaddr_in6)];
	size_t len;
	int n;
};

static void pack(struct packed *pk, const char *endpoint)
{
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint(endpoint, &a), 0);
	size_t l = addr_len(&a);
	memcpy(pk->buf + pk->len, &a, l);
	pk->len += l;
	pk->n++;
}

static void params(struct engine_params *p)
{
	memset(p, 0, sizeof *p);
	p->port = 5757;
	p->n_addrs = 2;
	assert_int_equal(addr_parse_host("198.18.1.2", &p->remote[0]), 0);
	assert_int_equal(addr_parse_host("2001:2:2::2", &p->remote[1]), 0);
}

static struct sockaddr_storage ep(const char *endpoint)
{
	struct sockaddr_storage a;
	assert_int_equal(addr_parse_endpoint(endpoint, &a), 0);
	return a;
}

#define FROM(ss) ((const struct sockaddr *)&(ss))

static void peer_expected__every_address_configured__is_kept(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "198.18.1.2:5757");
	pack(&pk, "[2001:2:2::2]:5757");
	struct sockaddr_storage from = ep("198.18.1.2:5757");
	assert_true(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "198.18.1.2:5757");
}

/* The bypass of issue 12 item 1: a stranger lists a configured address in
 * its INIT beside its own. */
static void peer_expected__one_stranger_among_configured__is_refused(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "[2001:2:2::2]:5757");
	pack(&pk, "198.18.9.9:5757");
	struct sockaddr_storage from = ep("[2001:2:2::2]:5757");
	assert_false(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "198.18.9.9:5757");
}

static void peer_expected__init_from_a_stranger__is_refused(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "198.18.1.2:5757");
	struct sockaddr_storage from = ep("198.18.9.9:5757");
	assert_false(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "198.18.9.9:5757");
}

static void peer_expected__v4_mapped_source__counts_as_ipv4(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "198.18.1.2:5757");
	struct sockaddr_storage from = ep("[::ffff:198.18.1.2]:5757");
	assert_true(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
}

static void peer_expected__configured_address_on_another_port__is_refused(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "198.18.1.2:5758");
	struct sockaddr_storage from = ep("198.18.1.2:5758");
	assert_false(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
	struct sockaddr_storage ours = ep("198.18.1.2:5757");
	assert_false(engine_peer_expected(&p, FROM(ours), pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "198.18.1.2:5758");
}

static void peer_expected__strangers_only__are_refused(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	pack(&pk, "[2001:2:9::9]:5757");
	pack(&pk, "198.18.1.3:5757");
	struct sockaddr_storage from = ep("[2001:2:9::9]:5757");
	assert_false(engine_peer_expected(&p, FROM(from), pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "[2001:2:9::9]:5757");
}

static void peer_expected__no_addresses_or_no_source__are_refused_as_unknown(void **state)
{
	(void)state;
	struct engine_params p;
	struct packed pk = {0};
	char seen[ADDR_STRLEN];
	params(&p);
	struct sockaddr_storage from = ep("198.18.1.2:5757");
	assert_false(engine_peer_expected(&p, FROM(from), NULL, -1, seen, sizeof seen));
	assert_string_equal(seen, "unknown");
	pack(&pk, "198.18.1.2:5757");
	assert_false(engine_peer_expected(&p, NULL, pk.buf, pk.n, seen, sizeof seen));
	assert_string_equal(seen, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(peer_expected__every_address_configured__is_kept),
	    cmocka_unit_test(peer_expected__one_stranger_among_configured__is_refused),
	    cmocka_unit_test(peer_expected__init_from_a_stranger__is_refused),
	    cmocka_unit_test(peer_expected__v4_mapped_source__counts_as_ipv4),
	    cmocka_unit_test(peer_expected__configured_address_on_another_port__is_refused),
	    cmocka_unit_test(peer_expected__strangers_only__are_refused),
	    cmocka_unit_test(peer_expected__no_addresses_or_no_source__are_refused_as_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
