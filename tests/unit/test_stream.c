/*
 * Unit tests for stream: which SCTP stream carries which connection.
 *
 * CONN pointers are never dereferenced by the table, so tests use the
 * addresses of a static array as stand-ins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

static char conns[65536];
#define CONN(i) ((void *)&conns[(i)])

static struct stream_table *table(uint16_t n, bool own_odd)
{
	struct stream_table *t = stream_table_new(n, own_odd);
	assert_non_null(t);
	return t;
}

/* Allocate until -ENOSPC; store the ids in OUT and return how many. */
static size_t drain(struct stream_table *t, int *out, size_t max)
{
	size_t n = 0;
	for (;;) {
		int sid = stream_alloc(t, CONN(n));
		if (sid == -ENOSPC)
			return n;
		assert_true(sid > 0);
		assert_true(n < max);
		out[n++] = sid;
	}
}

/* --- allocation by role ---------------------------------------------- */

static void stream_alloc__connect_role__gets_odd_ids_in_order(void **state)
{
	(void)state;
	struct stream_table *t = table(11, true);
	int ids[16];
	assert_int_equal(drain(t, ids, 16), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ids[i], 2 * i + 1);
	stream_table_free(t);
}

static void stream_alloc__accept_role__gets_even_ids_in_order(void **state)
{
	(void)state;
	struct stream_table *t = table(11, false);
	int ids[16];
	assert_int_equal(drain(t, ids, 16), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ids[i], 2 * i + 2);
	stream_table_free(t);
}

static void stream_alloc__seven_streams__connect_side_gets_1_3_5_then_enospc(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(stream_alloc(t, CONN(2)), 3);
	assert_int_equal(stream_alloc(t, CONN(3)), 5);
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);
	assert_int_equal(t->active, 3);
	stream_table_free(t);
}

static void stream_alloc__seven_streams__accept_side_gets_2_4_6_then_enospc(void **state)
{
	(void)state;
	struct stream_table *t = table(7, false);
	assert_int_equal(stream_alloc(t, CONN(1)), 2);
	assert_int_equal(stream_alloc(t, CONN(2)), 4);
	assert_int_equal(stream_alloc(t, CONN(3)), 6);
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);
	assert_int_equal(t->active, 3);
	stream_table_free(t);
}

static void stream_alloc__smallest_tables__have_the_right_ids(void **state)
{
	(void)state;
	/* 3 streams: id 1 for the connect side, 2 for the accept side. */
	struct stream_table *c = table(3, true), *a = table(3, false);
	assert_int_equal(stream_alloc(c, CONN(1)), 1);
	assert_int_equal(stream_alloc(c, CONN(2)), -ENOSPC);
	assert_int_equal(stream_alloc(a, CONN(1)), 2);
	assert_int_equal(stream_alloc(a, CONN(2)), -ENOSPC);
	stream_table_free(c);
	stream_table_free(a);
	/* 2 streams: only id 1 exists. 1 or 0: nothing at all. */
	c = table(2, true);
	a = table(2, false);
	assert_int_equal(stream_alloc(c, CONN(1)), 1);
	assert_int_equal(stream_alloc(c, CONN(2)), -ENOSPC);
	assert_int_equal(stream_alloc(a, CONN(1)), -ENOSPC);
	stream_table_free(c);
	stream_table_free(a);
	for (uint16_t n = 0; n < 2; n++) {
		c = table(n, true);
		assert_int_equal(stream_alloc(c, CONN(1)), -ENOSPC);
		assert_null(stream_get(c, 0));
		assert_null(stream_get(c, 1));
		stream_table_free(c);
	}
}

static void stream_alloc__both_roles__never_collide(void **state)
{
	(void)state;
	enum { N = 101 };
	struct stream_table *c = table(N, true), *a = table(N, false);
	int cid[N], aid[N];
	size_t nc = drain(c, cid, N), na = drain(a, aid, N);
	assert_int_equal(nc, 50);
	assert_int_equal(na, 50);
	bool seen[N] = {false};
	for (size_t i = 0; i < nc; i++) {
		assert_true(cid[i] > 0 && cid[i] < N);
		assert_false(seen[cid[i]]);
		seen[cid[i]] = true;
		assert_true(stream_is_own(c, (uint16_t)cid[i]));
		assert_false(stream_is_own(a, (uint16_t)cid[i]));
	}
	for (size_t i = 0; i < na; i++) {
		assert_true(aid[i] > 0 && aid[i] < N);
		assert_false(seen[aid[i]]);
		seen[aid[i]] = true;
		assert_true(stream_is_own(a, (uint16_t)aid[i]));
		assert_false(stream_is_own(c, (uint16_t)aid[i]));
	}
	/* Every usable id went to exactly one side. */
	for (int i = 1; i < N; i++)
		assert_true(seen[i]);
	assert_false(stream_is_own(c, 0));
	assert_false(stream_is_own(a, 0));
	stream_table_free(c);
	stream_table_free(a);
}

