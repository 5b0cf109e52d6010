/*
 * assoc_conns: the association's books on its connections (assoc.h, "for
 * tcp_conn.c"): stream ids taken and bound, each connection's receive
 * window reserved out of memory_limit, and the clients and OPENs refused
 * (memory_limit, the peer's GOAWAY, [egress] allow, OPEN timeouts),
 * counted and logged at a bounded rate.
 *
 * Start here to check the accounting invariants (docs/ARCHITECTURE.md):
 * mem_reserved changes only in this file, and assoc_invariants_hold()
 * checks it against every connection. The ready list and the pump are in
 * assoc_send.c.
 */
#include "assoc.h"

#include <assert.h>
#include <errno.h>

#include "log.h"
#include "ratelimit.h"

void assoc_egress_refused(struct assoc *a, uint16_t sid, const char *fwd, const char *what,
                          const char *dst)
{
	a->n_egress_refused++;
	log_warn_limited("stream %u: peer %s, forward %s: %sdestination %s is not in [egress] "
	                 "allow; refused (to permit it, add it to [egress] allow in %s)",
	                 sid, a->peer_name, fwd, what, dst, a->config_file);
}

bool assoc_admit_client(struct assoc *a, const char *who, const char *fwd)
{
	if (!a->peer_goaway)
		return true;
	a->n_goaway_refused++;
	ev_tstamp now = ev_now(a->loop);
	if (a->goaway_logged_at == 0 || now - a->goaway_logged_at >= ASSOC_LOG_EVERY) {
		log_warn("forward %s: the peer gateway is draining (GOAWAY); resetting client %s "
		         "without opening a stream (%llu reset so far)",
		         fwd, who, (unsigned long long)a->n_goaway_refused);
		a->goaway_logged_at = now;
	}
	return false;
}

bool assoc_conn_grow(struct assoc *a, struct conn *c, uint32_t by)
{
	if (a->mem_reserved + by > a->memory_limit - a->memory_limit / ASSOC_GROWTH_KEEP)
		return false;
	uint32_t before = c->rxw.size;
	window_grow(&c->rxw, by); /* at most to conn_window_max */
	a->mem_reserved += c->rxw.size - before;
	assert(a->mem_reserved <= a->memory_limit);
	return true;
}

void assoc_conn_shrink(struct assoc *a, struct conn *c)
{
	uint32_t released = window_shrink(&c->rxw);
	assert(a->mem_reserved >= released);
	a->mem_reserved -= released;
}

bool assoc_has_room(const struct assoc *a)
{
	return a->mem_reserved + a->conn_window <= a->memory_limit;
}

uint64_t assoc_rtx_count(struct assoc *a)
{
	struct engine_stats s = {0};
	if (!a->engine || !a->engine->ops->stats || a->engine->ops->stats(a->engine, &s) < 0)
		return 0;
	return s.retransmitted_chunks;
}

double assoc_open_grace(struct assoc *a, uint64_t *rtx_seen, double waited)
{
	if (a->state != ASSOC_READY || waited >= a->open_timeout_max)
		return 0;
	uint64_t rtx = assoc_rtx_count(a);
	if (rtx <= *rtx_seen)
		return 0;
	*rtx_seen = rtx;
	a->n_open_graces++;
	double left = a->open_timeout_max - waited;
	return a->open_grace < left ? a->open_grace : left;
}

void assoc_open_timed_out(struct assoc *a, uint16_t sid, const char *client, const char *fwd,
                          double waited)
{
	a->n_open_timeouts++;
	limits_refused(&a->limits, fwd, LIMITS_REFUSED_TIMEOUT);
	log_warn("stream %u: forward %s: no answer from the peer gateway to OPEN within %.1f s; "
	         "resetting client %s (%llu such timeouts in all)",
	         sid, fwd, waited, client, (unsigned long long)a->n_open_timeouts);
}

void assoc_refused_for_memory(struct assoc *a, const char *what, const char *who, const char *fwd)
{
	a->n_refused_memory++;
	a->refused_unlogged++;
	ev_tstamp now = ev_now(a->loop);
	if (a->refused_logged_at > 0 && now - a->refused_logged_at < ASSOC_LOG_EVERY)
		return;
	log_warn("memory_limit reached: %zu connections reserve %zu of %zu bytes; resetting "
	         "%s %s on forward %s (%llu refused since the last such line, %llu in all)",
	         a->n_conns, a->mem_reserved, a->memory_limit, what, who, fwd,
	         (unsigned long long)a->refused_unlogged, (unsigned long long)a->n_refused_memory);
	a->refused_logged_at = now;
	a->refused_unlogged = 0;
}

int assoc_stream_alloc(struct assoc *a, struct conn *c)
{
	int sid = a->state == ASSOC_READY ? stream_alloc(a->streams, c) : -ENOTCONN;
	if (sid < 0)
		a->n_refused++;
	else
		a->n_opened++;
	return sid;
}

void assoc_stream_accept(struct assoc *a, uint16_t sid, struct conn *c)
{
	stream_accept(a->streams, sid, c);
}

void assoc_conn_add(struct assoc *a, struct conn *c)
{
	TAILQ_INSERT_TAIL(&a->conns, c, link);
	a->n_conns++;
	a->mem_reserved += c->rxw.size;
	/* Callers checked assoc_has_room first. */
	assert(a->mem_reserved <= a->mem_ceiling);
}

void assoc_conn_gone(struct assoc *a, struct conn *c)
{
	assert(a->n_conns > 0 && a->mem_reserved >= c->rxw.size);
	TAILQ_REMOVE(&a->conns, c, link);
	a->n_conns--;
	a->mem_reserved -= c->rxw.size;
	limits_conn_gone(&a->limits, c);
	assert(a->n_conns > 0 || a->mem_reserved == 0);
	if (a->mem_reserved <= a->memory_limit)
		a->mem_ceiling = a->memory_limit; /* a lowered limit holds again */
	if (c->ready) {
		TAILQ_REMOVE(&a->ready, c, ready_link);
		c->ready = false;
		a->n_ready--;
	}
	if (a->streams && c->sid != 0) {
		struct stream_slot *s = stream_get(a->streams, c->sid);
		if (s && s->conn == c)
			stream_done(a->streams, c->sid);
	}
}

bool assoc_invariants_hold(const struct assoc *a)
{
	size_t n = 0, reserved = 0;
	const struct conn *c;
	TAILQ_FOREACH(c, &a->conns, link)
	{
		n++;
		reserved += c->rxw.size;
		/* Windows grow and shrink between the conn_window and
		 * conn_window_max they were made with (window.h; a reload
		 * changes them for new connections only). */
		if (c->rxw.size < c->rxw.initial ||
		    (c->rxw.size > c->rxw.max && c->rxw.size > c->rxw.initial))
			return false;
		if (c->tx_credit > c->tx_window ||
		    (uint64_t)c->rx_avail + c->out.len + c->rxw.ungranted + c->rx_grant >
		        c->rxw.size)
			return false;
	}
	return n == a->n_conns && reserved == a->mem_reserved && reserved <= a->mem_ceiling &&
	       a->mem_ceiling >= a->memory_limit;
}
