/*
 * engine_usrsctp: the user-space SCTP engine (usrsctp over UDP, RFC 6951).
 *
 * usrsctp runs its own threads (timers, UDP receive). Those threads only
 * ever call usr_upcall(), which does one thread-safe thing: ev_async_send().
 * Everything else, every usrsctp_* call included, happens on the libev loop
 * thread in usr_wake_cb(). This is the upcall API the usrsctp authors
 * recommend; its receive_cb/send_cb alternative runs our code on their
 * threads under their locks.
 *
 * One socket per association (one-to-one style, SOCK_STREAM). The connect
 * role makes a new socket per attempt; the accept role keeps a listening
 * socket and adopts the newest association it accepts.
 *
 * This file includes usrsctp.h and must never include <netinet/sctp.h>.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <usrsctp.h>

#include "ackwatch.h"
#include "addr.h"
#include "bufgrow.h"
#include "engine.h"
#include "engine_defer.h"
#include "engine_prio.h"
#include "frame.h"
#include "log.h"
#include "ratelimit.h"
#include "udp_bufs.h"

/* Congestion control module per socket; missing from usrsctp.h (the
 * SCTP_CC_* values are there). */
#define USR_SCTP_PLUGGABLE_CC 0x00001202

/* Potentially-failed threshold (RFC 7829); missing from usrsctp.h. */
#define USR_SCTP_PEER_ADDR_THLDS 0x00000023
struct usr_paddrthlds {
	struct sockaddr_storage spt_address;
	sctp_assoc_t spt_assoc_id;
	uint16_t spt_pathmaxrxt;
	uint16_t spt_pathpfthld;
	uint16_t spt_pathcpthld; /* must be 0xffff: the feature is off */
};

#define USR_READ_BATCH    64        /* messages per wake-up before TCP gets a turn */
#define USR_WRITE_POLL    0.02      /* safety net should a write upcall be missed */
#define USR_KICK_MTU      24        /* path MTU each ackwatch kick gives up */
#define USR_UDP_SCTP_HDR  20        /* UDP header 8 + SCTP common header 12 (usr_chunk_room) */
#define USR_UDP_BUF       (4 << 20) /* UDP socket buffers; usrsctp's own are 128 KiB */
#define USR_FINISH_TRIES  300       /* x 10 ms: how long free waits for usrsctp_finish */
#define USR_REARM_PER_RTO 4         /* T3 restarts per rto_min (see usr_rearm_cb) */
#define USR_BUF_TICK      0.02      /* s: how often the buffers' use is sampled (bufgrow.h) */
#define USR_BUF_IDLE_TICK 1.0       /* s: ... while nothing moves */

struct usr_engine {
	struct engine base;
	struct engine_params p;
	struct socket *listener; /* accept role */
	struct socket *sock;     /* the association, or NULL */
	bool up;                 /* COMM_UP seen on sock */
	atomic_bool want_write;  /* a send was refused; read by usr_upcall too */
	atomic_uint want_room;   /* ... and the bytes it needed (usr_room) */
	ev_async wake;
	ev_timer write_poll;
	ev_timer ack_timer;       /* samples ackwatch while the association is up */
	ev_timer rearm_timer;     /* T3 restarts (usr_rearm_cb) while up */
	bool rearm_due;           /* the next message goes out as PR-SCTP */
	struct engine_defer down; /* a down waiting for the loop (engine.h) */
	struct ackwatch ackwatch;
	uint64_t kicks_total; /* ackwatch kicks since start, every association */
	unsigned mtu;         /* the association's path MTU now, IP packet (kicks lower it) */
	uint8_t *rx;          /* one message being reassembled */
	size_t rx_len;
	struct engine_prio prio; /* datagram streams first (engine_prio.h) */
	ev_timer buf_timer;      /* samples the buffers' use while up (usr_bufs_cb) */
	struct bufgrow sndbuf, rcvbuf;
	uint64_t bytes_out;                  /* handed to usrsctp_sendv, this association */
	uint64_t bytes_in;                   /* read out of the association, this association */
	uint64_t bytes_in_seen;              /* bytes_in at the last sample */
	bool buf_idle;                       /* buf_timer at USR_BUF_IDLE_TICK (usr_bufs_busy) */
	struct sockaddr_storage buf_primary; /* the path the buffers' round trips are of */
};

/* usrsctp is one stack per process: only one engine may exist. */
static bool usr_initialised;

/* SCTP_GET_SNDBUF_USE: what the association holds in its send queue;
 * missing from usrsctp.h. */
#define USR_SCTP_GET_SNDBUF_USE 0x00001101
struct usr_sockstat {
	sctp_assoc_t ss_assoc_id;
	uint32_t ss_total_sndbuf;
	uint32_t ss_total_recv_buf;
};

/* Would the send the loop was refused fit now? A non-blocking send of a
 * whole message needs the message's bytes free in the send buffer, and
 * usrsctp calls a socket writable from 2 KiB on: without this test, each
 * SACK that frees a packet's worth would wake the loop to be refused the
 * same 64 KiB frame again. True when usrsctp cannot say (the write poll and
 * the next SACK stay the safety nets either way). Takes the association's
 * lock, as a getsockopt on the loop thread would: called from usr_upcall
 * (no usrsctp lock held there) and the loop. */
static bool usr_room(struct usr_engine *e, struct socket *s)
{
	unsigned need = atomic_load_explicit(&e->want_room, memory_order_relaxed);
	struct usr_sockstat ss = {0};
	socklen_t len = sizeof ss;
	int limit = 0;
	socklen_t ilen = sizeof limit;
	if (usrsctp_getsockopt(s, SOL_SOCKET, SO_SNDBUF, &limit, &ilen) < 0 ||
	    usrsctp_getsockopt(s, IPPROTO_SCTP, USR_SCTP_GET_SNDBUF_USE, &ss, &len) < 0)
		return true;
	return (uint64_t)ss.ss_total_sndbuf + need <= (uint64_t)limit;
}

/* usrsctp calls this after every packet it took in while the socket is
 * readable or writable, i.e. for every DATA chunk of a message still being
 * reassembled (the receiver's socket is always writable) and every SACK
 * (the sender's is writable once 2 KiB are free). Waking the loop for
 * those costs a context switch each and finds nothing to do; so the loop
 * is woken only for what it waits for: a whole message or notification to
 * read, a new association to accept, an error, or room to write after a
 * refused send. usrsctp_get_events takes only the socket buffer's lock,
 * which none of usrsctp's upcall sites hold (docs/PERFORMANCE.md). */
static void usr_upcall(struct socket *s, void *arg, int flags)
{
	(void)flags;
	struct usr_engine *e = arg;
	int ev = usrsctp_get_events(s);
	if (ev < 0 || (ev & (SCTP_EVENT_READ | SCTP_EVENT_ERROR)) ||
	    ((ev & SCTP_EVENT_WRITE) &&
	     atomic_load_explicit(&e->want_write, memory_order_relaxed) && usr_room(e, s)))
		ev_async_send(e->base.loop, &e->wake);
}

static int setopt(struct socket *s, int opt, const void *v, socklen_t len, const char *what)
{
	if (usrsctp_setsockopt(s, IPPROTO_SCTP, opt, v, len) < 0) {
		int err = errno;
		log_error("engine userspace: setting %s failed: %s", what, strerror(err));
		return -err;
	}
	return 0;
}

