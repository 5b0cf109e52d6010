/*
 * engine_kernel: the kernel's SCTP (Linux, <netinet/sctp.h> and libsctp).
 *
 * One-to-one style sockets (SOCK_STREAM), as in engine_usrsctp.c, rather
 * than one-to-many (SOCK_SEQPACKET): the engine carries one association,
 * and a socket per association gives that association its own send
 * buffer (so -EAGAIN and POLLOUT speak of it alone), its own error and
 * end-of-file, and lets close() with or without SO_LINGER be its ABORT or
 * SHUTDOWN without association ids on every call. The accept role keeps a
 * listening socket; the kernel completes each handshake on it and accept()
 * hands the association over, which is where a peer that is not a
 * configured remote address is refused (ABORT).
 *
 * Sockets are non-blocking and driven by libev io watchers on the loop
 * thread: the read watcher runs while a socket exists, the write watcher
 * only after send() returned -EAGAIN.
 *
 * UDP encapsulation (RFC 6951, Linux >= 5.11; transport = udp) is the
 * kernel's: the local UDP port is the per-network-namespace sysctl
 * net.sctp.udp_port, the peer's port the per-socket
 * SCTP_REMOTE_UDP_ENCAPS_PORT. transport = sctp sets that port to 0.
 *
 * This file includes <netinet/sctp.h> and must never include usrsctp.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "engine.h"
#include "engine_defer.h"
#include "engine_prio.h"
#include "frame.h"
#include "fdguard.h"
#include "log.h"
#include "ratelimit.h"

#define KERN_READ_BATCH 64 /* messages per wake-up before TCP gets a turn */
#define KERN_UDP_PORT   "/proc/sys/net/sctp/udp_port"
/* Value of SCTP_EXPOSE_POTENTIALLY_FAILED_STATE that reports the state
 * (Linux's SCTP_PF_EXPOSE_ENABLE, not in the user-space headers). */
#define KERN_PF_EXPOSE_ENABLE 2

struct kern_engine {
	struct engine base;
	struct engine_params p;
	int family;    /* AF_INET when every address is IPv4, else AF_INET6 */
	int listen_fd; /* accept role, or -1 */
	int fd;        /* the association, or -1 */
	bool up;       /* COMM_UP seen (connect) or accepted */
	bool want_write;
	ev_io accept_w, rx_w, tx_w;
	struct fdguard accept_guard; /* out of descriptors: shed, back off */
	uint8_t *rx;                 /* one message being reassembled */
	size_t rx_len;
	uint16_t rx_sid;
	uint32_t rx_ppid;         /* ENGINE_PPID_PROBE messages are dropped */
	struct engine_defer down; /* a down waiting for the loop (engine.h) */
	uint64_t rtx_before;      /* retransmitted chunks of the associations that ended */
	struct engine_prio prio;  /* datagram streams first (engine_prio.h) */
};

static void kern_rx_cb(struct ev_loop *loop, ev_io *w, int revents);
static void kern_tx_cb(struct ev_loop *loop, ev_io *w, int revents);

static int setopt(int fd, int opt, const void *v, socklen_t len, const char *what)
{
	if (setsockopt(fd, IPPROTO_SCTP, opt, v, len) < 0) {
		int err = errno;
		log_error("engine kernel: setting %s failed: %s", what, strerror(err));
		return -err;
	}
	return 0;
}

/* The peer's UDP port on this socket: 0 means plain SCTP even where the
 * sysctl net.sctp.encap_port gives sockets another default. */
static int kern_encap(struct kern_engine *e, int fd)
{
	bool udp = e->p.transport == CONFIG_TRANSPORT_UDP;
	struct sctp_udpencaps enc = {.sue_assoc_id = SCTP_FUTURE_ASSOC,
	                             .sue_port = htons(udp ? e->p.remote_udp_encap_port : 0)};
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc) == 0)
		return 0;
	if (!udp && errno == ENOPROTOOPT)
		return 0; /* a kernel before 5.11 has no encapsulation to turn off */
	log_error("engine kernel: setting the peer's UDP port (SCTP_REMOTE_UDP_ENCAPS_PORT) "
	          "failed: %s%s",
	          strerror(errno),
	          errno == ENOPROTOOPT ? "; SCTP over UDP needs Linux 5.11 or later" : "");
	return -EINVAL;
}

static int kern_events(int fd)
{
	static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE,
	                                  SCTP_SHUTDOWN_EVENT, SCTP_REMOTE_ERROR};
	int rc = 0;
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
		struct sctp_event ev = {
		    .se_assoc_id = SCTP_FUTURE_ASSOC, .se_type = events[i], .se_on = 1};
		rc |= setopt(fd, SCTP_EVENT, &ev, sizeof ev, "event subscription");
	}
	return rc;
}

/* The timers and limits of [sctp], as socket defaults that every
 * association of the socket (accepted ones too) starts with. */
