/* udp_flow: see udp_flow.h. */
#include "udp_flow.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "assoc.h"
#include "log.h"
#include "ratelimit.h"
#include "udp_listener.h"

#define UDP_FLOW_BATCH 64 /* replies read per wake-up of a target socket */

static void sweep_arm(struct udp_flows *fl);
static void flow_free(struct udp_flows *fl, struct udp_flow *f);
static int reply_socket(struct udp_flow *f);
static void udp_flow_read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void udp_flows_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct udp_flows *fl = w->data;
	ev_tstamp now = ev_now(loop);
	struct udp_flow *f;
	while ((f = TAILQ_FIRST(&fl->lru)) != NULL && f->last + fl->idle_timeout <= now) {
		fl->c.expired++;
		log_debug("stream %u: UDP flow of %s idle for %.1f s; ended (%llu datagrams up, "
		          "%llu down)",
		          f->sid, f->text, now - f->last, (unsigned long long)f->up,
		          (unsigned long long)f->down);
		assoc_flow_end(fl->assoc, f->sid, true);
		flow_free(fl, f);
	}
	sweep_arm(fl);
}

/* The timer runs at the deadline of the least recently used flow. */
static void sweep_arm(struct udp_flows *fl)
{
	struct udp_flow *f = TAILQ_FIRST(&fl->lru);
	ev_timer_stop(fl->loop, &fl->sweep);
	if (!f)
		return;
	double in = f->last + fl->idle_timeout - ev_now(fl->loop);
	ev_timer_set(&fl->sweep, in > 0 ? in : 0., 0.);
	ev_timer_start(fl->loop, &fl->sweep);
}

struct udp_flows *udp_flows_new(struct ev_loop *loop, struct assoc *a, const struct config *c)
{
	struct udp_flows *fl = calloc(1, sizeof *fl);
	if (!fl)
		return NULL;
	fl->buf = malloc(UDP_FLOW_BUF);
	if (!fl->buf || flow_table_init(&fl->table) < 0) {
		free(fl->buf);
		free(fl);
		return NULL;
	}
	fl->loop = loop;
	fl->assoc = a;
	fl->lifetime_ms = c->udp_lifetime_ms;
	fl->idle_timeout = c->udp_idle_timeout_ms / 1000.0;
	fl->max_flows = c->udp_max_flows;
	TAILQ_INIT(&fl->lru);
	TAILQ_INIT(&fl->exits);
	ev_timer_init(&fl->sweep, udp_flows_sweep_cb, 0., 0.);
	fl->sweep.data = fl;
	return fl;
}

/* Unlink and free F; sends nothing. */
static void flow_free(struct udp_flows *fl, struct udp_flow *f)
{
	if (f->opener) {
		TAILQ_REMOVE(&fl->lru, f, link);
		flow_table_remove(&fl->table, &f->entry);
		if (f->fd >= 0) {
			ev_io_stop(fl->loop, &f->rio);
			close(f->fd);
		}
	} else {
		TAILQ_REMOVE(&fl->exits, f, link);
		ev_io_stop(fl->loop, &f->rio);
		close(f->fd);
	}
	fl->n--;
	free(f);
}

void udp_flows_kill_all(struct udp_flows *fl)
{
	if (!fl)
		return;
	struct udp_flow *f;
	while ((f = TAILQ_FIRST(&fl->lru)) != NULL)
		flow_free(fl, f);
	while ((f = TAILQ_FIRST(&fl->exits)) != NULL)
		flow_free(fl, f);
	ev_timer_stop(fl->loop, &fl->sweep);
}

void udp_flows_free(struct udp_flows *fl)
{
	if (!fl)
		return;
	udp_flows_kill_all(fl);
	flow_table_fini(&fl->table);
	free(fl->buf);
	free(fl);
}

/* The flow carried a datagram: it is the most recently used now. */
static void touch(struct udp_flows *fl, struct udp_flow *f)
{
	f->last = ev_now(fl->loop);
	if (f->opener && TAILQ_NEXT(f, link)) {
		TAILQ_REMOVE(&fl->lru, f, link);
		TAILQ_INSERT_TAIL(&fl->lru, f, link);
	}
}