/* usrsctp's spp_pathmtu for a path MTU of MTU bytes ([sctp] path_mtu: the
 * IP packet, UDP included). usrsctp takes spp_pathmtu as the room for
 * chunks in a packet and adds the IP and SCTP common headers, and the UDP
 * header, on top: seen on the wire (docs/PERFORMANCE.md, "Path MTU"),
 * spp_pathmtu 1280 gave IPv4 packets of 1320 bytes and IPv6 ones of 1340.
 * One value reaches every path (an unspecified address), so with any IPv6
 * path the IPv6 header comes off every path: an IPv4 path of a mixed
 * configuration sends packets 20 bytes below path_mtu. */
static uint32_t usr_chunk_room(const struct usr_engine *e, unsigned mtu)
{
	unsigned ip = 20;
	for (size_t i = 0; i < e->p.n_addrs; i++)
		if (e->p.remote[i].ss_family == AF_INET6)
			ip = 40;
	/* usrsctp's least MTU is 512: below it (no MTU a config takes, eight
	 * kicks included) the setsockopt would fail. */
	return mtu >= ip + USR_UDP_SCTP_HDR + 512 ? mtu - ip - USR_UDP_SCTP_HDR : 512;
}

/* The run-time settings of [sctp] (engine.h, set_timers): at start on
 * every new socket, and at reload on the listener and the association.
 * SCTP_FUTURE_ASSOC on a one-to-one socket reaches its association when
 * it has one, else sets the defaults the next one starts with. */
static int usr_timers(struct usr_engine *e, struct socket *s)
{
	const struct engine_params *p = &e->p;
	int rc = 0;

	struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC,
	                           .srto_initial = p->rto_initial_ms,
	                           .srto_max = p->rto_max_ms,
	                           .srto_min = p->rto_min_ms};
	rc |= setopt(s, SCTP_RTOINFO, &rto, sizeof rto, "SCTP_RTOINFO");

	struct sctp_assocparams ap = {.sasoc_assoc_id = SCTP_FUTURE_ASSOC,
	                              .sasoc_asocmaxrxt = (uint16_t)p->assoc_max_retrans};
	rc |= setopt(s, SCTP_ASSOCINFO, &ap, sizeof ap, "SCTP_ASSOCINFO");

	/* A fixed path MTU ([sctp] path_mtu) instead of discovery: usrsctp over
	 * UDP has been seen to stall for good under load with discovery on
	 * (retransmissions that never arrive); the default, 1280 bytes, fits
	 * every IPv4 or IPv6 path with the UDP header inside. On the live
	 * association a reload keeps the MTU it has now (ackwatch kicks lower
	 * it; path_mtu itself needs a restart). */
	unsigned mtu = s == e->sock && e->up ? e->mtu : p->path_mtu;
	struct sctp_paddrparams pp = {.spp_assoc_id = SCTP_FUTURE_ASSOC,
	                              .spp_hbinterval = p->heartbeat_interval_ms,
	                              .spp_pathmtu = usr_chunk_room(e, mtu),
	                              .spp_flags = SPP_HB_ENABLE | SPP_PMTUD_DISABLE,
	                              .spp_pathmaxrxt = (uint16_t)p->path_max_retrans};
	/* Every path: an unspecified address (a live association refuses
	 * the family 0 of a zeroed one). */
	pp.spp_address.ss_family = AF_INET6;
	rc |= setopt(s, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS");

	/* sack_delay 0 would mean "unchanged": no delay is a SACK every
	 * packet instead. */
	struct sctp_sack_info sack = {.sack_assoc_id = SCTP_FUTURE_ASSOC,
	                              .sack_delay = p->delayed_sack_ms,
	                              .sack_freq = p->delayed_sack_ms ? 0 : 1};
	rc |= setopt(s, SCTP_DELAYED_SACK, &sack, sizeof sack, "SCTP_DELAYED_SACK");

	struct usr_paddrthlds th = {.spt_assoc_id = SCTP_FUTURE_ASSOC,
	                            .spt_pathmaxrxt = (uint16_t)p->path_max_retrans,
	                            .spt_pathpfthld = (uint16_t)p->pf_threshold,
	                            .spt_pathcpthld = 0xffff};
	th.spt_address.ss_family = AF_INET6;
	rc |= setopt(s, USR_SCTP_PEER_ADDR_THLDS, &th, sizeof th, "potentially-failed threshold");

	return rc;
}

/* One of the socket's buffers (SO_SNDBUF or SO_RCVBUF) set to SIZE bytes;
 * 0 or -1 (errno set). */
static int usr_set_buf(struct socket *s, int opt, size_t size)
{
	int v = (int)size;
	return usrsctp_setsockopt(s, SOL_SOCKET, opt, &v, sizeof v);
}

/* Every option that shapes the association, applied before bind/connect so
 * accepted sockets inherit them from the listener. */
static int usr_configure(struct usr_engine *e, struct socket *s)
{
	const struct engine_params *p = &e->p;
	int rc = 0, on = 1;

	usrsctp_set_non_blocking(s, 1);

	struct sctp_udpencaps encaps = {0};
	encaps.sue_address.ss_family = AF_INET6;
	encaps.sue_port = htons(p->remote_udp_encap_port);
	rc |= setopt(s, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps, "remote UDP port");

	rc |= setopt(s, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO");
	rc |= setopt(s, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY");
	/* Level 1: a partial delivery may interleave only with other
	 * associations' messages, and a one-to-one socket has one association,
	 * so messages still arrive whole one after another and one reassembly
	 * buffer is enough. */
	int level = 1;
	rc |= setopt(s, SCTP_FRAGMENT_INTERLEAVE, &level, sizeof level, "fragment interleave");

	static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE,
	                                  SCTP_SHUTDOWN_EVENT, SCTP_REMOTE_ERROR};
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
		struct sctp_event ev = {
		    .se_assoc_id = SCTP_FUTURE_ASSOC, .se_type = events[i], .se_on = 1};
		rc |= setopt(s, SCTP_EVENT, &ev, sizeof ev, "event subscription");
	}

	/* SCTP-AUTH on the chunks that carry or acknowledge data (engine.h);
	 * the keys come after the handshake (chunk_key). */
	static const uint8_t auth_chunks[] = ENGINE_AUTH_CHUNKS;
	for (size_t i = 0; p->packet_auth && i < sizeof auth_chunks; i++) {
		struct sctp_authchunk ac = {.sauth_chunk = auth_chunks[i]};
		rc |= setopt(s, SCTP_AUTH_CHUNK, &ac, sizeof ac, "SCTP_AUTH_CHUNK");
	}

	struct sctp_initmsg init = {
	    .sinit_num_ostreams = p->max_streams,
	    .sinit_max_instreams = p->max_streams,
	    .sinit_max_attempts = 4,
	    .sinit_max_init_timeo = (uint16_t)(p->rto_max_ms > 65535 ? 65535 : p->rto_max_ms),
	};
	rc |= setopt(s, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG");

	rc |= usr_timers(e, s);

	static const uint32_t cc[] = {[CONFIG_CC_RFC4960] = SCTP_CC_RFC2581,
	                              [CONFIG_CC_HSTCP] = SCTP_CC_HSTCP,
	                              [CONFIG_CC_HTCP] = SCTP_CC_HTCP,
	                              [CONFIG_CC_RTCC] = SCTP_CC_RTCC};
	struct sctp_assoc_value ccv = {.assoc_id = SCTP_FUTURE_ASSOC,
	                               .assoc_value = cc[p->congestion_control]};
	rc |= setopt(s, USR_SCTP_PLUGGABLE_CC, &ccv, sizeof ccv, "congestion control");

	/* usrsctp sets a path's first ssthresh to the receive buffer the
	 * association starts with (sctp_set_initial_cc_param: the peer's
	 * window, which is ours until the peer's INIT says otherwise, on
	 * either side). Opened at rcvbuf, the first slow start would end
	 * there and congestion avoidance (a packet per round trip) would
	 * take minutes to fill a long fast path; so the socket opens with
	 * the receive buffer at its max, and usr_up sets it back to rcvbuf:
	 * the first slow start then ends where the send buffer's growth
	 * stops (bufgrow.h) or at a loss. */
	if (usr_set_buf(s, SO_SNDBUF, p->sndbuf) < 0 ||
	    usr_set_buf(s, SO_RCVBUF, p->rcvbuf_max > p->rcvbuf ? p->rcvbuf_max : p->rcvbuf) < 0) {
		log_error("engine userspace: setting socket buffers failed: %s", strerror(errno));
		rc = -1;
	}
	return rc ? -EINVAL : 0;
}

/* The remote address of path I with the SCTP port, as the stack keys it. */
static struct sockaddr_storage usr_remote(const struct usr_engine *e, size_t i)
{
	struct sockaddr_storage a = e->p.remote[i];
	addr_set_port(&a, e->p.port);
	return a;
}

/* The configured local addresses, each with the SCTP port. */
static int usr_bind(struct usr_engine *e, struct socket *s)
{
	for (size_t i = 0; i < e->p.n_addrs; i++) {
		struct sockaddr_storage a = e->p.local[i];
		char text[ADDR_STRLEN];
		addr_set_port(&a, e->p.port);
		if (usrsctp_bindx(s, (struct sockaddr *)&a, 1, SCTP_BINDX_ADD_ADDR) < 0) {
			int err = errno;
			log_error("engine userspace: cannot bind %s: %s",
			          addr_format(&a, text, sizeof text), strerror(err));
			return -err;
		}
	}
	return 0;
}

static struct socket *usr_socket(struct usr_engine *e)
{
	struct socket *s = usrsctp_socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (!s) {
		log_error("engine userspace: cannot create a socket: %s", strerror(errno));
		return NULL;
	}
	if (usr_configure(e, s) < 0 || usr_bind(e, s) < 0) {
		usrsctp_close(s);
		return NULL;
	}
	return s;
}

/* Close with an ABORT instead of a SHUTDOWN. */
static void usr_close_abort(struct socket *s)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	usrsctp_setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	usrsctp_close(s);
}

