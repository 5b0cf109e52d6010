/* fake_engine: see fake_engine.h. */
#include "fake_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fake_ev_kind {
	FAKE_UP,       /* the association is up: up(streams) */
	FAKE_DOWN,     /* the association is gone: down(why) */
	FAKE_MSG,      /* one message from the peer: message(sid, data) */
	FAKE_SHUTDOWN, /* the peer's SHUTDOWN, behind its last message */
	FAKE_WRITABLE, /* room again after -EAGAIN: writable() */
};

struct fake_ev {
	struct fake_ev *next;
	enum fake_ev_kind kind;
	struct fake_engine *from; /* MSG: the sender, for its in-flight count */
	uint16_t sid;
	uint16_t streams;
	bool graceful; /* DOWN: ended by SHUTDOWN */
	bool authed;   /* MSG: under SCTP-AUTH key auth_key, fixed when queued */
	struct fake_key auth_key;
	char why[96];
	size_t len;
	uint8_t data[];
};

static struct fake_engine *all_engines;
static bool fail_next_new;

struct fake_engine *fake_of(struct engine *e)
{
	return (struct fake_engine *)e;
}

/* --- the inbox ------------------------------------------------------- */

static bool is_msg(const struct fake_ev *ev)
{
	return ev->kind == FAKE_MSG || ev->kind == FAKE_SHUTDOWN;
}

static bool msg_blocked(const struct fake_engine *e, const struct fake_ev *ev)
{
	if (e->hold_type == FAKE_HOLD_ALL)
		return true;
	if (ev->kind == FAKE_MSG && e->hold_sid >= 0 && ev->sid == (uint16_t)e->hold_sid)
		return true;
	if (ev->kind == FAKE_MSG && e->hold_sid2 >= 0 && ev->sid == (uint16_t)e->hold_sid2)
		return true;
	return ev->kind == FAKE_MSG && e->hold_type >= 0 && ev->len > 0 &&
	       ev->data[0] == (uint8_t)e->hold_type;
}

/* The first event E may take now, and the link that points at it. SCTP
 * keeps order within a stream only: a blocked message holds back the later
 * messages on its stream, not those on other streams. A SHUTDOWN waits for
 * every message before it. */
static struct fake_ev **next_deliverable(struct fake_engine *e)
{
	static uint8_t blocked[65536 / 8];
	bool any_blocked = false;
	for (struct fake_ev **pp = &e->inbox_head; *pp; pp = &(*pp)->next) {
		struct fake_ev *ev = *pp;
		if (!is_msg(ev))
			return pp;
		if (ev->kind == FAKE_SHUTDOWN) {
			if (!any_blocked && e->hold_type != FAKE_HOLD_ALL)
				return pp;
			break;
		}
		if (!any_blocked)
			memset(blocked, 0, sizeof blocked);
		bool stuck = (blocked[ev->sid / 8] >> (ev->sid % 8)) & 1;
		if (!stuck && !msg_blocked(e, ev))
			return pp;
		any_blocked = true;
		blocked[ev->sid / 8] |= (uint8_t)(1u << (ev->sid % 8));
	}
	return NULL;
}

static void kick(struct fake_engine *e)
{
	if (next_deliverable(e))
		ev_idle_start(e->base.loop, &e->idle);
	else
		ev_idle_stop(e->base.loop, &e->idle);
}

static void inbox_fix_tail(struct fake_engine *e)
{
	e->inbox_tail = &e->inbox_head;
	while (*e->inbox_tail)
		e->inbox_tail = &(*e->inbox_tail)->next;
}

static struct fake_ev *ev_new(enum fake_ev_kind kind, size_t len)
{
	struct fake_ev *ev = calloc(1, sizeof *ev + len);
	if (!ev) {
		fprintf(stderr, "fake_engine: out of memory\n");
		abort();
	}
	ev->kind = kind;
	ev->len = len;
	return ev;
}

static void push(struct fake_engine *e, struct fake_ev *ev)
{
	ev->next = NULL;
	*e->inbox_tail = ev;
	e->inbox_tail = &ev->next;
	kick(e);
}

static void push_simple(struct fake_engine *e, enum fake_ev_kind kind, const char *why)
{
	struct fake_ev *ev = ev_new(kind, 0);
	if (why && why[0] == '+') {
		ev->graceful = true; /* see both_down() */
		why++;
	}
	if (why)
		snprintf(ev->why, sizeof ev->why, "%s", why);
	push(e, ev);
}