static int kern_timers(struct kern_engine *e, int fd)
{
	const struct engine_params *p = &e->p;
	int rc = 0;

	struct sctp_initmsg init = {
	    .sinit_num_ostreams = p->max_streams,
	    .sinit_max_instreams = p->max_streams,
	    .sinit_max_attempts = 4,
	    .sinit_max_init_timeo = (uint16_t)(p->rto_max_ms > 65535 ? 65535 : p->rto_max_ms),
	};
	rc |= setopt(fd, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG");

	/* PR-SCTP (RFC 3758) for UDP datagrams (send_dgram); on by default in
	 * Linux (net.sctp.prsctp_enable), asked for so the sysctl cannot hide it. */
	struct sctp_assoc_value prs = {.assoc_id = SCTP_FUTURE_ASSOC, .assoc_value = 1};
	rc |= setopt(fd, SCTP_PR_SUPPORTED, &prs, sizeof prs, "SCTP_PR_SUPPORTED");

	struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC,
	                           .srto_initial = p->rto_initial_ms,
	                           .srto_max = p->rto_max_ms,
	                           .srto_min = p->rto_min_ms};
	rc |= setopt(fd, SCTP_RTOINFO, &rto, sizeof rto, "SCTP_RTOINFO");

	struct sctp_assocparams ap = {.sasoc_assoc_id = SCTP_FUTURE_ASSOC,
	                              .sasoc_asocmaxrxt = (uint16_t)p->assoc_max_retrans};
	rc |= setopt(fd, SCTP_ASSOCINFO, &ap, sizeof ap, "SCTP_ASSOCINFO");

	/* Path MTU discovery stays on, [sctp] path_mtu is not used: the stall
	 * that made engine_usrsctp.c fix the MTU is usrsctp's; none is known
	 * for the kernel, which learns a path's MTU from its route and from
	 * ICMP (for SCTP over UDP too, since Linux 5.11). */
	struct sctp_paddrparams pp = {.spp_assoc_id = SCTP_FUTURE_ASSOC,
	                              .spp_hbinterval = p->heartbeat_interval_ms,
	                              .spp_pathmaxrxt = (uint16_t)p->path_max_retrans,
	                              .spp_flags = SPP_HB_ENABLE};
	rc |= setopt(fd, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS");

	struct sctp_paddrthlds th = {.spt_assoc_id = SCTP_FUTURE_ASSOC,
	                             .spt_pathmaxrxt = (uint16_t)p->path_max_retrans,
	                             .spt_pathpfthld = (uint16_t)p->pf_threshold};
	rc |= setopt(fd, SCTP_PEER_ADDR_THLDS, &th, sizeof th, "potentially-failed threshold");

	/* sack_delay 0 would be refused with sack_freq 0: no delay is a SACK
	 * every packet. */
	struct sctp_sack_info sack = {.sack_assoc_id = SCTP_FUTURE_ASSOC,
	                              .sack_delay = p->delayed_sack_ms,
	                              .sack_freq = p->delayed_sack_ms ? 0 : 1};
	rc |= setopt(fd, SCTP_DELAYED_SACK, &sack, sizeof sack, "SCTP_DELAYED_SACK");

	/* Report the potentially-failed state in SCTP_PEER_ADDR_CHANGE too, so
	 * path.c moves data at once; older kernels lack the option. */
	struct sctp_assoc_value pf = {.assoc_id = SCTP_FUTURE_ASSOC,
	                              .assoc_value = KERN_PF_EXPOSE_ENABLE};
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &pf, sizeof pf) < 0)
		log_debug("engine kernel: potentially-failed state not reported: %s",
		          strerror(errno));
	return rc;
}

/* Every option that shapes the association, applied before bind and
 * connect so accepted sockets inherit them from the listener. */
/* SCTP-AUTH on the chunks that carry or acknowledge data (engine.h), for
 * this socket even where the sysctl net.sctp.auth_enable is 0 (Linux >=
 * 5.1). Where the kernel refuses, the association runs without it and
 * chunk_key's CHECK says so; the AEAD still protects every message. */
static void kern_auth_chunks(int fd)
{
	struct sctp_assoc_value on = {.assoc_id = SCTP_FUTURE_ASSOC, .assoc_value = 1};
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_AUTH_SUPPORTED, &on, sizeof on) < 0) {
		log_warn_limited("engine kernel: SCTP-AUTH not available (%s): packets altered on "
		                 "the path cost the connection they hit (docs/SECURITY.md)",
		                 strerror(errno));
		return;
	}
	static const uint8_t chunks[] = ENGINE_AUTH_CHUNKS;
	for (size_t i = 0; i < sizeof chunks; i++) {
		struct sctp_authchunk ac = {.sauth_chunk = chunks[i]};
		if (setsockopt(fd, IPPROTO_SCTP, SCTP_AUTH_CHUNK, &ac, sizeof ac) < 0)
			log_warn_limited("engine kernel: SCTP_AUTH_CHUNK %#x: %s", chunks[i],
			                 strerror(errno));
	}
}

