/*
 * Unit tests for snapshot: what /metrics and /status report is read from
 * the running association (two gateways on the fake engine, pair.h): the
 * per-forward counters follow a connection from open to close without
 * losing or double-counting its bytes, the engine's stats op and the
 * association's state and losses come through.
 */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static void take(struct snapshot *s, struct assoc *a)
{
	snapshot_take(s, a, "udp", false, 1.0);
}

static void snapshot__a_connection__counts_in_its_forward_while_open_and_after(void **state)
{
	struct fx *f = *state;
	f->ca->n_forwards = 1;
	snprintf(f->ca->forwards[0].name, sizeof f->ca->forwards[0].name, "fwd");
	fx_start(f);
	f->ea->stats.retransmitted_chunks = 5;
	f->ea->stats.watchdog_kicks = 2;

	struct snapshot *s = calloc(1, sizeof *s);
	take(s, f->a);
	assert_true(s->established);
	assert_true(snapshot_ready(s));
	assert_string_equal(s->state, "ready");
	assert_int_equal(s->establishments, 1);
	assert_true(s->have_engine_stats);
	assert_int_equal(s->engine_stats.retransmitted_chunks, 5);
	assert_int_equal(s->engine_stats.watchdog_kicks, 2);
	assert_int_equal(s->n_forwards, 1);
	assert_string_equal(s->forwards[0].name, "fwd");
	assert_int_equal(s->forwards[0].accepted, 0);

	struct link l = open_link(f, f->a);
	ping(f, &l); /* 4 bytes client -> target, 5 back */
	take(s, f->a);
	assert_int_equal(s->forwards[0].active, 1);
	assert_int_equal(s->forwards[0].accepted, 1);
	assert_int_equal(s->forwards[0].bytes_up, 4);
	assert_int_equal(s->forwards[0].bytes_down, 5);
	assert_int_equal(s->streams_in_use, 1);
	assert_int_equal(s->conns_active, 1);

	close_tracked(f, l.client);
	close_tracked(f, l.target);
	RUN_UNTIL(f, f->a->n_conns == 0 && f->b->n_conns == 0);
	take(s, f->a);
	assert_int_equal(s->forwards[0].active, 0);
	assert_int_equal(s->forwards[0].accepted, 1);
	assert_int_equal(s->forwards[0].bytes_up, 4); /* moved to the totals, once */
	assert_int_equal(s->forwards[0].bytes_down, 5);
	assert_int_equal(s->conns_active, 0);

	/* B has no forward of that name: the exit side counts none. */
	take(s, f->b);
	assert_int_equal(s->n_forwards, 0);
	free(s);
}

static void snapshot__association_lost__counts_the_loss_and_is_not_ready(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	fake_engine_down(f->ea, "lost in a test");
	RUN_UNTIL(f, f->a->state != ASSOC_READY);
	struct snapshot *s = calloc(1, sizeof *s);
	take(s, f->a);
	assert_false(s->established);
	assert_false(snapshot_ready(s));
	assert_string_equal(s->loss_names[ASSOC_LOSS_LOST], "lost");
	assert_int_equal(s->losses[ASSOC_LOSS_LOST], 1);
	assert_int_equal(s->losses[ASSOC_LOSS_SHUTDOWN], 0);
	assert_int_equal(s->streams_limit, 0);
	free(s);
}

/* A client the gateway cannot carry (no association) counts as refused
 * for not_ready in its forward, and not as accepted. */
static void snapshot__client_without_association__is_refused_not_ready(void **state)
{
	struct fx *f = *state;
	f->ca->n_forwards = 1;
	snprintf(f->ca->forwards[0].name, sizeof f->ca->forwards[0].name, "fwd");
	fx_create(f);
	int rc = 0;
	int c = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOTCONN);
	expect_reset(f, c);
	struct snapshot *s = calloc(1, sizeof *s);
	take(s, f->a);
	assert_string_equal(s->refusal_names[LIMITS_REFUSED_NOT_READY], "not_ready");
	assert_int_equal(s->forwards[0].refused[LIMITS_REFUSED_NOT_READY], 1);
	assert_int_equal(s->forwards[0].accepted, 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        snapshot__a_connection__counts_in_its_forward_while_open_and_after, fx_setup,
	        fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        snapshot__association_lost__counts_the_loss_and_is_not_ready, fx_setup,
	        fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        snapshot__client_without_association__is_refused_not_ready, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
