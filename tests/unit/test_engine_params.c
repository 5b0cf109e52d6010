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
#include "config.h"
#include "bufgrow.h"
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

#define FROM(ss) ((const struct sockaddr *)&(ss))

/* One INIT against params(): the peer's addresses (ADDRS, NULL-ended;
 * NO_ADDRS: the engine could not read them), its source (FROM, NULL: none
 * known), whether it is kept and the address named (SEEN, NULL: not
 * checked). */
struct peer_case {
	const char *what;
	bool no_addrs;
	const char *addrs[3];
	const char *from;
	bool kept;
	const char *seen;
};

static const struct peer_case peer_cases[] = {
    {"every address configured: kept",
     false,
     {"198.18.1.2:5757", "[2001:2:2::2]:5757"},
     "198.18.1.2:5757",
     true,
     "198.18.1.2:5757"},
    /* The bypass of issue 12 item 1: a stranger lists a configured
     * address in its INIT beside its own. */
    {"one stranger among configured: refused",
     false,
     {"[2001:2:2::2]:5757", "198.18.9.9:5757"},
     "[2001:2:2::2]:5757",
     false,
     "198.18.9.9:5757"},
    {"INIT from a stranger: refused",
     false,
     {"198.18.1.2:5757"},
     "198.18.9.9:5757",
     false,
     "198.18.9.9:5757"},
    {"v4-mapped source: counts as IPv4",
     false,
     {"198.18.1.2:5757"},
     "[::ffff:198.18.1.2]:5757",
     true,
     NULL},
    {"configured address on another port: refused",
     false,
     {"198.18.1.2:5758"},
     "198.18.1.2:5758",
     false,
     NULL},
    {"another port, from the configured one: refused",
     false,
     {"198.18.1.2:5758"},
     "198.18.1.2:5757",
     false,
     "198.18.1.2:5758"},
    {"strangers only: refused",
     false,
     {"[2001:2:9::9]:5757", "198.18.1.3:5757"},
     "[2001:2:9::9]:5757",
     false,
     "[2001:2:9::9]:5757"},
    {"no addresses: refused as unknown", true, {NULL}, "198.18.1.2:5757", false, "unknown"},
    {"no source: refused as unknown", false, {"198.18.1.2:5757"}, NULL, false, "unknown"},
};

static void peer_expected__each_case__keeps_or_refuses_and_names_the_address(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof peer_cases / sizeof peer_cases[0]; i++) {
		const struct peer_case *pc = &peer_cases[i];
		struct engine_params p;
		struct packed pk = {0};
		struct sockaddr_storage from;
		char seen[ADDR_STRLEN] = "";
		params(&p);
		for (size_t j = 0; pc->addrs[j]; j++)
			pack(&pk, pc->addrs[j]);
		if (pc->from)
			assert_int_equal(addr_parse_endpoint(pc->from, &from), 0);
		bool kept = engine_peer_expected(&p, pc->from ? FROM(from) : NULL,
		                                 pc->no_addrs ? NULL : pk.buf,
		                                 pc->no_addrs ? -1 : pk.n, seen, sizeof seen);
		if (kept != pc->kept || (pc->seen && strcmp(seen, pc->seen) != 0))
			fail_msg("%s: %s, naming %s; expected %s, naming %s", pc->what,
			         kept ? "kept" : "refused", seen, pc->kept ? "kept" : "refused",
			         pc->seen ? pc->seen : "anything");
	}
}

/* The association's buffers start at sndbuf/rcvbuf and grow to buffer_max,
 * each within an eighth of memory_limit (both together within a quarter)
 * and within the peer's TSN span (bufgrow.h). */
static void from_config__buffer_max__within_memory_limit(void **state)
{
	(void)state;
	static struct config c;
	struct engine_params p;
	config_defaults(&c);
	engine_params_from_config(&p, &c);
	assert_int_equal(p.sndbuf, 2 << 20);
	assert_int_equal(p.rcvbuf, 2 << 20);
	assert_int_equal(p.path_mtu, 1280);
	assert_int_equal(p.sndbuf_max, bufgrow_span_bytes(1280));
	assert_int_equal(p.rcvbuf_max, bufgrow_span_bytes(1280));
	c.path_mtu = 1500; /* larger chunks: more bytes in the same TSN span */
	engine_params_from_config(&p, &c);
	assert_int_equal(p.path_mtu, 1500);
	assert_int_equal(p.sndbuf_max, bufgrow_span_bytes(1500));
	assert_int_equal(p.rcvbuf_max, bufgrow_span_bytes(1500));
	assert_true(p.sndbuf_max > bufgrow_span_bytes(1280));
	c.path_mtu = 1280;
	c.memory_limit = 24 << 20;
	engine_params_from_config(&p, &c);
	assert_int_equal(p.sndbuf_max, 3 << 20);
	assert_int_equal(p.rcvbuf_max, 3 << 20);
	assert_true(p.sndbuf_max + p.rcvbuf_max <= c.memory_limit / 4);
	c.memory_limit = 8 << 20; /* an eighth is below the start: no growth */
	engine_params_from_config(&p, &c);
	assert_int_equal(p.sndbuf_max, 2 << 20);
	assert_int_equal(p.rcvbuf_max, 2 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(peer_expected__each_case__keeps_or_refuses_and_names_the_address),
	    cmocka_unit_test(from_config__buffer_max__within_memory_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
