/* bufgrow: see bufgrow.h for the rules. */
#include "bufgrow.h"

const struct bufgrow_rule bufgrow_send = {.fill_pct = 95, .grow_pct = 10, .rise_pct = 1};
const struct bufgrow_rule bufgrow_receive = {.fill_pct = 50, .grow_pct = 100, .rise_pct = 0};

size_t bufgrow_chunk_data(unsigned path_mtu)
{
	/* No MTU a config accepts is this small; a floor keeps the span of
	 * a zero or garbage MTU at BUFGROW_SPAN_CHUNKS small chunks. */
	return path_mtu > BUFGROW_CHUNK_OVERHEAD + 512 ? path_mtu - BUFGROW_CHUNK_OVERHEAD : 512;
}

size_t bufgrow_span_bytes(unsigned path_mtu)
{
	return (size_t)BUFGROW_SPAN_CHUNKS * bufgrow_chunk_data(path_mtu);
}

size_t bufgrow_max(size_t start, size_t configured, size_t memory_limit, unsigned path_mtu)
{
	size_t max = configured, span = bufgrow_span_bytes(path_mtu);
	if (max > memory_limit / BUFGROW_MEMORY_SHARE)
		max = memory_limit / BUFGROW_MEMORY_SHARE;
	if (max > span)
		max = span;
	return max > start ? max : start;
}

uint32_t bufgrow_chunks(size_t max)
{
	uint64_t chunks = max / BUFGROW_CHUNK_ROOM;
	if (chunks > BUFGROW_SPAN_CHUNKS)
		chunks = BUFGROW_SPAN_CHUNKS;
	return chunks > BUFGROW_MIN_CHUNKS ? (uint32_t)chunks : BUFGROW_MIN_CHUNKS;
}

void bufgrow_init(struct bufgrow *b, const struct bufgrow_rule *rule, size_t start, size_t max,
                  uint64_t total, double now)
{
	*b = (struct bufgrow){.size = start,
	                      .max = max > start ? max : start,
	                      .rule = *rule,
	                      .period_total = total,
	                      .period_start = now};
}

void bufgrow_new_path(struct bufgrow *b)
{
	b->min_rtt = 0;
}

size_t bufgrow_sample(struct bufgrow *b, uint64_t total, double now, double rtt)
{
	if (rtt > 0 && (b->min_rtt == 0 || rtt < b->min_rtt))
		b->min_rtt = rtt;
	double period = b->min_rtt > BUFGROW_MIN_PERIOD ? b->min_rtt : BUFGROW_MIN_PERIOD;
	double elapsed = now - b->period_start;
	if (elapsed < period)
		return 0;
	/* The bytes of one round trip, from a period that may have run
	 * longer (the caller's timer, a busy loop). */
	double moved = total > b->period_total ? (double)(total - b->period_total) : 0.0;
	double per_rtt = moved * period / elapsed;
	b->period_total = total;
	b->period_start = now;
	if (b->size >= b->max || per_rtt * 100 < (double)b->size * b->rule.fill_pct)
		return 0;
	/* A queue builds on the path: the flight already exceeds what it
	 * carries per round trip, and more would overflow the queue. */
	if (b->rule.rise_pct &&
	    rtt > b->min_rtt * (100 + b->rule.rise_pct) / 100 + BUFGROW_RTT_SLACK)
		return 0;
	double want = (double)b->size * (100 + b->rule.grow_pct) / 100;
	b->size = want < (double)b->max ? (size_t)want : b->max;
	return b->size;
}