static int kern_configure(struct kern_engine *e, int fd)
{
	int rc = 0, on = 1, off = 0;

	rc |= setopt(fd, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO");
	rc |= setopt(fd, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY");
	/* Level 0 (the default, set to be sure): a partially delivered message
	 * blocks every other one, so pieces of two messages never mix and one
	 * reassembly buffer is enough. */
	rc |= setopt(fd, SCTP_FRAGMENT_INTERLEAVE, &off, sizeof off, "fragment interleave");
	/* IPv4 peers of an IPv6 socket as AF_INET, as they are configured. */
	if (e->family == AF_INET6)
		rc |= setopt(fd, SCTP_I_WANT_MAPPED_V4_ADDR, &off, sizeof off, "mapped v4 off");
	rc |= kern_events(fd);
	rc |= kern_timers(e, fd);
	rc |= kern_encap(e, fd);
	if (e->p.packet_auth)
		kern_auth_chunks(fd);

	int snd = (int)e->p.sndbuf, rcv = (int)e->p.rcvbuf;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0) {
		log_error("engine kernel: setting socket buffers failed: %s", strerror(errno));
		rc = -1;
	}
	return rc ? -EINVAL : 0;
}

/* The remote address of path I with the SCTP port, as the stack keys it. */
static struct sockaddr_storage kern_remote(const struct kern_engine *e, size_t i)
{
	struct sockaddr_storage a = e->p.remote[i];
	addr_set_port(&a, e->p.port);
	return a;
}

/* Exactly the configured local addresses, each with the SCTP port. */
static int kern_bind(struct kern_engine *e, int fd)
{
	for (size_t i = 0; i < e->p.n_addrs; i++) {
		struct sockaddr_storage a = e->p.local[i];
		char text[ADDR_STRLEN];
		addr_set_port(&a, e->p.port);
		if (sctp_bindx(fd, (struct sockaddr *)&a, 1, SCTP_BINDX_ADD_ADDR) < 0) {
			int err = errno;
			log_error("engine kernel: cannot bind %s: %s",
			          addr_format(&a, text, sizeof text), strerror(err));
			return -err;
		}
	}
	return 0;
}

static int kern_socket(struct kern_engine *e)
{
	int fd = socket(e->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
	if (fd < 0) {
		log_error("engine kernel: cannot create an SCTP socket: %s", strerror(errno));
		return -1;
	}
	if (kern_configure(e, fd) < 0 || kern_bind(e, fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Close with an ABORT instead of a SHUTDOWN. */
static void kern_close_abort(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* The kernel's retransmission count of the association on FD (it counts per
 * association, from 0): 0 when it cannot say. */
static uint64_t kern_rtx_now(int fd)
{
	struct sctp_assoc_stats as = {0};
	socklen_t len = sizeof as;
	if (fd < 0 || getsockopt(fd, IPPROTO_SCTP, SCTP_GET_ASSOC_STATS, &as, &len) < 0)
		return 0;
	return as.sas_rtxchunks;
}

static void kern_close_sock(struct kern_engine *e, bool abort)
{
	if (e->fd < 0)
		return;
	e->rtx_before += kern_rtx_now(e->fd); /* the counter dies with the socket */
	ev_io_stop(e->base.loop, &e->rx_w);
	ev_io_stop(e->base.loop, &e->tx_w);
	if (abort)
		kern_close_abort(e->fd);
	else
		close(e->fd);
	e->fd = -1;
	e->up = false;
	e->rx_len = 0;
	e->want_write = false;
}

/* Start watching FD as the association. */
static void kern_adopt(struct kern_engine *e, int fd)
{
	e->fd = fd;
	e->rx_len = 0;
	ev_io_set(&e->rx_w, fd, EV_READ);
	ev_io_set(&e->tx_w, fd, EV_WRITE);
	ev_io_start(e->base.loop, &e->rx_w);
}

/* Forget the socket, then tell the layer above once, from the loop: this
 * runs inside abort and shutdown too, and no callback may (engine.h). */
static void kern_down(struct kern_engine *e, bool abort, bool graceful, const char *why)
{
	bool was_up = e->up;
	kern_close_sock(e, abort);
	if (was_up || e->p.role == CONFIG_ROLE_CONNECT)
		engine_defer_down(&e->down, graceful, why);
}

/* The priority scheduler on the new association (Linux >= 4.15), every
 * stream at 0 until its first send says what it carries (engine_prio.h).
 * Without it (an older kernel) datagrams still flow, first come first
 * served behind queued TCP messages; hence only a warning. */
static void kern_scheduler(struct kern_engine *e)
{
	engine_prio_reset(&e->prio);
	struct sctp_assoc_value ss = {.assoc_id = SCTP_FUTURE_ASSOC, .assoc_value = SCTP_SS_PRIO};
	if (setsockopt(e->fd, IPPROTO_SCTP, SCTP_STREAM_SCHEDULER, &ss, sizeof ss) < 0)
		log_warn("engine kernel: no priority stream scheduler (%s): datagrams wait behind "
		         "TCP messages",
		         strerror(errno));
}

/* Before a send on SID carrying CLS: the stream's scheduler priority, when
 * its class changed (engine_prio.h). A failure costs only the order. */
static void kern_prio(struct kern_engine *e, uint16_t sid, enum engine_prio_class cls)
{
	if (!engine_prio_mark(&e->prio, sid, cls))
		return;
	struct sctp_stream_value v = {.assoc_id = SCTP_FUTURE_ASSOC,
	                              .stream_id = sid,
	                              .stream_value = engine_prio_value(cls)};
	if (setsockopt(e->fd, IPPROTO_SCTP, SCTP_STREAM_SCHEDULER_VALUE, &v, sizeof v) < 0)
		log_warn_limited("engine kernel: stream %u: setting its scheduler priority failed: "
		                 "%s",
		                 sid, strerror(errno));
}

/* A new association is up; the old one's down, if pending, comes first. */
static void kern_up(struct kern_engine *e, uint16_t streams)
{
	engine_defer_flush(&e->down);
	e->up = true;
	kern_scheduler(e);
	e->base.cb.up(e->base.ctx, streams);
}

static uint16_t kern_streams(int fd)
{
	struct sctp_status st = {0};
	socklen_t len = sizeof st;
	if (getsockopt(fd, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0)
		return 0;
	return st.sstat_instrms < st.sstat_outstrms ? st.sstat_instrms : st.sstat_outstrms;
}

static const char *kern_paddr_state(int state)
{
	switch (state) {
	case SCTP_ADDR_AVAILABLE:
		return "available";
	case SCTP_ADDR_UNREACHABLE:
		return "unreachable";
	case SCTP_ADDR_REMOVED:
		return "removed";
	case SCTP_ADDR_ADDED:
		return "added";
	case SCTP_ADDR_MADE_PRIM:
		return "made primary";
	case SCTP_ADDR_CONFIRMED:
		return "confirmed";
	case SCTP_ADDR_POTENTIALLY_FAILED:
		return "potentially failed";
	}
	return "changed";
}

/* Returns false when the socket is gone afterwards. */
static bool kern_assoc_change(struct kern_engine *e, const struct sctp_assoc_change *ac)
{
	uint16_t streams = ac->sac_inbound_streams < ac->sac_outbound_streams
	                       ? ac->sac_inbound_streams
	                       : ac->sac_outbound_streams;
	int fd = e->fd;
	switch (ac->sac_state) {
	case SCTP_COMM_UP:
		if (!e->up)
			kern_up(e, streams);
		return e->fd == fd;
	case SCTP_RESTART:
		/* The peer lost its state and came back on the same addresses:
		 * everything it knew about is gone. */
		e->up = false;
		engine_defer_flush(&e->down);
		e->base.cb.down(e->base.ctx, false, "peer restarted");
		if (e->fd != fd)
			return false;
		kern_up(e, streams);
		return e->fd == fd;
	case SCTP_COMM_LOST:
		kern_down(e, false, false, "communication lost (peer unreachable or aborted)");
		return false;
	case SCTP_CANT_STR_ASSOC:
		kern_down(e, false, false, "peer did not answer INIT");
		return false;
	case SCTP_SHUTDOWN_COMP:
		kern_down(e, false, true, "closed gracefully (SCTP SHUTDOWN)");
		return false;
	}
	return true;
}

/* Returns false when the socket is gone afterwards. */
static bool kern_notification(struct kern_engine *e, const uint8_t *msg, size_t len)
{
	const union sctp_notification *n = (const void *)msg;
	if (len < sizeof n->sn_header)
		return true;

	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		if (len < sizeof n->sn_assoc_change)
			return true;
		return kern_assoc_change(e, &n->sn_assoc_change);
	case SCTP_PEER_ADDR_CHANGE: {
		char text[ADDR_STRLEN];
		const struct sctp_paddr_change *pc = &n->sn_paddr_change;
		struct sockaddr_storage a;
		memcpy(&a, &pc->spc_aaddr, sizeof a);
		log_debug("peer address %s %s", addr_format(&a, text, sizeof text),
		          kern_paddr_state(pc->spc_state));
		int fd = e->fd;
		if (e->up)
			e->base.cb.path_event(e->base.ctx);
		return e->fd == fd;
	}
	case SCTP_SHUTDOWN_EVENT:
		log_info("peer is shutting the association down");
		return true;
	case SCTP_REMOTE_ERROR:
		log_warn_limited("peer reported an SCTP error (cause %u)",
		                 (unsigned)ntohs(n->sn_remote_error.sre_error));
		return true;
	}
	return true;
}

/* One recvmsg into the reassembly buffer: bytes read, 0 at the end, or
 * -errno. FLAGS and the stream of the piece come back. */
static ssize_t kern_recv_piece(struct kern_engine *e, int *flags)
{
	char cbuf[CMSG_SPACE(sizeof(struct sctp_rcvinfo))];
	struct iovec iov = {.iov_base = e->rx + e->rx_len,
	                    .iov_len = FRAME_WIRE_MAX + 1 - e->rx_len};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	ssize_t n = recvmsg(e->fd, &m, 0);
	if (n < 0)
		return -errno;
	*flags = m.msg_flags;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == IPPROTO_SCTP && c->cmsg_type == SCTP_RCVINFO) {
			struct sctp_rcvinfo info;
			memcpy(&info, CMSG_DATA(c), sizeof info);
			e->rx_sid = info.rcv_sid;
			e->rx_ppid = ntohl(info.rcv_ppid);
		}
	}
	return n;
}

/* Read up to a batch of messages; the rest waits for the next loop
 * iteration, after the TCP sockets' turn (the watcher stays active, so
 * libev calls again while data waits). */
static void kern_read(struct kern_engine *e)
{
	int fd = e->fd;
	for (int i = 0; i < KERN_READ_BATCH; i++) {
		if (e->fd != fd)
			return;
		int flags = 0;
		ssize_t n = kern_recv_piece(e, &flags);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			char why[96];
			snprintf(why, sizeof why, "receive failed: %s", strerror((int)-n));
			kern_down(e, false, false, why);
			return;
		}
		if (n == 0) {
			kern_down(e, false, true, "closed by peer");
			return;
		}
		e->rx_len += (size_t)n;
		/* Bigger than any frame we or the peer may send, sealed or
		 * not. The buffer holds one byte more than FRAME_WIRE_MAX so
		 * that such a message shows, whole (MSG_EOR) or not. */
		if (e->rx_len > FRAME_WIRE_MAX) {
			log_warn_limited("peer sent a message over %d bytes", FRAME_WIRE_MAX);
			kern_down(e, true, false, "protocol error: oversized message");
			return;
		}
		if (!(flags & MSG_EOR))
			continue;
		size_t len = e->rx_len;
		e->rx_len = 0;
		if (flags & MSG_NOTIFICATION) {
			if (!kern_notification(e, e->rx, len))
				return;
		} else if (e->up && e->rx_ppid != ENGINE_PPID_PROBE) {
			e->base.cb.message(e->base.ctx, e->rx_sid, e->rx, len);
		}
	}
}

static void kern_rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	kern_read(w->data);
}

static void kern_tx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct kern_engine *e = w->data;
	ev_io_stop(loop, w);
	if (!e->want_write)
		return;
	e->want_write = false;
	e->base.cb.writable(e->base.ctx);
}

