/*
 * Unit tests for path: primary selection by priority, immediate failover,
 * failback only after failback_hold_ms. A scripted engine reports path
 * states and records set_primary calls; libev time is advanced for real
 * with short holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "path.h"

struct script {
	struct engine base;
	enum engine_path_state state[CONFIG_MAX_PATHS];
	size_t primary;
	int n_set;
};

static int script_info(struct engine *e, size_t i, struct engine_path_info *out)
{
	struct script *s = (struct script *)e;
	memset(out, 0, sizeof *out);
	out->state = s->state[i];
	out->primary = i == s->primary;
	return 0;
}

static int script_set_primary(struct engine *e, size_t i)
{
	struct script *s = (struct script *)e;
	if (s->state[i] == ENGINE_PATH_UNCONFIRMED)
		return -EINVAL; /* like SCTP: unconfirmed paths cannot be primary */
	s->primary = i;
	s->n_set++;
	return 0;
}

static const struct engine_ops script_ops = {
    .name = "script", .path_info = script_info, .set_primary = script_set_primary};

struct fx {
	struct config c;
	struct script eng;
	struct path_table t;
	struct ev_loop *loop;
};

static void add_path(struct config *c, const char *name, const char *local, const char *remote,
                     int prio)
{
	struct config_path *p = &c->paths[c->n_paths++];
	snprintf(p->name, sizeof p->name, "%s", name);
	assert_int_equal(addr_parse_host(local, &p->local), 0);
	assert_int_equal(addr_parse_host(remote, &p->remote), 0);
	p->priority = prio;
}

/* Three paths written worst-first, so the table must sort them. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	config_defaults(&f->c);
	f->c.failback_hold_ms = 200;
	add_path(&f->c, "wan3", "198.18.3.1", "198.18.3.2", 30);
	add_path(&f->c, "wan1", "198.18.1.1", "198.18.1.2", 10);
	add_path(&f->c, "wan2", "198.18.2.1", "198.18.2.2", 20);
	f->loop = ev_loop_new(0);
	f->eng.base.ops = &script_ops;
	path_table_init(&f->t, f->loop, &f->c);
	path_attach(&f->t, &f->eng.base);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	path_table_fini(&f->t);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void set_all(struct fx *f, enum engine_path_state a, enum engine_path_state b,
                    enum engine_path_state c)
{
	f->eng.state[0] = a;
	f->eng.state[1] = b;
	f->eng.state[2] = c;
}

/* Turn the loop for S seconds. The last turn comes after the deadline: a
 * sleep that overran it (a loaded machine) must not skip a timer due
 * before it. */
static void run_for(struct fx *f, double s)
{
	ev_tstamp end = ev_time() + s;
	while (ev_time() < end) {
		ev_run(f->loop, EVRUN_NOWAIT);
		ev_sleep(0.005);
	}
	ev_run(f->loop, EVRUN_NOWAIT);
}

static void path_table__paths__are_sorted_by_priority(void **state)
{
	struct fx *f = *state;
	assert_string_equal(f->t.paths[0].name, "wan1");
	assert_string_equal(f->t.paths[1].name, "wan2");
	assert_string_equal(f->t.paths[2].name, "wan3");
}

static void path_assoc_up__best_reachable__becomes_primary_at_once(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	f->eng.primary = 2; /* the accept side's stack starts where INIT came from */
	path_assoc_up(&f->t);
	assert_int_equal(f->eng.primary, 0);
	assert_int_equal(f->t.primary, 0);
}

static void path_event__unconfirmed_primary__is_kept_until_it_fails(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_UNCONFIRMED, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	f->eng.primary = 0;
	path_assoc_up(&f->t);
	/* SCTP keeps its primary while nothing failed; nothing to do yet. */
	f->eng.state[0] = ENGINE_PATH_REACHABLE;
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 0);
	assert_int_equal(f->t.primary, 0);
}

static void path_event__primary_unreachable__fails_over_to_next_best_at_once(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 1); /* wan2, not wan3 */
	f->eng.state[1] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 2);
}

static void path_event__better_path_back__waits_for_the_hold_down(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 1);

	f->eng.state[0] = ENGINE_PATH_REACHABLE;
	ev_now_update(f->loop);
	ev_tstamp back = ev_time();
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 1); /* not yet */
	run_for(f, 0.1);
	/* Half the hold: still not. Only while less than the hold has
	 * really passed: under valgrind on a loaded machine run_for(0.1)
	 * can take longer than 200 ms (seen: 880 ms), and then fail-back
	 * is right. */
	if (ev_time() - back < 0.19)
		assert_int_equal(f->eng.primary, 1);
	run_for(f, 0.2);
	assert_int_equal(f->eng.primary, 0); /* hold (200 ms) passed */
}

