/*
 * raw_usrsctp: the engine's ceiling. Pushes bytes over ONE usrsctp
 * association with the settings of src/engine_usrsctp.c and nothing else:
 * no TCP on either side, no event loop, no frame codec.
 *
 *   raw_usrsctp recv LOCAL ENCAP_PORT PEER_ENCAP_PORT
 *   raw_usrsctp send LOCAL REMOTE ENCAP_PORT PEER_ENCAP_PORT SECONDS [STREAMS]
 *
 * The sender writes 64 KiB messages (one full DATA frame of the gateway)
 * round-robin on STREAMS streams (default 1) for SECONDS, then closes. The
 * receiver reads until the association ends and prints, like the sender,
 * one line: bytes=N seconds=S mbit_s=R cpu_s=C (CPU of the whole process,
 * usrsctp's threads included, from getrusage). The receiver's rate is the
 * figure: bytes that arrived divided by the time from first to last byte.
 *
 * Experiments, off by default, that are NOT engine settings: they show
 * what a change to the engine would buy. RAW_NO_CRC=1 (set on both ends) skips computing and
 * checking the CRC32c (usrsctp_enable_crc32c_offload), the cost a hardware
 * CRC32c removes most of (src/crc32c.c). RAW_MAXCHUNKS=N sets usrsctp's
 * sctp_max_chunks_on_queue (default 512).
 *
 * RAW_PATH_MTU=N: the path MTU, as [sctp] path_mtu counts it (the IP
 * packet, UDP included; default 1280, the gateway's default). bench/run.sh
 * sets it to the sctpgw column's path_mtu, so both columns send packets of
 * one size. RAW_AUTH=1 (on both ends) asks the peer for SCTP-AUTH on the
 * chunks the gateway's packet_auth covers (engine.h ENGINE_AUTH_CHUNKS;
 * with usrsctp's null key): an HMAC and a 28-byte AUTH chunk in every
 * packet, as the gateway's default. bench/run.sh sets it from the sctpgw
 * column's packet_auth.
 *
 * Keep the settings in raw_configure() equal to those of engine_usrsctp.c
 * (PATH_MTU, NODELAY, interleave level, buffers, UDP socket buffers, ECN,
 * blackhole, and src/crc32c.c linked in place of usrsctp's checksum): this
 * program is only a ceiling while it runs the same engine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <usrsctp.h>

#include "engine.h" /* ENGINE_AUTH_CHUNKS; config.h: CONFIG_PATH_MTU_MIN, _MAX */
#include "udp_bufs.h"

#define RAW_SCTP_PORT 5758
#define RAW_MSG       (64 * 1024 + 2) /* FRAME_MAX: header + 64 KiB */
#define RAW_PATH_MTU  1280            /* [sctp] path_mtu's default */
#define RAW_HEADERS   40              /* IPv4 20, UDP 8, SCTP 12: engine_usrsctp.c usr_chunk_room */
#define RAW_BUF       (1024 * 1024)   /* [sctp] sndbuf/rcvbuf default */
#define RAW_PPID      0x53475731u
#define RAW_UDP_BUF   (4 << 20) /* USR_UDP_BUF */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "raw_usrsctp: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void setopt(struct socket *s, int opt, const void *v, socklen_t len, const char *what)
{
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, opt, v, len) < 0)
		die(what);
}

/* usrsctp's spp_pathmtu (the room for chunks) for RAW_PATH_MTU. */
static uint32_t chunk_room(void)
{
	const char *v = getenv("RAW_PATH_MTU");
	int mtu = v && *v ? atoi(v) : RAW_PATH_MTU;
	if (mtu < CONFIG_PATH_MTU_MIN || mtu > CONFIG_PATH_MTU_MAX) {
		fprintf(stderr, "raw_usrsctp: RAW_PATH_MTU=%s: expected %d to %d\n", v,
		        CONFIG_PATH_MTU_MIN, CONFIG_PATH_MTU_MAX);
		exit(2);
	}
	return (uint32_t)mtu - RAW_HEADERS;
}

