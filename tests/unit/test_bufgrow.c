/*
 * Unit tests for bufgrow: an association buffer grows while its use fills
 * half of it each round trip, never past its max, and the max and usrsctp's
 * chunk limit stay within memory_limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bufgrow.h"

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)

/* Move BYTES per round trip RTT for ROUNDS round trips, sampled 5 times per
 * round trip as the engine's timer does; returns the size at the end. */
static size_t run(struct bufgrow *b, double *now, uint64_t *total, double rtt, uint64_t bytes,
                  int rounds)
{
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 5; i++) {
			*now += rtt / 5 * 1.001;
			*total += bytes / 5;
			bufgrow_sample(b, *total, *now, rtt);
		}
	return b->size;
}

static void bufgrow__max__is_buffer_max_within_an_eighth_of_memory_limit(void **state)
{
	(void)state;
	/* Within 1 GiB / 8 and the peer's TSN span: buffer_max. */
	assert_int_equal(bufgrow_max(2 * MIB, 4 * MIB, 1024 * MIB, 1280), 4 * MIB);
	/* A small memory_limit wins: 24 MiB / 8. */
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 24 * MIB, 1280), 3 * MIB);
	/* ... but never below where the buffer starts (no growth then). */
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 4 * MIB, 1280), 2 * MIB);
	assert_int_equal(bufgrow_max(2 * MIB, 1 * MIB, 1024 * MIB, 1280), 2 * MIB);
	/* Both buffers at their max hold at most a quarter of memory_limit. */
	size_t limit = 100 * MIB;
	assert_true(2 * bufgrow_max(64 * KIB, 256 * MIB, limit, 1280) <= limit / 4);
}

static void bufgrow__chunks__one_per_512_bytes_at_least_usrsctps_default(void **state)
{
	(void)state;
	assert_int_equal(bufgrow_chunks(1 * MIB), 2048);
	assert_int_equal(bufgrow_chunks(64 * KIB), 512);
}

/* The loss storm (docs/PERFORMANCE.md): the peer's stack tracks at most
 * 4096 TSNs above its cumulative ack and tosses every chunk beyond, so a
 * loss in a flight of more chunks than that loses the rest of the flight.
 * Neither buffer (the flight's bytes) nor usrsctp's chunk limit (its
 * chunks) may reach that span, whatever buffer_max and memory_limit say.
 * A full chunk's payload is the path MTU less at most 124 bytes (bufgrow.h:
 * headers, AUTH, and the IPv6 packet size of a mixed configuration on its
 * IPv4 paths); the payload seen on the wire was path_mtu - 104. */
static void bufgrow__max_and_chunks__stay_within_the_peers_tsn_span(void **state)
{
	(void)state;
	const size_t span = 4096; /* TSNs */
	static const unsigned mtus[] = {1280, 1400, 1500, 4000, 9000};
	for (size_t i = 0; i < sizeof mtus / sizeof mtus[0]; i++) {
		size_t chunk = mtus[i] - 124; /* the least payload of a full chunk */
		size_t max = bufgrow_max(2 * MIB, 32 * MIB, 1024 * MIB, mtus[i]); /* defaults */
		assert_true(max / chunk < span);
		assert_true(bufgrow_max(2 * MIB, 256 * MIB, 4096 * MIB, mtus[i]) / chunk < span);
		assert_true(bufgrow_chunks(max) < span);
	}
	size_t max = bufgrow_max(2 * MIB, 32 * MIB, 1024 * MIB, 1280);
	assert_true(max >= 4 * MIB); /* still 320 Mbit/s at 100 ms */
	assert_true(bufgrow_chunks(256 * MIB) < span);
	/* A configured start is kept as it is (fixed buffers: the user's call). */
	assert_int_equal(bufgrow_max(8 * MIB, 32 * MIB, 1024 * MIB, 1280), 8 * MIB);
}

/* Larger packets carry more bytes in the same 4000 TSNs: the cap grows
 * with path_mtu in proportion to a full chunk's payload (1156 bytes at
 * 1280, 1376 at 1500), until buffer_max is the smaller. */