static void stream_alloc__slot__records_conn_and_state(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	int sid = stream_alloc(t, CONN(42));
	struct stream_slot *s = stream_get(t, (uint16_t)sid);
	assert_non_null(s);
	assert_int_equal(s->state, STREAM_ACTIVE);
	assert_ptr_equal(s->conn, CONN(42));
	assert_int_equal(stream_get(t, 3)->state, STREAM_FREE);
	assert_null(stream_get(t, 3)->conn);
	assert_null(stream_get(t, 0));
	assert_null(stream_get(t, 7));
	assert_null(stream_get(t, 65535));
	assert_non_null(stream_get(t, 6));
	stream_table_free(t);
}

/* --- release and reuse ----------------------------------------------- */

static void stream_done__own_id__is_not_reused_until_closed(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(stream_alloc(t, CONN(2)), 3);
	assert_int_equal(stream_alloc(t, CONN(3)), 5);
	stream_done(t, 3);
	assert_int_equal(stream_get(t, 3)->state, STREAM_WAIT_CLOSED);
	assert_null(stream_get(t, 3)->conn);
	assert_int_equal(t->active, 3); /* still held until the peer agrees */
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);

	assert_int_equal(stream_closed(t, 3), 0);
	assert_int_equal(stream_get(t, 3)->state, STREAM_FREE);
	assert_int_equal(t->active, 2);
	assert_int_equal(stream_alloc(t, CONN(5)), 3);
	assert_ptr_equal(stream_get(t, 3)->conn, CONN(5));
	assert_int_equal(t->active, 3);
	stream_table_free(t);
}

static void stream_closed__reuse__is_lowest_free_first(void **state)
{
	(void)state;
	struct stream_table *t = table(9, true); /* 1 3 5 7 */
	int ids[8];
	assert_int_equal(drain(t, ids, 8), 4);
	/* Release in the order 5, 1, 7 (3 stays busy). */
	stream_done(t, 5);
	stream_done(t, 1);
	stream_done(t, 7);
	assert_int_equal(stream_closed(t, 5), 0);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(stream_closed(t, 7), 0);
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(stream_alloc(t, CONN(2)), 5);
	assert_int_equal(stream_alloc(t, CONN(3)), 7);
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);
	stream_table_free(t);
}

static void stream_closed__freed_low_id__comes_before_never_used_ids(void **state)
{
	(void)state;
	struct stream_table *t = table(9, false); /* 2 4 6 8 */
	assert_int_equal(stream_alloc(t, CONN(1)), 2);
	assert_int_equal(stream_alloc(t, CONN(2)), 4);
	stream_done(t, 2);
	assert_int_equal(stream_closed(t, 2), 0);
	/* 6 and 8 were never used, but 2 is lower */
	assert_int_equal(stream_alloc(t, CONN(3)), 2);
	assert_int_equal(stream_alloc(t, CONN(4)), 6);
	assert_int_equal(stream_alloc(t, CONN(5)), 8);
	assert_int_equal(stream_alloc(t, CONN(6)), -ENOSPC);
	stream_table_free(t);
}

static void stream_closed__order_of_closed_not_of_done__decides_reuse(void **state)
{
	(void)state;
	struct stream_table *t = table(5, true); /* 1 3 */
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(stream_alloc(t, CONN(2)), 3);
	stream_done(t, 1);
	stream_done(t, 3);
	assert_int_equal(stream_closed(t, 3), 0);
	assert_int_equal(stream_alloc(t, CONN(3)), 3); /* 1 is not free yet */
	assert_int_equal(stream_alloc(t, CONN(4)), -ENOSPC);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(stream_alloc(t, CONN(4)), 1);
	stream_table_free(t);
}

/* Random alloc / done / closed against a model (the lowest free id): at
 * every step the table hands out what the model predicts. */
