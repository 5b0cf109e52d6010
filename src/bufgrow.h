/*
 * bufgrow: one of the association's socket buffers (send or receive),
 * sized by how it is used.
 *
 * Start here for the association's buffers on long paths. The receive
 * buffer is the most the peer may have in flight (usrsctp advertises what
 * is free of it as its window), the send buffer the most this side may
 * have unacknowledged plus queued: each caps the association at size /
 * round-trip time. Fixed, they either cap a long fast path (2 MiB: 168
 * Mbit/s at 100 ms) or, when large from the start, make the first slow
 * start overflow the path's bottleneck queue (usrsctp's first ssthresh is
 * the peer's first window, and it has no HyStart). So each buffer grows
 * with use, as Linux TCP's buffer autotuning does:
 *
 *   - each starts at [sctp] sndbuf / rcvbuf (2 MiB); the socket opens with
 *     the receive buffer at its max (so the first ssthresh, taken from it,
 *     does not end slow start at 2 MiB) and drops to rcvbuf once the
 *     association is up (engine_usrsctp.c);
 *   - each measurement period (one round trip of the primary path, at
 *     least BUFGROW_MIN_PERIOD) counts the bytes moved (acknowledged by
 *     the peer, for the send buffer; read out of the association, for the
 *     receive buffer); the rules below say when that much use makes the
 *     buffer grow. The send buffer grows slowly and stops while the round
 *     trip rises above its least (a queue builds on the path), which is
 *     what ends the first slow start below the bottleneck queue's limit
 *     (usrsctp has no HyStart); the receive buffer doubles, so it is never
 *     the limit;
 *   - it never shrinks while the association lives (usrsctp holds no
 *     memory for a limit, only for the bytes queued: an idle association's
 *     big buffer costs nothing, and a shrinking receive window could strand
 *     chunks the peer already sent); the next association starts again.
 *
 * The max (bufgrow_max) is [sctp] buffer_max, but never more than
 * memory_limit / BUFGROW_MEMORY_SHARE for each of the two buffers, so the
 * association's buffers together take at most a quarter of memory_limit
 * on top of the connections' windows (assoc_conns.c), as the rest of the
 * gateway does.
 * usrsctp's per-association chunk limit follows the max (bufgrow_chunks).
 *
 * Both stay within the peer's TSN span (bufgrow_span_bytes, BUFGROW_SPAN_CHUNKS):
 * usrsctp's receiver tracks at most 4096 TSNs above its cumulative ack
 * (SCTP_MAPPING_ARRAY, 512 bytes of bits; so does Linux, SCTP_TSN_MAP_SIZE)
 * and silently tosses every DATA chunk beyond. With a flight of more
 * chunks than that, one lost packet makes the peer toss the rest of the
 * flight until the hole is filled: thousands of chunks retransmitted for
 * a few drops, a stall, a T3 expiry, slow start from one packet
 * (docs/PERFORMANCE.md, "The loss storm"). So neither buffer grows past
 * BUFGROW_SPAN_CHUNKS full chunks, and the chunk limit stops there too.
 * A full chunk's payload follows [sctp] path_mtu (bufgrow_chunk_data):
 * the larger the packets, the more bytes the same 4000 TSNs carry.
 * Two caps hold the flight: the sender's chunk limit (chunks, whatever
 * their size: also after ackwatch kicks lowered the MTU) and the
 * receiver's window (bytes: it counts on the peer's chunks being as large
 * as its own, so both gateways should use the same path_mtu; a kernel
 * engine peer discovers the path's MTU and sends chunks at least as large).
 *
 * Pure: no I/O, no clock; the caller passes the time and the round trip.
 */
#ifndef SCTPGW_BUFGROW_H
#define SCTPGW_BUFGROW_H

#include <stddef.h>
#include <stdint.h>