static void bufgrow__max__follows_the_chunk_payload_of_the_path_mtu(void **state)
{
	(void)state;
	assert_int_equal(bufgrow_chunk_data(1280), 1156);
	assert_int_equal(bufgrow_chunk_data(1500), 1376);
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 1024 * MIB, 1280), 4000 * 1156);
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 1024 * MIB, 1500), 4000 * 1376);
	assert_int_equal(bufgrow_span_bytes(1500), 4000 * 1376);
	/* 4000 x 8876 bytes at 9000 is more than buffer_max: buffer_max. */
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 1024 * MIB, 9000), 32 * MIB);
	assert_int_equal(bufgrow_max(2 * MIB, 64 * MIB, 1024 * MIB, 9000), 4000 * 8876);
	/* ... and memory_limit / 8 still wins over both. */
	assert_int_equal(bufgrow_max(2 * MIB, 32 * MIB, 24 * MIB, 9000), 3 * MIB);
}

static void bufgrow__receive__filled_each_round_trip__doubles_up_to_its_max(void **state)
{
	(void)state;
	struct bufgrow b;
	double now = 0, rtt = 0.1;
	uint64_t total = 0;
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, now);
	/* Buffer-limited: a round trip moves what the buffer holds. */
	size_t grows = 0, last = b.size;
	for (int r = 0; r < 10; r++) {
		run(&b, &now, &total, rtt, b.size, 1);
		if (b.size != last) {
			assert_int_equal(b.size, last * 2 < 32 * MIB ? last * 2 : 32 * MIB);
			grows++;
			last = b.size;
		}
	}
	assert_int_equal(b.size, 32 * MIB);
	assert_int_equal(grows, 4); /* 2 -> 4 -> 8 -> 16 -> 32 MiB, one per round trip */
	/* At its max it stays, whatever moves. */
	assert_int_equal(run(&b, &now, &total, rtt, 64 * MIB, 5), 32 * MIB);
}

static void bufgrow__receive__path_limited__stops_at_twice_what_a_round_trip_moves(void **state)
{
	(void)state;
	struct bufgrow b;
	double now = 0, rtt = 0.05;
	uint64_t total = 0;
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, now);
	/* The path carries 3 MiB per round trip whatever the buffer: it grows
	 * to 4 MiB (2 MiB filled), then to 8 (3 MiB >= half of 4), and stays
	 * (3 MiB < half of 8). */
	assert_int_equal(run(&b, &now, &total, rtt, 3 * MIB, 20), 8 * MIB);
	/* Less than half of it used: no growth at all. */
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, total, now);
	assert_int_equal(run(&b, &now, &total, rtt, MIB - 1, 20), 2 * MIB);
}

static void bufgrow__period_is_one_round_trip__scaled_when_sampled_late(void **state)
{
	(void)state;
	struct bufgrow b;
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, 0.0);
	/* Within one round trip: no verdict yet, whatever moved. */
	assert_int_equal(bufgrow_sample(&b, 64 * MIB, 0.099, 0.1), 0);
	/* A period sampled 4 round trips late: 4 MiB in 0.4 s is 1 MiB per
	 * round trip, less than half of 2 MiB: no growth. */
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, 0.0);
	assert_int_equal(bufgrow_sample(&b, 4 * MIB - 1, 0.4, 0.1), 0);
	/* 8 MiB in 0.4 s is 2 MiB per round trip: it doubles. */
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, 0.0);
	assert_int_equal(bufgrow_sample(&b, 8 * MIB, 0.4, 0.1), 4 * MIB);
	/* No RTT measured: periods of BUFGROW_MIN_PERIOD. */
	bufgrow_init(&b, &bufgrow_receive, 2 * MIB, 32 * MIB, 0, 0.0);
	assert_int_equal(bufgrow_sample(&b, MIB, BUFGROW_MIN_PERIOD, 0), 4 * MIB);
}

