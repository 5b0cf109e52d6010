/*
 * sgxfer: a small TCP transfer tool for tests where python3 is too big to
 * carry (the VM's initramfs). Every connection moves a pseudo-random stream
 * both ways at once and reports the SHA-256 of what it received; the test
 * compares that with `sgxfer gen N SEED | sha256sum`, a second, independent
 * SHA-256 implementation.
 *
 *   sgxfer gen BYTES SEED                 the stream, on stdout
 *   sgxfer server HOST PORT BYTES SEED    per connection: send BYTES of the
 *                                         stream while reading until EOF, then
 *                                         close; print "recv N SHA256"
 *   sgxfer client HOST PORT BYTES SEED [COUNT]
 *                                         COUNT connections at once (default
 *                                         1), each sends BYTES, half-closes,
 *                                         reads until EOF; one "recv N SHA256"
 *                                         line each; exit 0 only if every one
 *                                         ended without a socket error
 *
 * SGXFER_TIMEOUT (seconds, default 120) bounds every process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- SHA-256 (FIPS 180-4) ----------------------------------------------- */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t block[64];
	size_t fill;
};

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t e = v[4], a = v[0];
		uint32_t t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
		              ((e & v[5]) ^ (~e & v[6])) + sha_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
		              ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, h0, sizeof h0);
	s->len = 0;
	s->fill = 0;
}

static void sha_update(struct sha256 *s, const uint8_t *p, size_t n)
{
	s->len += n;
	while (n > 0) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill == 64) {
			sha_block(s, s->block);
			s->fill = 0;
		}
	}
}

static void sha_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72] = {0x80};
	size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---- the stream ---------------------------------------------------------- */

struct gen {
	uint64_t x;
};

static void gen_init(struct gen *g, uint64_t seed)
{
	g->x = seed * 0x9e3779b97f4a7c15ull + 1;
}

/* xorshift64*: cheap, and any lost, repeated or foreign byte shows. */
static void gen_fill(struct gen *g, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		g->x ^= g->x >> 12;
		g->x ^= g->x << 25;
		g->x ^= g->x >> 27;
		uint64_t v = g->x * 0x2545f4914f6cdd1dull;
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* ---- one connection ------------------------------------------------------- */

#define CHUNK 65536

static unsigned timeout_s = 120; /* alarm() is not inherited: every child sets it */

/* Send BYTES of the stream (then shut down writing) while reading until
 * EOF; print the line. Returns 0, or -1 after a socket error. */
static int transfer(int fd, unsigned long long bytes, uint64_t seed)
{
	static uint8_t out[CHUNK], in[CHUNK];
	struct gen g;
	struct sha256 sha;
	size_t out_len = 0, out_off = 0;
	unsigned long long sent = 0, got = 0;
	bool eof = false, wdone = bytes == 0;
	gen_init(&g, seed);
	sha_init(&sha);
	if (wdone)
		shutdown(fd, SHUT_WR);

	while (!eof || !wdone) {
		struct pollfd p = {.fd = fd, .events = (eof ? 0 : POLLIN) | (wdone ? 0 : POLLOUT)};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
		if (!wdone && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			if (out_off == out_len) {
				out_len = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
				gen_fill(&g, out, out_len);
				out_off = 0;
			}
			ssize_t n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "sgxfer: send: %s\n", strerror(errno));
				return -1;
			}
			if (n > 0) {
				out_off += (size_t)n;
				sent += (unsigned long long)n;
			}
			if (sent == bytes) {
				shutdown(fd, SHUT_WR);
				wdone = true;
			}
		}
		if (!eof && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
			ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "sgxfer: recv: %s\n", strerror(errno));
				return -1;
			}
			if (n == 0)
				eof = true;
			if (n > 0) {
				sha_update(&sha, in, (size_t)n);
				got += (unsigned long long)n;
			}
		}
	}
	char hex[65], line[128];
	sha_hex(&sha, hex);
	int len = snprintf(line, sizeof line, "recv %llu %s\n", got, hex);
	if (write(STDOUT_FILENO, line, (size_t)len) != len)
		return -1;
	return 0;
}

static int resolve(const char *host, const char *port, struct addrinfo **out, bool passive)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags =
	                             AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
	int rc = getaddrinfo(host, port, &hints, out);
	if (rc != 0)
		fprintf(stderr, "sgxfer: %s %s: %s\n", host, port, gai_strerror(rc));
	return rc ? -1 : 0;
}

static int serve(const char *host, const char *port, unsigned long long bytes, uint64_t seed)
{
	struct addrinfo *ai;
	if (resolve(host, port, &ai, true) < 0)
		return 2;
	int on = 1, ls = socket(ai->ai_family, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) < 0 || listen(ls, 256) < 0) {
		fprintf(stderr, "sgxfer: listen %s %s: %s\n", host, port, strerror(errno));
		return 2;
	}
	freeaddrinfo(ai);
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	alarm(0);                 /* a server runs until it is killed */
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			alarm(timeout_s);
			_exit(transfer(fd, bytes, seed) == 0 ? 0 : 1);
		}
		close(fd);
	}
}

static int one_client(const char *host, const char *port, unsigned long long bytes, uint64_t seed)
{
	struct addrinfo *ai;
	if (resolve(host, port, &ai, false) < 0)
		return 2;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "sgxfer: connect %s %s: %s\n", host, port, strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	return transfer(fd, bytes, seed) == 0 ? 0 : 1;
}

static int clients(const char *host, const char *port, unsigned long long bytes, uint64_t seed,
                   int count)
{
	for (int i = 0; i < count; i++) {
		pid_t pid = fork();
		if (pid == 0 && alarm(timeout_s) == 0)
			_exit(one_client(host, port, bytes, seed));
		if (pid < 0)
			return 2;
	}
	int failed = 0, status;
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	if (failed)
		fprintf(stderr, "sgxfer: %d of %d connections failed\n", failed, count);
	return failed ? 1 : 0;
}

static int generate(unsigned long long bytes, uint64_t seed)
{
	static uint8_t buf[CHUNK];
	struct gen g;
	gen_init(&g, seed);
	while (bytes > 0) {
		size_t n = bytes < CHUNK ? (size_t)bytes : CHUNK;
		gen_fill(&g, buf, n);
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
		bytes -= n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sgxfer gen BYTES SEED\n"
	                "       sgxfer server HOST PORT BYTES SEED\n"
	                "       sgxfer client HOST PORT BYTES SEED [COUNT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *t = getenv("SGXFER_TIMEOUT");
	if (t)
		timeout_s = (unsigned)atoi(t);
	alarm(timeout_s);
	if (strcmp(argv[1], "gen") == 0 && argc == 4)
		return generate(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	if (strcmp(argv[1], "server") == 0 && argc == 6)
		return serve(argv[2], argv[3], strtoull(argv[4], NULL, 0),
		             strtoull(argv[5], NULL, 0));
	if (strcmp(argv[1], "client") == 0 && (argc == 6 || argc == 7))
		return clients(argv[2], argv[3], strtoull(argv[4], NULL, 0),
		               strtoull(argv[5], NULL, 0), argc == 7 ? atoi(argv[6]) : 1);
	usage();
	return 2;
}