static void usr_close_sock(struct usr_engine *e, bool abort)
{
	if (!e->sock)
		return;
	usrsctp_set_upcall(e->sock, NULL, NULL);
	if (abort)
		usr_close_abort(e->sock);
	else
		usrsctp_close(e->sock);
	e->sock = NULL;
	e->up = false;
	e->rx_len = 0;
	e->want_write = false;
	ev_timer_stop(e->base.loop, &e->write_poll);
	ev_timer_stop(e->base.loop, &e->ack_timer);
	ev_timer_stop(e->base.loop, &e->rearm_timer);
	ev_timer_stop(e->base.loop, &e->buf_timer);
	e->buf_idle = false; /* usr_bufs_busy restarts buf_timer only once up again */
}

/* Forget the socket, then tell the layer above once, from the loop: this
 * runs inside abort and shutdown too, and no callback may (engine.h). */
static void usr_down(struct usr_engine *e, bool abort, bool graceful, const char *why)
{
	bool was_up = e->up;
	usr_close_sock(e, abort);
	if (was_up || e->p.role == CONFIG_ROLE_CONNECT)
		engine_defer_down(&e->down, graceful, why);
}

/* The priority scheduler on the new association, every stream at 0 until
 * its first send says what it carries (engine_prio.h). Set here, on the
 * live association, because an accepted one does not take the listener's
 * default. Without it datagrams still flow, in round robin with whole TCP
 * messages (the default scheduler); hence only a warning. */
static void usr_scheduler(struct usr_engine *e)
{
	engine_prio_reset(&e->prio);
	struct sctp_assoc_value ss = {.assoc_id = SCTP_FUTURE_ASSOC,
	                              .assoc_value = SCTP_SS_PRIORITY};
	if (usrsctp_setsockopt(e->sock, IPPROTO_SCTP, SCTP_PLUGGABLE_SS, &ss, sizeof ss) < 0)
		log_warn("engine userspace: no priority stream scheduler (%s): datagrams wait "
		         "behind TCP messages",
		         strerror(errno));
}

/* Before a send on SID carrying CLS: the stream's scheduler priority, when
 * its class changed (engine_prio.h). A failure costs only the order. */
static void usr_prio(struct usr_engine *e, uint16_t sid, enum engine_prio_class cls)
{
	if (!engine_prio_mark(&e->prio, sid, cls))
		return;
	struct sctp_stream_value v = {.assoc_id = SCTP_FUTURE_ASSOC,
	                              .stream_id = sid,
	                              .stream_value = engine_prio_value(cls)};
	if (usrsctp_setsockopt(e->sock, IPPROTO_SCTP, SCTP_SS_VALUE, &v, sizeof v) < 0)
		log_warn_limited("engine userspace: stream %u: setting its scheduler priority "
		                 "failed: %s",
		                 sid, strerror(errno));
}

/* A new association is up: watch its acknowledgements from scratch. */
static void usr_up(struct usr_engine *e, uint16_t streams)
{
	engine_defer_flush(&e->down); /* the old association's down comes first */
	e->up = true;
	e->mtu = e->p.path_mtu;
	usr_scheduler(e);
	ackwatch_reset(&e->ackwatch);
	ev_timer_again(e->base.loop, &e->ack_timer);
	e->rearm_due = false;
	ev_timer_again(e->base.loop, &e->rearm_timer);
	double now = ev_now(e->base.loop);
	e->bytes_out = e->bytes_in = e->bytes_in_seen = 0;
	e->buf_idle = false;
	memset(&e->buf_primary, 0, sizeof e->buf_primary);
	e->buf_timer.repeat = USR_BUF_TICK;
	bufgrow_init(&e->sndbuf, &bufgrow_send, e->p.sndbuf, e->p.sndbuf_max, 0, now);
	bufgrow_init(&e->rcvbuf, &bufgrow_receive, e->p.rcvbuf, e->p.rcvbuf_max, 0, now);
	/* The socket opened with the receive buffer at its max (usr_configure):
	 * now both start where they should (after an SCTP restart the send
	 * buffer may have grown with the association before). */
	if (usr_set_buf(e->sock, SO_SNDBUF, e->p.sndbuf) < 0 ||
	    usr_set_buf(e->sock, SO_RCVBUF, e->p.rcvbuf) < 0)
		log_warn("engine userspace: setting the socket buffers failed: %s",
		         strerror(errno));
	ev_timer_again(e->base.loop, &e->buf_timer);
	e->base.cb.up(e->base.ctx, streams);
}

/* Data moves: the buffers' sampling back at USR_BUF_TICK if it had slowed
 * down for an idle association (usr_bufs_cb). */
static void usr_bufs_busy(struct usr_engine *e)
{
	if (!e->buf_idle)
		return;
	e->buf_idle = false;
	e->buf_timer.repeat = USR_BUF_TICK;
	ev_timer_again(e->base.loop, &e->buf_timer);
}

