/*
 * wanem: a user-space WAN link emulator over two TUN devices (this kernel has
 * no netem).  Start here: main() -> run() is one epoll loop; struct dir is one
 * direction of the link (a timed queue); dir_arrive() decides a packet's fate
 * when it is read, dir_release() writes out what is due.
 *
 *   wanem [OPTIONS] [NETNS:]DEV_A [NETNS:]DEV_B
 *
 * Every IP packet the kernel routes into DEV_A comes out of DEV_B after the
 * a>b parameters were applied, and the other way round, so the two sides see
 * one point-to-point link (any protocol: the TUN devices carry whole IPv4 and
 * IPv6 packets, no ARP/ND).  NETNS is a name under /run/netns or a path; the
 * devices may exist already (`ip tuntap add DEV mode tun`, then addresses
 * survive the emulator) or are created (and vanish when it exits).
 *
 * Per direction (VALUE for both, or A2B/B2A):
 *   -d, --delay MS       one-way propagation delay (fractions allowed)
 *   -j, --jitter MS      extra delay, uniform in [0, MS]; never reorders
 *                        (a packet leaves no earlier than the one before it)
 *   -r, --rate MBIT      bottleneck rate; 0 = unlimited (default).  A packet
 *                        leaves the bottleneck when its last bit is
 *                        serialized at this rate after the packets ahead of
 *                        it, then travels DELAY.
 *   -q, --queue PKTS     drop-tail bottleneck queue: an arriving packet is
 *                        dropped when PKTS packets are waiting to be
 *                        serialized (default 1000; only with a rate)
 *   -b, --queue-bytes B  the same bound in bytes (0 = none, the default)
 *   -l, --loss PCT       random loss on arrival, before the queue (0..100)
 *   -x, --corrupt K      rewrite every Kth packet that carries an SCTP DATA
 *                        or I-DATA chunk over UDP (SCTP over UDP, RFC 6951):
 *                        4 bytes of the first such chunk's user data are
 *                        inverted, then the SCTP CRC32c and the UDP checksum
 *                        are made right again, so only an authentication
 *                        above the checksum (SCTP-AUTH, an AEAD) can tell;
 *                        0 = never (default).  An on-path attacker's edit.
 *   -i, --inject K       every Kth such packet (counted with -x's) goes on
 *                        unchanged, and a copy rewritten as -x does is
 *                        written out at once, ahead of it: a forged packet
 *                        with the right verification tag and TSN that
 *                        arrives before the real one.  0 = never (default).
 * Other:
 *   -n, --name NAME      label of the counter lines (default DEV_A)
 *   -s, --seed N         seed of the loss/jitter generator (default: time)
 *   -m, --ring MIB       memory per direction for packets queued or in
 *                        flight (default 64; slots of the devices' MTU at
 *                        start); a packet finding no slot is dropped and
 *                        counted as drop_ring
 *
 * Counters (one line per direction on stderr at SIGUSR1 and at exit):
 *   wanem NAME a>b: rx=P fwd=P fwd_bytes=B drop_loss=P drop_queue=P
 *                   drop_ring=P max_queue=P write_err=P data_pkts=P corrupted=P
 *                   injected=P
 * (data_pkts, corrupted and injected count only with -x or -i.)
 * "wanem NAME: ready" is printed once both devices are attached.
 * SIGTERM/SIGINT end it.
 *
 * Why the shape: one thread, nonblocking reads in batches until EAGAIN, a
 * FIFO ring of slots per direction (packets keep their order, so departure times
 * only grow), and one absolute timerfd armed for the earliest departure: no
 * busy loop, no per-packet allocation.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns, CLONE_NEWNET: lib.sh compiles this file alone */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define READ_BATCH 64
#define NS_PER_MS  1000000ULL
#define NS_PER_SEC 1000000000ULL

struct params {
	double delay_ms;
	double jitter_ms;
	double rate_mbit;
	double loss_pct;
	uint64_t queue_pkts;
	uint64_t queue_bytes;
	uint64_t corrupt_every;
	uint64_t inject_every;
};

