/* udp_listener: see udp_listener.h. */
#include "udp_listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "assoc.h"
#include "capture.h"
#include "log.h"
#include "ratelimit.h"
#include "udp_flow.h"

#define UDP_LISTENER_BATCH  64                /* datagrams per wake-up before others get a turn */
#define UDP_LISTENER_RCVBUF (4 * 1024 * 1024) /* a burst of queries waits here, not dropped */

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The original destination of a TPROXY'd datagram, from its control
 * message (IP_ORIGDSTADDR / IPV6_ORIGDSTADDR). 0 or -ENOENT. */
static int orig_dst(struct msghdr *m, struct sockaddr_storage *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in))) {
			memcpy(out, CMSG_DATA(c), sizeof(struct sockaddr_in));
			return 0;
		}
		if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in6))) {
			memcpy(out, CMSG_DATA(c), sizeof(struct sockaddr_in6));
			return 0;
		}
	}
	return -ENOENT;
}

int udp_transparent(int fd, int family)
{
	int one = 1;
	if (family == AF_INET6)
		return setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one) < 0 ? -errno
		                                                                        : 0;
	return setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) < 0 ? -errno : 0;
}

static void udp_listener_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct udp_listener *l = w->data;
	struct udp_flows *fl = l->assoc->flows;
	for (int i = 0; i < UDP_LISTENER_BATCH; i++) {
		struct sockaddr_storage from, orig = {0};
		struct iovec iov = {.iov_base = fl->buf + FRAME_HEADER_LEN,
		                    .iov_len = FRAME_DATA_MAX + 1};
		char cbuf[CMSG_SPACE(sizeof(struct sockaddr_in6))];
		struct msghdr m = {.msg_name = &from,
		                   .msg_namelen = sizeof from,
		                   .msg_iov = &iov,
		                   .msg_iovlen = 1,
		                   .msg_control = l->tproxy ? cbuf : NULL,
		                   .msg_controllen = l->tproxy ? sizeof cbuf : 0};
		ssize_t n = recvmsg(l->fd, &m, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn_limited("forward %s: cannot read a datagram: %s", l->name,
				                 strerror(errno));
			return;
		}
		if ((size_t)n > FRAME_DATA_MAX || (m.msg_flags & MSG_TRUNC)) {
			char who[ADDR_STRLEN];
			fl->c.drop_big++;
			log_warn_limited(
			    "forward %s: a datagram of %zd bytes from %s is larger than "
			    "%u bytes; dropped (%llu so far)",
			    l->name, n, addr_format(&from, who, sizeof who),
			    (unsigned)FRAME_DATA_MAX, (unsigned long long)fl->c.drop_big);
			continue;
		}
		if (l->tproxy && orig_dst(&m, &orig) < 0) {
			fl->c.drop_send++;
			log_warn_limited("forward %s: a datagram without its original destination "
			                 "(capture = tproxy); dropped",
			                 l->name);
			continue;
		}
		/* Sent straight to this listener (or to another of ours): its
		 * "original" destination is here, and carrying it would loop. */
		if (l->tproxy && capture_is_own(&orig, l->own, l->n_own)) {
			char who[ADDR_STRLEN], action[ADDR_STRLEN + 32];
			snprintf(action, sizeof action, "dropping a datagram from %s",
			         addr_format(&from, who, sizeof who));
			capture_refuse_loop(l->name, action, &orig);
			continue;
		}
		udp_flows_from_client(fl, l, (const struct sockaddr *)&from,
		                      l->tproxy ? (const struct sockaddr *)&orig : NULL, (size_t)n);
	}
}

struct udp_listener *udp_listener_new(struct ev_loop *loop, struct assoc *a, const struct config *c,
                                      uint8_t index)
{
	const struct config_forward *f = &c->forwards[index];
	char where[ADDR_STRLEN];
	addr_format(&f->listen, where, sizeof where);
	struct udp_listener *l = calloc(1, sizeof *l);
	if (!l) {
		log_error("forward %s: out of memory", f->name);
		return NULL;
	}
	l->loop = loop;
	l->assoc = a;
	l->index = index;
	l->addr = f->listen;
	snprintf(l->name, sizeof l->name, "%s", f->name);
	for (size_t i = 0; i < c->n_forwards && l->n_own < CONFIG_MAX_FORWARDS; i++)
		l->own[l->n_own++] = c->forwards[i].listen;
	l->target.window = 1; /* no credit for datagrams; a window of 1 keeps OPEN valid */
	l->target.target = f->target;
	snprintf(l->target.name, sizeof l->target.name, "%s", f->name);

	int one = 1, rcv = UDP_LISTENER_RCVBUF;
	l->fd = socket(f->listen.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (f->listen.ss_family == AF_INET6 &&
	     setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(l->fd, (const struct sockaddr *)&f->listen, sa_len(&f->listen)) < 0) {
		log_error("forward %s: cannot bind UDP %s: %s", f->name, where, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return NULL;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	if (f->capture == CONFIG_CAPTURE_TPROXY) {
		int rc = udp_transparent(l->fd, f->listen.ss_family);
		if (rc == 0 &&
		    (f->listen.ss_family == AF_INET6
		         ? setsockopt(l->fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof one)
		         : setsockopt(l->fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof one)) < 0)
			rc = -errno;
		if (rc < 0) {
			log_error(
			    "forward %s: capture = tproxy: cannot make UDP %s transparent: %s "
			    "(needs CAP_NET_ADMIN)",
			    f->name, where, strerror(-rc));
			close(l->fd);
			free(l);
			return NULL;
		}
		l->tproxy = true;
	}
	ev_io_init(&l->io, udp_listener_read_cb, l->fd, EV_READ);
	l->io.data = l;
	ev_io_start(loop, &l->io);
	char to[ADDR_STRLEN];
	log_info("forward %s: UDP %s%s -> peer -> %s", f->name, where, l->tproxy ? " (tproxy)" : "",
	         l->tproxy ? "each datagram's original destination"
	                   : addr_format(&f->target, to, sizeof to));
	return l;
}

void udp_listener_free(struct udp_listener *l)
{
	if (!l)
		return;
	ev_io_stop(l->loop, &l->io);
	udp_flows_forget_listener(l->assoc->flows, l);
	close(l->fd);
	free(l);
}

int udp_listener_reply(struct udp_listener *l, const struct sockaddr_storage *client,
                       const uint8_t *p, size_t len)
{
	if (sendto(l->fd, p, len, MSG_DONTWAIT, (const struct sockaddr *)client, sa_len(client)) <
	    0)
		return -errno;
	return 0;
}