/* A message left SENDER's queue: maybe it has room again. */
static void sender_drained(struct fake_engine *sender)
{
	if (!sender)
		return;
	sender->in_flight--;
	if (sender->owe_writable && !sender->full &&
	    (sender->limit == 0 || sender->in_flight < sender->limit)) {
		sender->owe_writable = false;
		push_simple(sender, FAKE_WRITABLE, NULL);
	}
}

/* Drop every message and pending writable from E's inbox. */
static void drop_messages(struct fake_engine *e)
{
	struct fake_ev **pp = &e->inbox_head;
	while (*pp) {
		struct fake_ev *ev = *pp;
		if (is_msg(ev) || ev->kind == FAKE_WRITABLE) {
			*pp = ev->next;
			if (ev->kind == FAKE_MSG && ev->from)
				ev->from->in_flight--;
			free(ev);
		} else {
			pp = &ev->next;
		}
	}
	inbox_fix_tail(e);
	e->owe_writable = false;
	kick(e);
}

/* The association ends at both ends (whichever exist). A WHY that starts
 * with '+' marks a graceful end (SHUTDOWN); the '+' is not shown. */
static void both_down(struct fake_engine *e, const char *why_here, const char *why_peer)
{
	struct fake_engine *p = e->peer;
	if (e->up) {
		e->up = false;
		e->shutting_down = false;
		drop_messages(e);
		push_simple(e, FAKE_DOWN, why_here);
	}
	if (p && p->up) {
		p->up = false;
		p->shutting_down = false;
		drop_messages(p);
		push_simple(p, FAKE_DOWN, why_peer);
	}
}

static void fake_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)revents;
	struct fake_engine *e = w->data;
	struct fake_ev **pp = next_deliverable(e);
	if (!pp) {
		ev_idle_stop(e->base.loop, &e->idle);
		return;
	}
	struct fake_ev *ev = *pp;
	*pp = ev->next;
	inbox_fix_tail(e);
	kick(e);

	/* Callbacks may call back into the ops (send, abort): EV is already
	 * unlinked, and ops never run callbacks themselves. */
	switch (ev->kind) {
	case FAKE_UP:
		e->n_up++;
		e->base.cb.up(e->base.ctx, ev->streams);
		break;
	case FAKE_DOWN:
		e->n_down++;
		snprintf(e->last_down, sizeof e->last_down, "%s", ev->why);
		e->base.cb.down(e->base.ctx, ev->graceful, ev->why);
		break;
	case FAKE_MSG:
		sender_drained(ev->from);
		if (ev->authed) {
			/* The stack checks the packet's key number and HMAC
			 * against the keys it holds now. */
			const struct fake_key *k = fake_engine_key(e, ev->auth_key.id);
			if (!k || k->len != ev->auth_key.len ||
			    memcmp(k->key, ev->auth_key.key, k->len) != 0)
				e->n_auth_bad++;
		}
		e->base.cb.message(e->base.ctx, ev->sid, ev->data, ev->len);
		break;
	case FAKE_SHUTDOWN:
		both_down(e, "+peer shut down", "+shutdown complete");
		break;
	case FAKE_WRITABLE:
		e->n_writable++;
		e->base.cb.writable(e->base.ctx);
		break;
	}
	free(ev);
}

/* --- engine_ops ------------------------------------------------------ */

static uint16_t streams_for(const struct fake_engine *e, const struct fake_engine *other)
{
	if (e->streams)
		return e->streams;
	uint16_t n = e->params.max_streams;
	if (other && other->params.max_streams < n)
		n = other->params.max_streams;
	return n;
}

static void bring_up(struct fake_engine *e)
{
	struct fake_ev *ev = ev_new(FAKE_UP, 0);
	ev->streams = streams_for(e, e->peer);
	e->up = true;
	memset(e->keys, 0, sizeof e->keys);
	e->keys[0].set = true; /* the null key (number 0): empty */
	e->active = 0;
	push(e, ev);
}