struct counters {
	uint64_t rx, fwd, fwd_bytes, drop_loss, drop_queue, drop_ring, max_queue, write_err;
	uint64_t data_pkts, corrupted, injected;
};

/* What the ring knows of one packet; its bytes are in the slot of the same index. */
struct meta {
	uint64_t t_ser; /* its last bit leaves the bottleneck (ns, monotonic) */
	uint64_t t_dlv; /* it is written to the far device */
	uint32_t len;
};

/*
 * One direction: packets read from in_fd, written to out_fd.  The ring of
 * fixed-size slots holds the packets in arrival order: [head, head + count)
 * wait for their departure; the last q_pkts of them, from index ser on, have
 * not left the bottleneck yet (the queue the drop-tail bound applies to).
 */
struct dir {
	const char *label; /* "a>b" or "b>a" */
	int in_fd, out_fd;
	struct params p;
	uint64_t delay_ns, jitter_ns;
	double ns_per_byte; /* 0: unlimited */
	uint64_t lossthr;   /* drop when rnd32() < lossthr */
	uint8_t *slots;     /* nslots x slotsz bytes */
	struct meta *meta;
	uint32_t nslots, slotsz;
	uint32_t head, count; /* oldest packet, packets held */
	uint32_t ser;         /* oldest packet not yet serialized */
	uint64_t q_pkts, q_bytes;
	uint64_t last_ser, last_dlv;
	struct counters c;
};

static uint64_t rng_state;