/*
 * T3 restarts. usrsctp (0.9.5.0, and its master of 2024 alike) handles a
 * SACK that reports no gap while no PR-SCTP chunk is in flight on a fast
 * path (sctp_express_handle_sack) that never restarts a running T3 timer
 * when the cumulative ack advances: sctp_timer_start leaves a pending
 * timer alone. RFC 9260 section 6.3.2 rule R3 wants it restarted. So in a
 * steady transfer, where the flight never drains, the timer armed by the
 * first packet expires one RTO later whatever the SACKs said, then again
 * every 2 RTO (the expiry doubles the RTO the timer is re-armed with; the
 * next SACK halves it back): 5 T3 timeouts per 10 s with rto_min_ms 1000,
 * 50 with 100, each with nothing lost. Each counts as an error of the path
 * (two in a row make it potentially failed, pf_threshold 1, and usrsctp
 * brings such a path back at a window of one packet), and each retransmits
 * every chunk older than the measured RTO, which a deep bottleneck queue
 * makes likely. The full SACK path (sctp_handle_sack) restarts the timer,
 * and usrsctp takes it while a PR-SCTP chunk is in flight. So every
 * rto_min_ms / USR_REARM_PER_RTO while data is outstanding, a probe
 * (ENGINE_PPID_PROBE, stream 0, which only control frames share and the
 * scheduler serves first, engine_prio.h, so it leaves at once) goes out with the PR-SCTP policy
 * "limited retransmissions" and no limit (UINT32_MAX: never abandoned, a reliable message in all
 * but name; the peer's engine drops it). When the send buffer has no room for it, the next message
 * carries the policy instead. tests/integration/wan_throughput.sh counts the T3 timeouts of a clean
 * 50 ms transfer.
 */
static ssize_t usr_sendv(struct usr_engine *e, uint16_t sid, uint16_t flags, uint32_t ppid,
                         const void *msg, size_t len, bool rearm)
{
	struct sctp_sendv_spa spa = {
	    .sendv_flags = SCTP_SEND_SNDINFO_VALID,
	    .sendv_sndinfo = {.snd_sid = sid, .snd_flags = flags, .snd_ppid = htonl(ppid)},
	};
	if (rearm || e->rearm_due) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
		spa.sendv_prinfo.pr_value = UINT32_MAX;
	}
	ssize_t n = usrsctp_sendv(e->sock, msg, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
	if (n >= 0) {
		e->bytes_out += len;
		usr_bufs_busy(e);
	}
	if (n >= 0 && (spa.sendv_flags & SCTP_SEND_PRINFO_VALID))
		e->rearm_due = false;
	return n;
}

/* Send a one-byte probe (ENGINE_PPID_PROBE, unordered, stream 0; the peer's
 * engine drops it), as PR-SCTP: the SACK it draws takes usrsctp's full
 * path and restarts the retransmission timers of every path with data in
 * flight. False when it could not be queued. */
static bool usr_probe(struct usr_engine *e)
{
	static const uint8_t byte;
	return usr_sendv(e, 0, SCTP_UNORDERED, ENGINE_PPID_PROBE, &byte, 1, true) >= 0;
}

/* The live association's SCTP_STATUS into ST; false when there is none. */
static bool usr_status_now(struct usr_engine *e, struct sctp_status *st)
{
	*st = (struct sctp_status){0};
	socklen_t len = sizeof *st;
	return e->sock && e->up &&
	       usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_STATUS, st, &len) == 0;
}

/* Every rto_min_ms / USR_REARM_PER_RTO while up: with data outstanding,
 * restart the T3 timers (above). */
static void usr_rearm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct usr_engine *e = w->data;
	struct sctp_status st;
	if (usr_status_now(e, &st) && st.sstat_unackdata > 0 && !usr_probe(e))
		e->rearm_due = true;
}

static double usr_rearm_period(const struct engine_params *p)
{
	double t = p->rto_min_ms / 1000.0 / USR_REARM_PER_RTO;
	return t > 0.005 ? t : 0.005;
}

/* Buffer OPT grown to GROWN bytes (0: it did not grow): set it. */
static void usr_buf_grown(struct usr_engine *e, int opt, size_t grown, unsigned srtt_ms)
{
	if (grown && usr_set_buf(e->sock, opt, grown) == 0)
		log_debug("engine userspace: %s buffer %zu KiB (srtt %u ms)",
		          opt == SO_SNDBUF ? "send" : "receive", grown / 1024, srtt_ms);
}

/* Every USR_BUF_TICK while up and busy: the buffers follow their use
 * (bufgrow.h).
 * The send buffer counts what the peer acknowledged (handed to usrsctp
 * minus what its send queue still holds), the receive buffer what was read
 * out of the association; a period is the primary path's smoothed RTT.
 * usrsctp reads both limits at every send and every SACK it builds (its
 * window is the receive buffer's free room), so a larger one takes effect
 * at once. */
static void usr_bufs_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct usr_engine *e = w->data;
	struct sctp_status st;
	if (!usr_status_now(e, &st))
		return;
	if (e->sndbuf.size >= e->sndbuf.max && e->rcvbuf.size >= e->rcvbuf.max) {
		ev_timer_stop(loop, w); /* grown for good: until the next association */
		return;
	}
	/* Nothing in flight, queued or read since the last sample: sample
	 * once a second until data moves again (usr_bufs_busy), instead of
	 * waking an idle gateway 50 times a second. */
	if (st.sstat_unackdata == 0 && st.sstat_penddata == 0 && e->bytes_in == e->bytes_in_seen) {
		if (!e->buf_idle) {
			e->buf_idle = true;
			w->repeat = USR_BUF_IDLE_TICK;
			ev_timer_again(loop, w);
		}
		return;
	}
	e->bytes_in_seen = e->bytes_in;
	/* Another primary path (failover, a reload's priorities): its round
	 * trip is not the old one's; the least seen starts again, or a longer
	 * path would look like a queue building for good. */
	if (memcmp(&e->buf_primary, &st.sstat_primary.spinfo_address, sizeof e->buf_primary)) {
		memcpy(&e->buf_primary, &st.sstat_primary.spinfo_address, sizeof e->buf_primary);
		bufgrow_new_path(&e->sndbuf);
		bufgrow_new_path(&e->rcvbuf);
	}
	double now = ev_now(loop), rtt = st.sstat_primary.spinfo_srtt / 1000.0;
	struct usr_sockstat ss = {0};
	socklen_t len = sizeof ss;
	if (e->sndbuf.size < e->sndbuf.max &&
	    usrsctp_getsockopt(e->sock, IPPROTO_SCTP, USR_SCTP_GET_SNDBUF_USE, &ss, &len) == 0) {
		uint64_t queued = ss.ss_total_sndbuf;
		uint64_t acked = e->bytes_out > queued ? e->bytes_out - queued : 0;
		usr_buf_grown(e, SO_SNDBUF, bufgrow_sample(&e->sndbuf, acked, now, rtt),
		              st.sstat_primary.spinfo_srtt);
	}
	if (e->rcvbuf.size < e->rcvbuf.max)
		usr_buf_grown(e, SO_RCVBUF, bufgrow_sample(&e->rcvbuf, e->bytes_in, now, rtt),
		              st.sstat_primary.spinfo_srtt);
}

/* Make usrsctp retransmit what it forgot (see ackwatch.h). First a probe:
 * its SACK restarts the timers, at no cost. It cannot help when the send
 * buffer is full, or when the path it would take has no congestion window
 * left; so from the second kick on, the path MTU also drops below the size
 * of the chunks in flight, the one knob that makes usrsctp mark them all
 * for retransmission at once, and a heartbeat on demand runs its output.
 * The lower MTU stays for the rest of the association (usrsctp never
 * raises it again): USR_KICK_MTU bytes of payload per packet per kick. */
