/*
 * Unit tests for replay: the anti-replay window of a datagram stream
 * accepts each sequence number once, in any order within the window, and
 * refuses what fell below it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "replay.h"

/* Check and, when fresh, mark: what a receiver does with an authentic message. */
static int take(struct replay *r, uint64_t seq)
{
	int rc = replay_check(r, seq);
	if (rc == 0)
		replay_mark(r, seq);
	return rc;
}

static void replay__in_order__each_accepted_once(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	for (uint64_t s = 0; s < 1000; s++)
		assert_int_equal(take(&r, s), 0);
	for (uint64_t s = 1000 - REPLAY_WINDOW; s < 1000; s++)
		assert_int_equal(take(&r, s), -EALREADY);
}

static void replay__out_of_order_within_window__accepted_then_replay_refused(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	assert_int_equal(take(&r, 10), 0);
	assert_int_equal(take(&r, 5), 0); /* late, never seen */
	assert_int_equal(take(&r, 7), 0);
	assert_int_equal(take(&r, 5), -EALREADY);
	assert_int_equal(take(&r, 10), -EALREADY);
	assert_int_equal(take(&r, 6), 0);
	assert_int_equal(take(&r, 11), 0);
}

static void replay__gap_then_late_arrivals__the_gap_stays_open(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	assert_int_equal(take(&r, 0), 0);
	assert_int_equal(take(&r, 100), 0); /* 1..99 lost or late */
	for (uint64_t s = 99; s >= 1; s--)
		assert_int_equal(take(&r, s), 0);
	for (uint64_t s = 0; s <= 100; s++)
		assert_int_equal(take(&r, s), -EALREADY);
}

static void replay__below_window__refused_as_stale(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	assert_int_equal(take(&r, 3), 0);
	assert_int_equal(take(&r, 3 + REPLAY_WINDOW), 0);
	assert_int_equal(replay_check(&r, 3), -ESTALE);
	assert_int_equal(replay_check(&r, 2), -ESTALE);
	/* The oldest number still inside the window was never seen. */
	assert_int_equal(take(&r, 4), 0);
}

static void replay__jump_beyond_window__forgets_old_bits(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	for (uint64_t s = 0; s < 64; s++)
		assert_int_equal(take(&r, s), 0);
	uint64_t far = 10 * REPLAY_WINDOW + 17;
	assert_int_equal(take(&r, far), 0);
	/* Every number of the new window below FAR is fresh, although the
	 * bits at their positions held the old numbers. */
	for (uint64_t s = far - REPLAY_WINDOW + 1; s < far; s++)
		assert_int_equal(replay_check(&r, s), 0);
	assert_int_equal(replay_check(&r, far), -EALREADY);
}

static void replay__check_alone__marks_nothing(void **state)
{
	(void)state;
	struct replay r;
	replay_reset(&r);
	assert_int_equal(replay_check(&r, 42), 0);
	assert_int_equal(replay_check(&r, 42), 0); /* a forged message must not move it */
	assert_int_equal(r.top, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(replay__in_order__each_accepted_once),
	    cmocka_unit_test(replay__out_of_order_within_window__accepted_then_replay_refused),
	    cmocka_unit_test(replay__gap_then_late_arrivals__the_gap_stays_open),
	    cmocka_unit_test(replay__below_window__refused_as_stale),
	    cmocka_unit_test(replay__jump_beyond_window__forgets_old_bits),
	    cmocka_unit_test(replay__check_alone__marks_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