static uint32_t rnd32(void)
{
	/* xorshift64*: plenty for loss and jitter decisions */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint32_t ring_idx(const struct dir *d, uint32_t i)
{
	return i >= d->nslots ? i - d->nslots : i;
}

/* Packets that left the bottleneck by now no longer count as queued. */
static void dir_serialize(struct dir *d, uint64_t now)
{
	while (d->q_pkts && d->meta[d->ser].t_ser <= now) {
		d->q_pkts--;
		d->q_bytes -= d->meta[d->ser].len;
		d->ser = ring_idx(d, d->ser + 1);
	}
}

/* --- rewriting SCTP over UDP (-x) ----------------------------------- */

/* CRC32c (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: a test
 * tool, a few packets a second need it. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

/* One's-complement sum of N bytes (big-endian 16-bit words), added to SUM. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP datagram at U (ULEN bytes) inside IP packet PKT: its checksum
 * computed again (IPv4 with checksum 0 stays without one). */
static void udp_fix(const uint8_t *pkt, uint8_t *u, size_t ulen)
{
	bool v6 = (pkt[0] >> 4) == 6;
	if (!v6 && u[6] == 0 && u[7] == 0)
		return;
	u[6] = u[7] = 0;
	uint32_t sum = v6 ? csum_add(0, pkt + 8, 32) : csum_add(0, pkt + 12, 8);
	sum += 17 + (uint32_t)ulen;
	sum = csum_add(sum, u, ulen);
	uint16_t c = csum_fold(sum);
	if (c == 0)
		c = 0xffff;
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
}

/* Rewrite the DATA chunk at CHUNK (header HDR bytes, CLEN in all) of the
 * SCTP packet SCTP (SLEN bytes) in UDP datagram U (ULEN) of IP packet PKT,
 * and make both checksums right again. */
static void rewrite(uint8_t *pkt, uint8_t *u, size_t ulen, uint8_t *sctp, size_t slen,
                    uint8_t *chunk, size_t hdr, size_t clen)
{
	uint8_t *data = chunk + hdr;
	size_t at = (clen - hdr) / 2 - 2;
	for (int k = 0; k < 4; k++)
		data[at + (size_t)k] ^= 0xff;
	sctp[8] = sctp[9] = sctp[10] = sctp[11] = 0;
	uint32_t crc = crc32c(sctp, slen);
	sctp[8] = (uint8_t)crc; /* the SCTP checksum is stored little-endian */
	sctp[9] = (uint8_t)(crc >> 8);
	sctp[10] = (uint8_t)(crc >> 16);
	sctp[11] = (uint8_t)(crc >> 24);
	udp_fix(pkt, u, ulen);
}

/* PKT (LEN bytes): when it is SCTP over UDP carrying DATA or I-DATA, count
 * it, and rewrite every Kth (-x), or send a rewritten copy of it ahead (-i). */
static void maybe_corrupt(struct dir *d, uint8_t *pkt, uint32_t len)
{
	size_t ip;
	if (len >= 20 && (pkt[0] >> 4) == 4 && pkt[9] == 17)
		ip = (size_t)(pkt[0] & 0xf) * 4;
	else if (len >= 40 && (pkt[0] >> 4) == 6 && pkt[6] == 17)
		ip = 40;
	else
		return;
	if (len < ip + 8 + 12)
		return;
	uint8_t *u = pkt + ip, *sctp = u + 8;
	size_t ulen = (size_t)(u[4] << 8 | u[5]);
	if (ulen < 8 + 12 || ip + ulen > len)
		return;
	size_t slen = ulen - 8, off = 12;
	while (off + 4 <= slen) {
		uint8_t type = sctp[off];
		size_t clen = (size_t)(sctp[off + 2] << 8 | sctp[off + 3]);
		if (clen < 4 || off + clen > slen)
			return;
		size_t hdr = type == 0x00 ? 16 : type == 0x40 ? 20 : 0;
		if (hdr && clen >= hdr + 4) {
			d->c.data_pkts++;
			if (d->p.corrupt_every && d->c.data_pkts % d->p.corrupt_every == 0) {
				rewrite(pkt, u, ulen, sctp, slen, sctp + off, hdr, clen);
				d->c.corrupted++;
			} else if (d->p.inject_every && d->c.data_pkts % d->p.inject_every == 0) {
				static uint8_t copy[65536];
				memcpy(copy, pkt, len);
				size_t delta = (size_t)(sctp - pkt);
				rewrite(copy, copy + ip, ulen, copy + delta, slen,
				        copy + delta + off, hdr, clen);
				if (write(d->out_fd, copy, len) == (ssize_t)len)
					d->c.injected++;
			}
			return;
		}
		off += (clen + 3) & ~(size_t)3;
	}
}

/* The packet just read into the tail slot: drop it or give it its times. */
static void dir_arrive(struct dir *d, uint64_t now, uint32_t len)
{
	d->c.rx++;
	if (d->p.corrupt_every || d->p.inject_every)
		maybe_corrupt(d, d->slots + (size_t)ring_idx(d, d->head + d->count) * d->slotsz,
		              len);
	if (d->lossthr && rnd32() < d->lossthr) {
		d->c.drop_loss++;
		return;
	}
	uint64_t t_ser = now;
	if (d->ns_per_byte > 0) {
		if ((d->p.queue_pkts && d->q_pkts >= d->p.queue_pkts) ||
		    (d->p.queue_bytes && d->q_bytes + len > d->p.queue_bytes)) {
			d->c.drop_queue++;
			return;
		}
		t_ser = (now > d->last_ser ? now : d->last_ser) +
		        (uint64_t)(d->ns_per_byte * (double)len);
		d->last_ser = t_ser;
	}
	uint64_t dlv = t_ser + d->delay_ns;
	if (d->jitter_ns)
		dlv += (uint64_t)((double)d->jitter_ns * rnd32() / 4294967296.0);
	if (dlv < d->last_dlv)
		dlv = d->last_dlv; /* never reorder */
	d->last_dlv = dlv;
	uint32_t t = ring_idx(d, d->head + d->count);
	d->meta[t] = (struct meta){.t_ser = t_ser, .t_dlv = dlv, .len = len};
	d->count++;
	if (t_ser > now) {
		if (d->q_pkts == 0)
			d->ser = t;
		d->q_pkts++;
		d->q_bytes += len;
		if (d->q_pkts > d->c.max_queue)
			d->c.max_queue = d->q_pkts;
	}
}

/* Read what the kernel has queued on in_fd (up to a batch). */
static int dir_read(struct dir *d)
{
	static uint8_t spill[65536];
	uint64_t now = now_ns();
	dir_serialize(d, now);
	for (int i = 0; i < READ_BATCH; i++) {
		bool full = d->count == d->nslots;
		uint8_t *buf =
		    full ? spill : d->slots + (size_t)ring_idx(d, d->head + d->count) * d->slotsz;
		ssize_t n = read(d->in_fd, buf, full ? sizeof(spill) : d->slotsz);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == EIO)
				return 0; /* EIO: our end of the link is down */
			fprintf(stderr, "wanem: read %s: %s\n", d->label, strerror(errno));
			return -errno;
		}
		if (n == 0)
			return 0;
		if (full) {
			d->c.rx++;
			d->c.drop_ring++;
			continue;
		}
		dir_arrive(d, now, (uint32_t)n);
	}
	return 0;
}

