/*
 * Unit tests for engine_choice: which engine each [gateway] engine value
 * means for each [association] transport on a kernel with and without
 * SCTP (and with and without SCTP over UDP), and what the log line says.
 * The kernel probes themselves are engine.c's and engine_kernel.c's; here
 * their results are a parameter, so these run on any kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "engine.h"

static struct engine_params params(enum config_transport t)
{
	struct engine_params p = {
	    .transport = t, .udp_encap_port = 9899, .remote_udp_encap_port = 9900};
	return p;
}

static const struct engine_probe kernel_ok = {0};
static const struct engine_probe no_sctp = {.kernel_err = EPROTONOSUPPORT};
static const struct engine_probe no_udp = {
    .udp_err = ENOPROTOOPT, .udp_why = "SCTP_REMOTE_UDP_ENCAPS_PORT: Protocol not available"};

static void engine_choose__auto_udp_with_kernel_udp__picks_the_kernel(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &kernel_ok, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine auto: the kernel has SCTP over UDP; using the kernel "
	                         "engine, transport udp (SCTP over UDP: local UDP port 9899, "
	                         "peer's 9900)");
}

static void engine_choose__auto_udp_without_kernel_udp__uses_user_space_and_says_why(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &no_udp, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	assert_string_equal(why, "engine auto: the kernel has SCTP but cannot carry it over UDP "
	                         "here (SCTP_REMOTE_UDP_ENCAPS_PORT: Protocol not available); "
	                         "using the user-space engine, transport udp (usrsctp over UDP "
	                         "port 9899, peer's 9900)");
}

static void engine_choose__auto_without_kernel_sctp__falls_back_and_says_why(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &no_sctp, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	assert_string_equal(why, "engine auto: the kernel has no SCTP (Protocol not supported); "
	                         "using the user-space engine, transport udp (usrsctp over UDP "
	                         "port 9899, peer's 9900)");
}

static void engine_choose__auto_sctp__needs_the_kernel(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_SCTP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &kernel_ok, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine auto: the kernel has SCTP; using the kernel engine, "
	                         "transport sctp (plain SCTP, IP protocol 132: the peer needs the "
	                         "kernel engine and transport = sctp too)");
	/* No SCTP over UDP does not matter to plain SCTP. */
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &no_udp, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, &no_sctp, &p, why, sizeof why),
	                 ENGINE_KIND_NONE);
	assert_string_equal(why, "engine auto: transport = sctp (plain SCTP) needs the kernel "
	                         "engine, but this kernel cannot make SCTP sockets (Protocol not "
	                         "supported): load the module with 'modprobe sctp' (in a "
	                         "container, load it on the host: containers share the host's "
	                         "kernel), or set transport = udp on both gateways (either engine "
	                         "speaks it)");
}

static void engine_choose__kernel_without_sctp__refuses_and_names_modprobe(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, &no_sctp, &p, why, sizeof why),
	                 ENGINE_KIND_NONE);
	assert_non_null(strstr(why, "engine = kernel, but this kernel cannot make SCTP sockets "
	                            "(Protocol not supported)"));
	assert_non_null(strstr(why, "'modprobe sctp'"));
	assert_non_null(strstr(why, "in a container, load it on the host"));
	assert_non_null(strstr(why, "or set engine = userspace or auto"));
}

static void engine_choose__kernel_udp_without_kernel_udp__refuses_and_says_why(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, &no_udp, &p, why, sizeof why),
	                 ENGINE_KIND_NONE);
	assert_string_equal(why, "engine = kernel with transport = udp, but the kernel cannot "
	                         "carry SCTP over UDP here (SCTP_REMOTE_UDP_ENCAPS_PORT: Protocol "
	                         "not available); set engine = auto or userspace (the user-space "
	                         "engine speaks SCTP over UDP on any host), or transport = sctp "
	                         "on both gateways");
}

static void engine_choose__kernel_with_sctp__takes_it(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, &kernel_ok, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine kernel: as configured; using the kernel engine, transport "
	                         "udp (SCTP over UDP: local UDP port 9899, peer's 9900)");
	p = params(CONFIG_TRANSPORT_SCTP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, &no_udp, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
}

static void engine_choose__userspace__wins_on_any_kernel_with_udp(void **state)
{
	(void)state;
	char why[512];
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_USERSPACE, &kernel_ok, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	assert_string_equal(why, "engine userspace: as configured; using the user-space engine, "
	                         "transport udp (usrsctp over UDP port 9899, peer's 9900)");
	assert_int_equal(engine_choose(CONFIG_ENGINE_USERSPACE, &no_sctp, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	p = params(CONFIG_TRANSPORT_SCTP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_USERSPACE, &kernel_ok, &p, why, sizeof why),
	                 ENGINE_KIND_NONE);
	assert_non_null(strstr(why, "engine = userspace speaks SCTP over UDP only"));
}

static void engine_choose__short_buffer__is_cut_not_overrun(void **state)
{
	(void)state;
	char why[16 + 1];
	why[16] = 'X';
	struct engine_params p = params(CONFIG_TRANSPORT_UDP);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, &no_sctp, &p, why, 16),
	                 ENGINE_KIND_NONE);
	assert_int_equal(strlen(why), 15);
	assert_int_equal(why[16], 'X');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(engine_choose__auto_udp_with_kernel_udp__picks_the_kernel),
	    cmocka_unit_test(
	        engine_choose__auto_udp_without_kernel_udp__uses_user_space_and_says_why),
	    cmocka_unit_test(engine_choose__auto_without_kernel_sctp__falls_back_and_says_why),
	    cmocka_unit_test(engine_choose__auto_sctp__needs_the_kernel),
	    cmocka_unit_test(engine_choose__kernel_without_sctp__refuses_and_names_modprobe),
	    cmocka_unit_test(engine_choose__kernel_udp_without_kernel_udp__refuses_and_says_why),
	    cmocka_unit_test(engine_choose__kernel_with_sctp__takes_it),
	    cmocka_unit_test(engine_choose__userspace__wins_on_any_kernel_with_udp),
	    cmocka_unit_test(engine_choose__short_buffer__is_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
