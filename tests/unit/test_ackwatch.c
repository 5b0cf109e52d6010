/*
 * Unit tests for ackwatch: when sent data is stuck with no timer, and when
 * it is merely waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ackwatch.h"

static void ackwatch__first_sample__is_never_stuck(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	assert_int_equal(ackwatch_sample(&w, 840, 10, 3), ACKWATCH_OK);
}

static void ackwatch__nothing_outstanding__is_ok_even_when_idle(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ackwatch_sample(&w, 0, 10, 3), ACKWATCH_OK);
}

static void ackwatch__outstanding_without_sack_or_timeout__kicks(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	ackwatch_sample(&w, 840, 10, 3);
	assert_int_equal(ackwatch_sample(&w, 840, 10, 3), ACKWATCH_KICK);
	assert_int_equal(w.kicks, 1);
}

/* Each of the three signs of life alone means a timer or the peer is at
 * work: a window probe retransmitted by T3, SACKs for a zero window, or
 * the count moving. */
static void ackwatch__any_sign_of_life__is_ok(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	ackwatch_sample(&w, 1, 10, 3);
	assert_int_equal(ackwatch_sample(&w, 1, 10, 4), ACKWATCH_OK); /* T3 fired */
	assert_int_equal(ackwatch_sample(&w, 1, 11, 4), ACKWATCH_OK); /* SACK came */
	assert_int_equal(ackwatch_sample(&w, 2, 11, 4), ACKWATCH_OK); /* count moved */
	assert_int_equal(w.kicks, 0);
}

static void ackwatch__counters_wrapping__still_count_as_change(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	ackwatch_sample(&w, 5, UINT32_MAX, 7);
	assert_int_equal(ackwatch_sample(&w, 5, 0, 7), ACKWATCH_OK);
}

static void ackwatch__stuck_after_max_kicks__gives_up(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	ackwatch_sample(&w, 7, 1, 1);
	for (int i = 0; i < ACKWATCH_MAX_KICKS; i++)
		assert_int_equal(ackwatch_sample(&w, 7, 1, 1), ACKWATCH_KICK);
	assert_int_equal(ackwatch_sample(&w, 7, 1, 1), ACKWATCH_GIVE_UP);
	assert_int_equal(ackwatch_sample(&w, 7, 1, 1), ACKWATCH_GIVE_UP);
}

/* Kicks cost path MTU for the rest of the association, so progress in
 * between does not give them back; a new association does. */
static void ackwatch__kicks__count_per_association(void **state)
{
	(void)state;
	struct ackwatch w;
	ackwatch_reset(&w);
	ackwatch_sample(&w, 7, 1, 1);
	assert_int_equal(ackwatch_sample(&w, 7, 1, 1), ACKWATCH_KICK);
	assert_int_equal(ackwatch_sample(&w, 3, 5, 1), ACKWATCH_OK);
	assert_int_equal(ackwatch_sample(&w, 3, 5, 1), ACKWATCH_KICK);
	assert_int_equal(w.kicks, 2);
	ackwatch_reset(&w);
	assert_int_equal(w.kicks, 0);
	assert_int_equal(ackwatch_sample(&w, 3, 5, 1), ACKWATCH_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ackwatch__first_sample__is_never_stuck),
	    cmocka_unit_test(ackwatch__nothing_outstanding__is_ok_even_when_idle),
	    cmocka_unit_test(ackwatch__outstanding_without_sack_or_timeout__kicks),
	    cmocka_unit_test(ackwatch__any_sign_of_life__is_ok),
	    cmocka_unit_test(ackwatch__counters_wrapping__still_count_as_change),
	    cmocka_unit_test(ackwatch__stuck_after_max_kicks__gives_up),
	    cmocka_unit_test(ackwatch__kicks__count_per_association),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
