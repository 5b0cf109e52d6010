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
#include "capture.h"
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
		if (!l->target_original) {
			conn_open(l->assoc, fd, &l->target);
			continue;
		}
		struct frame_open open = l->target;
		if (capture_destination(fd, l->capture, l->name, l->own, l->n_own, &open.target) <
		    0) {
			refuse(fd);
			continue;
		}
		conn_open(l->assoc, fd, &open);
	}
}

struct listener *listener_new(struct ev_loop *loop, struct assoc *a, const struct config *c,
                              const struct config_forward *f)
{
	char text[ADDR_STRLEN];
	struct listener *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->loop = loop;
	l->assoc = a;
	l->addr = f->listen;
	l->target.target = f->target;
	snprintf(l->target.host, sizeof l->target.host, "%s", f->target_host);
	l->target.host_port = f->target_port;
	snprintf(l->target.name, sizeof l->target.name, "%s", f->name);
	snprintf(l->name, sizeof l->name, "%s", f->name);
	l->max_connections = f->max_connections;
	l->capture = f->capture;
	l->target_original = f->target_original;
	for (size_t i = 0; i < c->n_forwards && l->n_own < CONFIG_MAX_FORWARDS; i++)
		l->own[l->n_own++] = c->forwards[i].listen;
	addr_format(&f->listen, text, sizeof text);

	l->fd = socket(f->listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd >= 0) /* accepted sockets inherit the bound (conn_limits.h) */
		limits_socket_bufs(l->fd, a->conn_window);
	int on = 1, rc = l->fd < 0
	                     ? -errno
	                     : capture_listener_prepare(l->fd, f->listen.ss_family, f->capture);
	if (rc == -EPERM) {
		/* The one failure a working config meets when the unit lacks the
		 * capability: say what to grant. The kernel takes either
		 * capability; CAP_NET_ADMIN is the one documented. */
		log_error(
		    "forward %s: capture = tproxy needs CAP_NET_ADMIN (or CAP_NET_RAW) for %s "
		    "on %s: %s; run as root or grant it (systemd: "
		    "AmbientCapabilities=CAP_NET_ADMIN)",
		    f->name,
		    f->listen.ss_family == AF_INET6 ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT", text,
		    strerror(EPERM));
		close(l->fd);
		free(l);
		return NULL;
	}
	errno = -rc;
	if (rc < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
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
	char target[FRAME_HOST_MAX + 8] = "each client's original destination";
	if (!f->target_original)
		frame_open_target_text(&l->target, target, sizeof target);
	log_info("forward %s: listening on %s%s%s, peer connects to %s", f->name, text,
	         f->capture == CONFIG_CAPTURE_NONE ? "" : ", capture ",
	         f->capture == CONFIG_CAPTURE_NONE ? "" : config_capture_name(f->capture), target);
	return l;
}

void listener_update(struct listener *l, const struct config_forward *f)
{
	struct frame_open now = l->target;
	char was_text[FRAME_HOST_MAX + 8] = "each client's original destination";
	char now_text[FRAME_HOST_MAX + 8] = "each client's original destination";
	if (!l->target_original)
		frame_open_target_text(&l->target, was_text, sizeof was_text);
	now.target = f->target;
	snprintf(now.host, sizeof now.host, "%s", f->target_host);
	now.host_port = f->target_port;
	if (!f->target_original)
		frame_open_target_text(&now, now_text, sizeof now_text);
	log_info("forward %s: peer connects new clients to %s (was %s), max_connections %u (was "
	         "%u); connections open now keep theirs",
	         l->name, now_text, was_text, f->max_connections, l->max_connections);
	l->target = now;
	l->target_original = f->target_original;
	l->max_connections = f->max_connections;
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