static void usr_kick(struct usr_engine *e, uint32_t unacked, double quiet)
{
	bool probed = usr_probe(e);
	bool lower = !probed || e->ackwatch.kicks > 1;
	if (lower)
		e->mtu -= USR_KICK_MTU;
	log_warn_limited(
	    "engine userspace: %u messages unacknowledged with no SACK and no retransmission "
	    "for %.1f s; forcing retransmission (kick %u of %d: %s%s, path MTU %u)",
	    unacked, quiet, e->ackwatch.kicks, ACKWATCH_MAX_KICKS,
	    probed ? "probe sent" : "no room for a probe", lower ? ", MTU lowered" : "", e->mtu);
	if (!lower)
		return;
	/* Every path: an unspecified address of any family. */
	struct sctp_paddrparams pp = {.spp_pathmtu = usr_chunk_room(e, e->mtu),
	                              .spp_flags = SPP_PMTUD_DISABLE};
	pp.spp_address.ss_family = AF_INET6;
	setopt(e->sock, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "path MTU");
	struct sctp_paddrparams hb = {.spp_address = usr_remote(e, 0), .spp_flags = SPP_HB_DEMAND};
	setopt(e->sock, SCTP_PEER_ADDR_PARAMS, &hb, sizeof hb, "heartbeat on demand");
}

static void usr_ack_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct usr_engine *e = w->data;
	struct sctp_status st;
	struct sctpstat stats = {0};
	if (!usr_status_now(e, &st))
		return;
	usrsctp_get_stat(&stats);
	/* One stack per process, one association: the stack's counters are
	 * the association's. */
	switch (ackwatch_sample(&e->ackwatch, st.sstat_unackdata, stats.sctps_recvsacks,
	                        stats.sctps_timodata)) {
	case ACKWATCH_OK:
		break;
	case ACKWATCH_KICK:
		e->kicks_total++;
		usr_kick(e, st.sstat_unackdata, w->repeat);
		break;
	case ACKWATCH_GIVE_UP:
		usr_down(e, true, false,
		         "data stayed unacknowledged after every forced retransmission");
		break;
	}
}

static uint16_t usr_streams(struct socket *s)
{
	struct sctp_status st = {0};
	socklen_t len = sizeof st;
	if (usrsctp_getsockopt(s, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0)
		return 0;
	return st.sstat_instrms < st.sstat_outstrms ? st.sstat_instrms : st.sstat_outstrms;
}

static const char *usr_paddr_state(uint32_t state)
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
	}
	return "changed";
}

/* Why the association was lost, as far as the notification tells: the
 * error cause usrsctp reports (sac_error), and, when the peer's ABORT came
 * with it (sac_info holds the chunk), its first cause, with the text of a
 * protocol violation (RFC 9260 3.3.10.13), which usrsctp fills with what
 * it found wrong. Without them a lost association cannot be told apart
 * from an aborted one in the log. */
static void usr_lost_why(const struct sctp_assoc_change *ac, size_t len, char *out, size_t cap)
{
	int n =
	    snprintf(out, cap, "communication lost (peer unreachable or aborted; error cause %u",
	             ac->sac_error);
	size_t info = len > sizeof *ac ? len - sizeof *ac : 0;
	const uint8_t *c = ac->sac_info;
	if (info >= 8 && c[0] == 6 /* ABORT */ && n > 0 && (size_t)n < cap) {
		unsigned code = (unsigned)c[4] << 8 | c[5], clen = (unsigned)c[6] << 8 | c[7];
		n += snprintf(out + n, cap - (size_t)n, ", the peer's ABORT says cause %u", code);
		if (code == 13 && clen > 4 && clen - 4 <= info - 8 && n > 0 && (size_t)n < cap) {
			n += snprintf(out + n, cap - (size_t)n, " \"");
			for (unsigned i = 0; i < clen - 4 && n > 0 && (size_t)n + 3 < cap; i++) {
				uint8_t ch = c[8 + i];
				out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
			}
			if (n > 0 && (size_t)n + 2 < cap) {
				out[n++] = '"';
				out[n] = '\0';
			}
		}
	}
	if (n > 0 && (size_t)n + 2 < cap)
		snprintf(out + n, cap - (size_t)n, ")");
}

/* Returns false when the socket is gone afterwards. */
static bool usr_notification(struct usr_engine *e, const uint8_t *msg, size_t len)
{
	const union sctp_notification *n = (const void *)msg;
	if (len < sizeof n->sn_header)
		return true;

	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE: {
		const struct sctp_assoc_change *ac = &n->sn_assoc_change;
		uint16_t streams = ac->sac_inbound_streams < ac->sac_outbound_streams
		                       ? ac->sac_inbound_streams
		                       : ac->sac_outbound_streams;
		switch (ac->sac_state) {
		case SCTP_COMM_UP:
			if (!e->up)
				usr_up(e, streams);
			return e->sock != NULL;
		case SCTP_RESTART:
			/* The peer lost its state and came back on the same
			 * addresses: everything it knew about is gone. */
			e->up = false;
			engine_defer_flush(&e->down);
			e->base.cb.down(e->base.ctx, false, "peer restarted");
			if (!e->sock)
				return false;
			usr_up(e, streams);
			return e->sock != NULL;
		case SCTP_COMM_LOST: {
			char why[256];
			usr_lost_why(ac, len, why, sizeof why);
			usr_down(e, false, false, why);
			return false;
		}
		case SCTP_CANT_STR_ASSOC:
			usr_down(e, false, false, "peer did not answer INIT");
			return false;
		case SCTP_SHUTDOWN_COMP:
			usr_down(e, false, true, "closed gracefully (SCTP SHUTDOWN)");
			return false;
		}
		return true;
	}
	case SCTP_PEER_ADDR_CHANGE: {
		char text[ADDR_STRLEN];
		const struct sctp_paddr_change *pc = &n->sn_paddr_change;
		log_debug("peer address %s %s", addr_format(&pc->spc_aaddr, text, sizeof text),
		          usr_paddr_state(pc->spc_state));
		if (e->up)
			e->base.cb.path_event(e->base.ctx);
		return e->sock != NULL;
	}
	case SCTP_SHUTDOWN_EVENT:
		log_info("peer is shutting the association down");
		return true;
	case SCTP_REMOTE_ERROR:
		log_warn_limited("peer reported an SCTP error (cause %u)",
		                 n->sn_remote_error.sre_error);
		return true;
	}
	return true;
}

/* Read up to a batch of messages. Returns true when more may be waiting. */
static bool usr_read(struct usr_engine *e)
{
	struct socket *s = e->sock;
	for (int i = 0; i < USR_READ_BATCH; i++) {
		if (e->sock != s)
			return false;
		struct sctp_rcvinfo info = {0};
		socklen_t infolen = sizeof info;
		unsigned infotype = 0;
		int flags = 0;
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = usrsctp_recvv(s, e->rx + e->rx_len, FRAME_WIRE_MAX + 1 - e->rx_len,
		                          (struct sockaddr *)&from, &fromlen, &info, &infolen,
		                          &infotype, &flags);
		if (n < 0) {
			if (errno == EWOULDBLOCK || errno == EAGAIN)
				return false;
			char why[96];
			snprintf(why, sizeof why, "receive failed: %s", strerror(errno));
			usr_down(e, false, false, why);
			return false;
		}
		if (n == 0) {
			usr_down(e, false, true, "closed by peer");
			return false;
		}
		e->rx_len += (size_t)n;
		e->bytes_in += (uint64_t)n;
		usr_bufs_busy(e);
		/* Bigger than any frame we or the peer may send, sealed or
		 * not. The buffer holds one byte more than FRAME_WIRE_MAX so
		 * that such a message shows, whole (MSG_EOR) or not. */
		if (e->rx_len > FRAME_WIRE_MAX) {
			log_warn_limited("peer sent a message over %d bytes", FRAME_WIRE_MAX);
			usr_down(e, true, false, "protocol error: oversized message");
			return false;
		}
		if (!(flags & MSG_EOR))
			continue;
		size_t len = e->rx_len;
		e->rx_len = 0;
		if (flags & MSG_NOTIFICATION) {
			if (!usr_notification(e, e->rx, len))
				return false;
		} else if (e->up) {
			if (infotype != SCTP_RECVV_RCVINFO)
				info.rcv_sid = 0;
			else if (ntohl(info.rcv_ppid) == ENGINE_PPID_PROBE)
				continue; /* the peer's probe (ackwatch.h): nothing for us */
			e->base.cb.message(e->base.ctx, info.rcv_sid, e->rx, len);
		}
	}
	return true;
}