static void stream_alloc__random_cycles__match_a_model_lowest_free(void **state)
{
	(void)state;
	enum { N = 13 }; /* ours: 1 3 5 7 9 11 */
	struct stream_table *t = table(N, true);
	bool is_free[N] = {false}; /* the model: our free ids */
	enum stream_state st[N] = {STREAM_FREE};
	bool noted[N] = {false}; /* CLOSED came while ACTIVE */
	for (int sid = 1; sid < N; sid += 2)
		is_free[sid] = true;
	uint32_t x = 12345;

	for (int step = 0; step < 20000; step++) {
		x = x * 1103515245u + 12345u;
		unsigned op = (x >> 16) % 3;
		int sid = 1 + 2 * (int)((x >> 8) % (N / 2));
		if (op == 0) {
			int got = stream_alloc(t, CONN(step % 100)), want = -ENOSPC;
			for (int i = 1; i < N && want < 0; i += 2)
				if (is_free[i])
					want = i;
			assert_int_equal(got, want);
			if (got > 0) {
				is_free[got] = false;
				st[got] = STREAM_ACTIVE;
			}
		} else if (op == 1) {
			stream_done(t, (uint16_t)sid);
			if (st[sid] == STREAM_ACTIVE && noted[sid]) {
				st[sid] = STREAM_FREE;
				noted[sid] = false;
				is_free[sid] = true;
			} else if (st[sid] == STREAM_ACTIVE) {
				st[sid] = STREAM_WAIT_CLOSED;
			}
		} else {
			int rc = stream_closed(t, (uint16_t)sid);
			if (st[sid] == STREAM_WAIT_CLOSED) {
				assert_int_equal(rc, 0);
				st[sid] = STREAM_FREE;
				is_free[sid] = true;
			} else if (st[sid] == STREAM_ACTIVE && !noted[sid]) {
				assert_int_equal(rc, 0);
				noted[sid] = true;
			} else {
				assert_int_equal(rc, -EPROTO);
			}
		}
		size_t active = 0;
		for (int i = 1; i < N; i += 2) {
			assert_int_equal(stream_get(t, (uint16_t)i)->state, st[i]);
			active += st[i] != STREAM_FREE;
		}
		assert_int_equal(t->active, active);
	}
	stream_table_free(t);
}

/* The exit side sends CLOSED once it is finished, which can be before the
 * opener has written its last bytes to its client: the slot is still
 * ACTIVE then, and the CLOSED must not be lost. */
static void stream_closed__while_still_active__frees_the_id_when_done(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true); /* 1 3 5 */
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(stream_closed(t, 1), 0);
	/* Nothing changes for the connection still using it. */
	assert_int_equal(stream_get(t, 1)->state, STREAM_ACTIVE);
	assert_ptr_equal(stream_get(t, 1)->conn, CONN(1));
	assert_int_equal(t->active, 1);
	/* One CLOSED per connection: a second one is a protocol error. */
	assert_int_equal(stream_closed(t, 1), -EPROTO);

	stream_done(t, 1);
	assert_int_equal(stream_get(t, 1)->state, STREAM_FREE);
	assert_null(stream_get(t, 1)->conn);
	assert_int_equal(t->active, 0);
	assert_int_equal(stream_closed(t, 1), -EPROTO);
	/* Lowest free first: 1 again, then 3 and 5. */
	assert_int_equal(stream_alloc(t, CONN(2)), 1);
	assert_int_equal(stream_alloc(t, CONN(3)), 3);
	assert_int_equal(stream_alloc(t, CONN(4)), 5);
	assert_int_equal(stream_alloc(t, CONN(5)), -ENOSPC);
	/* The note went with the old connection: the new one waits again. */
	stream_done(t, 1);
	assert_int_equal(stream_get(t, 1)->state, STREAM_WAIT_CLOSED);
	assert_int_equal(t->active, 3);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(t->active, 2);
	stream_table_free(t);
}

/* --- errors ---------------------------------------------------------- */

static void stream_closed__on_id_not_waiting__is_eproto(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	/* FREE own id. */
	assert_int_equal(stream_closed(t, 1), -EPROTO);
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	/* Peer's ids, in any state. */
	assert_int_equal(stream_closed(t, 2), -EPROTO);
	assert_int_equal(stream_accept(t, 2, CONN(2)), 0);
	assert_int_equal(stream_closed(t, 2), -EPROTO);
	assert_int_equal(stream_get(t, 2)->state, STREAM_ACTIVE);
	/* Out of range. */
	assert_int_equal(stream_closed(t, 0), -EPROTO);
	assert_int_equal(stream_closed(t, 7), -EPROTO);
	assert_int_equal(stream_closed(t, 65535), -EPROTO);
	/* A second CLOSED for the same id. */
	stream_done(t, 1);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(stream_closed(t, 1), -EPROTO);
	assert_int_equal(t->active, 1);
	/* The failed calls did not free anything twice. */
	assert_int_equal(stream_alloc(t, CONN(3)), 1);
	assert_int_equal(stream_alloc(t, CONN(4)), 3);
	assert_int_equal(stream_alloc(t, CONN(5)), 5);
	assert_int_equal(stream_alloc(t, CONN(6)), -ENOSPC);
	stream_table_free(t);
}