static int fake_open(struct engine *base)
{
	struct fake_engine *e = fake_of(base);
	e->n_open++;
	if (e->up)
		return -EALREADY;
	if (e->params.role == CONFIG_ROLE_ACCEPT && !e->peerless) {
		e->listening = true;
		return 0;
	}
	if (e->peerless) {
		bring_up(e);
		return 0;
	}
	struct fake_engine *p = e->peer;
	if (p && p->listening && !p->up) {
		bring_up(e);
		bring_up(p);
		return 0;
	}
	/* Nobody listens: this attempt fails, later. */
	push_simple(e, FAKE_DOWN, "connection refused");
	return 0;
}

static void log_sent(struct fake_engine *e, uint16_t sid, const uint8_t *msg, size_t len,
                     bool urgent)
{
	if (e->n_sent == e->sent_cap) {
		size_t cap = e->sent_cap ? e->sent_cap * 2 : 256;
		struct fake_sent *s = realloc(e->sent, cap * sizeof *s);
		if (!s) {
			fprintf(stderr, "fake_engine: out of memory\n");
			abort();
		}
		e->sent = s;
		e->sent_cap = cap;
	}
	struct fake_sent *s = &e->sent[e->n_sent++];
	memset(s, 0, sizeof *s);
	s->sid = sid;
	s->len = len;
	s->urgent = urgent;
	memcpy(s->head, msg, len < sizeof s->head ? len : sizeof s->head);
}

static int fake_send(struct engine *base, uint16_t sid, const void *msg, size_t len, bool urgent)
{
	struct fake_engine *e = fake_of(base);
	if (!e->up || e->shutting_down)
		return -ENOTCONN;
	if (sid >= streams_for(e, e->peer))
		return -EINVAL;
	if (e->full || (e->limit && e->in_flight >= e->limit)) {
		e->n_eagain++;
		e->owe_writable = true;
		return -EAGAIN;
	}
	if (e->fail_err && len > 0 && ((const uint8_t *)msg)[0] == e->fail_type) {
		int err = e->fail_err;
		e->fail_err = 0;
		return -err;
	}
	log_sent(e, sid, msg, len, urgent);
	if (e->peerless || !e->peer)
		return 0;
	struct fake_ev *ev = ev_new(FAKE_MSG, len);
	ev->from = e;
	ev->sid = sid;
	/* The key is fixed now (usrsctp: when the message is queued); the
	 * receiver checks it when the message arrives (fake_idle_cb). */
	const struct fake_key *k = fake_engine_key(e, e->active);
	if (e->chunk_auth && e->peer->chunk_auth && k) {
		ev->authed = true;
		ev->auth_key = *k;
	}
	memcpy(ev->data, msg, len);
	e->in_flight++;
	push(e->peer, ev);
	return 0;
}

/* A datagram: like send, but a full engine owes no writable for it (the
 * caller drops it), and it is counted. */
static int fake_send_dgram(struct engine *base, uint16_t sid, const void *msg, size_t len,
                           bool unordered, unsigned lifetime_ms)
{
	struct fake_engine *e = fake_of(base);
	(void)lifetime_ms;
	if (e->up && !e->shutting_down && (e->full || (e->limit && e->in_flight >= e->limit)))
		return -EAGAIN;
	int rc = fake_send(base, sid, msg, len, false);
	if (rc == 0)
		e->n_dgram += unordered ? 1 : 0;
	return rc;
}

static void fake_shutdown(struct engine *base)
{
	struct fake_engine *e = fake_of(base);
	e->n_shutdown++;
	e->listening = false;
	if (!e->up || e->shutting_down)
		return;
	e->shutting_down = true;
	if (e->peerless || !e->peer) {
		both_down(e, "+shutdown complete", NULL);
		return;
	}
	/* Behind everything already sent, as SCTP's SHUTDOWN is. */
	push_simple(e->peer, FAKE_SHUTDOWN, NULL);
}

static void fake_abort(struct engine *base, const char *why)
{
	struct fake_engine *e = fake_of(base);
	e->n_abort++;
	snprintf(e->last_abort, sizeof e->last_abort, "%s", why);
	char peer_why[128];
	snprintf(peer_why, sizeof peer_why, "peer aborted: %s", why);
	both_down(e, why, peer_why);
}

