/*
 * engine: the seam between sctpgw and an SCTP stack.
 *
 * Start here to add a stack. An engine carries exactly one association at a
 * time and speaks in whole messages on numbered streams; everything above
 * this file (assoc, tcp_conn, listener) is the same whichever engine runs.
 * Two engines exist; engine.c picks one at start (engine_choice.c says which
 * and why):
 *
 *   engine_usrsctp.c  usrsctp linked into the binary, SCTP over UDP (RFC 6951)
 *   engine_kernel.c   the kernel's SCTP through <netinet/sctp.h> and libsctp,
 *                     over UDP (Linux >= 5.11) or plain (transport = sctp)
 *
 * The wire transport ([association] transport) is the configuration's, not
 * the engine's: the choice of engine never changes what goes on the wire.
 *
 * The two stacks' headers define the same names differently: never include
 * both in one file; this header includes neither.
 *
 * Threading: callbacks run on the libev loop thread, and every ops function
 * must be called from it.
 *
 * Re-entrancy: no callback ever runs inside an ops call. An op that ends
 * the association (abort, a failed shutdown) only records the down; the
 * engine delivers it from the loop (a zero-delay timer), before any later
 * up. So a callback may call any op, and the caller of an op finds its own
 * state unchanged when the op returns. After free, nothing is delivered.
 */
#ifndef SCTPGW_ENGINE_H
#define SCTPGW_ENGINE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* Payload protocol identifiers on the wire. Every frame is sent with
 * ENGINE_PPID. A message with ENGINE_PPID_PROBE is an engine's own: the
 * user-space engine sends one to draw a SACK from the peer (ackwatch.h),
 * and every engine drops it on receipt. */
#define ENGINE_PPID       0x53475731u /* "SGW1" */
#define ENGINE_PPID_PROBE 0x53475730u /* "SGW0" */

/* What the engine needs to know, copied out of struct config so a reload can
 * free the config. */
struct engine_params {
	enum config_role role;
	uint16_t port;                   /* SCTP port, the same on both gateways */
	enum config_transport transport; /* udp: SCTP over UDP; sctp: plain (kernel only) */
	uint16_t udp_encap_port;         /* local UDP port */
	uint16_t remote_udp_encap_port;  /* peer's UDP port */
	uint16_t max_streams;            /* streams we offer in each direction */
	size_t n_addrs;
	struct sockaddr_storage local[CONFIG_MAX_PATHS]; /* index = path, best first */
	struct sockaddr_storage remote[CONFIG_MAX_PATHS];
	unsigned heartbeat_interval_ms;
	unsigned rto_initial_ms, rto_min_ms, rto_max_ms;
	unsigned path_max_retrans;
	unsigned pf_threshold;
	unsigned assoc_max_retrans;
	unsigned delayed_sack_ms; /* 0: SACK every packet */
	enum config_cc congestion_control;
	size_t sndbuf, rcvbuf;         /* where the socket buffers start */
	size_t sndbuf_max, rcvbuf_max; /* user space: they grow up to these (bufgrow.h) */
	unsigned path_mtu; /* user space: IP packet size, UDP included; kernel: unused */
	bool packet_auth;  /* ask the peer for SCTP-AUTH on ENGINE_AUTH_CHUNKS */
};

/* A path is one remote address of the association (engine_params.remote[i]);
 * SCTP picks the local address by routing, so each path has its own subnet. */
enum engine_path_state {
	ENGINE_PATH_UNCONFIRMED, /* not yet proven by a heartbeat */
	ENGINE_PATH_REACHABLE,   /* heartbeats and data are answered */
	ENGINE_PATH_UNREACHABLE, /* more than path_max_retrans errors in a row */
};

struct engine_path_info {
	enum engine_path_state state;
	unsigned srtt_ms; /* smoothed round-trip time */
	unsigned rto_ms;  /* current retransmission timeout */
	unsigned cwnd;    /* congestion window, bytes */
	bool primary;     /* the stack's current primary path */
};

/* The stack's counters since the gateway started, whole association (neither
 * usrsctp nor the kernel counts retransmissions per path). Monotonic: an
 * engine adds what an association counted when it ends. */
struct engine_stats {
	uint64_t retransmitted_chunks; /* DATA chunks sent again (timeout and fast) */
	uint64_t t3_timeouts;          /* retransmission timer expiries (user space; kernel: 0) */
	uint64_t watchdog_kicks;       /* ackwatch.h kicks (user space only; kernel: 0) */
	uint64_t auth_failed;          /* packets dropped by SCTP-AUTH (user space; kernel: 0) */
};