/* The UDP port the peer's address A (as getpaddrs gave it) sends from, or
 * -1 when usrsctp does not say. */
static int usr_peer_encap_port(struct socket *s, const struct sockaddr *a)
{
	struct sctp_udpencaps encaps = {0};
	memcpy(&encaps.sue_address, a,
	       a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	socklen_t l = sizeof encaps;
	if (usrsctp_getsockopt(s, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, &l) < 0)
		return -1;
	return ntohs(encaps.sue_port);
}

/* Whether the association comes from the configured peer: FROM and every
 * address (engine_peer_expected), each over the configured remote UDP
 * encapsulation port. */
static bool usr_peer_expected(struct usr_engine *e, struct socket *s, const struct sockaddr *from,
                              char *seen, size_t len)
{
	struct sockaddr *addrs = NULL;
	int n = usrsctp_getpaddrs(s, 0, &addrs);
	bool ok = engine_peer_expected(&e->p, from, addrs, n, seen, len);
	const uint8_t *at = (const uint8_t *)addrs;
	for (int i = 0; ok && i < n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)at;
		at += sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                : sizeof(struct sockaddr_in);
		int port = usr_peer_encap_port(s, sa);
		if (port != e->p.remote_udp_encap_port) {
			int used = snprintf(seen, len, "UDP port %d, not %u, of ", port,
			                    (unsigned)e->p.remote_udp_encap_port);
			struct sockaddr_storage ss = {0};
			memcpy(&ss, sa,
			       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
			                                 : sizeof(struct sockaddr_in));
			if (used > 0 && (size_t)used < len)
				addr_format(&ss, seen + used, len - (size_t)used);
			ok = false;
		}
	}
	if (n > 0)
		usrsctp_freepaddrs(addrs);
	return ok;
}

static void usr_accept(struct usr_engine *e)
{
	struct socket *s;
	struct sockaddr_storage from;
	socklen_t from_len = sizeof from;
	while ((from_len = sizeof from,
	        s = usrsctp_accept(e->listener, (struct sockaddr *)&from, &from_len)) != NULL) {
		char seen[ADDR_STRLEN + 32];
		bool known = from_len >= sizeof(struct sockaddr_in);
		if (!usr_peer_expected(e, s, known ? (struct sockaddr *)&from : NULL, seen,
		                       sizeof seen)) {
			log_warn_limited(
			    "association refused: peer address %s is not a configured remote "
			    "address (every address of the peer must be)",
			    seen);
			usr_close_abort(s);
			continue;
		}
		if (e->sock) {
			log_info("a new association replaces the current one");
			usr_down(e, true, false, "replaced by a new association from the peer");
		}
		e->sock = s;
		usrsctp_set_non_blocking(s, 1);
		usrsctp_set_upcall(s, usr_upcall, e);
		/* An accepted association is already up; its COMM_UP may or may
		 * not be queued on the new socket, so do not wait for it. */
		usr_up(e, usr_streams(s));
	}
}

static void usr_wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)revents;
	struct usr_engine *e = w->data;

	if (e->listener)
		usr_accept(e);
	if (!e->sock)
		return;

	int events = usrsctp_get_events(e->sock);
	if ((events & SCTP_EVENT_READ) && usr_read(e))
		ev_async_send(loop, &e->wake); /* more to read: after TCP's turn */
	if (e->sock && e->want_write && (usrsctp_get_events(e->sock) & SCTP_EVENT_WRITE) &&
	    usr_room(e, e->sock)) {
		e->want_write = false;
		ev_timer_stop(loop, &e->write_poll);
		e->base.cb.writable(e->base.ctx);
	}
}

static void usr_write_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct usr_engine *e = w->data;
	ev_async_send(loop, &e->wake);
}

static int usr_open(struct engine *base)
{
	struct usr_engine *e = (struct usr_engine *)base;

	if (e->p.role == CONFIG_ROLE_ACCEPT) {
		if (e->listener)
			return 0;
		struct socket *s = usr_socket(e);
		if (!s)
			return -EINVAL;
		if (usrsctp_listen(s, 4) < 0) {
			int err = errno;
			log_error("engine userspace: listen failed: %s", strerror(err));
			usrsctp_close(s);
			return -err;
		}
		e->listener = s;
		usrsctp_set_upcall(s, usr_upcall, e);
		ev_async_send(e->base.loop, &e->wake);
		return 0;
	}

	if (e->sock)
		return -EALREADY;
	struct socket *s = usr_socket(e);
	if (!s)
		return -EINVAL;
	/* connectx takes the addresses packed back to back. */
	uint8_t buf[CONFIG_MAX_PATHS * sizeof(struct sockaddr_storage)];
	size_t packed = 0;
	for (size_t i = 0; i < e->p.n_addrs; i++) {
		struct sockaddr_storage to = usr_remote(e, i);
		memcpy(buf + packed, &to, addr_len(&to));
		packed += addr_len(&to);
	}
	usrsctp_set_upcall(s, usr_upcall, e);
	e->sock = s;
	e->up = false;
	if (usrsctp_connectx(s, (struct sockaddr *)buf, (int)e->p.n_addrs, NULL) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		log_warn("engine userspace: connect failed: %s", strerror(err));
		usr_close_sock(e, true);
		return -err;
	}
	ev_async_send(e->base.loop, &e->wake);
	return 0;
}

static int usr_send(struct engine *base, uint16_t sid, const void *msg, size_t len, bool urgent)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (!e->sock || !e->up)
		return -ENOTCONN;
	/* URGENT is not honoured here: usrsctp's sctp_ss_prio_set_value
	 * moves a stream on its scheduler's wheel only while the stream's
	 * queue is empty; a stream set back from 0 to 1 with data queued keeps
	 * its place among the priority-0 streams, ahead of stream 0, and the
	 * wheel, no longer in order, serves the TCP streams in turn and never
	 * reaches stream 0 until they drain: a REKEY answer and the T3 probes
	 * waited 12.7 s behind 20 downloads (docs/PERFORMANCE.md, "Control
	 * frames on a saturated, lossy link"). So a TCP stream gets 1 at its
	 * first send, while its queue is empty, and keeps it. */
	(void)urgent;
	usr_prio(e, sid, engine_prio_class_of(sid, false, false));
	ssize_t n = usr_sendv(e, sid, 0, ENGINE_PPID, msg, len, false);
	if (n >= 0)
		return 0;
	if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) {
		atomic_store_explicit(&e->want_room, (unsigned)len, memory_order_relaxed);
		if (!e->want_write) {
			e->want_write = true;
			ev_timer_again(e->base.loop, &e->write_poll);
		}
		return -EAGAIN;
	}
	return -errno;
}