static void fake_free(struct engine *base)
{
	struct fake_engine *e = fake_of(base);
	ev_idle_stop(e->base.loop, &e->idle);
	while (e->inbox_head) {
		struct fake_ev *ev = e->inbox_head;
		e->inbox_head = ev->next;
		if (ev->kind == FAKE_MSG && ev->from)
			ev->from->in_flight--;
		free(ev);
	}
	struct fake_engine *p = e->peer;
	if (p) {
		for (struct fake_ev *ev = p->inbox_head; ev; ev = ev->next)
			if (ev->from == e)
				ev->from = NULL;
		p->peer = NULL;
		if (p->up) {
			p->up = false;
			drop_messages(p);
			push_simple(p, FAKE_DOWN, "peer gone");
		}
	}
	for (struct fake_engine **pp = &all_engines; *pp; pp = &(*pp)->next_all) {
		if (*pp == e) {
			*pp = e->next_all;
			break;
		}
	}
	free(e->sent);
	free(e);
}

/* The fake has no paths: path logic is exercised through the real engine
 * in the failover scenarios. */
static int fake_path_info(struct engine *e, size_t i, struct engine_path_info *out)
{
	(void)e;
	(void)i;
	(void)out;
	return -ENOTCONN;
}

static int fake_set_primary(struct engine *e, size_t i)
{
	(void)e;
	(void)i;
	return -ENOTCONN;
}

/* Reload: keep what the assoc was told, for assertions. */
static int fake_set_timers(struct engine *e, const struct engine_params *p)
{
	struct fake_engine *f = fake_of(e);
	engine_params_take_timers(&f->params, p);
	f->n_set_timers++;
	return 0;
}

static int fake_stats(struct engine *e, struct engine_stats *out)
{
	*out = fake_of(e)->stats;
	return 0;
}

static int fake_chunk_key(struct engine *base, enum engine_key_op op, uint16_t id,
                          const uint8_t *key, size_t len)
{
	struct fake_engine *e = fake_of(base);
	if (!e->up)
		return -ENOTCONN;
	if (op == ENGINE_KEY_CHECK)
		return e->chunk_auth && e->peer && e->peer->chunk_auth ? 0 : -EOPNOTSUPP;
	if (len > sizeof e->keys[0].key)
		return -EINVAL;
	e->n_key_ops++;
	struct fake_key *k = (struct fake_key *)fake_engine_key(e, id);
	switch (op) {
	case ENGINE_KEY_ADD:
		if (!k)
			for (size_t i = 0; i < FAKE_KEYS && !k; i++)
				if (!e->keys[i].set)
					k = &e->keys[i];
		if (!k)
			return -ENOSPC;
		k->set = true;
		k->id = id;
		k->len = len;
		memcpy(k->key, key, len);
		return 0;
	case ENGINE_KEY_ACTIVATE:
		if (!k)
			return -EINVAL;
		e->active = id;
		return 0;
	case ENGINE_KEY_DELETE:
		if (id == e->active || !k)
			return -EINVAL; /* as both stacks refuse the active key */
		/* usrsctp: nor one that messages still queued hold. */
		for (const struct fake_ev *ev = e->peer ? e->peer->inbox_head : NULL; ev;
		     ev = ev->next)
			if (ev->kind == FAKE_MSG && ev->from == e && ev->authed &&
			    ev->auth_key.id == id)
				return -EINVAL;
		k->set = false;
		return 0;
	default:
		return -EINVAL;
	}
}

static const struct engine_ops fake_ops = {
    .name = "fake",
    .open = fake_open,
    .send = fake_send,
    .send_dgram = fake_send_dgram,
    .shutdown = fake_shutdown,
    .abort = fake_abort,
    .free = fake_free,
    .path_info = fake_path_info,
    .set_primary = fake_set_primary,
    .set_timers = fake_set_timers,
    .stats = fake_stats,
    .chunk_key = fake_chunk_key,
};

/* --- what the assoc links against ------------------------------------ */

