/*
 * flood: many TCP connections, cheaply (epoll, one thread), for the
 * connection-limit scenario (tests/integration/flood_limit.sh).
 *
 *   flood serve ADDR:PORT
 *       accept and hold every connection (read and drop what comes, close
 *       on EOF); prints nothing. For the flood's target.
 *   flood connect ADDR:PORT TOTAL RATE SECONDS
 *       open TOTAL connections, RATE per second, and keep each until the
 *       other side resets or closes it; stop one second after the last
 *       attempt, or after SECONDS at the latest.
 *       Prints one line:
 *         attempts=A open=O reset=R closed=C failed=F seconds=S
 *       open: still open at the end (admitted); reset: reset by the peer
 *       (refused); closed: clean EOF; failed: connect() failed.
 * ADDR is IPv4 (a.b.c.d) or IPv6 ([x::y]). Built only for the tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof host)
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	int port = atoi(colon + 1);
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof *a;
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof *a;
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static int serve(const struct sockaddr_storage *ss, socklen_t len)
{
	int l = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (l < 0 || bind(l, (const struct sockaddr *)ss, len) < 0 || listen(l, 4096) < 0) {
		perror("flood serve");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	static char buf[65536];
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof buf);
			if (r == 0 || (r < 0 && errno != EAGAIN))
				close(fd);
		}
	}
}

enum { PENDING = 1, OPEN = 2 };

static int flood(const struct sockaddr_storage *ss, socklen_t len, long total, double rate,
                 double seconds)
{
	int ep = epoll_create1(0);
	long attempts = 0, open = 0, reset = 0, closed = 0, failed = 0;
	double t0 = now_s(), end = t0 + seconds;
	static char state[1 << 20];
	static char buf[4096];
	while (now_s() < end) {
		double t = now_s();
		long due = (long)((t - t0) * rate) + 1;
		while (attempts < total && attempts < due) {
			attempts++;
			int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (fd < 0 || fd >= (int)sizeof state) {
				if (fd >= 0)
					close(fd);
				failed++;
				continue;
			}
			if (connect(fd, (const struct sockaddr *)ss, len) < 0 &&
			    errno != EINPROGRESS) {
				close(fd);
				failed++;
				continue;
			}
			state[fd] = PENDING;
			struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
			                         .data.fd = fd};
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		if (attempts >= total && end > t + 1.0)
			end = t + 1.0; /* the last ones: a second for their answer */
		struct epoll_event evs[512];
		int n = epoll_wait(ep, evs, 512, 2);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint32_t e = evs[i].events;
			int err = 0;
			socklen_t el = sizeof err;
			if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLIN)) {
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
				ssize_t r = err ? -1 : read(fd, buf, sizeof buf);
				if (r < 0 && !err)
					err = errno;
				if (r > 0 || (r < 0 && (err == EAGAIN || err == EWOULDBLOCK)))
					goto writable;
				if (state[fd] == OPEN)
					open--;
				if (err == ECONNREFUSED && state[fd] == PENDING)
					failed++;
				else if (err)
					reset++;
				else
					closed++;
				state[fd] = 0;
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				continue;
			}
		writable:
			if ((e & EPOLLOUT) && state[fd] == PENDING) {
				state[fd] = OPEN;
				open++;
				struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
				                         .data.fd = fd};
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			}
		}
	}
	printf("attempts=%ld open=%ld reset=%ld closed=%ld failed=%ld seconds=%.3f\n", attempts,
	       open, reset, closed, failed, now_s() - t0);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	raise_nofile();
	if (argc == 3 && !strcmp(argv[1], "serve") && parse(argv[2], &ss, &len) == 0)
		return serve(&ss, len);
	if (argc == 6 && !strcmp(argv[1], "connect") && parse(argv[2], &ss, &len) == 0)
		return flood(&ss, len, atol(argv[3]), atof(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: flood serve ADDR:PORT\n"
	                "       flood connect ADDR:PORT TOTAL RATE SECONDS\n");
	return 2;
}
