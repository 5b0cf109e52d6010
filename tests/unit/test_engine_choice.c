/*
 * Unit tests for engine_choice: which engine each [gateway] engine value
 * means on a kernel with and without SCTP, and what the log line says.
 * The kernel probe itself is engine.c's; here it is a parameter, so these
 * run on any kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "engine.h"

static struct engine_params params(bool encap)
{
	struct engine_params p = {
	    .udp_encap = encap, .udp_encap_port = 9899, .remote_udp_encap_port = 9900};
	return p;
}

static void engine_choose__auto_with_kernel_sctp__picks_the_kernel(void **state)
{
	(void)state;
	char why[320];
	struct engine_params p = params(false);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, 0, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine auto: the kernel has SCTP; using the kernel engine, plain "
	                         "SCTP (udp_encap = off: a user-space peer needs udp_encap = on "
	                         "here)");
	p = params(true);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, 0, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine auto: the kernel has SCTP; using the kernel engine, SCTP "
	                         "over UDP (udp_encap = on: local UDP port 9899, peer's 9900)");
}

static void engine_choose__auto_without_kernel_sctp__falls_back_and_says_why(void **state)
{
	(void)state;
	char why[320];
	struct engine_params p = params(false);
	assert_int_equal(engine_choose(CONFIG_ENGINE_AUTO, EPROTONOSUPPORT, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	assert_string_equal(why, "engine auto: the kernel has no SCTP (Protocol not supported); "
	                         "using the user-space engine (usrsctp over UDP port 9899, peer's "
	                         "9900)");
}

static void engine_choose__kernel_without_sctp__refuses_and_names_modprobe(void **state)
{
	(void)state;
	char why[320];
	struct engine_params p = params(false);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, EPROTONOSUPPORT, &p, why, sizeof why),
	                 ENGINE_KIND_NONE);
	assert_non_null(strstr(why, "engine = kernel, but this kernel cannot make SCTP sockets "
	                            "(Protocol not supported)"));
	assert_non_null(strstr(why, "'modprobe sctp'"));
	assert_non_null(strstr(why, "in a container, load it on the host"));
}

static void engine_choose__kernel_with_sctp__takes_it(void **state)
{
	(void)state;
	char why[320];
	struct engine_params p = params(true);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, 0, &p, why, sizeof why),
	                 ENGINE_KIND_KERNEL);
	assert_string_equal(why, "engine kernel: as configured; using the kernel engine, SCTP over "
	                         "UDP (udp_encap = on: local UDP port 9899, peer's 9900)");
}

static void engine_choose__userspace__wins_on_any_kernel(void **state)
{
	(void)state;
	char why[320];
	struct engine_params p = params(false);
	assert_int_equal(engine_choose(CONFIG_ENGINE_USERSPACE, 0, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
	assert_string_equal(why, "engine userspace: as configured; using the user-space engine "
	                         "(usrsctp over UDP port 9899, peer's 9900)");
	assert_int_equal(engine_choose(CONFIG_ENGINE_USERSPACE, ENOENT, &p, why, sizeof why),
	                 ENGINE_KIND_USERSPACE);
}

static void engine_choose__short_buffer__is_cut_not_overrun(void **state)
{
	(void)state;
	char why[16 + 1];
	why[16] = 'X';
	struct engine_params p = params(false);
	assert_int_equal(engine_choose(CONFIG_ENGINE_KERNEL, EPROTONOSUPPORT, &p, why, 16),
	                 ENGINE_KIND_NONE);
	assert_int_equal(strlen(why), 15);
	assert_int_equal(why[16], 'X');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(engine_choose__auto_with_kernel_sctp__picks_the_kernel),
	    cmocka_unit_test(engine_choose__auto_without_kernel_sctp__falls_back_and_says_why),
	    cmocka_unit_test(engine_choose__kernel_without_sctp__refuses_and_names_modprobe),
	    cmocka_unit_test(engine_choose__kernel_with_sctp__takes_it),
	    cmocka_unit_test(engine_choose__userspace__wins_on_any_kernel),
	    cmocka_unit_test(engine_choose__short_buffer__is_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