/* Write every packet whose time has come; returns the next due time or 0. */
static uint64_t dir_release(struct dir *d, uint64_t now)
{
	dir_serialize(d, now); /* before any slot of the queue is freed */
	while (d->count) {
		struct meta *m = &d->meta[d->head];
		if (m->t_dlv > now)
			return m->t_dlv;
		if (write(d->out_fd, d->slots + (size_t)d->head * d->slotsz, m->len) ==
		    (ssize_t)m->len) {
			d->c.fwd++;
			d->c.fwd_bytes += m->len;
		} else {
			d->c.write_err++; /* EIO: the far end is down; a cut cable */
		}
		d->head = ring_idx(d, d->head + 1);
		d->count--;
	}
	return 0;
}

static void print_counters(const char *name, const struct dir *d)
{
	const struct counters *c = &d->c;
	fprintf(stderr,
	        "wanem %s %s: rx=%llu fwd=%llu fwd_bytes=%llu drop_loss=%llu drop_queue=%llu "
	        "drop_ring=%llu max_queue=%llu write_err=%llu data_pkts=%llu corrupted=%llu "
	        "injected=%llu\n",
	        name, d->label, (unsigned long long)c->rx, (unsigned long long)c->fwd,
	        (unsigned long long)c->fwd_bytes, (unsigned long long)c->drop_loss,
	        (unsigned long long)c->drop_queue, (unsigned long long)c->drop_ring,
	        (unsigned long long)c->max_queue, (unsigned long long)c->write_err,
	        (unsigned long long)c->data_pkts, (unsigned long long)c->corrupted,
	        (unsigned long long)c->injected);
}

/* Enter netns (name or path; "" = the current one) and attach/create dev. */
static int tun_open(const char *spec, uint32_t *mtu)
{
	char ns[256] = "", dev[IFNAMSIZ];
	const char *colon = strrchr(spec, ':');
	const char *name = spec;
	if (colon) {
		size_t n = (size_t)(colon - spec);
		if (n >= sizeof(ns))
			return -ENAMETOOLONG;
		memcpy(ns, spec, n);
		ns[n] = '\0';
		name = colon + 1;
	}
	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(dev, sizeof(dev), "%s", name);
	int self = -1;
	if (ns[0]) {
		char path[300];
		if (strchr(ns, '/'))
			snprintf(path, sizeof(path), "%s", ns);
		else
			snprintf(path, sizeof(path), "/run/netns/%s", ns);
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
			int e = errno;
			fprintf(stderr, "wanem: cannot enter netns %s: %s\n", path, strerror(e));
			if (nsfd >= 0)
				close(nsfd);
			if (self >= 0)
				close(self);
			return -e;
		}
		close(nsfd);
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int err = 0;
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "wanem: /dev/net/tun: %s\n", strerror(errno));
	} else {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			err = -errno;
			fprintf(stderr, "wanem: TUNSETIFF %s: %s\n", spec, strerror(errno));
		} else if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0) {
			err = -errno;
			fprintf(stderr, "wanem: SIOCGIFMTU %s: %s\n", spec, strerror(errno));
		} else {
			/* a slot holds the largest packet; a later, larger MTU would truncate */
			*mtu = ifr.ifr_mtu > 1500 ? (uint32_t)ifr.ifr_mtu : 1500;
		}
		if (s >= 0)
			close(s);
	}
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) < 0 && !err)
			err = -errno;
		close(self);
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* "X" or "X/Y" into a[0] (a>b) and a[1] (b>a). */
static int parse_pair(const char *s, double lo, double hi, double out[2])
{
	char *end;
	out[0] = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (*end == '/') {
		const char *s2 = end + 1;
		out[1] = strtod(s2, &end);
		if (end == s2)
			return -EINVAL;
	} else {
		out[1] = out[0];
	}
	if (*end != '\0')
		return -EINVAL;
	for (int i = 0; i < 2; i++)
		if (!(out[i] >= lo && out[i] <= hi))
			return -ERANGE;
	return 0;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: wanem [-d MS] [-j MS] [-r MBIT] [-q PKTS] [-b BYTES] [-l PCT]\n"
	    "             [-x K] [-i K] [-n NAME] [-s SEED] [-m MIB] [NETNS:]DEV_A [NETNS:]DEV_B\n"
	    "(per-direction values as A2B/B2A; see the comment at the top of "
	    "tests/tools/wanem.c)\n");
}

