/* resolver: see resolver.h. */
#include "resolver.h"

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "log.h"
#include "ratelimit.h"

/* One socket c-ares asked us to watch. */
struct resolver_fd {
	ev_io io;
	struct resolver *r;
	LIST_ENTRY(resolver_fd) link;
};

struct resolver_query {
	struct resolver *r;
	resolver_cb cb;
	void *ctx;
	uint16_t port;
	bool cancelled; /* the owner is gone: free, do not call */
	bool answered;  /* c-ares is done with it; it waits on r->done */
	int status;
	char why[96];
	size_t n;
	struct sockaddr_storage addrs[RESOLVER_ADDRS_MAX];
	TAILQ_ENTRY(resolver_query) link;
};

TAILQ_HEAD(query_list, resolver_query);

struct resolver {
	struct ev_loop *loop;
	ares_channel channel;
	LIST_HEAD(, resolver_fd) fds;
	ev_timer timer;         /* c-ares' next timeout */
	ev_timer deliver;       /* zero delay: hands answers in r->done to their owners */
	struct query_list done; /* answered, not yet delivered */
	bool destroying;        /* in ares_destroy: answers are dropped */
	char servers[512];      /* for resolver_describe */
};

static void resolver_update_timer(struct resolver *r)
{
	struct timeval tv;
	ev_timer_stop(r->loop, &r->timer);
	if (!ares_timeout(r->channel, NULL, &tv))
		return; /* no query in flight */
	ev_timer_set(&r->timer, (double)tv.tv_sec + tv.tv_usec / 1e6, 0.);
	ev_timer_start(r->loop, &r->timer);
}

static void resolver_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct resolver_fd *f = w->data;
	struct resolver *r = f->r;
	ares_socket_t fd = w->fd;
	ares_process_fd(r->channel, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	                (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	resolver_update_timer(r); /* F may be gone now */
}

static void resolver_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct resolver *r = w->data;
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_update_timer(r);
}

/* c-ares opens, needs or closes a socket. */
static void resolver_sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct resolver_fd *f;
	LIST_FOREACH(f, &r->fds, link)
	if (f->io.fd == fd)
		break;
	if (!readable && !writable) {
		if (f) {
			ev_io_stop(r->loop, &f->io);
			LIST_REMOVE(f, link);
			free(f);
		}
		return;
	}
	if (!f) {
		f = calloc(1, sizeof *f);
		if (!f) {
			/* The query on this socket then ends by its timeout. */
			log_warn_limited("resolver: out of memory watching a DNS socket");
			return;
		}
		f->r = r;
		f->io.data = f;
		ev_io_init(&f->io, resolver_io_cb, fd, 0);
		LIST_INSERT_HEAD(&r->fds, f, link);
	}
	ev_io_stop(r->loop, &f->io);
	ev_io_set(&f->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(r->loop, &f->io);
}

static void resolver_deliver_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct resolver *r = w->data;
	struct resolver_query *q;
	while ((q = TAILQ_FIRST(&r->done))) {
		TAILQ_REMOVE(&r->done, q, link);
		q->cb(q->ctx, q->status, q->why, q->addrs, q->n);
		free(q);
	}
}

static void resolver_answer_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	(void)timeouts;
	struct resolver_query *q = arg;
	struct resolver *r = q->r;

	if (q->cancelled || r->destroying) {
		ares_freeaddrinfo(res);
		free(q);
		return;
	}
	q->answered = true;
	q->status = 0;
	for (struct ares_addrinfo_node *n = res && status == ARES_SUCCESS ? res->nodes : NULL;
	     n && q->n < RESOLVER_ADDRS_MAX; n = n->ai_next) {
		struct sockaddr_storage *a = &q->addrs[q->n];
		if (n->ai_family == AF_INET && n->ai_addrlen >= sizeof(struct sockaddr_in)) {
			memcpy(a, n->ai_addr, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)a)->sin_port = htons(q->port);
		} else if (n->ai_family == AF_INET6 &&
		           n->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			memcpy(a, n->ai_addr, sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)a)->sin6_port = htons(q->port);
		} else {
			continue;
		}
		q->n++;
	}
	ares_freeaddrinfo(res);
	if (status == ARES_SUCCESS && q->n == 0)
		status = ARES_ENODATA;
	if (status != ARES_SUCCESS) {
		q->status = status == ARES_ENOTFOUND || status == ARES_ENODATA ? -ENOENT
		            : status == ARES_ETIMEOUT                          ? -ETIMEDOUT
		                                                               : -EIO;
		snprintf(q->why, sizeof q->why, "%s", ares_strerror(status));
	}
	TAILQ_INSERT_TAIL(&r->done, q, link);
	ev_timer_start(r->loop, &r->deliver);
}