/* Whether the association comes from the configured peer. */
static bool kern_peer_expected(struct kern_engine *e, int fd, const struct sockaddr *from,
                               char *seen, size_t len)
{
	struct sockaddr *addrs = NULL;
	int n = sctp_getpaddrs(fd, 0, &addrs);
	bool ok = engine_peer_expected(&e->p, from, addrs, n, seen, len);
	if (n > 0)
		sctp_freepaddrs(addrs);
	return ok;
}

static void kern_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct kern_engine *e = w->data;
	int fd;
	struct sockaddr_storage from;
	socklen_t from_len = sizeof from;
	while ((from_len = sizeof from, fd = accept4(e->listen_fd, (struct sockaddr *)&from,
	                                             &from_len, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		fdguard_accepted(&e->accept_guard);
		char seen[ADDR_STRLEN];
		bool known = from_len >= sizeof(struct sockaddr_in);
		if (!kern_peer_expected(e, fd, known ? (struct sockaddr *)&from : NULL, seen,
		                        sizeof seen)) {
			log_warn_limited(
			    "association refused: peer address %s is not a configured remote "
			    "address (every address of the peer must be)",
			    seen);
			kern_close_abort(fd);
			continue;
		}
		if (e->fd >= 0) {
			log_info("a new association replaces the current one");
			kern_down(e, true, false, "replaced by a new association from the peer");
		}
		kern_adopt(e, fd);
		/* The association is up before accept() returns; its COMM_UP
		 * follows on the new socket and is then ignored. */
		kern_up(e, kern_streams(fd));
		if (e->listen_fd < 0)
			return; /* shut down from the callback */
	}
	int err = errno;
	if (fdguard_accept_failed(&e->accept_guard, e->listen_fd, err))
		return; /* paused; the watcher comes back from the guard's timer */
	if (err != EAGAIN && err != EWOULDBLOCK && err != ECONNABORTED && err != EINTR)
		log_warn_limited("engine kernel: accept failed: %s", strerror(err));
}

static int kern_listen(struct kern_engine *e)
{
	if (e->listen_fd >= 0)
		return 0;
	int fd = kern_socket(e);
	if (fd < 0)
		return -EINVAL;
	if (listen(fd, 4) < 0) {
		int err = errno;
		log_error("engine kernel: listen failed: %s", strerror(err));
		close(fd);
		return -err;
	}
	e->listen_fd = fd;
	ev_io_set(&e->accept_w, fd, EV_READ);
	ev_io_start(e->base.loop, &e->accept_w);
	return 0;
}

static int kern_open(struct engine *base)
{
	struct kern_engine *e = (struct kern_engine *)base;

	if (e->p.role == CONFIG_ROLE_ACCEPT)
		return kern_listen(e);
	if (e->fd >= 0)
		return -EALREADY;
	int fd = kern_socket(e);
	if (fd < 0)
		return -EINVAL;
	/* connectx takes the addresses packed back to back: every configured
	 * remote address, and only those, is a path from the start. */
	uint8_t buf[CONFIG_MAX_PATHS * sizeof(struct sockaddr_storage)];
	size_t packed = 0;
	for (size_t i = 0; i < e->p.n_addrs; i++) {
		struct sockaddr_storage to = kern_remote(e, i);
		memcpy(buf + packed, &to, addr_len(&to));
		packed += addr_len(&to);
	}
	e->up = false;
	if (sctp_connectx(fd, (struct sockaddr *)buf, (int)e->p.n_addrs, NULL) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		log_warn("engine kernel: connect failed: %s", strerror(err));
		kern_close_abort(fd);
		return -err;
	}
	/* COMM_UP or CANT_STR_ASSOC arrives as a notification. */
	kern_adopt(e, fd);
	return 0;
}

/* One message on SID; PR: partially reliable (a datagram: UNORDERED,
 * abandoned after LIFETIME_MS, and no write watch when it does not fit);
 * URGENT: as engine.h says for send. */
static int kern_sendmsg(struct kern_engine *e, uint16_t sid, const void *msg, size_t len, bool pr,
                        bool urgent, bool unordered, unsigned lifetime_ms)
{
	if (e->fd < 0 || !e->up)
		return -ENOTCONN;
	kern_prio(e, sid, engine_prio_class_of(sid, pr, urgent));
	char cbuf[CMSG_SPACE(sizeof(struct sctp_sndinfo)) +
	          CMSG_SPACE(sizeof(struct sctp_prinfo))] = {0};
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = cbuf,
	                   .msg_controllen = CMSG_SPACE(sizeof(struct sctp_sndinfo))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_SCTP;
	c->cmsg_type = SCTP_SNDINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct sctp_sndinfo));
	struct sctp_sndinfo si = {.snd_sid = sid,
	                          .snd_flags = pr && unordered ? SCTP_UNORDERED : 0,
	                          .snd_ppid = htonl(ENGINE_PPID)};
	memcpy(CMSG_DATA(c), &si, sizeof si);
	if (pr) {
		m.msg_controllen = sizeof cbuf;
		c = CMSG_NXTHDR(&m, c);
		c->cmsg_level = IPPROTO_SCTP;
		c->cmsg_type = SCTP_PRINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct sctp_prinfo));
		struct sctp_prinfo pi = {.pr_policy = SCTP_PR_SCTP_TTL, .pr_value = lifetime_ms};
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	}

	if (sendmsg(e->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	if ((errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) && pr)
		return -EAGAIN;
	if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) {
		if (!e->want_write) {
			e->want_write = true;
			ev_io_start(e->base.loop, &e->tx_w);
		}
		return -EAGAIN;
	}
	return -errno;
}

