/*
 * udpx: UDP test client and echo server for the sctpgw tests and bench.
 *
 *   udpx echo ADDR:PORT
 *       echo every datagram to its sender; a datagram that starts with
 *       "STMP" gets the server's receive time (CLOCK_MONOTONIC ns, u64 at
 *       offset 16) written in, so a client on the same host can compute
 *       one-way delays.
 *   udpx sizes ADDR:PORT MAX SEED
 *       send datagrams of sizes 1..1500, then 1501..MAX in steps of 97,
 *       1200, 1472, 8192, MAX and 200 random sizes (seeded), each with
 *       content derived from its size and SEED; wait for each echo (2 s,
 *       up to 3 tries) and compare size and bytes. Prints "sizes=N ok=N
 *       bad=N lost=N retries=N"; exit 0 only when all came back intact.
 *   udpx flows ADDR:PORT N
 *       N sockets (N source ports: N flows) send one datagram each; every
 *       one must be echoed within 10 s. Prints "flows=N answered=N".
 *   udpx stream ADDR:PORT RATE SECONDS SIZE OUTFILE
 *       send stamped datagrams at RATE per second (0: as fast as the
 *       socket takes them) for SECONDS, read echoes meanwhile and for 1 s
 *       after; OUTFILE gets one line per echoed datagram:
 *       "seq send_ns oneway_us rtt_us" (a datagram: "STMP", u32 seq, u64
 *       send time, u64 echo server's receive time, padding to SIZE). Prints
 *       sent, echoed, echoed per
 *       second and one-way delay percentiles (us).
 * Addresses: 198.18.0.1:53 or [2001:2::1]:53.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXDG 65536

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon)
		return -1;
	int port = atoi(colon + 1);
	size_t n = (size_t)(colon - s);
	if (s[0] == '[') {
		s++;
		n -= 2;
	}
	if (n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return 0;
	}
	return -1;
}

static int sock_to(const char *where, bool do_connect)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse(where, &ss, &len) < 0) {
		fprintf(stderr, "udpx: bad address %s\n", where);
		exit(2);
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (fd < 0 || (do_connect ? connect(fd, (struct sockaddr *)&ss, len)
	                          : bind(fd, (struct sockaddr *)&ss, len)) < 0) {
		perror(where);
		exit(2);
	}
	return fd;
}

__attribute__((noreturn)) static int do_echo(const char *where)
{
	int fd = sock_to(where, false);
	static uint8_t b[MAXDG];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if (n >= 24 && memcmp(b, "STMP", 4) == 0) {
			uint64_t t = now_ns();
			memcpy(b + 16, &t, 8);
		}
		sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + n + 1;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(rng(&s) >> 24);
}

static int do_sizes(const char *where, size_t max, uint64_t seed)
{
	int fd = sock_to(where, true);
	static size_t sizes[8000];
	size_t ns = 0;
	for (size_t s = 1; s <= 1500 && s <= max; s++)
		sizes[ns++] = s;
	for (size_t s = 1501; s <= max; s += 97)
		sizes[ns++] = s;
	size_t fixed[] = {1200, 1472, 8192, max};
	for (size_t i = 0; i < 4; i++)
		if (fixed[i] <= max)
			sizes[ns++] = fixed[i];
	uint64_t r = seed | 1;
	for (int i = 0; i < 200; i++)
		sizes[ns++] = 1 + rng(&r) % max;
	static uint8_t out[MAXDG], in[MAXDG + 1];
	unsigned ok = 0, bad = 0, lost = 0, retries = 0;
	for (size_t i = 0; i < ns; i++) {
		size_t n = sizes[i];
		fill(out, n, seed + i);
		/* A unique first byte pair: a late echo of an earlier size is
		 * told apart by its length and content anyway. */
		int got = 0;
		for (int t = 0; t < 3 && !got; t++) {
			if (t)
				retries++;
			if (send(fd, out, n, 0) != (ssize_t)n) {
				perror("send");
				return 2;
			}
			uint64_t end = now_ns() + 2000000000ull;
			while (!got && now_ns() < end) {
				struct pollfd p = {fd, POLLIN, 0};
				int left = (int)((end - now_ns()) / 1000000) + 1;
				if (poll(&p, 1, left) <= 0)
					continue;
				ssize_t m = recv(fd, in, sizeof in, MSG_TRUNC);
				if (m < 0)
					continue;
				if ((size_t)m == n && memcmp(in, out, n) == 0) {
					got = 1;
				} else if ((size_t)m == n) {
					fprintf(stderr, "udpx: size %zu came back altered\n", n);
					bad++;
					got = -1;
				}
				/* other sizes: late echoes of earlier tries; ignored */
			}
		}
		if (got == 1)
			ok++;
		else if (got == 0) {
			fprintf(stderr, "udpx: size %zu never came back\n", n);
			lost++;
		}
	}
	printf("sizes=%zu ok=%u bad=%u lost=%u retries=%u\n", ns, ok, bad, lost, retries);
	return ok == ns ? 0 : 1;
}