struct engine *engine_new(enum config_engine choice, struct ev_loop *loop,
                          const struct engine_params *p, const struct engine_callbacks *cb,
                          void *ctx)
{
	(void)choice;
	if (fail_next_new) {
		fail_next_new = false;
		return NULL;
	}
	struct fake_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->base.ops = &fake_ops;
	e->base.loop = loop;
	e->base.cb = *cb;
	e->base.ctx = ctx;
	e->params = *p;
	e->hold_type = FAKE_HOLD_NONE;
	e->hold_sid = -1;
	e->hold_sid2 = -1;
	e->inbox_tail = &e->inbox_head;
	ev_idle_init(&e->idle, fake_idle_cb);
	/* libev runs idle watchers of a priority only in iterations where no
	 * other watcher of that priority is pending; at the default priority
	 * the association's zero-delay pump timer (and under valgrind the
	 * test's 2 ms tick) would starve delivery. At the top priority it
	 * runs every iteration, as a real engine's I/O watcher would. */
	ev_set_priority(&e->idle, EV_MAXPRI);
	e->idle.data = e;
	e->next_all = all_engines;
	all_engines = e;
	return &e->base;
}

/* --- test controls --------------------------------------------------- */

void fake_engine_pair(struct fake_engine *x, struct fake_engine *y)
{
	x->peer = y;
	y->peer = x;
}

void fake_engine_set_peerless(struct fake_engine *e, uint16_t streams)
{
	e->peerless = true;
	e->streams = streams;
}

void fake_engine_set_streams(struct fake_engine *e, uint16_t streams)
{
	e->streams = streams;
}

static void maybe_writable(struct fake_engine *e)
{
	if (e->owe_writable && !e->full && (e->limit == 0 || e->in_flight < e->limit)) {
		e->owe_writable = false;
		push_simple(e, FAKE_WRITABLE, NULL);
	}
}

void fake_engine_set_full(struct fake_engine *e, bool full)
{
	e->full = full;
	maybe_writable(e);
}

void fake_engine_fail_next(struct fake_engine *e, uint8_t type, int err)
{
	e->fail_type = type;
	e->fail_err = err;
}

void fake_engine_set_limit(struct fake_engine *e, size_t n)
{
	e->limit = n;
	maybe_writable(e);
}

void fake_engine_down(struct fake_engine *e, const char *why)
{
	both_down(e, why, why);
}

void fake_engine_restart(struct fake_engine *e)
{
	struct fake_engine *p = e->peer;
	both_down(e, "peer restarted", "peer restarted");
	bring_up(e);
	if (p)
		bring_up(p);
}

void fake_engine_inject(struct fake_engine *to, uint16_t sid, const void *msg, size_t len)
{
	struct fake_ev *ev = ev_new(FAKE_MSG, len);
	ev->sid = sid;
	memcpy(ev->data, msg, len);
	push(to, ev);
}

void fake_engine_hold(struct fake_engine *to, int type)
{
	to->hold_type = type;
	kick(to);
}

void fake_engine_release(struct fake_engine *to)
{
	to->hold_type = FAKE_HOLD_NONE;
	to->hold_sid = -1;
	to->hold_sid2 = -1;
	kick(to);
}

void fake_engine_hold_sid2(struct fake_engine *to, uint16_t sid)
{
	to->hold_sid2 = sid;
	kick(to);
}

void fake_engine_release_sid(struct fake_engine *to, uint16_t sid)
{
	if (to->hold_sid == sid)
		to->hold_sid = -1;
	if (to->hold_sid2 == sid)
		to->hold_sid2 = -1;
	kick(to);
}

void fake_engine_hold_sid(struct fake_engine *to, uint16_t sid)
{
	to->hold_sid = sid;
	kick(to);
}

const struct fake_key *fake_engine_key(const struct fake_engine *e, uint16_t id)
{
	for (size_t i = 0; i < FAKE_KEYS; i++)
		if (e->keys[i].set && e->keys[i].id == id)
			return &e->keys[i];
	return NULL;
}

size_t fake_engine_queued(const struct fake_engine *to)
{
	size_t n = 0;
	for (const struct fake_ev *ev = to->inbox_head; ev; ev = ev->next)
		n += is_msg(ev);
	return n;
}

bool fake_engine_busy(void)
{
	for (struct fake_engine *e = all_engines; e; e = e->next_all)
		if (next_deliverable(e))
			return true;
	return false;
}

size_t fake_engine_count_sent(const struct fake_engine *e, uint16_t sid, int type)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_sent; i++)
		if (e->sent[i].sid == sid && (type < 0 || e->sent[i].head[0] == (uint8_t)type))
			n++;
	return n;
}

void fake_engine_fail_next_new(void)
{
	fail_next_new = true;
}