static int dir_init(struct dir *d, const char *label, size_t ring_bytes, uint32_t mtu)
{
	d->label = label;
	d->delay_ns = (uint64_t)(d->p.delay_ms * NS_PER_MS);
	d->jitter_ns = (uint64_t)(d->p.jitter_ms * NS_PER_MS);
	d->ns_per_byte = d->p.rate_mbit > 0 ? 8000.0 / d->p.rate_mbit : 0;
	d->lossthr = (uint64_t)(d->p.loss_pct / 100.0 * 4294967296.0);
	d->slotsz = (mtu + 63) & ~63U;
	d->nslots = (uint32_t)(ring_bytes / d->slotsz);
	if (d->nslots < 64)
		d->nslots = 64;
	d->slots = malloc((size_t)d->nslots * d->slotsz);
	d->meta = calloc(d->nslots, sizeof(*d->meta));
	return d->slots && d->meta ? 0 : -ENOMEM;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"delay", required_argument, NULL, 'd'},
	    {"jitter", required_argument, NULL, 'j'},
	    {"rate", required_argument, NULL, 'r'},
	    {"queue", required_argument, NULL, 'q'},
	    {"queue-bytes", required_argument, NULL, 'b'},
	    {"loss", required_argument, NULL, 'l'},
	    {"name", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},
	    {"ring", required_argument, NULL, 'm'},
	    {"corrupt", required_argument, NULL, 'x'},
	    {"inject", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct dir dirs[2];
	memset(dirs, 0, sizeof(dirs));
	dirs[0].p.queue_pkts = dirs[1].p.queue_pkts = 1000;
	const char *name = NULL;
	double ring_mib = 64;
	uint64_t seed = now_ns();
	int c;
	while ((c = getopt_long(argc, argv, "d:j:r:q:b:l:n:s:m:x:i:h", opts, NULL)) != -1) {
		double v[2];
		int err = 0;
		switch (c) {
		case 'd':
			err = parse_pair(optarg, 0, 60000, v);
			dirs[0].p.delay_ms = v[0], dirs[1].p.delay_ms = v[1];
			break;
		case 'j':
			err = parse_pair(optarg, 0, 60000, v);
			dirs[0].p.jitter_ms = v[0], dirs[1].p.jitter_ms = v[1];
			break;
		case 'r':
			err = parse_pair(optarg, 0, 1e6, v);
			dirs[0].p.rate_mbit = v[0], dirs[1].p.rate_mbit = v[1];
			break;
		case 'q':
			err = parse_pair(optarg, 0, 1e7, v);
			dirs[0].p.queue_pkts = (uint64_t)v[0],
			dirs[1].p.queue_pkts = (uint64_t)v[1];
			break;
		case 'b':
			err = parse_pair(optarg, 0, 1e10, v);
			dirs[0].p.queue_bytes = (uint64_t)v[0],
			dirs[1].p.queue_bytes = (uint64_t)v[1];
			break;
		case 'l':
			err = parse_pair(optarg, 0, 100, v);
			dirs[0].p.loss_pct = v[0], dirs[1].p.loss_pct = v[1];
			break;
		case 'x':
			err = parse_pair(optarg, 0, 1e9, v);
			dirs[0].p.corrupt_every = (uint64_t)v[0],
			dirs[1].p.corrupt_every = (uint64_t)v[1];
			break;
		case 'i':
			err = parse_pair(optarg, 0, 1e9, v);
			dirs[0].p.inject_every = (uint64_t)v[0],
			dirs[1].p.inject_every = (uint64_t)v[1];
			break;
		case 'n':
			name = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			ring_mib = strtod(optarg, NULL);
			if (!(ring_mib >= 1 && ring_mib <= 4096))
				err = -ERANGE;
			break;
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
		if (err) {
			fprintf(stderr, "wanem: bad value '%s' for -%c\n", optarg, c);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage();
		return 2;
	}
	rng_state = seed | 1;
	if (!name) {
		const char *colon = strrchr(argv[optind], ':');
		name = colon ? colon + 1 : argv[optind];
	}
	/* a timer slack of 1 us (default 50): departures are on time */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	uint32_t mtu_a, mtu_b;
	int fa = tun_open(argv[optind], &mtu_a);
	if (fa < 0)
		return 1;
	int fb = tun_open(argv[optind + 1], &mtu_b);
	if (fb < 0)
		return 1;
	size_t ring = (size_t)(ring_mib * 1048576.0);
	uint32_t mtu = mtu_a > mtu_b ? mtu_a : mtu_b;
	if (dir_init(&dirs[0], "a>b", ring, mtu) < 0 || dir_init(&dirs[1], "b>a", ring, mtu) < 0) {
		fprintf(stderr, "wanem: out of memory\n");
		return 1;
	}
	dirs[0].in_fd = fa, dirs[0].out_fd = fb;
	dirs[1].in_fd = fb, dirs[1].out_fd = fa;

	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	int sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0) {
		perror("wanem: setup");
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.u32 = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, fa, &ev);
	ev.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, fb, &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.u32 = 3;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (int i = 0; i < 2; i++)
		fprintf(stderr,
		        "wanem %s %s: delay=%gms jitter=%gms rate=%gMbit/s queue=%llupkts/%lluB "
		        "loss=%g%%\n",
		        name, dirs[i].label, dirs[i].p.delay_ms, dirs[i].p.jitter_ms,
		        dirs[i].p.rate_mbit, (unsigned long long)dirs[i].p.queue_pkts,
		        (unsigned long long)dirs[i].p.queue_bytes, dirs[i].p.loss_pct);
	fprintf(stderr, "wanem %s: ready\n", name);

	uint64_t armed = 0;
	int rc = 0;
	bool running = true;
	while (running) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("wanem: epoll_wait");
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;
			if (k < 2) {
				if (dir_read(&dirs[k]) < 0) {
					rc = 1;
					running = false;
				}
			} else if (k == 2) {
				uint64_t exp;
				if (read(tfd, &exp, sizeof(exp)) < 0) {
					/* EAGAIN: a re-arm raced with expiry */
				}
				armed = 0;
			} else {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1) {
						print_counters(name, &dirs[0]);
						print_counters(name, &dirs[1]);
					} else {
						running = false;
					}
				}
			}
		}
		uint64_t now = now_ns();
		uint64_t next = 0;
		for (int i = 0; i < 2; i++) {
			uint64_t t = dir_release(&dirs[i], now);
			if (t && (!next || t < next))
				next = t;
		}
		if (next && next != armed) {
			struct itimerspec its = {0};
			its.it_value.tv_sec = (time_t)(next / NS_PER_SEC);
			its.it_value.tv_nsec = (long)(next % NS_PER_SEC);
			timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
			armed = next;
		}
	}
	print_counters(name, &dirs[0]);
	print_counters(name, &dirs[1]);
	return rc;
}
