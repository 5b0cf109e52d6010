/* conn_limits: see conn_limits.h. */
#include "conn_limits.h"

#include <limits.h>
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
			conn_abort(c, FRAME_RST_TIMEOUT);
		}
		c = next;
	}
}

void limits_init(struct limits *l, struct ev_loop *loop, struct assoc *a, const struct config *c)
{
	memset(l, 0, sizeof *l);
	l->loop = loop;
	l->assoc = a;
	l->max_total = c->max_connections;
	l->idle_timeout_s = c->idle_timeout_s;
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

void limits_stop(struct limits *l)
{
	ev_timer_stop(l->loop, &l->sweep);
}

static int forward_index(const struct limits *l, const char *fwd)
{
	for (size_t i = 0; i < l->n_forwards; i++)
		if (strcmp(l->fwd[i].name, fwd) == 0)
			return (int)i;
	return -1;
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