static int kern_send(struct engine *base, uint16_t sid, const void *msg, size_t len, bool urgent)
{
	return kern_sendmsg((struct kern_engine *)base, sid, msg, len, false, urgent, false, 0);
}

static int kern_send_dgram(struct engine *base, uint16_t sid, const void *msg, size_t len,
                           bool unordered, unsigned lifetime_ms)
{
	return kern_sendmsg((struct kern_engine *)base, sid, msg, len, true, false, unordered,
	                    lifetime_ms);
}

static void kern_close_listener(struct kern_engine *e)
{
	if (e->listen_fd < 0)
		return;
	ev_io_stop(e->base.loop, &e->accept_w);
	fdguard_stop(&e->accept_guard);
	close(e->listen_fd);
	e->listen_fd = -1;
}

static void kern_shutdown(struct engine *base)
{
	struct kern_engine *e = (struct kern_engine *)base;
	kern_close_listener(e);
	/* SHUT_WR sends SHUTDOWN once queued data is acknowledged; the
	 * SHUTDOWN_COMP notification (or end-of-file) then reports down. */
	if (e->fd >= 0 && shutdown(e->fd, SHUT_WR) < 0)
		kern_down(e, true, false, "shutdown failed");
}

static void kern_abort(struct engine *base, const char *why)
{
	struct kern_engine *e = (struct kern_engine *)base;
	if (e->fd >= 0)
		kern_down(e, true, false, why);
}

