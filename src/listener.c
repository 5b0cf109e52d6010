/* listener: see listener.h. */
#include "listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "assoc.h"
#include "fdguard.h"
#include "log.h"
#include "tcp_conn.h"

#define LISTENER_BACKLOG   1024
#define LISTENER_LOG_EVERY 5.0 /* at most one "not up" line per forward per 5 s */

static void refuse(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* max_connections, total and of this forward (conn_limits.h). */
static bool listener_admit(struct listener *l, int fd)
{
	struct limits *lim = &l->assoc->limits;
	if (!lim->max_total && !l->max_connections)
		return true; /* no limit of their own: skip getpeername */
	char who[ADDR_STRLEN] = "?";
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		addr_format(&peer, who, sizeof who);
	return limits_admit_client(lim, l->assoc->n_conns, l->name, who);
}

static void listener_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct listener *l = w->data;

	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors: the guard resets the waiting
			 * clients and pauses us; otherwise EAGAIN, or a client
			 * that left before accept. */
			fdguard_accept_failed(&l->guard, l->fd, errno);
			return;
		}
		fdguard_accepted(&l->guard);
		if (l->assoc->state != ASSOC_READY) {
			/* Accepting and then closing normally would look like
			 * success to the client; a reset says "not now". */
			l->assoc->n_refused++;
			l->refused++;
			limits_refused(&l->assoc->limits, l->name, LIMITS_REFUSED_NOT_READY);
			if (ev_now(loop) - l->refused_logged >= LISTENER_LOG_EVERY) {
				log_warn("forward %s: association not up; reset %llu client%s",
				         l->name, l->refused, l->refused == 1 ? "" : "s");
				l->refused_logged = ev_now(loop);
				l->refused = 0;
			}
			refuse(fd);
			continue;
		}
		if (!listener_admit(l, fd)) {
			refuse(fd);
			continue;
		}
		conn_open(l->assoc, fd, &l->target);
	}
}

struct listener *listener_new(struct ev_loop *loop, struct assoc *a, const struct config_forward *f)
{
	char text[ADDR_STRLEN];
	struct listener *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->loop = loop;
	l->assoc = a;
	l->addr = f->listen;
	l->target.target = f->target;
	snprintf(l->target.name, sizeof l->target.name, "%s", f->name);
	snprintf(l->name, sizeof l->name, "%s", f->name);
	l->max_connections = f->max_connections;
	addr_format(&f->listen, text, sizeof text);

	l->fd = socket(f->listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd >= 0) /* accepted sockets inherit the bound (conn_limits.h) */
		limits_socket_bufs(l->fd, a->conn_window);
	int on = 1;
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    (f->listen.ss_family == AF_INET6 &&
	     setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0) ||
	    bind(l->fd, (const struct sockaddr *)&f->listen, addr_len(&f->listen)) < 0 ||
	    listen(l->fd, LISTENER_BACKLOG) < 0) {
		log_error("forward %s: cannot listen on %s: %s", f->name, text, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return NULL;
	}
	ev_io_init(&l->io, listener_accept_cb, l->fd, EV_READ);
	l->io.data = l;
	snprintf(l->what, sizeof l->what, "forward %s", f->name);
	fdguard_init(&l->guard, loop, &l->io, l->what);
	ev_io_start(loop, &l->io);
	char target[ADDR_STRLEN];
	log_info("forward %s: listening on %s, peer connects to %s", f->name, text,
	         addr_format(&f->target, target, sizeof target));
	return l;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	ev_io_stop(l->loop, &l->io);
	fdguard_stop(&l->guard);
	close(l->fd);
	free(l);
}