/* SCTP-AUTH (RFC 4895) key operations, see chunk_key below. */
enum engine_key_op {
	ENGINE_KEY_CHECK,    /* 0: this association authenticates ENGINE_AUTH_CHUNKS */
	ENGINE_KEY_ADD,      /* key ID = KEY: accepted on receipt from now on */
	ENGINE_KEY_ACTIVATE, /* what we send is authenticated with key ID from now on */
	ENGINE_KEY_DELETE,   /* key ID no longer accepted (0: RFC 4895's null key) */
};

/* The chunk types every engine asks the peer to authenticate (SCTP_AUTH_CHUNK
 * before the association starts): DATA, SACK, FORWARD-TSN, I-DATA,
 * I-FORWARD-TSN. A packet carrying one of them without a valid AUTH chunk
 * is dropped by the stack before it is acknowledged. */
/* clang-format off */
#define ENGINE_AUTH_CHUNKS {0x00, 0x03, 0xc0, 0x40, 0xc2}
/* clang-format on */

/* Whether LIST (N chunk types, as SCTP_LOCAL_AUTH_CHUNKS and
 * SCTP_PEER_AUTH_CHUNKS give them) holds DATA, SACK and FORWARD-TSN, the
 * chunks every association uses (I-DATA and I-FORWARD-TSN only when
 * interleaving was negotiated): the engines' ENGINE_KEY_CHECK. */
static inline bool engine_auth_chunks_cover(const uint8_t *list, size_t n)
{
	static const uint8_t need[] = {0x00, 0x03, 0xc0};
	for (size_t i = 0; i < sizeof need; i++) {
		size_t j = 0;
		while (j < n && list[j] != need[i])
			j++;
		if (j == n)
			return false;
	}
	return true;
}

/* Events from the engine; CTX is the one given to the constructor. */
struct engine_callbacks {
	/* The association is established; STREAMS ids (0..STREAMS-1) usable in
	 * both directions. A restart by the peer reports down, then up. */
	void (*up)(void *ctx, uint16_t streams);
	/* The association is gone (WHY says why; GRACEFUL when it ended with
	 * an SCTP SHUTDOWN rather than a loss or an ABORT). For the connect
	 * role the caller decides when to open() again; the accept role keeps
	 * listening. */
	void (*down)(void *ctx, bool graceful, const char *why);
	/* One whole message arrived on stream SID. MSG is valid during the call. */
	void (*message)(void *ctx, uint16_t sid, const uint8_t *msg, size_t len);
	/* send() returned -EAGAIN before and there is room again. */
	void (*writable)(void *ctx);
	/* A path may have changed state: read them again with path_info. */
	void (*path_event)(void *ctx);
};

struct engine;

struct engine_ops {
	const char *name; /* "userspace", "kernel": appears in logs */
	/* Connect role: start one association attempt (up or down follows).
	 * Accept role: start listening (once). Returns 0 or -errno. */
	int (*open)(struct engine *e);
	/* Queue one whole message on SID, ordered and reliable. URGENT: SID
	 * goes before the TCP streams' data in the stream scheduler, with
	 * stream 0 and the datagram streams, until its next send that is not
	 * urgent (engine_prio.h): a connection's first frames (OPEN, OPEN_OK,
	 * a refusal: deadlines wait for them) and the association's refusals
	 * (assoc_send.c says which). The kernel engine honours it; the
	 * user-space engine cannot safely (engine_usrsctp.c, usr_send) and
	 * sends them with their stream's data. Returns 0, -EAGAIN when the send buffer
	 * is full (writable follows), -ENOTCONN with no association, or
	 * another -errno. */
	int (*send)(struct engine *e, uint16_t sid, const void *msg, size_t len, bool urgent);
	/* Queue one UDP datagram's message on SID, partially reliable: the
	 * stack abandons it (PR-SCTP, RFC 3758, timed reliability) when it is
	 * not delivered within LIFETIME_MS, and never retransmits it after
	 * that; UNORDERED: delivered as soon as it arrives, not behind other
	 * messages of SID. Returns like send. */
	int (*send_dgram)(struct engine *e, uint16_t sid, const void *msg, size_t len,
	                  bool unordered, unsigned lifetime_ms);
	/* Close the association gracefully (SHUTDOWN); queued messages are
	 * delivered first. down follows, from the loop. */
	void (*shutdown)(struct engine *e);
	/* Abort the association at once (ABORT). down follows, from the
	 * loop, never from inside this call. */
	void (*abort)(struct engine *e, const char *why);
	/* Stop everything and free. No callback runs after this. */
	void (*free)(struct engine *e);
	/* Path I (an index into engine_params.remote) as the stack sees it.
	 * 0, or -ENOTCONN without an association. */
	int (*path_info)(struct engine *e, size_t i, struct engine_path_info *out);
	/* Send new data over path I from now on. 0 or -errno (a path that is
	 * not yet confirmed cannot be made primary). */
	int (*set_primary)(struct engine *e, size_t i);
	/* Reload: take the run-time settings of P (heartbeat_interval_ms,
	 * rto_*, path_max_retrans, pf_threshold, assoc_max_retrans,
	 * delayed_sack_ms) for the association now and every later one; the
	 * other fields of P are ignored (they need a restart). 0 or -errno
	 * (the settings stay as they were where the stack refused them). */
	int (*set_timers)(struct engine *e, const struct engine_params *p);
	/* The counters above (struct engine_stats); 0 or -errno. */
	int (*stats)(struct engine *e, struct engine_stats *out);
	/* Optional: one line of the stack's own view (buffers, flags) for the
	 * status dump. */
	void (*status)(struct engine *e, char *buf, size_t len);
	/* Optional: SCTP-AUTH shared keys of the association (OP above; KEY and
	 * LEN only for ENGINE_KEY_ADD). Every association starts with only the
	 * null key (id 0) active. 0, -EOPNOTSUPP (CHECK: the association does
	 * not authenticate those chunks both ways), -ENOTCONN, or -errno.
	 * docs/SECURITY.md, "Packets: SCTP-AUTH". */
	int (*chunk_key)(struct engine *e, enum engine_key_op op, uint16_t id, const uint8_t *key,
	                 size_t len);
};