static void kern_free(struct engine *base)
{
	struct kern_engine *e = (struct kern_engine *)base;
	kern_close_sock(e, true);
	kern_close_listener(e);
	engine_defer_stop(&e->down);
	engine_prio_fini(&e->prio);
	free(e->rx);
	free(e);
}

static int kern_path_info(struct engine *base, size_t i, struct engine_path_info *out)
{
	struct kern_engine *e = (struct kern_engine *)base;
	if (e->fd < 0 || !e->up || i >= e->p.n_addrs)
		return -ENOTCONN;
	struct sctp_paddrinfo pi = {0};
	struct sockaddr_storage to = kern_remote(e, i);
	memcpy(&pi.spinfo_address, &to, sizeof to);
	socklen_t len = sizeof pi;
	if (getsockopt(e->fd, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &len) < 0)
		return -errno;
	/* Potentially failed counts as unreachable, as usrsctp reports it:
	 * path.c then moves data to the next path at once. */
	out->state = pi.spinfo_state == SCTP_ACTIVE        ? ENGINE_PATH_REACHABLE
	             : pi.spinfo_state == SCTP_UNCONFIRMED ? ENGINE_PATH_UNCONFIRMED
	                                                   : ENGINE_PATH_UNREACHABLE;
	out->srtt_ms = pi.spinfo_srtt;
	out->rto_ms = pi.spinfo_rto;
	out->cwnd = pi.spinfo_cwnd;

	struct sctp_prim prim = {0};
	len = sizeof prim;
	out->primary = false;
	if (getsockopt(e->fd, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &len) == 0) {
		struct sockaddr_storage got;
		memcpy(&got, &prim.ssp_addr, sizeof got);
		out->primary = addr_equal(&got, &to);
	}
	return 0;
}

static int kern_set_primary(struct engine *base, size_t i)
{
	struct kern_engine *e = (struct kern_engine *)base;
	if (e->fd < 0 || !e->up || i >= e->p.n_addrs)
		return -ENOTCONN;
	struct sctp_prim prim = {0};
	struct sockaddr_storage to = kern_remote(e, i);
	memcpy(&prim.ssp_addr, &to, sizeof to);
	if (setsockopt(e->fd, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) < 0)
		return -errno;
	return 0;
}