/* The options of engine_usrsctp.c's usr_configure(), minus timers and
 * event subscriptions (which do not touch the data path). */
static void raw_configure(struct socket *s, uint16_t peer_encap)
{
	int on = 1, level = 1, buf = RAW_BUF;
	struct sctp_udpencaps encaps = {0};
	encaps.sue_address.ss_family = AF_INET6;
	encaps.sue_port = htons(peer_encap);
	setopt(s, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps, "remote UDP port");
	setopt(s, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY");
	setopt(s, SCTP_FRAGMENT_INTERLEAVE, &level, sizeof level, "interleave");
	struct sctp_initmsg init = {.sinit_num_ostreams = 64, .sinit_max_instreams = 64};
	setopt(s, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG");
	const char *auth = getenv("RAW_AUTH");
	static const uint8_t auth_chunks[] = ENGINE_AUTH_CHUNKS;
	for (size_t i = 0; auth && *auth == '1' && i < sizeof auth_chunks; i++) {
		struct sctp_authchunk ac = {.sauth_chunk = auth_chunks[i]};
		setopt(s, SCTP_AUTH_CHUNK, &ac, sizeof ac, "SCTP_AUTH_CHUNK");
	}
	struct sctp_paddrparams pp = {.spp_assoc_id = SCTP_FUTURE_ASSOC,
	                              .spp_hbinterval = 1000,
	                              .spp_pathmtu = chunk_room(),
	                              .spp_flags = SPP_HB_ENABLE | SPP_PMTUD_DISABLE,
	                              .spp_pathmaxrxt = 3};
	setopt(s, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS");
	if (usrsctp_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf) < 0 ||
	    usrsctp_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf) < 0)
		die("socket buffers");
}

static struct sockaddr_in v4(const char *text, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, text, &a.sin_addr) != 1) {
		fprintf(stderr, "raw_usrsctp: '%s' is not an IPv4 address\n", text);
		exit(2);
	}
	return a;
}

static struct socket *raw_socket(const char *local, uint16_t peer_encap)
{
	struct socket *s = usrsctp_socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (!s)
		die("usrsctp_socket");
	raw_configure(s, peer_encap);
	struct sockaddr_in a = v4(local, RAW_SCTP_PORT);
	if (usrsctp_bindx(s, (struct sockaddr *)&a, 1, SCTP_BINDX_ADD_ADDR) < 0)
		die("bindx");
	return s;
}

static void report(unsigned long long bytes, double seconds)
{
	struct sctpstat st = {0};
	usrsctp_get_stat(&st);
	printf("bytes=%llu seconds=%.3f mbit_s=%.1f cpu_s=%.3f\n", bytes, seconds,
	       seconds > 0 ? bytes * 8 / seconds / 1e6 : 0.0, cpu_s());
	/* What the stack saw: retransmissions and why the receiver dropped. */
	printf("stats packets_out=%u packets_in=%u sacks_out=%u sacks_in=%u retrans=%u "
	       "fast_retrans=%u t3_timeouts=%u dup_data_in=%u drop_chunk_limit=%u drop_rwnd=%u\n",
	       st.sctps_sendpackets, st.sctps_recvpackets, st.sctps_sendsacks, st.sctps_recvsacks,
	       st.sctps_sendretransdata, st.sctps_sendfastretrans, st.sctps_timodata,
	       st.sctps_recvdupdata, st.sctps_datadropchklmt, st.sctps_datadroprwnd);
	fflush(stdout);
}

