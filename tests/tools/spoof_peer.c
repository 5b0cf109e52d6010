/*
 * spoof_peer: a stranger that tries to pass the accept role's admission
 * check (issue 12, item 1). It speaks SCTP over UDP with usrsctp, binds
 * every LOCAL address given (its own unlisted address first, then the
 * configured remote address it merely claims), connects to the gateway so
 * that its INIT comes from the first address and lists the others, and, if
 * the association comes up, sends HELLO (role connect) and an OPEN for
 * TARGET on stream 1, then reports what the gateway answered.
 *
 *   spoof_peer ENCAP_PORT PEER_ENCAP_PORT SCTP_PORT GATEWAY TARGET LOCAL...
 *
 * GATEWAY is an IPv4 address, TARGET an ADDR:PORT, each LOCAL an IPv4
 * address. Prints one line and exits: "refused: ..." (0: the association
 * never came up or was aborted before an OPEN_OK), "admitted: ..." (1: the
 * association came up; the line says whether the OPEN was answered), 2 for
 * a usage or local error. Built only for the tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <usrsctp.h>

#include "addr.h"
#include "frame.h"

#define SPOOF_PPID 0x53475731u /* ENGINE_PPID ("SGW1") */

static _Noreturn void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct sockaddr_in v4(const char *text, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, text, &a.sin_addr) != 1) {
		printf("error: '%s' is not an IPv4 address\n", text);
		exit(2);
	}
	return a;
}

static int send_frame(struct socket *s, uint16_t sid, const struct frame *f)
{
	uint8_t buf[512];
	ssize_t n = frame_encode(f, buf, sizeof buf);
	if (n < 0)
		return -1;
	struct sctp_sndinfo si = {.snd_sid = sid, .snd_ppid = htonl(SPOOF_PPID)};
	return usrsctp_sendv(s, buf, (size_t)n, NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO, 0) < 0
	           ? -1
	           : 0;
}

/* Read frames for up to SECONDS; returns the type of the first frame on
 * stream 1 (OPEN_OK or RST: the OPEN was processed), 0 when none came, -1
 * when the association ended. */
static int await_answer(struct socket *s, double seconds, const char **ended)
{
	usrsctp_set_non_blocking(s, 1);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	static uint8_t buf[FRAME_MAX + 1];
	for (;;) {
		struct sctp_rcvinfo info = {0};
		socklen_t infolen = sizeof info, fromlen = sizeof(struct sockaddr_in6);
		struct sockaddr_in6 from;
		unsigned infotype = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(s, buf, sizeof buf, (struct sockaddr *)&from, &fromlen,
		                          &info, &infolen, &infotype, &flags);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			*ended = n == 0 ? "closed" : strerror(errno);
			return -1;
		}
		if (n > 0 && (flags & MSG_NOTIFICATION)) {
			const union sctp_notification *sn = (const void *)buf;
			if (sn->sn_header.sn_type == SCTP_ASSOC_CHANGE &&
			    sn->sn_assoc_change.sac_state != SCTP_COMM_UP) {
				*ended = "association aborted or shut down";
				return -1;
			}
			continue;
		}
		if (n > 0 && info.rcv_sid == 1 && n >= 2)
			return buf[1];
		if (n < 0)
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
			return 0;
	}
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: spoof_peer ENCAP_PORT PEER_ENCAP_PORT SCTP_PORT GATEWAY "
		                "TARGET LOCAL...\n");
		return 2;
	}
	uint16_t encap = (uint16_t)atoi(argv[1]), peer_encap = (uint16_t)atoi(argv[2]);
	uint16_t port = (uint16_t)atoi(argv[3]);
	struct sockaddr_in gw = v4(argv[4], port);
	struct frame open = {.type = FRAME_OPEN};
	if (addr_parse_endpoint(argv[5], &open.u.open.target) < 0) {
		printf("error: bad target '%s'\n", argv[5]);
		return 2;
	}
	open.u.open.window = 65536;
	snprintf(open.u.open.name, sizeof open.u.open.name, "spoof");

	usrsctp_init(encap, NULL, NULL);
	usrsctp_sysctl_set_sctp_blackhole(0);
	struct socket *s = usrsctp_socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (!s)
		die("usrsctp_socket");
	struct sctp_udpencaps encaps = {0};
	encaps.sue_address.ss_family = AF_INET6;
	encaps.sue_port = htons(peer_encap);
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps,
	                       sizeof encaps) < 0)
		die("remote UDP port");
	int on = 1;
	usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
	struct sctp_initmsg init = {.sinit_num_ostreams = 64, .sinit_max_instreams = 64};
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) < 0)
		die("SCTP_INITMSG");
	struct sctp_event ev = {
	    .se_assoc_id = SCTP_FUTURE_ASSOC, .se_type = SCTP_ASSOC_CHANGE, .se_on = 1};
	usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
	for (int i = 6; i < argc; i++) {
		struct sockaddr_in a = v4(argv[i], port);
		if (usrsctp_bindx(s, (struct sockaddr *)&a, 1, SCTP_BINDX_ADD_ADDR) < 0)
			die("bindx");
	}
	int rc;
	if (usrsctp_connect(s, (struct sockaddr *)&gw, sizeof gw) < 0) {
		printf("refused: association did not come up: %s\n", strerror(errno));
		rc = 0;
	} else {
		struct frame hello = {.type = FRAME_HELLO};
		hello.u.hello.version_min = FRAME_VERSION;
		hello.u.hello.version_max = FRAME_VERSION;
		hello.u.hello.role = FRAME_ROLE_CONNECT;
		hello.u.hello.streams = 64;
		snprintf(hello.u.hello.name, sizeof hello.u.hello.name, "spoof");
		const char *ended = "";
		if (send_frame(s, 0, &hello) < 0 || send_frame(s, 1, &open) < 0) {
			printf("refused: association up, then sending failed: %s\n",
			       strerror(errno));
			rc = 0;
		} else {
			int t = await_answer(s, 3.0, &ended);
			if (t < 0) {
				printf("refused: association up, then ended (%s) with no answer to "
				       "the OPEN\n",
				       ended);
				rc = 0;
			} else {
				printf("admitted: association up; answer to the OPEN: %s\n",
				       t == 0 ? "none within 3 s" : frame_type_name((uint8_t)t));
				rc = 1;
			}
		}
	}
	usrsctp_close(s);
	for (int i = 0; i < 300 && usrsctp_finish() != 0; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	fflush(stdout);
	return rc;
}