/* engine.h: the run-time settings of P, for the association now and the
 * ones to come (SCTP_FUTURE_ASSOC on a one-to-one socket reaches its
 * association; the listener's defaults are what accepted ones inherit). */
static int kern_set_timers(struct engine *base, const struct engine_params *p)
{
	struct kern_engine *e = (struct kern_engine *)base;
	engine_params_take_timers(&e->p, p);
	int rc = 0;
	if (e->listen_fd >= 0)
		rc |= kern_timers(e, e->listen_fd);
	if (e->fd >= 0)
		rc |= kern_timers(e, e->fd);
	return rc ? -EINVAL : 0;
}

static int kern_stats(struct engine *base, struct engine_stats *out)
{
	struct kern_engine *e = (struct kern_engine *)base;
	*out = (struct engine_stats){.retransmitted_chunks = e->rtx_before + kern_rtx_now(e->fd)};
	return 0;
}

static int kern_chunk_key(struct engine *base, enum engine_key_op op, uint16_t id,
                          const uint8_t *key, size_t len)
{
	struct kern_engine *e = (struct kern_engine *)base;
	if (e->fd < 0 || !e->up)
		return -ENOTCONN;
	int rc = 0;
	switch (op) {
	case ENGINE_KEY_CHECK: {
		for (int peer = 0; peer < 2; peer++) {
			uint8_t buf[sizeof(struct sctp_authchunks) + 256] = {0};
			socklen_t l = sizeof buf;
			if (getsockopt(e->fd, IPPROTO_SCTP,
			               peer ? SCTP_PEER_AUTH_CHUNKS : SCTP_LOCAL_AUTH_CHUNKS, buf,
			               &l) < 0)
				return -EOPNOTSUPP;
			const struct sctp_authchunks *ac = (const void *)buf;
			size_t n = ac->gauth_number_of_chunks;
			if (n > 256)
				n = 256;
			if (!engine_auth_chunks_cover(ac->gauth_chunks, n))
				return -EOPNOTSUPP;
		}
		return 0;
	}
	case ENGINE_KEY_ADD: {
		uint8_t buf[sizeof(struct sctp_authkey) + 64];
		if (len > 64)
			return -EINVAL;
		struct sctp_authkey *k = (struct sctp_authkey *)buf;
		memset(buf, 0, sizeof buf);
		k->sca_keynumber = id;
		k->sca_keylength = (uint16_t)len;
		memcpy(k->sca_key, key, len);
		rc = setsockopt(e->fd, IPPROTO_SCTP, SCTP_AUTH_KEY, buf,
		                (socklen_t)(sizeof *k + len));
		memset(buf, 0, sizeof buf);
		break;
	}
	case ENGINE_KEY_ACTIVATE:
	case ENGINE_KEY_DELETE: {
		struct sctp_authkeyid k = {.scact_keynumber = id};
		rc = setsockopt(e->fd, IPPROTO_SCTP,
		                op == ENGINE_KEY_ACTIVATE ? SCTP_AUTH_ACTIVE_KEY
		                                          : SCTP_AUTH_DELETE_KEY,
		                &k, sizeof k);
		break;
	}
	}
	return rc < 0 ? -errno : 0;
}

static void kern_status(struct engine *base, char *buf, size_t len)
{
	struct kern_engine *e = (struct kern_engine *)base;
	struct sctp_status st = {0};
	socklen_t sl = sizeof st;
	if (e->fd >= 0)
		getsockopt(e->fd, IPPROTO_SCTP, SCTP_STATUS, &st, &sl);
	snprintf(buf, len,
	         "socket %s, waiting for room %s, %s, peer rwnd %u, unacked %u, "
	         "pending %u, partial message %zu bytes",
	         e->fd >= 0 ? (e->up ? "up" : "connecting") : "none", e->want_write ? "yes" : "no",
	         e->p.transport == CONFIG_TRANSPORT_UDP ? "over UDP" : "plain SCTP", st.sstat_rwnd,
	         st.sstat_unackdata, st.sstat_penddata, e->rx_len);
}

static const struct engine_ops kern_ops = {
    .name = "kernel",
    .open = kern_open,
    .send = kern_send,
    .send_dgram = kern_send_dgram,
    .shutdown = kern_shutdown,
    .abort = kern_abort,
    .free = kern_free,
    .path_info = kern_path_info,
    .set_primary = kern_set_primary,
    .set_timers = kern_set_timers,
    .stats = kern_stats,
    .status = kern_status,
    .chunk_key = kern_chunk_key,
};

static int kern_read_udp_port(unsigned *now)
{
	FILE *f = fopen(KERN_UDP_PORT, "r");
	if (!f)
		return -errno;
	int rc = fscanf(f, "%u", now) == 1 ? 0 : -EIO;
	fclose(f);
	return rc;
}