static int run_recv(const char *local, uint16_t peer_encap)
{
	struct socket *l = raw_socket(local, peer_encap);
	if (usrsctp_listen(l, 1) < 0)
		die("listen");
	printf("listening\n");
	fflush(stdout);
	struct socket *s = usrsctp_accept(l, NULL, NULL);
	if (!s)
		die("accept");
	static char buf[RAW_MSG + 1];
	unsigned long long bytes = 0;
	double first = 0, last = 0;
	for (;;) {
		struct sctp_rcvinfo info;
		socklen_t infolen = sizeof info, fromlen = sizeof(struct sockaddr_in6);
		struct sockaddr_in6 from;
		unsigned infotype = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(s, buf, sizeof buf, (struct sockaddr *)&from, &fromlen,
		                          &info, &infolen, &infotype, &flags);
		if (n <= 0)
			break;
		if (flags & MSG_NOTIFICATION)
			continue;
		last = now_s();
		if (!bytes)
			first = last;
		bytes += (unsigned long long)n;
	}
	report(bytes, last - first);
	usrsctp_close(s);
	usrsctp_close(l);
	return bytes ? 0 : 1;
}

static int run_send(const char *local, const char *remote, uint16_t peer_encap, double seconds,
                    int streams)
{
	struct socket *s = raw_socket(local, peer_encap);
	struct sockaddr_in to = v4(remote, RAW_SCTP_PORT);
	if (usrsctp_connect(s, (struct sockaddr *)&to, sizeof to) < 0)
		die("connect");
	static char msg[RAW_MSG];
	memset(msg, 'x', sizeof msg);
	unsigned long long bytes = 0;
	double t0 = now_s(), end = t0 + seconds;
	for (unsigned long long i = 0; now_s() < end; i++) {
		struct sctp_sndinfo si = {.snd_sid = (uint16_t)(1 + i % (unsigned)streams),
		                          .snd_ppid = htonl(RAW_PPID)};
		if (usrsctp_sendv(s, msg, sizeof msg, NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO,
		                  0) < 0)
			die("sendv");
		bytes += sizeof msg;
	}
	/* A graceful close: SHUTDOWN waits for everything to be acknowledged. */
	usrsctp_close(s);
	report(bytes, now_s() - t0);
	return 0;
}

/* usrsctp_init and the process-wide settings of engine_usrsctp_new(). */
static void raw_init(uint16_t encap)
{
	int granted;
	usrsctp_init(encap, NULL, NULL);
	usrsctp_sysctl_set_sctp_blackhole(0);
	usrsctp_sysctl_set_sctp_ecn_enable(1);
	const char *mc = getenv("RAW_MAXCHUNKS");
	if (mc && *mc)
		usrsctp_sysctl_set_sctp_max_chunks_on_queue((uint32_t)atoi(mc));
	const char *nocrc = getenv("RAW_NO_CRC");
	if (nocrc && *nocrc == '1')
		usrsctp_enable_crc32c_offload();
	if (udp_bufs_grow(encap, RAW_UDP_BUF, &granted) <= 0)
		fprintf(stderr, "raw_usrsctp: cannot grow the UDP buffers\n");
}

int main(int argc, char **argv)
{
	int rc = 2;
	if (argc == 5 && !strcmp(argv[1], "recv")) {
		raw_init((uint16_t)atoi(argv[3]));
		rc = run_recv(argv[2], (uint16_t)atoi(argv[4]));
	} else if ((argc == 7 || argc == 8) && !strcmp(argv[1], "send")) {
		raw_init((uint16_t)atoi(argv[4]));
		int streams = argc == 8 ? atoi(argv[7]) : 1;
		rc = run_send(argv[2], argv[3], (uint16_t)atoi(argv[5]), atof(argv[6]),
		              streams < 1    ? 1
		              : streams > 63 ? 63
		                             : streams);
	} else {
		fprintf(stderr, "usage: raw_usrsctp recv LOCAL ENCAP PEER_ENCAP\n"
		                "       raw_usrsctp send LOCAL REMOTE ENCAP PEER_ENCAP SECONDS "
		                "[STREAMS]\n");
		return 2;
	}
	/* usrsctp_finish waits for its threads; the figures are printed. */
	for (int i = 0; i < 500 && usrsctp_finish() != 0; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	return rc;
}