static void stream_accept__peer_id__becomes_active_then_free_on_done(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	assert_int_equal(stream_accept(t, 4, CONN(4)), 0);
	assert_int_equal(stream_get(t, 4)->state, STREAM_ACTIVE);
	assert_ptr_equal(stream_get(t, 4)->conn, CONN(4));
	assert_int_equal(t->active, 1);
	stream_done(t, 4);
	/* The peer's id needs no CLOSED from anyone: we send it. */
	assert_int_equal(stream_get(t, 4)->state, STREAM_FREE);
	assert_null(stream_get(t, 4)->conn);
	assert_int_equal(t->active, 0);
	/* And the peer may open it again at once. */
	assert_int_equal(stream_accept(t, 4, CONN(5)), 0);
	assert_int_equal(t->active, 1);
	/* Accepting peer ids never hands them to our allocator. */
	int ids[8];
	assert_int_equal(drain(t, ids, 8), 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 5);
	stream_table_free(t);
}

static void stream_accept__own_parity__is_eproto(void **state)
{
	(void)state;
	struct stream_table *c = table(7, true), *a = table(7, false);
	for (uint16_t sid = 1; sid < 7; sid += 2)
		assert_int_equal(stream_accept(c, sid, CONN(1)), -EPROTO);
	for (uint16_t sid = 2; sid < 7; sid += 2)
		assert_int_equal(stream_accept(a, sid, CONN(1)), -EPROTO);
	assert_int_equal(c->active, 0);
	assert_int_equal(a->active, 0);
	assert_int_equal(stream_get(c, 1)->state, STREAM_FREE);
	/* Our own ids are still all ours to allocate. */
	int ids[8];
	assert_int_equal(drain(c, ids, 8), 3);
	stream_table_free(c);
	stream_table_free(a);
}

static void stream_accept__busy_id__is_ebusy(void **state)
{
	(void)state;
	struct stream_table *t = table(7, false);
	assert_int_equal(stream_accept(t, 3, CONN(1)), 0);
	assert_int_equal(stream_accept(t, 3, CONN(2)), -EBUSY);
	assert_ptr_equal(stream_get(t, 3)->conn, CONN(1));
	assert_int_equal(t->active, 1);
	stream_table_free(t);
}

static void stream_accept__id_0_or_out_of_range__is_eproto(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	assert_int_equal(stream_accept(t, 0, CONN(1)), -EPROTO);
	assert_int_equal(stream_accept(t, 7, CONN(1)), -EPROTO);
	assert_int_equal(stream_accept(t, 8, CONN(1)), -EPROTO);
	assert_int_equal(stream_accept(t, 65535, CONN(1)), -EPROTO);
	assert_int_equal(t->active, 0);
	struct stream_table *a = table(7, false);
	assert_int_equal(stream_accept(a, 0, CONN(1)), -EPROTO);
	assert_int_equal(stream_accept(a, 7, CONN(1)), -EPROTO);
	assert_int_equal(stream_accept(a, 9, CONN(1)), -EPROTO);
	assert_int_equal(a->active, 0);
	stream_table_free(t);
	stream_table_free(a);
}

static void stream_done__on_idle_or_bad_id__changes_nothing(void **state)
{
	(void)state;
	struct stream_table *t = table(7, true);
	stream_done(t, 0);
	stream_done(t, 7);
	stream_done(t, 1); /* FREE, ours */
	stream_done(t, 2); /* FREE, peer's */
	assert_int_equal(t->active, 0);
	assert_int_equal(stream_get(t, 1)->state, STREAM_FREE);
	assert_int_equal(stream_closed(t, 1), -EPROTO);

	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	stream_done(t, 1);
	stream_done(t, 1); /* already WAIT_CLOSED */
	assert_int_equal(stream_get(t, 1)->state, STREAM_WAIT_CLOSED);
	assert_int_equal(t->active, 1);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(t->active, 0);
	stream_table_free(t);
}

