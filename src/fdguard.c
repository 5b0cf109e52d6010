/* fdguard: see fdguard.h. */
#include "fdguard.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ratelimit.h"

#define FDGUARD_SHED_MAX 256 /* clients reset per pause, at most */

static int reserve_fd = -1;
static unsigned long long shed_total;

int fdguard_reserve(void)
{
	if (reserve_fd >= 0)
		return 0;
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return reserve_fd < 0 ? -errno : 0;
}

void fdguard_release(void)
{
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
}

unsigned long long fdguard_shed_total(void)
{
	return shed_total;
}

bool fdguard_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void fdguard_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct fdguard *g = w->data;
	fdguard_reserve(); /* in case shedding could not get it back */
	ev_io_start(loop, g->io);
}

void fdguard_init(struct fdguard *g, struct ev_loop *loop, ev_io *io, const char *what)
{
	g->loop = loop;
	g->io = io;
	g->what = what;
	g->delay = FDGUARD_DELAY_MIN;
	g->shed = 0;
	ev_timer_init(&g->retry, fdguard_retry_cb, 0., 0.);
	g->retry.data = g;
}

void fdguard_stop(struct fdguard *g)
{
	ev_timer_stop(g->loop, &g->retry);
}

/* Reset every client waiting in LISTEN_FD's backlog, one at a time through
 * the slot the reserve descriptor frees. Returns how many. */
static unsigned shed(int listen_fd)
{
	unsigned n = 0;
	if (reserve_fd < 0)
		return 0;
	close(reserve_fd);
	reserve_fd = -1;
	while (n < FDGUARD_SHED_MAX) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		close(fd);
		n++;
	}
	fdguard_reserve();
	return n;
}

bool fdguard_accept_failed(struct fdguard *g, int listen_fd, int err)
{
	if (!fdguard_exhausted(err))
		return false;
	unsigned n = shed(listen_fd);
	g->shed += n;
	shed_total += n;
	log_warn_limited("%s: out of descriptors or memory (%s); %u waiting client%s reset, "
	                 "%llu so far; accepting again in %.1f s",
	                 g->what, strerror(err), n, n == 1 ? "" : "s", g->shed, g->delay);
	ev_io_stop(g->loop, g->io);
	ev_timer_stop(g->loop, &g->retry);
	ev_timer_set(&g->retry, g->delay, 0.);
	ev_timer_start(g->loop, &g->retry);
	g->delay *= 2;
	if (g->delay > FDGUARD_DELAY_MAX)
		g->delay = FDGUARD_DELAY_MAX;
	return true;
}
