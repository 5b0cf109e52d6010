/* stream: see stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>

/* Our ids are first, first + 2, ...: bit k of free_bits is id first + 2k. */
static uint16_t first_own(const struct stream_table *t)
{
	return t->own_odd ? 1 : 2;
}

static void free_push(struct stream_table *t, uint16_t sid)
{
	size_t k = (size_t)(sid - first_own(t)) / 2;
	uint64_t bit = (uint64_t)1 << (k % 64);
	if (t->free_bits[k / 64] & bit)
		return; /* already free: the count must stay true */
	t->free_bits[k / 64] |= bit;
	if (k / 64 < t->low)
		t->low = k / 64;
	t->n_free++;
}

struct stream_table *stream_table_new(uint16_t n, bool own_odd)
{
	struct stream_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n = n;
	t->own_odd = own_odd;
	t->slots = calloc(n ? n : 1, sizeof *t->slots);
	t->words = (size_t)n / 2 / 64 + 1;
	t->free_bits = calloc(t->words, sizeof *t->free_bits);
	if (!t->slots || !t->free_bits) {
		stream_table_free(t);
		return NULL;
	}
	for (uint32_t sid = first_own(t); sid < n; sid += 2)
		free_push(t, (uint16_t)sid);
	t->low = 0;
	return t;
}

void stream_table_free(struct stream_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->free_bits);
	free(t);
}

bool stream_is_own(const struct stream_table *t, uint16_t sid)
{
	return sid != 0 && (sid & 1) == (t->own_odd ? 1 : 0);
}

int stream_alloc(struct stream_table *t, void *conn)
{
	while (t->n_free > 0 && t->low < t->words && !t->free_bits[t->low])
		t->low++;
	if (t->n_free == 0 || t->low == t->words)
		return -ENOSPC;
	unsigned bit = (unsigned)__builtin_ctzll(t->free_bits[t->low]);
	t->free_bits[t->low] &= ~((uint64_t)1 << bit);
	t->n_free--;
	uint16_t sid = (uint16_t)(first_own(t) + 2 * (t->low * 64 + bit));
	t->slots[sid].state = STREAM_ACTIVE;
	t->slots[sid].conn = conn;
	t->slots[sid].dgram = false;
	t->active++;
	return sid;
}

void stream_unalloc(struct stream_table *t, uint16_t sid)
{
	struct stream_slot *s = stream_get(t, sid);
	if (!s || !stream_is_own(t, sid) || s->state != STREAM_ACTIVE)
		return;
	s->state = STREAM_FREE;
	s->conn = NULL;
	s->dgram = false;
	s->peer_closed = false;
	t->active--;
	free_push(t, sid);
}

struct stream_slot *stream_get(struct stream_table *t, uint16_t sid)
{
	if (sid == 0 || sid >= t->n)
		return NULL;
	return &t->slots[sid];
}

void stream_done(struct stream_table *t, uint16_t sid)
{
	struct stream_slot *s = stream_get(t, sid);
	if (!s || s->state != STREAM_ACTIVE)
		return;
	s->conn = NULL;
	s->dgram = false;
	if (stream_is_own(t, sid) && !s->peer_closed) {
		s->state = STREAM_WAIT_CLOSED;
	} else if (stream_is_own(t, sid)) {
		s->state = STREAM_FREE;
		s->peer_closed = false;
		t->active--;
		free_push(t, sid);
	} else {
		s->state = STREAM_FREE;
		t->active--;
	}
}

int stream_closed(struct stream_table *t, uint16_t sid)
{
	struct stream_slot *s = stream_get(t, sid);
	if (!s || !stream_is_own(t, sid) || s->state == STREAM_FREE || s->peer_closed)
		return -EPROTO;
	if (s->state == STREAM_ACTIVE) {
		/* The peer is finished; we still write to our TCP socket. */
		s->peer_closed = true;
		return 0;
	}
	s->state = STREAM_FREE;
	t->active--;
	free_push(t, sid);
	return 0;
}

int stream_accept(struct stream_table *t, uint16_t sid, void *conn)
{
	struct stream_slot *s = stream_get(t, sid);
	if (!s || stream_is_own(t, sid))
		return -EPROTO;
	if (s->state != STREAM_FREE)
		return -EBUSY;
	s->state = STREAM_ACTIVE;
	s->conn = conn;
	s->dgram = false;
	t->active++;
	return 0;
}