static void refused_at_cap(struct udp_flows *fl, const char *what, const char *who)
{
	fl->c.refused_cap++;
	log_warn_limited("udp_max_flows %u reached: %s %s refused (%llu refused so far)",
	                 fl->max_flows, what, who, (unsigned long long)fl->c.refused_cap);
}

static void flow_close_fd(struct udp_flow *f)
{
	if (f->fd >= 0) {
		ev_io_stop(f->flows->loop, &f->rio);
		close(f->fd);
		f->fd = -1;
	}
}

/* Opener: a new client. Sends OPEN; NULL when the flow cannot be opened
 * now (counted; the datagram is dropped). */
static struct udp_flow *flow_open(struct udp_flows *fl, struct udp_listener *l,
                                  const struct sockaddr *client, const struct sockaddr *orig,
                                  const struct flow_key *k)
{
	struct assoc *a = fl->assoc;
	char who[ADDR_STRLEN];
	addr_format((const struct sockaddr_storage *)client, who, sizeof who);
	if (fl->n >= fl->max_flows) {
		refused_at_cap(fl, "client", who);
		return NULL;
	}
	if (!assoc_admit_client(a, who, l->name)) { /* the peer drains (GOAWAY) */
		fl->c.refused_other++;
		return NULL;
	}
	struct udp_flow *f = calloc(1, sizeof *f);
	if (!f) {
		fl->c.refused_other++;
		return NULL;
	}
	f->flows = fl;
	f->fd = -1;
	memcpy(&f->client, client,
	       client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                     : sizeof(struct sockaddr_in));
	if (orig) {
		memcpy(&f->orig, orig,
		       orig->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                   : sizeof(struct sockaddr_in));
		int rc = reply_socket(f);
		if (rc < 0) {
			char o[ADDR_STRLEN];
			fl->c.refused_other++;
			log_warn_limited("forward %s: cannot answer %s from %s (a transparent "
			                 "socket): %s; datagram dropped",
			                 l->name, who, addr_format(&f->orig, o, sizeof o),
			                 strerror(-rc));
			free(f);
			return NULL;
		}
	}
	int sid = stream_alloc(a->streams, f);
	if (sid < 0) {
		fl->c.refused_other++;
		log_warn_limited("forward %s: no stream id free for the UDP flow of %s "
		                 "(max_streams); datagram dropped",
		                 l->name, who);
		flow_close_fd(f);
		free(f);
		return NULL;
	}
	stream_get(a->streams, (uint16_t)sid)->dgram = true;
	struct frame o = {.type = FRAME_OPEN, .flags = FRAME_OPEN_DATAGRAM};
	o.u.open = l->target;
	if (orig)
		memcpy(&o.u.open.target, orig,
		       orig->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                   : sizeof(struct sockaddr_in));
	int rc = assoc_send_ctl(a, (uint16_t)sid, &o);
	if (rc < 0) {
		stream_unalloc(a->streams, (uint16_t)sid);
		if (rc == -EAGAIN)
			fl->c.drop_full++;
		else
			fl->c.refused_other++;
		flow_close_fd(f);
		free(f);
		return NULL;
	}
	f->l = l;
	f->sid = (uint16_t)sid;
	f->opener = true;
	snprintf(f->text, sizeof f->text, "%s", who);
	f->entry.key = *k;
	flow_table_insert(&fl->table, &f->entry);
	f->last = ev_now(fl->loop);
	TAILQ_INSERT_TAIL(&fl->lru, f, link);
	fl->n++;
	fl->c.opened++;
	if (!ev_is_active(&fl->sweep))
		sweep_arm(fl);
	log_debug("stream %u: forward %s: UDP flow of %s opened", f->sid, l->name, who);
	return f;
}

/* The client's datagram (LEN bytes behind the header room of fl->buf) to
 * the peer on F's stream, or dropped and counted. */
static void send_up(struct udp_flows *fl, struct udp_flow *f, size_t len)
{
	frame_dgram_header(fl->buf);
	int rc = assoc_send_dgram(fl->assoc, f->sid, fl->buf, FRAME_HEADER_LEN + len, f->open_ok);
	if (rc == -EAGAIN) {
		fl->c.drop_full++;
	} else if (rc < 0) {
		fl->c.drop_send++;
	} else {
		f->up++;
		fl->c.dgrams_up++;
		touch(fl, f);
	}
}

