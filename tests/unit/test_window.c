/*
 * Unit tests for window: a connection's receive window grows while the
 * sender fills it, never past its cap, grants in quarters, and shrinks back
 * after idle by withholding what is consumed next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "window.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Feed BYTES per round trip RTT for ROUNDS round trips, in 8 pieces each,
 * growing whenever asked; returns the window at the end. */
static uint32_t run(struct window *w, double *now, double rtt, uint32_t bytes, int rounds)
{
	uint32_t released;
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 8; i++) {
			*now += rtt / 8 * 1.001; /* a round trip takes a hair longer */
			uint32_t grow = window_consumed(w, bytes / 8, *now, rtt);
			if (grow)
				window_grow(w, grow);
			window_grant(w, &released);
		}
	return w->size;
}

static void window__starts_at_initial__and_grants_nothing_below_a_quarter(void **state)
{
	(void)state;
	struct window w;
	uint32_t released = 99;
	window_init(&w, 64 * KIB, 16 * MIB, 0.0);
	assert_int_equal(w.size, 64 * KIB);
	assert_int_equal(window_consumed(&w, 16 * KIB - 1, 0.0001, 0.05), 0);
	assert_int_equal(window_grant(&w, &released), 0);
	assert_int_equal(released, 0);
	assert_int_equal(window_consumed(&w, 1, 0.0002, 0.05), 0);
	assert_int_equal(window_grant(&w, &released), 16 * KIB);
	assert_int_equal(window_grant(&w, &released), 0);
}

static void window__sender_filling_it_each_round_trip__doubles_it(void **state)
{
	(void)state;
	struct window w;
	double now = 0;
	window_init(&w, 64 * KIB, 16 * MIB, now);
	/* A window-limited sender moves about the whole window per RTT. */
	for (int r = 0; r < 4; r++) {
		uint32_t before = w.size;
		run(&w, &now, 0.05, w.size, 1);
		assert_int_equal(w.size, 2 * before);
	}
	assert_int_equal(w.size, 1 * MIB);
}

static void window__growth__owes_the_peer_the_new_credit_at_once(void **state)
{
	(void)state;
	struct window w;
	uint32_t released;
	window_init(&w, 64 * KIB, 16 * MIB, 0.0);
	assert_int_equal(window_consumed(&w, 10 * KIB, 0.01, 0.05), 0);
	assert_int_equal(window_grant(&w, &released), 0);
	/* 40 KiB in one RTT of a 64 KiB window: more than half. */
	uint32_t grow = window_consumed(&w, 30 * KIB, 0.05, 0.05);
	assert_int_equal(grow, 64 * KIB);
	window_grow(&w, grow);
	assert_int_equal(w.size, 128 * KIB);
	assert_int_equal(window_grant(&w, &released), 40 * KIB + 64 * KIB);
}

static void window__sender_using_less_than_half__keeps_it(void **state)
{
	(void)state;
	struct window w;
	double now = 0;
	window_init(&w, 256 * KIB, 16 * MIB, now);
	assert_int_equal(run(&w, &now, 0.05, 120 * KIB, 20), 256 * KIB);
}

static void window__never_grows_past_max(void **state)
{
	(void)state;
	struct window w;
	double now = 0;
	window_init(&w, 64 * KIB, 1000 * KIB, now);
	for (int r = 0; r < 10; r++)
		run(&w, &now, 0.05, w.size, 1);
	assert_int_equal(w.size, 1000 * KIB);
	assert_int_equal(window_consumed(&w, 1000 * KIB, now + 0.1, 0.05), 0);
}

static void window__refused_growth__keeps_the_window(void **state)
{
	(void)state;
	struct window w;
	uint32_t released;
	window_init(&w, 64 * KIB, 16 * MIB, 0.0);
	assert_int_equal(window_consumed(&w, 64 * KIB, 0.05, 0.05), 64 * KIB);
	/* The caller could not reserve: no window_grow. */
	assert_int_equal(w.size, 64 * KIB);
	assert_int_equal(window_grant(&w, &released), 64 * KIB);
	assert_int_equal(released, 0);
}