struct engine {
	const struct engine_ops *ops;
	struct ev_loop *loop;
	struct engine_callbacks cb;
	void *ctx;
};

/* Pick and create the engine CHOICE asks for, able to speak P->transport
 * (logs which one and why). Returns NULL after logging the reason on
 * failure. */
struct engine *engine_new(enum config_engine choice, struct ev_loop *loop,
                          const struct engine_params *p, const struct engine_callbacks *cb,
                          void *ctx);

/* The user-space backend (engine_usrsctp.c). */
struct engine *engine_usrsctp_new(struct ev_loop *loop, const struct engine_params *p,
                                  const struct engine_callbacks *cb, void *ctx);

/* The kernel backend (engine_kernel.c). */
struct engine *engine_kernel_new(struct ev_loop *loop, const struct engine_params *p,
                                 const struct engine_callbacks *cb, void *ctx);

enum engine_kind {
	ENGINE_KIND_NONE, /* refuse to start */
	ENGINE_KIND_KERNEL,
	ENGINE_KIND_USERSPACE,
};

/* What the kernel can do, probed once at start (engine.c, engine_kernel.c). */
struct engine_probe {
	int kernel_err;    /* 0: the kernel makes SCTP sockets; else that errno */
	int udp_err;       /* 0: it can speak SCTP over UDP on our port; else an errno */
	char udp_why[200]; /* udp_err != 0: why not, for the log line */
};

/* Whether the kernel engine can carry SCTP over UDP on local UDP port PORT:
 * SCTP_REMOTE_UDP_ENCAPS_PORT works (Linux >= 5.11) and the sysctl
 * net.sctp.udp_port of this network namespace is PORT already or this
 * process may set it. 0, or -errno with the reason in WHY. Call only when
 * the kernel makes SCTP sockets. */
int engine_kernel_probe_udp(uint16_t port, char *why, size_t len);

/* Which engine CHOICE means on this machine for P->transport
 * (engine_choice.c), given what PROBE found. WHY gets the line to log (an
 * error for ENGINE_KIND_NONE). Pure: no probing here. */
enum engine_kind engine_choose(enum config_engine choice, const struct engine_probe *probe,
                               const struct engine_params *p, char *why, size_t len);

/* The run-time settings set_timers takes (its comment lists them), from
 * SRC into DST; the other fields of DST stay. */
void engine_params_take_timers(struct engine_params *dst, const struct engine_params *src);

/* Fill P from config C, paths best first (path_order() in path.h). */
void engine_params_from_config(struct engine_params *p, const struct config *c);

/* Whether an association may be admitted: FROM (the address accept()
 * reports: where the association came from) and EVERY one of the N peer
 * addresses ADDRS, packed back to back as both stacks' getpaddrs return
 * them, must be configured remote addresses with our SCTP port. An
 * initiator may list addresses it does not hold in its INIT, so "one
 * configured address among them" admits strangers (issue 12, item 1).
 * Until peer authentication lands this is the only barrier. SEEN gets the
 * first address that is not configured (FROM when all are), for the log
 * line; "unknown" when there are none. */
bool engine_peer_expected(const struct engine_params *p, const struct sockaddr *from,
                          const void *addrs, int n, char *seen, size_t len);

static inline void engine_free(struct engine *e)
{
	if (e)
		e->ops->free(e);
}

#endif