/* Opener, captured flow: a transparent socket bound to the original
 * destination and connected to the client, so replies come from where
 * the client sent. -errno on failure. */
static int reply_socket(struct udp_flow *f)
{
	int fam = f->orig.ss_family, one = 1;
	socklen_t ol = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	socklen_t cl = f->client.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                               : sizeof(struct sockaddr_in);
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = udp_transparent(fd, fam);
	if (rc == 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	                bind(fd, (const struct sockaddr *)&f->orig, ol) < 0 ||
	                connect(fd, (const struct sockaddr *)&f->client, cl) < 0))
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	f->fd = fd;
	ev_io_init(&f->rio, udp_flow_read_cb, fd, EV_READ);
	f->rio.data = f;
	ev_io_start(f->flows->loop, &f->rio);
	return 0;
}

void udp_flows_from_client(struct udp_flows *fl, struct udp_listener *l,
                           const struct sockaddr *client, const struct sockaddr *orig, size_t len)
{
	struct assoc *a = fl->assoc;
	if (a->state != ASSOC_READY) {
		fl->c.drop_down++;
		return;
	}
	struct flow_key k;
	flow_key_make(&k, l->index, client, orig);
	struct flow_entry *e = flow_table_find(&fl->table, &k);
	struct udp_flow *f = e ? (struct udp_flow *)((char *)e - offsetof(struct udp_flow, entry))
	                       : flow_open(fl, l, client, orig, &k);
	if (!f)
		return;
	send_up(fl, f, len);
}

void udp_flows_forget_listener(struct udp_flows *fl, struct udp_listener *l)
{
	struct udp_flow *f, *next;
	for (f = TAILQ_FIRST(&fl->lru); f; f = next) {
		next = TAILQ_NEXT(f, link);
		if (f->l == l) {
			assoc_flow_end(fl->assoc, f->sid, true);
			flow_free(fl, f);
		}
	}
	sweep_arm(fl);
}

/* Exit side: send OPEN_OK if it is still owed. */
static void send_open_ok(struct udp_flows *fl, struct udp_flow *f)
{
	struct frame ok = {.type = FRAME_OPEN_OK, .u.window = 1};
	f->owe_open_ok = assoc_send_ctl(fl->assoc, f->sid, &ok) < 0;
}

/* Exit side: the target's reply to the opener as one DGRAM. */
static void send_down(struct udp_flows *fl, struct udp_flow *f, size_t len)
{
	if (f->owe_open_ok)
		send_open_ok(fl, f);
	frame_dgram_header(fl->buf);
	int rc = assoc_send_dgram(fl->assoc, f->sid, fl->buf, FRAME_HEADER_LEN + len, true);
	if (rc == -EAGAIN) {
		fl->c.drop_full++;
	} else if (rc < 0) {
		fl->c.drop_send++;
	} else {
		f->down++;
		fl->c.dgrams_down++;
		touch(fl, f);
	}
}

/* The flow's own socket: on the exit side the target's replies; on a
 * captured opener the client's later datagrams (TPROXY finds the socket
 * connected to the client before the listener). */
static void udp_flow_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct udp_flow *f = w->data;
	struct udp_flows *fl = f->flows;
	for (int i = 0; i < UDP_FLOW_BATCH; i++) {
		ssize_t n = recv(f->fd, fl->buf + FRAME_HEADER_LEN, FRAME_DATA_MAX + 1,
		                 MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ICMP errors (port unreachable) surface here: the
			 * other end's business; the flow stays. */
			fl->c.drop_send++;
			continue;
		}
		if ((size_t)n > FRAME_DATA_MAX) {
			fl->c.drop_big++;
			log_warn_limited(
			    "stream %u: a datagram of %zd bytes from %s is larger than "
			    "%u bytes; dropped (%llu so far)",
			    f->sid, n, f->text, (unsigned)FRAME_DATA_MAX,
			    (unsigned long long)fl->c.drop_big);
			continue;
		}
		if (fl->assoc->state != ASSOC_READY)
			fl->c.drop_down++;
		else if (f->opener)
			send_up(fl, f, (size_t)n);
		else
			send_down(fl, f, (size_t)n);
	}
}