static int usr_send_dgram(struct engine *base, uint16_t sid, const void *msg, size_t len,
                          bool unordered, unsigned lifetime_ms)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (!e->sock || !e->up)
		return -ENOTCONN;
	usr_prio(e, sid, ENGINE_PRIO_DGRAM);
	struct sctp_sendv_spa spa = {
	    .sendv_flags = SCTP_SEND_SNDINFO_VALID | SCTP_SEND_PRINFO_VALID,
	    .sendv_sndinfo = {.snd_sid = sid,
	                      .snd_flags = unordered ? SCTP_UNORDERED : 0,
	                      .snd_ppid = htonl(ENGINE_PPID)},
	    .sendv_prinfo = {.pr_policy = SCTP_PR_SCTP_TTL, .pr_value = lifetime_ms},
	};
	/* No write watch on -EAGAIN: a datagram that does not fit is dropped
	 * by the caller, and nothing waits for room on its behalf. */
	if (usrsctp_sendv(e->sock, msg, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0) >= 0) {
		e->rearm_due = false; /* PR-SCTP too: restarts the T3 timers */
		e->bytes_out += len;  /* in the send queue's count too (usr_bufs_cb) */
		usr_bufs_busy(e);
		return 0;
	}
	if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS)
		return -EAGAIN;
	return -errno;
}

static void usr_shutdown(struct engine *base)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (e->listener) {
		usrsctp_set_upcall(e->listener, NULL, NULL);
		usrsctp_close(e->listener);
		e->listener = NULL;
	}
	if (e->sock && usrsctp_shutdown(e->sock, SHUT_WR) < 0)
		usr_down(e, true, false, "shutdown failed");
}

static void usr_abort(struct engine *base, const char *why)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (e->sock)
		usr_down(e, true, false, why);
}

static void usr_free(struct engine *base)
{
	struct usr_engine *e = (struct usr_engine *)base;
	usr_close_sock(e, true);
	if (e->listener) {
		usrsctp_set_upcall(e->listener, NULL, NULL);
		usrsctp_close(e->listener);
	}
	ev_async_stop(e->base.loop, &e->wake);
	ev_timer_stop(e->base.loop, &e->write_poll);
	ev_timer_stop(e->base.loop, &e->ack_timer);
	ev_timer_stop(e->base.loop, &e->rearm_timer);
	engine_defer_stop(&e->down);
	/* usrsctp_finish refuses while sockets are still being torn down. */
	int i = 0;
	while (usrsctp_finish() != 0) {
		if (++i == USR_FINISH_TRIES) {
			/* usrsctp's threads still run and may still raise an upcall
			 * with E as its argument: E must stay valid. Leaking it (one
			 * struct, once, at exit or after a failed teardown) is the
			 * only safe choice; the stack stays initialised, so no second
			 * engine can start in this process. */
			log_warn(
			    "engine userspace: usrsctp did not finish within %.1f s; keeping its "
			    "engine state allocated so a late upcall cannot touch freed memory",
			    USR_FINISH_TRIES * 0.01);
			return;
		}
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	usr_initialised = false;
	engine_prio_fini(&e->prio);
	free(e->rx);
	free(e);
}

static int usr_path_info(struct engine *base, size_t i, struct engine_path_info *out)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (!e->sock || !e->up || i >= e->p.n_addrs)
		return -ENOTCONN;
	struct sctp_paddrinfo pi = {.spinfo_address = usr_remote(e, i)};
	socklen_t len = sizeof pi;
	if (usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &len) < 0)
		return -errno;
	out->state = pi.spinfo_state == SCTP_ACTIVE        ? ENGINE_PATH_REACHABLE
	             : pi.spinfo_state == SCTP_UNCONFIRMED ? ENGINE_PATH_UNCONFIRMED
	                                                   : ENGINE_PATH_UNREACHABLE;
	out->srtt_ms = pi.spinfo_srtt;
	out->rto_ms = pi.spinfo_rto;
	out->cwnd = pi.spinfo_cwnd;

	struct sctp_setprim prim = {0};
	len = sizeof prim;
	out->primary = false;
	if (usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &len) == 0) {
		struct sockaddr_storage want = usr_remote(e, i);
		out->primary = addr_equal(&prim.ssp_addr, &want);
	}
	return 0;
}

static int usr_set_primary(struct engine *base, size_t i)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (!e->sock || !e->up || i >= e->p.n_addrs)
		return -ENOTCONN;
	struct sctp_setprim prim = {.ssp_addr = usr_remote(e, i)};
	if (usrsctp_setsockopt(e->sock, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) < 0)
		return -errno;
	return 0;
}

/* engine.h: the run-time settings of P, for the association now and the
 * ones to come (the listener's defaults; a connect attempt configures its
 * socket from e->p). */
static int usr_set_timers(struct engine *base, const struct engine_params *p)
{
	struct usr_engine *e = (struct usr_engine *)base;
	engine_params_take_timers(&e->p, p);
	int rc = 0;
	if (e->listener)
		rc |= usr_timers(e, e->listener);
	if (e->sock)
		rc |= usr_timers(e, e->sock);
	/* The acknowledgement watchdog's period follows rto_max (ackwatch.h). */
	double rto_max = p->rto_max_ms / 1000.0;
	e->ack_timer.repeat = rto_max * 2 > 1.0 ? rto_max * 2 : 1.0;
	e->rearm_timer.repeat = usr_rearm_period(p);
	return rc ? -EINVAL : 0;
}

/* One stack per process, one association at a time: the stack's counters
 * since start are the gateway's. */
static int usr_stats(struct engine *base, struct engine_stats *out)
{
	struct usr_engine *e = (struct usr_engine *)base;
	struct sctpstat ss = {0};
	usrsctp_get_stat(&ss);
	*out = (struct engine_stats){
	    .retransmitted_chunks = ss.sctps_sendretransdata, /* fast ones included */
	    .t3_timeouts = ss.sctps_timodata,
	    .watchdog_kicks = e->kicks_total,
	    .auth_failed = (uint64_t)ss.sctps_recvauthfailed + ss.sctps_recvivalkeyid,
	};
	return 0;
}

