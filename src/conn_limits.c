/* conn_limits: see conn_limits.h. */
#include "conn_limits.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "assoc.h"
#include "log.h"
#include "ratelimit.h"
#include "tcp_conn.h"

/* The sweep runs this many times per idle_timeout_s: a connection is reset
 * between 1 and 1 + 1/LIMITS_SWEEPS timeouts after its last byte. */
#define LIMITS_SWEEPS 4

/* The smallest SO_SNDBUF/SO_RCVBUF limits_socket_bufs sets: below it, with
 * the smallest windows, TCP's receive window drops under a few segments
 * and the leg crawls (silly-window avoidance, delayed ACKs). */
#define LIMITS_SOCKBUF_MIN (64 * 1024)

static void limits_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct limits *l = w->data;
	ev_tstamp now = ev_now(loop);
	struct conn *c = TAILQ_FIRST(&l->assoc->conns);
	while (c) {
		struct conn *next = TAILQ_NEXT(c, link);
		uint64_t moved = c->bytes_up + c->bytes_down;
		if (c->idle_since == 0 || moved != c->idle_mark) {
			c->idle_mark = moved;
			c->idle_since = c->idle_since == 0 ? c->started : now;
		}
		if (c->state == CONN_OPEN && c->fd >= 0 && !c->finished &&
		    now - c->idle_since >= l->idle_timeout_s) {
			l->n_idle_reset++;
			log_info_limited("stream %u: no data either way for %u s (idle_timeout_s); "
			                 "resetting %s %s on forward %s",
			                 c->sid, l->idle_timeout_s, c->opener ? "client" : "target",
			                 c->peer_text, c->target.name);
			if (!c->end_why)
				c->end_why = "idle (idle_timeout_s)";
			conn_abort(c, FRAME_RST_TIMEOUT);
		}
		c = next;
	}
}

static int forward_index(const struct limits *l, const char *fwd)
{
	for (size_t i = 0; i < l->n_forwards; i++)
		if (strcmp(l->fwd[i].name, fwd) == 0)
			return (int)i;
	return -1;
}

void limits_init(struct limits *l, struct ev_loop *loop, struct assoc *a, const struct config *c)
{
	memset(l, 0, sizeof *l);
	l->loop = loop;
	l->assoc = a;
	l->max_total = c->max_connections;
	l->idle_timeout_s = c->idle_timeout_s;
	l->keepalive = c->tcp_keepalive;
	l->keep_idle = (int)c->tcp_keepalive_idle_s;
	l->keep_interval = (int)c->tcp_keepalive_interval_s;
	l->keep_count = (int)c->tcp_keepalive_count;
	l->n_forwards = c->n_forwards;
	for (size_t i = 0; i < c->n_forwards; i++) {
		snprintf(l->fwd[i].name, sizeof l->fwd[i].name, "%s", c->forwards[i].name);
		l->fwd[i].max = c->forwards[i].max_connections;
	}
	double every = (double)l->idle_timeout_s / LIMITS_SWEEPS;
	ev_timer_init(&l->sweep, limits_sweep_cb, every, every);
	l->sweep.data = l;
	if (l->idle_timeout_s)
		ev_timer_start(loop, &l->sweep);
}

/* Reload: a forward keeps its slot while it exists, and a removed one
 * while connections still count on it (their fwd_slot points at it); a
 * slot no forward names and none counts on is free for a new forward. */
void limits_reload(struct limits *l, const struct config *c)
{
	l->max_total = c->max_connections;
	l->keepalive = c->tcp_keepalive;
	l->keep_idle = (int)c->tcp_keepalive_idle_s;
	l->keep_interval = (int)c->tcp_keepalive_interval_s;
	l->keep_count = (int)c->tcp_keepalive_count;
	for (size_t i = 0; i < l->n_forwards; i++)
		l->fwd[i].max = 0; /* removed forwards: no clients come any more */
	for (size_t k = 0; k < c->n_forwards; k++) {
		const struct config_forward *f = &c->forwards[k];
		int i = forward_index(l, f->name);
		for (size_t j = 0; i < 0 && j < l->n_forwards; j++) {
			bool named = false;
			for (size_t m = 0; m < c->n_forwards && !named; m++)
				named = strcmp(c->forwards[m].name, l->fwd[j].name) == 0;
			if (!named && l->fwd[j].open == 0)
				i = (int)j;
		}
		if (i < 0 && l->n_forwards < CONFIG_MAX_FORWARDS)
			i = (int)l->n_forwards++;
		if (i < 0) {
			log_warn(
			    "forward %s: its max_connections waits until connections of removed "
			    "forwards finish",
			    f->name);
			continue;
		}
		if (strcmp(l->fwd[i].name, f->name) != 0) {
			snprintf(l->fwd[i].name, sizeof l->fwd[i].name, "%s", f->name);
			l->fwd[i].open = 0;
		}
		l->fwd[i].max = f->max_connections;
	}
	if (c->idle_timeout_s != l->idle_timeout_s) {
		l->idle_timeout_s = c->idle_timeout_s;
		ev_timer_stop(l->loop, &l->sweep);
		double every = (double)l->idle_timeout_s / LIMITS_SWEEPS;
		ev_timer_set(&l->sweep, every, every);
		if (l->idle_timeout_s)
			ev_timer_start(l->loop, &l->sweep);
	}
}