int udp_flow_accept(struct udp_flows *fl, uint16_t sid, const struct frame_open *o)
{
	char who[ADDR_STRLEN];
	addr_format(&o->target, who, sizeof who);
	if (fl->n >= fl->max_flows) {
		refused_at_cap(fl, "peer's OPEN for", who);
		return -ENOSPC;
	}
	struct udp_flow *f = calloc(1, sizeof *f);
	if (!f) {
		fl->c.refused_other++;
		return -ENOMEM;
	}
	socklen_t len = o->target.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                : sizeof(struct sockaddr_in);
	f->fd = socket(o->target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0 || connect(f->fd, (const struct sockaddr *)&o->target, len) < 0) {
		int err = errno;
		fl->c.refused_other++;
		log_warn_limited("stream %u: forward %s: cannot open a UDP socket to %s: %s", sid,
		                 o->name, who, strerror(err));
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		return -err;
	}
	struct assoc *a = fl->assoc;
	stream_accept(a->streams, sid, f);
	stream_get(a->streams, sid)->dgram = true;
	f->flows = fl;
	f->sid = sid;
	snprintf(f->text, sizeof f->text, "%s", who);
	f->last = ev_now(fl->loop);
	ev_io_init(&f->rio, udp_flow_read_cb, f->fd, EV_READ);
	f->rio.data = f;
	ev_io_start(fl->loop, &f->rio);
	TAILQ_INSERT_TAIL(&fl->exits, f, link);
	fl->n++;
	fl->c.accepted++;
	send_open_ok(fl, f);
	log_debug("stream %u: forward %s: UDP flow to %s accepted", sid, o->name, who);
	return 0;
}

/* A DGRAM from the peer: to the client (opener) or the target (exit). */
static void deliver(struct udp_flows *fl, struct udp_flow *f, const uint8_t *p, size_t len)
{
	int rc;
	if (f->opener && f->fd < 0)
		rc = udp_listener_reply(f->l, &f->client, p, len);
	else /* exit: the target; captured opener: from the original destination */
		rc = send(f->fd, p, len, MSG_DONTWAIT) < 0 ? -errno : 0;
	if (rc < 0) {
		fl->c.drop_send++;
		return;
	}
	if (f->opener) {
		f->down++;
		fl->c.dgrams_down++;
	} else {
		f->up++;
	}
	touch(fl, f);
}

void udp_flow_on_frame(struct udp_flow *f, const struct frame *fr, int rc)
{
	struct udp_flows *fl = f->flows;
	if (rc < 0) {
		log_warn_limited("stream %u: %s message on a UDP flow ignored", f->sid,
		                 rc == -ENOTSUP ? "unknown" : "malformed");
		return;
	}
	switch (fr->type) {
	case FRAME_DGRAM:
		deliver(fl, f, fr->u.data.bytes, fr->u.data.len);
		return;
	case FRAME_OPEN_OK:
		if (f->opener)
			f->open_ok = true;
		return;
	case FRAME_RST:
		/* Opener: the exit refused the flow (its CLOSED follows).
		 * Exit: the opener ended it; CLOSED frees the id. */
		if (f->opener && !f->open_ok && fr->u.rst == FRAME_RST_NOT_ALLOWED) {
			fl->assoc->n_egress_peer++;
			log_warn_limited("stream %u: UDP flow of %s, forward %s: the peer refused "
			                 "its destination: not in its [egress] allow (add it there "
			                 "on the peer gateway)",
			                 f->sid, f->text, f->l ? f->l->name : "?");
		} else
			log_debug("stream %u: UDP flow of %s ended by the peer (%s)", f->sid,
			          f->text, frame_rst_reason_name(fr->u.rst));
		if (f->opener)
			stream_done(fl->assoc->streams, f->sid);
		else
			assoc_flow_end(fl->assoc, f->sid, false);
		flow_free(fl, f);
		sweep_arm(fl);
		return;
	default:
		log_warn_limited("stream %u: %s on a UDP flow ignored", f->sid,
		                 frame_type_name(fr->type));
		return;
	}
}