static void stream_table__active_counter__follows_every_transition(void **state)
{
	(void)state;
	struct stream_table *t = table(9, true); /* ours 1 3 5 7; peer's 2 4 6 8 */
	size_t want = 0;
	assert_int_equal(t->active, want);
	assert_int_equal(stream_alloc(t, CONN(1)), 1);
	assert_int_equal(t->active, ++want);
	assert_int_equal(stream_alloc(t, CONN(3)), 3);
	assert_int_equal(t->active, ++want);
	assert_int_equal(stream_accept(t, 2, CONN(2)), 0);
	assert_int_equal(t->active, ++want);
	assert_int_equal(stream_accept(t, 2, CONN(2)), -EBUSY);
	assert_int_equal(t->active, want);
	assert_int_equal(stream_accept(t, 1, CONN(2)), -EPROTO);
	assert_int_equal(t->active, want);
	stream_done(t, 1); /* WAIT_CLOSED still counts */
	assert_int_equal(t->active, want);
	stream_done(t, 2); /* peer's: FREE */
	assert_int_equal(t->active, --want);
	assert_int_equal(stream_closed(t, 5), -EPROTO); /* FREE */
	assert_int_equal(t->active, want);
	assert_int_equal(stream_closed(t, 3), 0); /* ACTIVE: only noted */
	assert_int_equal(t->active, want);
	assert_int_equal(stream_closed(t, 1), 0);
	assert_int_equal(t->active, --want);
	stream_done(t, 3); /* CLOSED already came: FREE at once */
	assert_int_equal(t->active, --want);
	assert_int_equal(want, 0);
	stream_table_free(t);
}

static void stream_table__65535_streams__works(void **state)
{
	(void)state;
	struct stream_table *c = table(65535, true), *a = table(65535, false);
	static int ids[40000];
	size_t nc = drain(c, ids, 40000);
	assert_int_equal(nc, 32767);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[nc - 1], 65533);
	for (size_t i = 0; i < nc; i++)
		assert_int_equal(ids[i], (int)(2 * i + 1));
	assert_int_equal(c->active, 32767);
	size_t na = drain(a, ids, 40000);
	assert_int_equal(na, 32767);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[na - 1], 65534);
	assert_non_null(stream_get(a, 65534));
	assert_null(stream_get(a, 65535));

	/* Free them all in reverse order: they come back lowest first. */
	for (int sid = 65533; sid >= 1; sid -= 2) {
		stream_done(c, (uint16_t)sid);
		assert_int_equal(stream_closed(c, (uint16_t)sid), 0);
	}
	assert_int_equal(c->active, 0);
	assert_int_equal(stream_alloc(c, CONN(1)), 1);
	assert_int_equal(stream_alloc(c, CONN(2)), 3);
	assert_int_equal(stream_accept(c, 65534, CONN(3)), 0);
	assert_int_equal(stream_accept(c, 65535, CONN(3)), -EPROTO);
	assert_int_equal(c->active, 3);
	stream_table_free(c);
	stream_table_free(a);
}

static void stream_table_free__null__is_fine(void **state)
{
	(void)state;
	stream_table_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stream_alloc__connect_role__gets_odd_ids_in_order),
	    cmocka_unit_test(stream_alloc__accept_role__gets_even_ids_in_order),
	    cmocka_unit_test(stream_alloc__seven_streams__connect_side_gets_1_3_5_then_enospc),
	    cmocka_unit_test(stream_alloc__seven_streams__accept_side_gets_2_4_6_then_enospc),
	    cmocka_unit_test(stream_alloc__smallest_tables__have_the_right_ids),
	    cmocka_unit_test(stream_alloc__both_roles__never_collide),
	    cmocka_unit_test(stream_alloc__slot__records_conn_and_state),
	    cmocka_unit_test(stream_done__own_id__is_not_reused_until_closed),
	    cmocka_unit_test(stream_closed__reuse__is_lowest_free_first),
	    cmocka_unit_test(stream_closed__freed_low_id__comes_before_never_used_ids),
	    cmocka_unit_test(stream_closed__order_of_closed_not_of_done__decides_reuse),
	    cmocka_unit_test(stream_alloc__random_cycles__match_a_model_lowest_free),
	    cmocka_unit_test(stream_closed__while_still_active__frees_the_id_when_done),
	    cmocka_unit_test(stream_closed__on_id_not_waiting__is_eproto),
	    cmocka_unit_test(stream_accept__peer_id__becomes_active_then_free_on_done),
	    cmocka_unit_test(stream_accept__own_parity__is_eproto),
	    cmocka_unit_test(stream_accept__busy_id__is_ebusy),
	    cmocka_unit_test(stream_accept__id_0_or_out_of_range__is_eproto),
	    cmocka_unit_test(stream_done__on_idle_or_bad_id__changes_nothing),
	    cmocka_unit_test(stream_table__active_counter__follows_every_transition),
	    cmocka_unit_test(stream_table__65535_streams__works),
	    cmocka_unit_test(stream_table_free__null__is_fine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