static void path_event__flapping_path__never_becomes_primary(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	for (int i = 0; i < 4; i++) {
		f->eng.state[0] = ENGINE_PATH_REACHABLE;
		ev_now_update(f->loop);
		path_event(&f->t);
		run_for(f, 0.1); /* up for less than the hold */
		f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
		path_event(&f->t);
		assert_int_equal(f->eng.primary, 1);
	}
	run_for(f, 0.3);
	assert_int_equal(f->eng.primary, 1);
}

/* Fails again soon after a fail-back: the hold-down doubles; stays up for
 * twice the longer hold-down before failing: back to failback_hold_ms. */
static void path_event__path_failing_soon_after_failback__doubles_its_hold(void **state)
{
	struct fx *f = *state;
	struct path *wan1 = &f->t.paths[0];
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE; /* first failure: no flap yet */
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 1);
	assert_int_equal((int)(wan1->hold * 1000), 200);

	f->eng.state[0] = ENGINE_PATH_REACHABLE;
	ev_now_update(f->loop);
	path_event(&f->t);
	run_for(f, 0.25);
	assert_int_equal(f->eng.primary, 0);       /* failed back after 200 ms */
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE; /* ...and died again at once */
	ev_now_update(f->loop);
	path_event(&f->t);
	assert_int_equal(f->eng.primary, 1);
	assert_int_equal((int)(wan1->hold * 1000), 400);

	f->eng.state[0] = ENGINE_PATH_REACHABLE;
	ev_now_update(f->loop);
	path_event(&f->t);
	run_for(f, 0.3);
	assert_int_equal(f->eng.primary, 1); /* 300 ms < 400 ms */
	run_for(f, 0.15);
	assert_int_equal(f->eng.primary, 0);
	run_for(f, 0.4); /* up 850 ms >= 2 x 400 ms: stable */
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	ev_now_update(f->loop);
	path_event(&f->t);
	assert_int_equal((int)(wan1->hold * 1000), 200);
}

static void path_event__hold_doubling__stops_at_the_cap(void **state)
{
	struct fx *f = *state;
	struct path *wan1 = &f->t.paths[0];
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	for (int i = 0; i < 6; i++) {
		f->eng.state[0] = ENGINE_PATH_REACHABLE;
		ev_now_update(f->loop);
		path_event(&f->t);
		f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
		path_event(&f->t);
	}
	assert_int_equal((int)(wan1->hold * 1000), 200 * PATH_HOLD_MAX_FACTOR);
	path_assoc_down(&f->t);
	path_assoc_up(&f->t); /* a new association starts afresh */
	assert_int_equal((int)(wan1->hold * 1000), 200);
}

static void path_event__no_path_reachable__keeps_the_primary(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	int before = f->eng.n_set;
	set_all(f, ENGINE_PATH_UNREACHABLE, ENGINE_PATH_UNREACHABLE, ENGINE_PATH_UNREACHABLE);
	path_event(&f->t);
	assert_int_equal(f->eng.n_set, before);
	assert_int_equal(f->t.primary, 0);
}

static void path_assoc_down__stops_a_pending_failback(void **state)
{
	struct fx *f = *state;
	set_all(f, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE, ENGINE_PATH_REACHABLE);
	path_assoc_up(&f->t);
	f->eng.state[0] = ENGINE_PATH_UNREACHABLE;
	path_event(&f->t);
	f->eng.state[0] = ENGINE_PATH_REACHABLE;
	path_event(&f->t);
	assert_true(ev_is_active(&f->t.failback));
	path_assoc_down(&f->t);
	assert_false(ev_is_active(&f->t.failback));
	run_for(f, 0.3);
	assert_int_equal(f->eng.primary, 1);
}

#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(path_table__paths__are_sorted_by_priority),
	    T(path_assoc_up__best_reachable__becomes_primary_at_once),
	    T(path_event__unconfirmed_primary__is_kept_until_it_fails),
	    T(path_event__primary_unreachable__fails_over_to_next_best_at_once),
	    T(path_event__better_path_back__waits_for_the_hold_down),
	    T(path_event__flapping_path__never_becomes_primary),
	    T(path_event__path_failing_soon_after_failback__doubles_its_hold),
	    T(path_event__hold_doubling__stops_at_the_cap),
	    T(path_event__no_path_reachable__keeps_the_primary),
	    T(path_assoc_down__stops_a_pending_failback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
