/* stream: see stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>

static void ring_push(struct stream_table *t, uint16_t sid)
{
	t->ring[(t->ring_head + t->ring_len) % t->ring_cap] = sid;
	t->ring_len++;
}

struct stream_table *stream_table_new(uint16_t n, bool own_odd)
{
	struct stream_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n = n;
	t->own_odd = own_odd;
	t->slots = calloc(n ? n : 1, sizeof *t->slots);
	t->ring_cap = n / 2 + 1;
	t->ring = calloc(t->ring_cap, sizeof *t->ring);
	if (!t->slots || !t->ring) {
		stream_table_free(t);
		return NULL;
	}
	for (uint32_t sid = own_odd ? 1 : 2; sid < n; sid += 2)
		ring_push(t, (uint16_t)sid);
	return t;
}

void stream_table_free(struct stream_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->ring);
	free(t);
}

bool stream_is_own(const struct stream_table *t, uint16_t sid)
{
	return sid != 0 && (sid & 1) == (t->own_odd ? 1 : 0);
}

int stream_alloc(struct stream_table *t, void *conn)
{
	if (t->ring_len == 0)
		return -ENOSPC;
	uint16_t sid = t->ring[t->ring_head];
	t->ring_head = (t->ring_head + 1) % t->ring_cap;
	t->ring_len--;
	t->slots[sid].state = STREAM_ACTIVE;
	t->slots[sid].conn = conn;
	t->active++;
	return sid;
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
	if (stream_is_own(t, sid) && !s->peer_closed) {
		s->state = STREAM_WAIT_CLOSED;
	} else if (stream_is_own(t, sid)) {
		s->state = STREAM_FREE;
		s->peer_closed = false;
		t->active--;
		ring_push(t, sid);
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
	ring_push(t, sid);
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
	t->active++;
	return 0;
}
