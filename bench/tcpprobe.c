/*
 * tcpprobe: the small TCP client/server the benchmark drives (bench/run.sh).
 *
 *   tcpprobe echo ADDR:PORT              echo server (epoll, many connections)
 *   tcpprobe rr   ADDR:PORT N SIZE       N ping-pongs of SIZE bytes on one
 *                                        connection; prints p50/p99/mean in us
 *   tcpprobe cps  ADDR:PORT SECONDS CONC SIZE
 *                                        CONC threads, each in a loop: connect,
 *                                        send SIZE bytes, read them back, close;
 *                                        prints connections per second
 *   tcpprobe hold ADDR:PORT N            open N connections, one 1-byte echo on
 *                                        each (so the far end exists), print
 *                                        "held N", keep them until killed
 *
 * IPv4 only (the bench topology is IPv4). Every figure is printed as
 * "key=value" words on one line, which the bench script parses. Exit status
 * 1 when anything went wrong (a short read, a failed connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "tcpprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void parse_addr(const char *text)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof host) {
		fprintf(stderr, "tcpprobe: '%s' is not ADDR:PORT\n", text);
		exit(2);
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = 0;
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
		fprintf(stderr, "tcpprobe: '%s' is not an IPv4 address\n", host);
		exit(2);
	}
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write all of BUF; read exactly LEN bytes back. 0 or -1. */
static int exchange(int fd, const char *out, char *in, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, out + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	for (done = 0; done < len;) {
		ssize_t n = read(fd, in + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* --- echo server -------------------------------------------------- */

static int run_echo(void)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(ls, (struct sockaddr *)&target, sizeof target) < 0 || listen(ls, 4096) < 0)
		die("bind/listen");
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	static char buf[65536];
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
					struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof buf);
			if (r < 0 && errno == EAGAIN)
				continue;
			/* Small replies: the socket always has room, so a blocking
			 * echo of what was read is not needed here. */
			if (r <= 0 || write(fd, buf, (size_t)r) != r)
				close(fd);
		}
	}
	return 0;
}

/* --- request/response latency ------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run_rr(int n, size_t size)
{
	int fd = dial();
	if (fd < 0)
		die("connect");
	char *out = calloc(1, size), *in = malloc(size);
	double *lat = malloc(sizeof *lat * (size_t)n), sum = 0;
	for (int i = -100; i < n; i++) { /* 100 warm-up rounds, not counted */
		double t0 = now_s();
		if (exchange(fd, out, in, size) < 0)
			die("exchange");
		if (i >= 0) {
			lat[i] = (now_s() - t0) * 1e6;
			sum += lat[i];
		}
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("n=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f\n", n, lat[n / 2],
	       lat[(int)(n * 0.99)], sum / n, lat[n - 1]);
	close(fd);
	return 0;
}

/* --- connections per second -------------------------------------- */

struct cps_job {
	double end;
	size_t size;
	long ok, failed;
};

static void *cps_thread(void *arg)
{
	struct cps_job *j = arg;
	char out[256] = "hello", in[256];
	while (now_s() < j->end) {
		int fd = dial();
		if (fd < 0) {
			j->failed++;
			continue;
		}
		if (exchange(fd, out, in, j->size) == 0)
			j->ok++;
		else
			j->failed++;
		close(fd);
	}
	return NULL;
}

static int run_cps(double seconds, int conc, size_t size)
{
	if (size > 256)
		size = 256;
	pthread_t th[256];
	struct cps_job jobs[256];
	if (conc > 256)
		conc = 256;
	double t0 = now_s();
	for (int i = 0; i < conc; i++) {
		jobs[i] = (struct cps_job){.end = t0 + seconds, .size = size};
		pthread_create(&th[i], NULL, cps_thread, &jobs[i]);
	}
	long ok = 0, failed = 0;
	for (int i = 0; i < conc; i++) {
		pthread_join(th[i], NULL);
		ok += jobs[i].ok;
		failed += jobs[i].failed;
	}
	double el = now_s() - t0;
	printf("ok=%ld failed=%ld seconds=%.2f cps=%.0f\n", ok, failed, el, ok / el);
	return failed ? 1 : 0;
}

/* --- idle connections -------------------------------------------- */

static int run_hold(int n)
{
	int *fds = malloc(sizeof *fds * (size_t)n);
	char c = 'x', r;
	for (int i = 0; i < n; i++) {
		fds[i] = dial();
		if (fds[i] < 0 || exchange(fds[i], &c, &r, 1) < 0) {
			fprintf(stderr, "tcpprobe: connection %d of %d failed: %s\n", i + 1, n,
			        strerror(errno));
			printf("held %d failed\n", i);
			fflush(stdout);
			return 1;
		}
	}
	printf("held %d\n", n);
	fflush(stdout);
	for (;;)
		pause(); /* until killed: the kernel closes them all */
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tcpprobe echo|rr|cps|hold ADDR:PORT ...\n");
		return 2;
	}
	parse_addr(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "echo"))
		return run_echo();
	if (!strcmp(argv[1], "rr") && argc == 5)
		return run_rr(atoi(argv[3]), (size_t)atol(argv[4]));
	if (!strcmp(argv[1], "cps") && argc == 6)
		return run_cps(atof(argv[3]), atoi(argv[4]), (size_t)atol(argv[5]));
	if (!strcmp(argv[1], "hold") && argc == 4)
		return run_hold(atoi(argv[3]));
	fprintf(stderr, "tcpprobe: bad arguments for '%s'\n", argv[1]);
	return 2;
}