/* On a path with no measured RTT the period is WINDOW_MIN_PERIOD, so
 * growth still needs the window's worth of bytes within a few ms. */
static void window__zero_rtt__measures_over_the_minimum_period(void **state)
{
	(void)state;
	struct window w;
	window_init(&w, 64 * KIB, 16 * MIB, 0.0);
	assert_int_equal(window_consumed(&w, 64 * KIB, WINDOW_MIN_PERIOD / 2, 0.0), 0);
	assert_int_equal(window_consumed(&w, 1, WINDOW_MIN_PERIOD, 0.0), 64 * KIB);
	/* Half as fast over a period four times as long: not enough. */
	window_init(&w, 64 * KIB, 16 * MIB, 0.0);
	assert_int_equal(window_consumed(&w, 60 * KIB, 4 * WINDOW_MIN_PERIOD, 0.0), 0);
}

static void window__after_idle__withholds_until_back_at_initial(void **state)
{
	(void)state;
	struct window w;
	double now = 0;
	uint32_t released, total = 0;
	window_init(&w, 64 * KIB, 16 * MIB, now);
	for (int r = 0; r < 3; r++)
		run(&w, &now, 0.05, w.size, 1);
	assert_int_equal(w.size, 512 * KIB);
	window_grant(&w, &released);
	uint32_t owed = w.ungranted;
	/* Idle for longer than WINDOW_IDLE, then the next bytes arrive: the
	 * first 448 KiB consumed are kept, not granted. */
	now += WINDOW_IDLE + 0.1;
	assert_int_equal(window_consumed(&w, 200 * KIB, now, 0.05), 0);
	assert_int_equal(window_grant(&w, &released), 0);
	total += released;
	assert_int_equal(window_consumed(&w, 300 * KIB, now + 0.01, 0.05), 0);
	uint32_t grant = window_grant(&w, &released);
	total += released;
	assert_int_equal(total, 448 * KIB);
	assert_int_equal(w.size, 64 * KIB);
	assert_int_equal(grant, owed + 500 * KIB - 448 * KIB);
}

/* A long path waits longer before calling a connection idle. */
static void window__idle_time__is_at_least_eight_round_trips(void **state)
{
	(void)state;
	struct window w;
	double now = 0;
	uint32_t released;
	window_init(&w, 64 * KIB, 16 * MIB, now);
	run(&w, &now, 0.2, w.size, 1);
	assert_int_equal(w.size, 128 * KIB);
	now += 1.5; /* past WINDOW_IDLE, short of 8 x 200 ms */
	window_consumed(&w, 1 * KIB, now, 0.2);
	window_grant(&w, &released);
	assert_int_equal(released, 0);
	assert_int_equal(w.size, 128 * KIB);
}

static void window__tiny_window__grants_every_byte(void **state)
{
	(void)state;
	struct window w;
	uint32_t released;
	window_init(&w, 1, 1, 0.0);
	window_consumed(&w, 1, 0.001, 0.0);
	assert_int_equal(window_grant(&w, &released), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(window__starts_at_initial__and_grants_nothing_below_a_quarter),
	    cmocka_unit_test(window__sender_filling_it_each_round_trip__doubles_it),
	    cmocka_unit_test(window__growth__owes_the_peer_the_new_credit_at_once),
	    cmocka_unit_test(window__sender_using_less_than_half__keeps_it),
	    cmocka_unit_test(window__never_grows_past_max),
	    cmocka_unit_test(window__refused_growth__keeps_the_window),
	    cmocka_unit_test(window__zero_rtt__measures_over_the_minimum_period),
	    cmocka_unit_test(window__after_idle__withholds_until_back_at_initial),
	    cmocka_unit_test(window__idle_time__is_at_least_eight_round_trips),
	    cmocka_unit_test(window__tiny_window__grants_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