int engine_kernel_probe_udp(uint16_t port, char *why, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0) {
		int err = errno;
		snprintf(why, len, "cannot make an SCTP socket: %s", strerror(err));
		return -err;
	}
	struct sctp_udpencaps enc = {.sue_assoc_id = SCTP_FUTURE_ASSOC, .sue_port = htons(port)};
	int rc = setsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc);
	int err = errno;
	close(fd);
	if (rc < 0) {
		snprintf(why, len,
		         "SCTP_REMOTE_UDP_ENCAPS_PORT: %s; the kernel's SCTP over UDP needs Linux "
		         "5.11 or later",
		         strerror(err));
		return -err;
	}
	unsigned now = 0;
	rc = kern_read_udp_port(&now);
	if (rc < 0) {
		snprintf(why, len, "%s: %s; the kernel's SCTP over UDP needs Linux 5.11 or later",
		         KERN_UDP_PORT, strerror(-rc));
		return rc;
	}
	if (now == port)
		return 0;
	if (faccessat(AT_FDCWD, KERN_UDP_PORT, W_OK, AT_EACCESS) < 0) {
		err = errno;
		snprintf(why, len,
		         "net.sctp.udp_port is %u, not udp_encap_port %u, and this process may not "
		         "set it (%s): 'sysctl -w net.sctp.udp_port=%u' as root in this network "
		         "namespace lets the kernel engine run",
		         now, port, strerror(err), port);
		return -err;
	}
	return 0;
}

/* The local UDP port of SCTP over UDP is the network namespace's sysctl
 * net.sctp.udp_port (0: off). Set it when it differs and we may; else say
 * exactly what the administrator has to do. Writing it makes the kernel
 * bind that UDP port: a port another program holds fails here. */
static int kern_udp_port(uint16_t want)
{
	unsigned now = 0;
	int rc = kern_read_udp_port(&now);
	if (rc < 0) {
		log_error("engine kernel: transport = udp, but %s is missing (%s): SCTP over UDP "
		          "needs Linux 5.11 or later; set engine = userspace or auto, or "
		          "transport = sctp on both gateways",
		          KERN_UDP_PORT, strerror(-rc));
		return -ENOTSUP;
	}
	if (now == want)
		return 0;
	FILE *f = fopen(KERN_UDP_PORT, "w");
	int err = 0;
	if (!f || fprintf(f, "%u\n", want) < 0)
		err = errno;
	if (f && fclose(f) != 0 && !err)
		err = errno;
	if (err == EADDRINUSE) {
		log_error("engine kernel: UDP port %u (udp_encap_port) is in use by another "
		          "program: the kernel cannot bind it for SCTP over UDP; stop that "
		          "program or choose another udp_encap_port (and the peer's "
		          "remote_udp_encap_port)",
		          want);
		return -EADDRINUSE;
	}
	if (err || !f) {
		log_error("engine kernel: transport = udp needs the sysctl net.sctp.udp_port = %u "
		          "(udp_encap_port), it is %u and this process cannot set it (%s): run "
		          "'sysctl -w net.sctp.udp_port=%u' as root in this network namespace",
		          want, now, strerror(err ? err : EPERM), want);
		return -EPERM;
	}
	log_info("engine kernel: set net.sctp.udp_port = %u (was %u) for SCTP over UDP; it "
	         "applies to every SCTP socket of this network namespace",
	         want, now);
	return 0;
}

static int kern_family(const struct engine_params *p)
{
	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->local[i].ss_family == AF_INET6 || p->remote[i].ss_family == AF_INET6)
			return AF_INET6;
	return AF_INET;
}

struct engine *engine_kernel_new(struct ev_loop *loop, const struct engine_params *p,
                                 const struct engine_callbacks *cb, void *ctx)
{
	if (p->transport == CONFIG_TRANSPORT_UDP && kern_udp_port(p->udp_encap_port) < 0)
		return NULL;
	struct kern_engine *e = calloc(1, sizeof *e);
	if (!e || !(e->rx = malloc(FRAME_WIRE_MAX + 1)) ||
	    engine_prio_init(&e->prio, p->max_streams) < 0) {
		if (e)
			free(e->rx);
		free(e);
		log_error("engine kernel: out of memory");
		return NULL;
	}
	e->base.ops = &kern_ops;
	e->base.loop = loop;
	e->base.cb = *cb;
	e->base.ctx = ctx;
	e->p = *p;
	e->family = kern_family(p);
	e->listen_fd = e->fd = -1;
	ev_io_init(&e->accept_w, kern_accept_cb, -1, EV_READ);
	fdguard_init(&e->accept_guard, e->base.loop, &e->accept_w, "engine kernel: SCTP listener");
	ev_io_init(&e->rx_w, kern_rx_cb, -1, EV_READ);
	ev_io_init(&e->tx_w, kern_tx_cb, -1, EV_WRITE);
	e->accept_w.data = e->rx_w.data = e->tx_w.data = e;
	if (p->congestion_control != CONFIG_CC_RFC4960)
		log_warn("engine kernel: congestion_control = %s is the user-space engine's; "
		         "the kernel's SCTP has only rfc4960, which it uses",
		         config_cc_name(p->congestion_control));
	if (p->path_mtu != CONFIG_PATH_MTU_MIN)
		log_info("engine kernel: path_mtu = %u is the user-space engine's; the kernel "
		         "discovers each path's MTU itself",
		         p->path_mtu);
	engine_defer_init(&e->down, &e->base);
	return &e->base;
}
