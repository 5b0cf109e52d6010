/*
 * Unit tests for ratelimit: one call site logs at most RATELIMIT_BURST lines
 * per RATELIMIT_INTERVAL, says when it starts suppressing, and reports the
 * count of what it suppressed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"

static double fake_now;
static double fake_clock(void)
{
	return fake_now;
}

static char *out_buf;
static size_t out_len;
static FILE *out;

static int setup(void **state)
{
	(void)state;
	/* Sites are static: start each test with fresh budgets. */
	fake_now += 1000.0;
	ratelimit_set_clock(fake_clock);
	FILE *null = fopen("/dev/null", "w");
	log_set_output(null);
	ratelimit_flush(true);
	fclose(null);
	out = open_memstream(&out_buf, &out_len);
	log_set_output(out);
	log_init("test", LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_output(NULL);
	fclose(out);
	free(out_buf);
	out_buf = NULL;
	ratelimit_set_clock(NULL);
	return 0;
}

static size_t count(const char *needle)
{
	fflush(out);
	size_t n = 0;
	for (const char *p = out_buf; p && (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* One site: a function, so every call is the same call site. */
static void flood_site(unsigned i)
{
	log_warn_limited("stream %u: bogus message ignored", i);
}

static void other_site(void)
{
	log_warn_limited("another warning");
}

static void ratelimit__a_flood__logs_the_burst_then_one_notice(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 10000; i++)
		flood_site(i);
	assert_int_equal(count("bogus message ignored"), RATELIMIT_BURST);
	assert_int_equal(count("(rate limit: more lines like the last are counted"), 1);
	assert_int_equal(count("suppressed"), 0); /* the count comes later */
}

static void ratelimit__next_interval__reports_the_count_and_logs_again(void **state)
{
	(void)state;
	unsigned long long before = ratelimit_suppressed_total();
	for (unsigned i = 0; i < 1000; i++)
		flood_site(i);
	fake_now += RATELIMIT_INTERVAL;
	flood_site(1);
	fflush(out);
	assert_non_null(strstr(out_buf,
	                       "rate limit: 990 lines suppressed in 10 s like \"stream %u: "
	                       "bogus message ignored\""));
	assert_int_equal(ratelimit_suppressed_total() - before, 990);
	/* the line after the count is logged, not suppressed */
	const char *sum = strstr(out_buf, "rate limit: 990");
	assert_non_null(sum);
	assert_non_null(strstr(sum, "stream 1: bogus message ignored"));
}

static void ratelimit__sites_have_separate_budgets(void **state)
{
	(void)state;
	fake_now += 100; /* a fresh interval for flood_site */
	for (unsigned i = 0; i < 50; i++)
		flood_site(i);
	other_site();
	assert_int_equal(count("another warning"), 1);
}

static void ratelimit__flush__reports_a_flood_that_stopped(void **state)
{
	(void)state;
	fake_now += 100;
	for (unsigned i = 0; i < 25; i++)
		flood_site(i);
	ratelimit_flush(false); /* interval not over: nothing yet */
	assert_int_equal(count("lines suppressed"), 0);
	fake_now += RATELIMIT_INTERVAL;
	ratelimit_flush(false);
	assert_int_equal(count("rate limit: 15 lines suppressed"), 1);
	ratelimit_flush(false); /* reported once */
	assert_int_equal(count("lines suppressed"), 1);
}

static void ratelimit__below_the_level__costs_nothing(void **state)
{
	(void)state;
	log_init("test", LOG_ERROR);
	fake_now += 100;
	for (unsigned i = 0; i < 50; i++)
		flood_site(i);
	assert_int_equal(count("bogus"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(ratelimit__a_flood__logs_the_burst_then_one_notice,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        ratelimit__next_interval__reports_the_count_and_logs_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(ratelimit__sites_have_separate_budgets, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(ratelimit__flush__reports_a_flood_that_stopped, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(ratelimit__below_the_level__costs_nothing, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