static int do_flows(const char *where, int n)
{
	int *fd = calloc((size_t)n, sizeof *fd);
	char *done = calloc((size_t)n, 1);
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	for (int i = 0; i < n; i++) {
		fd[i] = sock_to(where, true);
		char msg[32];
		int len = snprintf(msg, sizeof msg, "flow %d", i);
		send(fd[i], msg, (size_t)len, 0);
		p[i].fd = fd[i];
		p[i].events = POLLIN;
	}
	int answered = 0;
	uint64_t end = now_ns() + 10000000000ull, resend = now_ns() + 3000000000ull;
	while (answered < n && now_ns() < end) {
		if (poll(p, (nfds_t)n, 100) < 0)
			break;
		for (int i = 0; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			char buf[64], want[32];
			ssize_t m = recv(fd[i], buf, sizeof buf, 0);
			int wl = snprintf(want, sizeof want, "flow %d", i);
			if (m == wl && memcmp(buf, want, (size_t)wl) == 0 && !done[i]) {
				done[i] = 1;
				answered++;
				p[i].events = 0;
			}
		}
		if (now_ns() > resend) { /* one more try for the unanswered */
			resend = UINT64_MAX;
			for (int i = 0; i < n; i++)
				if (!done[i]) {
					char msg[32];
					int len = snprintf(msg, sizeof msg, "flow %d", i);
					send(fd[i], msg, (size_t)len, 0);
				}
		}
	}
	printf("flows=%d answered=%d\n", n, answered);
	for (int i = 0; i < n; i++)
		close(fd[i]);
	return answered == n ? 0 : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int do_stream(const char *where, double rate, double seconds, size_t size,
                     const char *outfile)
{
	if (size < 24)
		size = 24;
	int fd = sock_to(where, true);
	FILE *out = fopen(outfile, "w");
	if (!out) {
		perror(outfile);
		return 2;
	}
	size_t cap = rate > 0 ? (size_t)(rate * seconds) + 16 : 50000000;
	uint64_t *oneway = malloc(cap * sizeof *oneway);
	static uint8_t b[MAXDG], in[MAXDG];
	memset(b, 'x', sizeof b);
	memcpy(b, "STMP", 4);
	uint64_t start = now_ns(), stop = start + (uint64_t)(seconds * 1e9), seq = 0;
	uint64_t echoed = 0;
	double gap = rate > 0 ? 1e9 / rate : 0;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= stop + 1000000000ull)
			break;
		bool sending = now < stop && seq < cap;
		if (sending && (gap == 0 || now >= start + (uint64_t)(seq * gap))) {
			uint32_t s32 = (uint32_t)seq;
			memcpy(b + 4, &s32, 4);
			memcpy(b + 8, &now, 8);
			if (send(fd, b, size, MSG_DONTWAIT) == (ssize_t)size)
				seq++;
			else if (gap > 0)
				seq++; /* counted as sent (and lost) to keep the schedule */
			if (gap == 0)
				goto drain;
			continue;
		}
	drain:;
		struct pollfd p = {fd, POLLIN, 0};
		int wait = 0;
		if (!sending)
			wait = 50;
		else if (gap > 0) {
			uint64_t next = start + (uint64_t)(seq * gap);
			wait = next > now ? (int)((next - now) / 1000000) : 0;
		}
		if (poll(&p, 1, wait) <= 0)
			continue;
		while (recv(fd, in, sizeof in, MSG_DONTWAIT) >= 24) {
			uint32_t s;
			uint64_t ts, tr, t = now_ns();
			memcpy(&s, in + 4, 4);
			memcpy(&ts, in + 8, 8);
			memcpy(&tr, in + 16, 8);
			fprintf(out, "%llu %llu %llu %llu\n", (unsigned long long)s,
			        (unsigned long long)(ts - start),
			        (unsigned long long)((tr - ts) / 1000),
			        (unsigned long long)((t - ts) / 1000));
			if (echoed < cap)
				oneway[echoed] = (tr - ts) / 1000;
			echoed++;
		}
	}
	fclose(out);
	size_t n = echoed < cap ? echoed : cap;
	qsort(oneway, n, sizeof *oneway, cmp_u64);
#define PCT(q) (n ? (unsigned long long)oneway[(size_t)((n - 1) * (q))] : 0ull)
	printf("sent=%llu echoed=%llu per_s=%.0f oneway_us p50=%llu p90=%llu p99=%llu max=%llu\n",
	       (unsigned long long)seq, (unsigned long long)echoed, (double)echoed / seconds,
	       PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0));
	free(oneway);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "echo") == 0)
		return do_echo(argv[2]);
	if (argc >= 5 && strcmp(argv[1], "sizes") == 0)
		return do_sizes(argv[2], (size_t)atol(argv[3]), (uint64_t)atoll(argv[4]));
	if (argc >= 4 && strcmp(argv[1], "flows") == 0)
		return do_flows(argv[2], atoi(argv[3]));
	if (argc >= 7 && strcmp(argv[1], "stream") == 0)
		return do_stream(argv[2], atof(argv[3]), atof(argv[4]), (size_t)atol(argv[5]),
		                 argv[6]);
	fprintf(stderr, "usage: see the comment at the top of tests/tools/udpx.c\n");
	return 2;
}
