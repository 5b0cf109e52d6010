/*
 * Unit tests for upwatch_message: the warning a user gets while the
 * association is not established names what was tried and the likely
 * causes, the psk_file first when handshakes failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "upwatch.h"

static struct upwatch_facts facts(void)
{
	struct upwatch_facts f = {.role = CONFIG_ROLE_CONNECT,
	                          .transport = CONFIG_TRANSPORT_UDP,
	                          .port = 5757,
	                          .udp_port = 9899,
	                          .remote_udp_port = 9900,
	                          .waited = 60,
	                          .next = 120};
	strcpy(f.peers, "198.18.1.2, 198.18.2.2");
	return f;
}

static void upwatch_message__peer_silent__names_every_likely_cause(void **state)
{
	(void)state;
	char buf[900];
	struct upwatch_facts f = facts();
	f.last_why = "peer did not answer (CANT_STR_ASSOC)";
	upwatch_message(buf, sizeof buf, &f);
	assert_string_equal(
	    buf, "association not established 60 s after start (role connect, peer 198.18.1.2, "
	         "198.18.2.2, SCTP port 5757, transport udp: UDP port 9899 here, 9900 at the "
	         "peer); last attempt: peer did not answer (CANT_STR_ASSOC); likely causes: the "
	         "peer gateway is not running or its address is not reachable; a firewall drops "
	         "UDP port 9899 or 9900 between the paths' addresses; the peer uses another port "
	         "or transport (port, transport, udp_encap_port and remote_udp_encap_port must "
	         "match across the pair); both gateways have role = connect (exactly one must "
	         "connect and the other accept); next warning in 120 s");
}

static void upwatch_message__handshakes_failed__names_the_psk_file_first(void **state)
{
	(void)state;
	char buf[900];
	struct upwatch_facts f = facts();
	f.auth_failed = 3;
	f.role = CONFIG_ROLE_ACCEPT;
	f.transport = CONFIG_TRANSPORT_SCTP;
	f.ups = 1;
	upwatch_message(buf, sizeof buf, &f);
	assert_non_null(strstr(buf, "60 s after it was lost (role accept"));
	assert_non_null(strstr(buf, "transport sctp: plain SCTP, IP protocol 132); no peer has "
	                            "connected; likely causes: the peer answered but 3 handshakes "
	                            "failed: the two gateways' psk_file differ"));
	assert_non_null(strstr(buf, "drops IP protocol 132 (SCTP)"));
	assert_non_null(strstr(buf, "both gateways have role = accept"));
}

static void upwatch_message__short_buffer__is_cut_not_overrun(void **state)
{
	(void)state;
	char buf[33];
	buf[32] = 'X';
	struct upwatch_facts f = facts();
	upwatch_message(buf, 32, &f);
	assert_int_equal(strlen(buf), 31);
	assert_int_equal(buf[32], 'X');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(upwatch_message__peer_silent__names_every_likely_cause),
	    cmocka_unit_test(upwatch_message__handshakes_failed__names_the_psk_file_first),
	    cmocka_unit_test(upwatch_message__short_buffer__is_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