void limits_stop(struct limits *l)
{
	ev_timer_stop(l->loop, &l->sweep);
}

const char *limits_refusal_name(enum limits_refusal r)
{
	static const char *const names[LIMITS_REFUSED_N_] = {
	    [LIMITS_REFUSED_NOT_READY] = "not_ready",
	    [LIMITS_REFUSED_MAX_CONNECTIONS] = "max_connections",
	    [LIMITS_REFUSED_FORWARD_LIMIT] = "forward_limit",
	    [LIMITS_REFUSED_MEMORY] = "memory",
	    [LIMITS_REFUSED_STREAMS] = "streams",
	    [LIMITS_REFUSED_PEER] = "peer",
	    [LIMITS_REFUSED_TIMEOUT] = "timeout",
	};
	return r < LIMITS_REFUSED_N_ ? names[r] : "?";
}

void limits_refused(struct limits *l, const char *fwd, enum limits_refusal why)
{
	int i = forward_index(l, fwd);
	if (i >= 0 && why < LIMITS_REFUSED_N_)
		l->fwd[i].refused[why]++;
}

void limits_conn_carried(struct limits *l, struct conn *c)
{
	if (c->fwd_slot)
		l->fwd[c->fwd_slot - 1].accepted++;
}

bool limits_admit_client(struct limits *l, size_t n_conns, const char *fwd, const char *who)
{
	if (l->max_total && n_conns >= l->max_total) {
		l->n_refused_total++;
		limits_refused(l, fwd, LIMITS_REFUSED_MAX_CONNECTIONS);
		log_warn_limited("max_connections (%u) reached; resetting client %s on forward %s "
		                 "(%llu refused at the limit so far)",
		                 l->max_total, who, fwd, (unsigned long long)l->n_refused_total);
		return false;
	}
	int i = forward_index(l, fwd);
	if (i >= 0 && l->fwd[i].max && l->fwd[i].open >= l->fwd[i].max) {
		l->n_refused_forward++;
		l->fwd[i].refused[LIMITS_REFUSED_FORWARD_LIMIT]++;
		log_warn_limited("forward %s: max_connections (%u) reached; resetting client %s "
		                 "(%llu refused at forward limits so far)",
		                 fwd, l->fwd[i].max, who, (unsigned long long)l->n_refused_forward);
		return false;
	}
	return true;
}

bool limits_admit_open(struct limits *l, size_t n_conns, uint16_t sid, const char *fwd)
{
	if (!l->max_total || n_conns < l->max_total)
		return true;
	l->n_refused_total++;
	log_warn_limited("max_connections (%u) reached; refusing the peer's OPEN on stream %u "
	                 "for forward %s (%llu refused at the limit so far)",
	                 l->max_total, sid, fwd, (unsigned long long)l->n_refused_total);
	return false;
}

void limits_socket_bufs(int fd, size_t window)
{
	size_t want = window / 2 < LIMITS_SOCKBUF_MIN ? LIMITS_SOCKBUF_MIN : window / 2;
	int half = want > INT_MAX ? INT_MAX : (int)want;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof half);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
}

void limits_socket_keepalive(const struct limits *l, int fd)
{
	int on = l->keepalive ? 1 : 0;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	if (!on)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &l->keep_idle, sizeof l->keep_idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &l->keep_interval, sizeof l->keep_interval);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &l->keep_count, sizeof l->keep_count);
}

void limits_conn_opened(struct limits *l, struct conn *c)
{
	int i = forward_index(l, c->target.name);
	if (i < 0)
		return;
	c->fwd_slot = (uint8_t)(i + 1);
	l->fwd[i].open++;
}

void limits_conn_gone(struct limits *l, struct conn *c)
{
	if (c->fwd_slot == 0)
		return;
	l->fwd[c->fwd_slot - 1].open--;
	l->fwd[c->fwd_slot - 1].bytes_up += c->bytes_up;
	l->fwd[c->fwd_slot - 1].bytes_down += c->bytes_down;
	c->fwd_slot = 0;
}