struct resolver *resolver_new(struct ev_loop *loop, const char *servers, unsigned timeout_ms)
{
	static bool lib_ready;
	if (!lib_ready) {
		int rc = ares_library_init(ARES_LIB_INIT_ALL);
		if (rc != ARES_SUCCESS) {
			log_error("resolver: c-ares: %s", ares_strerror(rc));
			return NULL;
		}
		lib_ready = true;
	}
	struct resolver *r = calloc(1, sizeof *r);
	if (!r) {
		log_error("resolver: out of memory");
		return NULL;
	}
	r->loop = loop;
	LIST_INIT(&r->fds);
	TAILQ_INIT(&r->done);
	struct ares_options o = {0};
	o.sock_state_cb = resolver_sock_state_cb;
	o.sock_state_cb_data = r;
	o.timeout = (int)timeout_ms;
	o.tries = 2;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if (servers && *servers) {
		/* Named servers are the whole truth: no /etc/hosts either. */
		o.lookups = (char *)"b";
		mask |= ARES_OPT_LOOKUPS;
	}
	int rc = ares_init_options(&r->channel, &o, mask);
	if (rc == ARES_SUCCESS && servers && *servers)
		rc = ares_set_servers_ports_csv(r->channel, servers);
	if (rc != ARES_SUCCESS) {
		log_error("resolver: cannot start c-ares%s%s: %s",
		          servers && *servers ? " with " : "", servers ? servers : "",
		          ares_strerror(rc));
		if (r->channel)
			ares_destroy(r->channel);
		free(r);
		return NULL;
	}
	snprintf(r->servers, sizeof r->servers, "%s", servers && *servers ? servers : "");
	ev_timer_init(&r->timer, resolver_timer_cb, 0., 0.);
	ev_timer_init(&r->deliver, resolver_deliver_cb, 0., 0.);
	r->timer.data = r->deliver.data = r;
	return r;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	r->destroying = true;
	ares_destroy(r->channel); /* frees every query in flight (resolver_answer_cb) */
	struct resolver_query *q;
	while ((q = TAILQ_FIRST(&r->done))) {
		TAILQ_REMOVE(&r->done, q, link);
		free(q);
	}
	struct resolver_fd *f;
	while ((f = LIST_FIRST(&r->fds))) {
		ev_io_stop(r->loop, &f->io);
		LIST_REMOVE(f, link);
		free(f);
	}
	ev_timer_stop(r->loop, &r->timer);
	ev_timer_stop(r->loop, &r->deliver);
	free(r);
}

struct resolver_query *resolver_lookup(struct resolver *r, const char *name, uint16_t port,
                                       resolver_cb cb, void *ctx)
{
	struct resolver_query *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->r = r;
	q->cb = cb;
	q->ctx = ctx;
	q->port = port;
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	ares_getaddrinfo(r->channel, name, NULL, &hints, resolver_answer_cb, q);
	resolver_update_timer(r);
	return q;
}

void resolver_cancel(struct resolver_query *q)
{
	if (!q)
		return;
	if (q->answered) {
		/* Waiting on the done list: nobody else holds it. */
		TAILQ_REMOVE(&q->r->done, q, link);
		free(q);
		return;
	}
	q->cancelled = true; /* c-ares' callback frees it */
}

const char *resolver_describe(const struct resolver *r, char *buf, size_t len)
{
	snprintf(buf, len, "c-ares %s, servers %s", ares_version(NULL),
	         r->servers[0] ? r->servers : "of /etc/resolv.conf");
	return buf;
}