static void bufgrow__send__grows_by_a_tenth_only_while_nearly_full_and_no_queue(void **state)
{
	(void)state;
	struct bufgrow b;
	double now = 0, rtt = 0.1;
	uint64_t total = 0;
	bufgrow_init(&b, &bufgrow_send, 2 * MIB, 32 * MIB, 0, now);
	/* Half of it per round trip is not enough for the send buffer. */
	assert_int_equal(run(&b, &now, &total, rtt, MIB, 10), 2 * MIB);
	/* 96 % of it each round trip at the least RTT: a tenth more, again
	 * and again (a period may end just before the growth shows). */
	size_t before = b.size;
	for (int r = 0; r < 4; r++) {
		size_t was = b.size;
		run(&b, &now, &total, rtt, b.size * 96 / 100, 1);
		assert_true(b.size == was || b.size == was + was / 10);
	}
	assert_true(b.size > before);
	/* The round trip 5 ms above its least (a queue builds on the path):
	 * no growth, however full. */
	before = b.size;
	assert_int_equal(run(&b, &now, &total, rtt + 0.005, b.size, 10), before);
	/* Back at the least round trip, growing again. */
	run(&b, &now, &total, rtt, b.size, 2);
	assert_true(b.size > before);
}

static void bufgrow__send__growth_per_round_trip_stays_under_a_1000_packet_queue(void **state)
{
	(void)state;
	/* At 1 Gbit/s x 100 ms (12.5 MB in flight, a 1000-packet queue of
	 * 1.28 MB holds a tenth of it) the buffer, filled each round trip
	 * while the path takes it, ends within the path's bandwidth x RTT
	 * plus its queue: once the flight exceeds what the path carries, the
	 * excess waits in the queue, and the round trip grows with it. */
	const double rate = 125e6, base = 0.1, queue = 1.28e6, bdp = rate * base;
	struct bufgrow b;
	double now = 0;
	uint64_t total = 0;
	bufgrow_init(&b, &bufgrow_send, 2 * MIB, 32 * MIB, 0, now);
	for (int i = 0; i < 2000; i++) {
		double flight = (double)b.size;
		double rtt = base + (flight > bdp ? (flight - bdp) / rate : 0);
		double carried = flight < bdp ? flight : bdp; /* per base RTT */
		now += base / 5;
		total += (uint64_t)(carried / 5);
		bufgrow_sample(&b, total, now, rtt);
		assert_true((double)b.size <= bdp + queue);
	}
	assert_true((double)b.size > bdp * 0.9);
}

/* After a failover to a longer path the least round trip is the old
 * path's: every round trip of the new one would look like a queue, and the
 * send buffer would never grow again on this association. A new path
 * starts the least again (review of branch bufs). */
static void bufgrow__send__after_a_move_to_a_longer_path__grows_again(void **state)
{
	(void)state;
	struct bufgrow b;
	double now = 0;
	uint64_t total = 0;
	bufgrow_init(&b, &bufgrow_send, 2 * MIB, 32 * MIB, 0, now);
	run(&b, &now, &total, 0.020, b.size, 3); /* 20 ms path, buffer-limited */
	size_t before = b.size;
	assert_true(before > 2 * MIB);
	/* Now 60 ms: without a word of the new path nothing grows... */
	assert_int_equal(run(&b, &now, &total, 0.060, b.size, 5), before);
	/* ... with it the buffer grows again. */
	bufgrow_new_path(&b);
	assert_true(run(&b, &now, &total, 0.060, b.size, 5) > before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bufgrow__max__is_buffer_max_within_an_eighth_of_memory_limit),
	    cmocka_unit_test(bufgrow__chunks__one_per_512_bytes_at_least_usrsctps_default),
	    cmocka_unit_test(bufgrow__max_and_chunks__stay_within_the_peers_tsn_span),
	    cmocka_unit_test(bufgrow__max__follows_the_chunk_payload_of_the_path_mtu),
	    cmocka_unit_test(bufgrow__receive__filled_each_round_trip__doubles_up_to_its_max),
	    cmocka_unit_test(
	        bufgrow__receive__path_limited__stops_at_twice_what_a_round_trip_moves),
	    cmocka_unit_test(bufgrow__send__grows_by_a_tenth_only_while_nearly_full_and_no_queue),
	    cmocka_unit_test(bufgrow__send__growth_per_round_trip_stays_under_a_1000_packet_queue),
	    cmocka_unit_test(bufgrow__period_is_one_round_trip__scaled_when_sampled_late),
	    cmocka_unit_test(bufgrow__send__after_a_move_to_a_longer_path__grows_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