#define BUFGROW_MIN_PERIOD   0.01  /* s: measurement period on a path with no measured RTT */
#define BUFGROW_RTT_SLACK    0.001 /* s: a round trip this much above the least is no queue */
#define BUFGROW_MEMORY_SHARE 8     /* each buffer grows to at most memory_limit / this */
#define BUFGROW_CHUNK_ROOM   512   /* buffer bytes per chunk of usrsctp's chunk limit */
#define BUFGROW_MIN_CHUNKS   512   /* usrsctp's own default chunk limit */
#define BUFGROW_SPAN_CHUNKS  4000  /* chunks in flight: under the peer's 4096-TSN map, less slack */
/* The bytes of path_mtu that are not payload of a full DATA chunk, at
 * most: an IPv6 header 40, UDP 8, the SCTP common header 12, an AUTH chunk
 * 28 (packet_auth, the default), the DATA chunk header 16, and 20 more on
 * an IPv4 path of a configuration with IPv6 paths too (one MTU for every
 * path, engine_usrsctp.c usr_chunk_room). usrsctp cuts messages into
 * chunks as if every path were IPv6 (its socket is), so IPv4-only paths
 * carry the same payload: path_mtu - 104 bytes a chunk with packet_auth,
 * - 76 without, seen on the wire at 1280 and 1500 over IPv4 and IPv6, and
 * - 124 with IPv4 and IPv6 paths mixed (docs/PERFORMANCE.md, "Path MTU"). */
#define BUFGROW_CHUNK_OVERHEAD 124

/* When a buffer grows: once a round trip moves FILL_PCT % of it, by
 * GROW_PCT %. */
struct bufgrow_rule {
	unsigned fill_pct, grow_pct;
	unsigned rise_pct; /* and not while the RTT is this % above its least (0: always) */
};

struct bufgrow {
	size_t size; /* the buffer now */
	size_t max;  /* bufgrow_max */
	struct bufgrow_rule rule;
	double min_rtt;        /* the least round trip given, s: a period */
	uint64_t period_total; /* the byte count when this period began */
	double period_start;
};

/* The payload of a full DATA chunk, at least, at a path MTU of PATH_MTU
 * bytes (IP packet, UDP included: [sctp] path_mtu): 1156 at 1280. Kicks
 * that lower the MTU make chunks smaller still; the chunk limit covers
 * those (above). */
size_t bufgrow_chunk_data(unsigned path_mtu);

/* The bytes of BUFGROW_SPAN_CHUNKS full chunks at PATH_MTU: 4.62 MB at
 * 1280 (370 Mbit/s at 100 ms), 5.50 MB at 1500 (440 Mbit/s). */
size_t bufgrow_span_bytes(unsigned path_mtu);

/* The most a buffer starting at START may grow to: CONFIGURED ([sctp]
 * buffer_max) within memory_limit / BUFGROW_MEMORY_SHARE and the TSN span
 * at PATH_MTU (bufgrow_span_bytes), never below START (a configured start
 * is kept as it is). */
size_t bufgrow_max(size_t start, size_t configured, size_t memory_limit, unsigned path_mtu);

/* usrsctp's chunk limit (chunks queued per association, sending or
 * receiving) for buffers of at most MAX bytes: one chunk per
 * BUFGROW_CHUNK_ROOM bytes, so full chunks reach the byte limits first;
 * at least usrsctp's default, at most BUFGROW_SPAN_CHUNKS. */
uint32_t bufgrow_chunks(size_t max);

/* The send buffer: grows by a tenth once a round trip carries 95 % of it,
 * and not while the round trip is over 1 % (+ BUFGROW_RTT_SLACK) above
 * its least. The receive buffer: doubles once a round trip carries half of
 * it (it must never be the limit; the sender's buffer is). */
extern const struct bufgrow_rule bufgrow_send, bufgrow_receive;

/* A buffer of START bytes growing to MAX; TOTAL is the byte count now. */
void bufgrow_init(struct bufgrow *b, const struct bufgrow_rule *rule, size_t start, size_t max,
                  uint64_t total, double now);

/* The round trips to come are of another path: the least seen starts
 * again from the next sample. */
void bufgrow_new_path(struct bufgrow *b);

/* TOTAL: the bytes moved so far (monotonic); RTT: the path's smoothed
 * round trip, s (0: unknown). Returns the new size when the buffer grows
 * now, else 0. */
size_t bufgrow_sample(struct bufgrow *b, uint64_t total, double now, double rtt);

#endif