static int usr_chunk_key(struct engine *base, enum engine_key_op op, uint16_t id,
                         const uint8_t *key, size_t len)
{
	struct usr_engine *e = (struct usr_engine *)base;
	if (!e->sock || !e->up)
		return -ENOTCONN;
	int rc = 0;
	switch (op) {
	case ENGINE_KEY_CHECK: {
		/* Both lists (what we require, what the peer requires) hold
		 * every chunk type of ENGINE_AUTH_CHUNKS that carries data. */
		for (int peer = 0; peer < 2; peer++) {
			uint8_t buf[sizeof(struct sctp_authchunks) + 256] = {0};
			socklen_t l = sizeof buf;
			if (usrsctp_getsockopt(
			        e->sock, IPPROTO_SCTP,
			        peer ? SCTP_PEER_AUTH_CHUNKS : SCTP_LOCAL_AUTH_CHUNKS, buf, &l) < 0)
				return -EOPNOTSUPP;
			size_t n = l > sizeof(sctp_assoc_t) ? l - sizeof(sctp_assoc_t) : 0;
			if (!engine_auth_chunks_cover(((struct sctp_authchunks *)buf)->gauth_chunks,
			                              n))
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
		k->sca_assoc_id = SCTP_FUTURE_ASSOC;
		k->sca_keynumber = id;
		k->sca_keylength = (uint16_t)len;
		memcpy(k->sca_key, key, len);
		rc = usrsctp_setsockopt(e->sock, IPPROTO_SCTP, SCTP_AUTH_KEY, buf,
		                        (socklen_t)(sizeof *k + len));
		memset(buf, 0, sizeof buf);
		break;
	}
	case ENGINE_KEY_ACTIVATE:
	case ENGINE_KEY_DELETE: {
		struct sctp_authkeyid k = {.scact_assoc_id = SCTP_FUTURE_ASSOC,
		                           .scact_keynumber = id};
		rc = usrsctp_setsockopt(e->sock, IPPROTO_SCTP,
		                        op == ENGINE_KEY_ACTIVATE ? SCTP_AUTH_ACTIVE_KEY
		                                                  : SCTP_AUTH_DELETE_KEY,
		                        &k, sizeof k);
		break;
	}
	}
	return rc < 0 ? -errno : 0;
}

static void usr_status(struct engine *base, char *buf, size_t len)
{
	struct usr_engine *e = (struct usr_engine *)base;
	struct sctp_status st = {0};
	socklen_t sl = sizeof st;
	int events = e->sock ? usrsctp_get_events(e->sock) : 0;
	if (e->sock)
		usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &sl);
	/* The stack's counters since start: retransmissions and the receive
	 * side's drops are what a slow transfer is first checked for. */
	struct sctpstat ss = {0};
	usrsctp_get_stat(&ss);
	/* The stack's own view of the primary path: its MTU, window, RTO. */
	struct sctp_paddrinfo pi = {0};
	if (e->sock && e->up) {
		struct sctp_setprim prim = {0};
		socklen_t pl = sizeof prim;
		if (usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &pl) == 0) {
			pi.spinfo_address = prim.ssp_addr;
			pl = sizeof pi;
			usrsctp_getsockopt(e->sock, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi,
			                   &pl);
		}
	}
	/* usrsctp's MTU is the room for chunks (usr_chunk_room): shown as the
	 * IP packet it makes, as path_mtu counts. */
	unsigned prim_mtu = 0;
	if (pi.spinfo_mtu)
		prim_mtu = pi.spinfo_mtu + USR_UDP_SCTP_HDR +
		           (pi.spinfo_address.ss_family == AF_INET6 ? 40 : 20);
	snprintf(buf, len,
	         "socket %s, waiting for room %s, events%s%s, peer rwnd %u, "
	         "unacked %u, pending %u, partial message %zu bytes, path MTU %u, kicks %u, "
	         "buffers send %zu receive %zu KiB (max %zu, %zu), primary cwnd %u mtu %u srtt %u "
	         "ms rto %u ms; "
	         "since start: packets out %u in %u, DATA chunks retransmitted %u (fast %u), T3 "
	         "timeouts %u (zero-window probes %u), DATA dropped at the chunk limit %u, at the "
	         "window %u, packets failing SCTP-AUTH %u",
	         e->sock ? (e->up ? "up" : "connecting") : "none", e->want_write ? "yes" : "no",
	         events & SCTP_EVENT_READ ? " read" : "", events & SCTP_EVENT_WRITE ? " write" : "",
	         st.sstat_rwnd, st.sstat_unackdata, st.sstat_penddata, e->rx_len,
	         e->up ? e->mtu : e->p.path_mtu, e->ackwatch.kicks,
	         (e->up ? e->sndbuf.size : e->p.sndbuf) / 1024,
	         (e->up ? e->rcvbuf.size : e->p.rcvbuf) / 1024, e->p.sndbuf_max / 1024,
	         e->p.rcvbuf_max / 1024, pi.spinfo_cwnd, prim_mtu, pi.spinfo_srtt, pi.spinfo_rto,
	         ss.sctps_sendpackets, ss.sctps_recvpackets, ss.sctps_sendretransdata,
	         ss.sctps_sendfastretrans, ss.sctps_timodata, ss.sctps_timowindowprobe,
	         ss.sctps_datadropchklmt, ss.sctps_datadroprwnd,
	         ss.sctps_recvauthfailed + ss.sctps_recvivalkeyid);
}

static const struct engine_ops usr_ops = {
    .name = "userspace",
    .open = usr_open,
    .send = usr_send,
    .send_dgram = usr_send_dgram,
    .shutdown = usr_shutdown,
    .abort = usr_abort,
    .free = usr_free,
    .path_info = usr_path_info,
    .set_primary = usr_set_primary,
    .set_timers = usr_set_timers,
    .chunk_key = usr_chunk_key,
    .stats = usr_stats,
    .status = usr_status,
};

/* A packet burst of a full window must fit in the UDP receive buffer while
 * usrsctp's receive thread waits for a CPU: see udp_bufs.h. */
static void usr_grow_udp_buffers(uint16_t port)
{
	int granted = 0;
	int n = udp_bufs_grow(port, USR_UDP_BUF, &granted);
	if (n <= 0)
		log_warn("engine userspace: cannot find the UDP sockets on port %u to grow their "
		         "buffers (%s); expect drops under load",
		         port, n < 0 ? strerror(-n) : "none found");
	else if (granted < 2 * USR_UDP_BUF)
		log_info("engine userspace: UDP receive buffer %d KiB, asked for %d KiB "
		         "(net.core.rmem_max limits it; raise it for throughput)",
		         granted / 2048, USR_UDP_BUF / 1024);
	else
		log_debug("engine userspace: UDP buffers %d KiB on %d sockets", USR_UDP_BUF / 1024,
		          n);
}

struct engine *engine_usrsctp_new(struct ev_loop *loop, const struct engine_params *p,
                                  const struct engine_callbacks *cb, void *ctx)
{
	if (usr_initialised) {
		log_error("engine userspace: only one user-space engine per process");
		return NULL;
	}
	struct usr_engine *e = calloc(1, sizeof *e);
	if (!e || !(e->rx = malloc(FRAME_WIRE_MAX + 1)) ||
	    engine_prio_init(&e->prio, p->max_streams) < 0) {
		if (e)
			free(e->rx);
		free(e);
		log_error("engine userspace: out of memory");
		return NULL;
	}
	e->base.ops = &usr_ops;
	e->base.loop = loop;
	e->base.cb = *cb;
	e->base.ctx = ctx;
	e->p = *p;
	ev_async_init(&e->wake, usr_wake_cb);
	e->wake.data = e;
	ev_async_start(loop, &e->wake);
	ev_timer_init(&e->write_poll, usr_write_poll_cb, 0., USR_WRITE_POLL);
	e->write_poll.data = e;
	/* Longer than rto_max: a running T3 timer fires within one period. */
	double rto_max = p->rto_max_ms / 1000.0;
	ev_timer_init(&e->ack_timer, usr_ack_timer_cb, 0., rto_max * 2 > 1.0 ? rto_max * 2 : 1.0);
	e->ack_timer.data = e;
	ev_timer_init(&e->rearm_timer, usr_rearm_cb, 0., usr_rearm_period(p));
	e->rearm_timer.data = e;
	ev_timer_init(&e->buf_timer, usr_bufs_cb, 0., USR_BUF_TICK);
	e->buf_timer.data = e;
	engine_defer_init(&e->down, &e->base);

	usrsctp_init(p->udp_encap_port, NULL, NULL);
	usr_initialised = true;
	usr_grow_udp_buffers(p->udp_encap_port);
	/* Peers that vanish are found by heartbeats; an ABORT for packets of
	 * an association we no longer know tells a restarted peer at once. */
	usrsctp_sysctl_set_sctp_blackhole(0);
	usrsctp_sysctl_set_sctp_ecn_enable(1);
	/* PR-SCTP (RFC 3758) for UDP datagrams (send_dgram). */
	usrsctp_sysctl_set_sctp_pr_enable(1);
	/* usrsctp also caps the chunks queued per association (512 by
	 * default: 512 x 1.2 KB per round trip, 100 Mbit/s at 50 ms), sending
	 * and receiving alike: set for the largest the buffers may grow to
	 * (bufgrow_chunks). A limit only: usrsctp allocates per chunk queued. */
	size_t buf = p->sndbuf_max > p->rcvbuf_max ? p->sndbuf_max : p->rcvbuf_max;
	buf = buf > p->sndbuf ? buf : p->sndbuf;
	buf = buf > p->rcvbuf ? buf : p->rcvbuf;
	usrsctp_sysctl_set_sctp_max_chunks_on_queue(bufgrow_chunks(buf));
	return &e->base;
}
