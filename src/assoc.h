/*
 * assoc: the one association between two gateways, above the engine seam.
 *
 * Start here to follow a connection. The assoc owns the engine, the stream
 * table and every struct conn. It opens the association (connect role:
 * again and again with capped back-off), exchanges HELLO and AUTH on stream
 * 0 (auth.h), then seals what it sends and opens what it receives (in
 * assoc_send, and in assoc_on_message in assoc_recv.c: the only places a
 * message meets the engine) and routes each incoming frame to the
 * connection on its stream.
 *
 * It also schedules everything sent on a connection's stream: a conn with
 * something to send (an owed control frame, or TCP bytes and credit) joins
 * the ready list; while the engine has room, the pump (a zero-delay
 * timer, once per loop iteration) asks ready conns for one frame each in turn
 * (conn_pull), a batch per turn. When the engine is full the pump stops
 * and keeps the one frame the engine refused (plaintext, and its sealed
 * bytes: they go as they are, or sealed again under the same counter if a
 * rekey changed the key meanwhile); writable restarts it.
 *
 *   DOWN --open()--> CONNECTING --engine up--> HELLO --peer AUTH ok--> READY
 *     ^                  |                       |                       |
 *     +------ engine down (connect role: retry after back-off) ---------+
 *   HELLO --no HELLO, or no AUTH, within hello_timeout--> abort --> DOWN
 *   READY --assoc_shutdown()--> CLOSING --engine down--> DOWN (stays)
 */
#ifndef SCTPGW_ASSOC_H
#define SCTPGW_ASSOC_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "auth.h"
#include "config.h"
#include "engine.h"
#include "conn_limits.h"
#include "egress.h"
#include "path.h"
#include "stream.h"
#include "upwatch.h"
#include "tcp_conn.h"
#include "udp_flow.h"

enum assoc_state {
	ASSOC_DOWN,       /* no association; connect role: retry timer runs */
	ASSOC_CONNECTING, /* connect role: an attempt is under way */
	ASSOC_HELLO,      /* SCTP is up; HELLO and AUTH (auth.h) under way */
	ASSOC_READY,      /* HELLO exchanged, peer's AUTH checked: connections may open */
	ASSOC_CLOSING,    /* shutting down for good */
};

struct resolver;
/* How an association that came up (HELLO or READY) ended: the label of
 * sctpgw_association_losses_total (docs/OPERATIONS.md). */
enum assoc_loss {
	ASSOC_LOSS_SHUTDOWN,  /* SCTP SHUTDOWN: the peer or we closed it gracefully */
	ASSOC_LOSS_HANDSHAKE, /* ended during HELLO/AUTH: wrong key, no HELLO in time */
	ASSOC_LOSS_ABORTED,   /* we aborted it (protocol error, ...) */
	ASSOC_LOSS_LOST,      /* the stack gave up (peer unreachable, peer's ABORT, restart) */
	ASSOC_LOSS_N_,
};

/* "shutdown", "handshake", "aborted", "lost". */
const char *assoc_loss_name(enum assoc_loss l);

TAILQ_HEAD(conn_list, conn);

#define ASSOC_SID_WORDS      (65536 / 64)
#define ASSOC_OPEN_MARGIN_MS 5000 /* OPEN_OK deadline: connect_timeout_ms + this, */
                                  /* + rto_max_ms at a time while SCTP retransmits */
#define ASSOC_HELLO_TIMEOUT 10.0  /* s; HELLO + AUTH deadline: this or 3 x rto_max, the longer */

struct assoc {
	struct ev_loop *loop;
	struct engine *engine;
	enum assoc_state state;
	enum config_role role;
	char name[CONFIG_NAME_MAX];
	char peer_name[FRAME_NAME_MAX + 1];

	unsigned connect_timeout_ms; /* copied from config */
	struct egress_list egress;   /* [egress] allow (egress.h), copied from config */
	struct resolver *resolver;   /* host-name targets; NULL: none (set by the gateway) */
	char config_file[256];       /* for log lines that name the key to edit */
	double open_timeout;         /* opener: seconds to wait for OPEN_OK or RST, */
	double open_grace;           /* ... then this more at a time while SCTP retransmits */
	double open_timeout_max;     /* ... up to this in all (assoc_open_grace) */
	size_t conn_window;          /* each connection's receive window at start */
	size_t conn_window_max;      /* ... and the most it may grow to (window.h) */
	size_t memory_limit;         /* bound on mem_reserved */
	size_t mem_reserved;         /* sum of the live connections' rxw.size */
	size_t mem_ceiling;          /* bound on mem_reserved: memory_limit, or what was
	                              * reserved when a reload lowered it below that */
	uint32_t features;           /* FRAME_FEATURE_*: both sides' HELLO bits */
	bool packet_auth;            /* [association] packet_auth: SCTP-AUTH wanted here */
	double rtt;                  /* the primary path's smoothed RTT, s (assoc_rtt) */
	ev_tstamp rtt_at;            /* when rtt was read */
	ev_tstamp dgram_at;          /* when a datagram was last sent (assoc_data_max) */

	struct stream_table *streams; /* while HELLO or READY */
	struct path_table paths;
	struct conn_list conns;
	size_t n_conns;
	struct limits limits; /* max_connections, idle_timeout_s (conn_limits.h) */

	/* The send scheduler (assoc_pump). */
	struct conn_list ready; /* conns with a frame to give, round robin */
	size_t n_ready;
	ev_timer pump;     /* zero delay: runs while ready work waits and the engine has room */
	bool engine_full;  /* the last send found no room: wait for writable */
	size_t held_len;   /* a pulled frame the engine refused, in scratch */
	uint16_t held_sid; /* ... and its stream */
	bool held_urgent;  /* ... and whether it goes urgent (assoc_send.c) */
	/* ... and, when it was sealed, the sealed bytes (held_buf), sent as
	 * they are while the key and the stream's counter have not moved, so
	 * that each refusal does not cost a second encryption of 64 KiB. */
	size_t held_wire_len;
	uint64_t held_tx_gen; /* auth.tx_gen when sealed */
	uint64_t held_ctr;
	uint64_t n_pumps, n_frames; /* pump turns and frames sent by them */

	/* Refused OPENs of the peer (no struct conn exists): bit SID set
	 * while RST + CLOSED are owed on SID; sent before any connection's
	 * frames when the engine has room. */
	uint64_t refuse_bits[ASSOC_SID_WORDS];
	uint64_t refuse_egress[ASSOC_SID_WORDS]; /* of those, refused by [egress] allow: RST 8 */
	size_t n_refusals;
	uint16_t refuse_rst_sent; /* the RST of this refusal went, CLOSED not yet */

	/* UDP flows (udp_flow.h), and the end frames they owe: RST (an
	 * opener's flow expired) or CLOSED (an exit's flow got that RST), one
	 * bit per stream id, sent with the refusals. */
	struct udp_flows *flows;
	unsigned udp_lifetime_ms;
	uint64_t flow_rst_bits[ASSOC_SID_WORDS];
	uint64_t flow_closed_bits[ASSOC_SID_WORDS];
	size_t n_flow_owed;

	/* Connection messages that overtook the peer's HELLO or AUTH (SCTP
	 * orders each stream, not the association): kept, still sealed,
	 * until the AUTH checked out, bounded. */
	struct early_msg **early;
	size_t n_early, early_cap;
	size_t early_bytes;   /* payload + ASSOC_EARLY_OVERHEAD per message */
	ev_timer hello_timer; /* HELLO state: the peer's HELLO and AUTH are due */
	/* Key rotation (rekey.c): the old key's grace time, or the answer's
	 * deadline; a REKEY frame waiting for room in the engine. */
	ev_timer rekey_timer;
	double rekey_switched_at; /* when our side last switched keys (rekey.c) */
	uint64_t rekey_old_seen;  /* messages opened under the old key by the last check */
	bool rekey_owed;
	struct frame_rekey rekey_frame;
	double hello_timeout;
	/* SCTP-AUTH keys in the engine (rekey.c): the key numbers installed
	 * (besides the null key), the one we send with (0: the null key),
	 * whether the null key is still accepted, and whether its grace time
	 * after the handshake (null_timer, its own: a rotation's deadline
	 * must not cut it short or stop it) has passed. */
	uint16_t chunk_installed[8];
	size_t n_chunk_installed;
	uint16_t chunk_active;
	bool chunk_null, chunk_null_due;
	ev_timer null_timer;

	/* Authentication and sealing (auth.h); buffers for one sealed or
	 * opened message. */
	struct auth auth;
	uint8_t *seal_buf, *open_buf;
	uint8_t *held_buf; /* the refused sealed frame; swaps with seal_buf */
	uint8_t *seal_mem; /* where seal_buf and held_buf live */
	bool we_aborted;   /* this association's end is our ABORT (its reason is logged) */

	ev_timer retry;
	double backoff;
	struct upwatch upwatch; /* warns while the association is not established */
	uint8_t *scratch;       /* one frame: conns pull into it; held while the engine is full */

	/* Drain (docs/PROTOCOL.md, GOAWAY). */
	bool draining;    /* we drain: GOAWAY sent (or owed); the peer's OPENs get RST 10 */
	bool goaway_owed; /* GOAWAY waits for the association or for room in the engine */
	bool peer_goaway; /* the peer drains: open nothing toward it until it comes back */
	uint64_t n_goaway_refused;   /* clients reset here because the peer drains */
	uint64_t n_draining_refused; /* the peer's OPENs refused because we drain */
	ev_tstamp goaway_logged_at;  /* last "peer is draining; reset client" line */

	/* Told when the association goes down while CLOSING. */
	void (*on_closed)(void *ctx);
	void *ctx;
	bool closed_reported;
	unsigned failed_attempts; /* since the association was last up */

	/* Counters since start, for the status dump and tests. */
	uint64_t n_up, n_opened, n_refused;
	uint64_t n_refused_memory;  /* new connections refused at memory_limit */
	uint64_t n_open_timeouts;   /* opened, but neither OPEN_OK nor RST came in time */
	uint64_t n_open_graces;     /* OPEN deadlines extended while SCTP retransmitted */
	uint64_t n_auth_failed;     /* handshakes that failed (no common key, bad proof) */
	uint64_t n_rekeys;          /* key rotations done on a live association (our side) */
	uint64_t n_rekey_failed;    /* rotations refused, unanswered or with a bad proof */
	uint64_t n_egress_refused;  /* peer's OPENs to a destination [egress] allow does not name */
	uint64_t n_egress_peer;     /* our OPENs the peer refused the same way (reason 8) */
	uint64_t n_unresolved;      /* peer's OPENs to a host name that did not resolve */
	uint64_t n_unresolved_peer; /* our OPENs whose name the peer could not resolve (reason 9) */
	uint64_t n_msg_forged;      /* sealed messages that failed to open: dropped */
	uint64_t n_msg_replayed;    /* authentic messages with an old counter: dropped */
	uint64_t n_msg_missing;     /* counter gaps: a stream lost messages */
	uint64_t n_lost[ASSOC_LOSS_N_]; /* associations that came up and ended, by how */
	uint64_t n_attempts_failed;     /* attempts that never came up */
	uint64_t refused_unlogged;      /* of those, not yet in a log line */
	ev_tstamp refused_logged_at;    /* last such log line (0: none yet) */
};

/* "down", "connecting", "hello", "ready", "closing". */
const char *assoc_state_name(enum assoc_state s);

/* Create (does not open). Returns NULL after logging on failure. */
struct assoc *assoc_new(struct ev_loop *loop, const struct config *c);
void assoc_free(struct assoc *a);

/* Reload (reload.c): conn_window, conn_window_max, memory_limit,
 * connect_timeout_ms, max_connections, idle_timeout_s, the keys of
 * psk_file (a key rotation on this association when the connect side's
 * first key changed, else from the next association), the engine's [sctp] timers and
 * the paths' priorities and failback_hold_ms, from C. Connections open
 * now keep their windows and their target. */
void assoc_reload(struct assoc *a, const struct config *c);

/* Key rotation (rekey.c): the connect side starts one when the first key
 * of its key file is not the one in use (assoc_reload calls it); a REKEY
 * frame from the peer; a REKEY to send once the engine has room; the
 * rotation's timer; the null key's grace time after the handshake. */
void assoc_rekey_start(struct assoc *a);
void assoc_on_rekey(struct assoc *a, const struct frame_rekey *in);
void assoc_rekey_owe(struct assoc *a, const struct frame_rekey *r);
void assoc_rekey_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents);
void assoc_null_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* SCTP-AUTH (rekey.c, docs/SECURITY.md "Packets: SCTP-AUTH"): at the
 * association's start, whether the engine authenticates data chunks (the
 * HELLO says so); then, after each change of the handshake's or a
 * rotation's keys, the engine's keys made to match auth's: a phase's key
 * installed while its receive key exists, the sending phase's key active
 * once sealed, the null key deleted a grace time after the handshake.
 * False when the engine refused (the association is then aborted). */
void assoc_chunk_begin(struct assoc *a);
bool assoc_chunk_sync(struct assoc *a);

/* Connect role: start connecting; accept role: start listening. */
int assoc_start(struct assoc *a);

/* The security settings and counters, one or two log lines (a warning
 * with insecure = yes or encrypt = no): at start and in the status dump. */
void assoc_log_security(const struct assoc *a);

/* Drain: send GOAWAY (now, or once the association is ready and the
 * engine has room) and refuse every OPEN of the peer from now on with RST
 * reason 10 (draining). Connections open now carry on. */
void assoc_goaway(struct assoc *a);

/* Graceful end: reset what is left, SHUTDOWN, then on_closed. */
void assoc_shutdown(struct assoc *a);

/* --- between the association's own files (assoc.c, assoc_recv.c, assoc_send.c) --- */

/* The engine's message callback (assoc_recv.c): route a message from the
 * peer; messages that overtake the peer's HELLO are kept until it comes
 * (assoc_replay_early then handles them, assoc_drop_early forgets them). */
void assoc_on_message(void *ctx, uint16_t sid, const uint8_t *msg, size_t len);
void assoc_replay_early(struct assoc *a);
void assoc_drop_early(struct assoc *a);
/* The handshake's frames on stream 0 (assoc.c). RAW: the HELLO as it
 * came (both proofs cover it). */
void assoc_on_hello(struct assoc *a, const struct frame_hello *h, uint16_t streams,
                    const uint8_t *raw, size_t raw_len);
void assoc_on_auth(struct assoc *a, const struct frame *f);
/* The send side (assoc_send.c): seal MSG and queue it on SID now
 * (0 or -errno, -EAGAIN when the engine is full: nothing was sent);
 * encode F and do the same; run the pump in the next loop iteration when
 * there is work and room, or stop it; the pump's timer and the engine's
 * writable callback. */
int assoc_send(struct assoc *a, uint16_t sid, const void *msg, size_t len);
int assoc_send_frame(struct assoc *a, uint16_t sid, const struct frame *f);
void assoc_pump_update(struct assoc *a);
void assoc_pump_cb(struct ev_loop *loop, ev_timer *w, int revents);
void assoc_on_writable(void *ctx);
/* Abort the association (WHY goes to the peer); engine down follows. */
void assoc_abort(struct assoc *a, const char *why);
/* The peer broke the protocol: log WHY and abort the association. */
void assoc_protocol_abort(struct assoc *a, const char *why);
/* The peer's address as text, into BUF (LEN bytes). */
const char *assoc_peer_addr(const struct assoc *a, char *buf, size_t len);
/* Refuse the peer's OPEN on SID: RST then CLOSED, owed until the engine
 * has room (a bit per stream id); whether one is owed on SID now. */
void assoc_refuse_open(struct assoc *a, uint16_t sid);
bool assoc_refusal_owed(const struct assoc *a, uint16_t sid);

/* --- for tcp_conn.c --- */

/* A connection's frames go urgent (engine.h, send) while it has sent
 * fewer data bytes than this before them (assoc_send.c). */
#define ASSOC_URGENT_BYTES (16 * 1024)

/* The payload of one TCP DATA frame now: FRAME_DATA_MAX, or
 * ASSOC_DATA_BESIDE_DGRAM while this side sends datagrams (one sent within
 * ASSOC_DGRAM_RECENT seconds). Neither engine interleaves messages (no
 * I-DATA, docs/ARCHITECTURE.md "UDP flows beside TCP connections"): a
 * datagram goes before every queued TCP frame but after the one being
 * sent, so that frame's size bounds its wait. */
#define ASSOC_DATA_BESIDE_DGRAM (8 * 1024)
#define ASSOC_DGRAM_RECENT      1.0
size_t assoc_data_max(const struct assoc *a);

/* C has a frame to give (conn_pull): put it on the ready list (once) and
 * make sure the pump runs when the engine has room. */
void assoc_conn_ready(struct assoc *a, struct conn *c);
/* Grow C's receive window by BY bytes (window_grow), reserved out of
 * memory_limit: true when they fit (the window and mem_reserved are now
 * larger), false when not (nothing changed). Growth never takes the last
 * 1/ASSOC_GROWTH_KEEP of memory_limit: that stays for new connections, so
 * busy windows cannot lock new clients out. */
#define ASSOC_GROWTH_KEEP 4
/* Seconds between two log lines about refused clients (memory_limit,
 * the peer's GOAWAY). */
#define ASSOC_LOG_EVERY 5.0
bool assoc_conn_grow(struct assoc *a, struct conn *c, uint32_t by);
/* Shrink C's receive window by what it withholds on the way back to
 * conn_window (window_shrink), and release that much of mem_reserved. */
void assoc_conn_shrink(struct assoc *a, struct conn *c);
/* The primary path's smoothed round trip in seconds (0 when unknown),
 * read from the engine at most once a second. */
double assoc_rtt(struct assoc *a);
/* Whether memory_limit leaves room for one more connection's window. */
bool assoc_has_room(const struct assoc *a);
/* A new connection (WHAT: "client" or "peer's OPEN", WHO: its address or
 * stream, on forward FWD) was refused at memory_limit: count it; log at
 * most one line per ASSOC_LOG_EVERY seconds, with the count since. */
void assoc_refused_for_memory(struct assoc *a, const char *what, const char *who, const char *fwd);
/* The engine's count of retransmitted DATA chunks (0 when it cannot say). */
uint64_t assoc_rtx_count(struct assoc *a);
/* Opener: no answer to an OPEN WAITED seconds after it was queued, at the
 * end of open_timeout or of a grace. Seconds to wait more, or 0: give up.
 * More (open_grace) only while the association is up and our SCTP
 * retransmitted DATA chunks since *RTX_SEEN (assoc_rtx_count when the OPEN
 * was queued or at the last grace; updated): the OPEN may be among them
 * (the peer's retransmissions of an OPEN_OK are not seen here).
 * Never past open_timeout_max = open_timeout + assoc_max_retrans x
 * rto_max, by which time SCTP gives a message up with its association. So
 * a lossy, busy link costs no connection, a silent peer is still noticed
 * (docs/PROTOCOL.md, "One connection's life"). */
double assoc_open_grace(struct assoc *a, uint64_t *rtx_seen, double waited);
/* Opener: the peer answered OPEN on SID neither with OPEN_OK nor RST
 * within WAITED seconds: count it and log it (CLIENT, forward FWD). */
void assoc_open_timed_out(struct assoc *a, uint16_t sid, const char *client, const char *fwd,
                          double waited);
/* Whether a new client (WHO, on forward FWD) may be carried: false while
 * the peer drains (GOAWAY): then it is counted and logged (at most one
 * line per ASSOC_LOG_EVERY seconds) and the caller resets the client
 * without sending OPEN. */
bool assoc_admit_client(struct assoc *a, const char *who, const char *fwd);

/* The peer's OPEN on SID (forward FWD) names a destination, DST as text,
 * that [egress] allow does not: count it and log the key to add (WHAT:
 * "" for a connection, "UDP " for a flow). The caller refuses it (RST 8). */
void assoc_egress_refused(struct assoc *a, uint16_t sid, const char *fwd, const char *what,
                          const char *dst);
/* Take a stream for a new outgoing connection: id or -ENOSPC / -ENOTCONN.
 * Counts the connection as opened, or as refused. */
int assoc_stream_alloc(struct assoc *a, struct conn *c);
/* Bind the peer's SID to C (the slot was checked free). */
void assoc_stream_accept(struct assoc *a, uint16_t sid, struct conn *c);
/* A new connection C (its rxw set): link it and reserve its window
 * out of memory_limit (the caller checked assoc_has_room). */
void assoc_conn_add(struct assoc *a, struct conn *c);
/* C is finished and about to be freed: unlink it, release its window and
 * its stream. */
void assoc_conn_gone(struct assoc *a, struct conn *c);

/* --- for udp_flow.c --- */

/* Send control frame F on SID now (not through the pump: a flow's OPEN,
 * OPEN_OK). 0 or -errno (-EAGAIN: no room; -ENOTCONN: not READY). */
int assoc_send_ctl(struct assoc *a, uint16_t sid, const struct frame *f);
/* Send one DGRAM frame (FRAME, LEN bytes with its header) on SID,
 * partially reliable (udp_lifetime_ms), UNORDERED or not. Never queued
 * here: -EAGAIN when the engine has no room, and the caller drops the
 * datagram; nothing waits for room on its behalf. */
int assoc_send_dgram(struct assoc *a, uint16_t sid, const uint8_t *frame, size_t len,
                     bool unordered);
/* The flow on SID ends here. RST: we opened it (idle expiry): RST to the
 * peer, the id waits for its CLOSED. Otherwise the peer's RST ended it:
 * CLOSED to the peer, the id is free. The frame is sent now, or owed
 * until the engine has room (never dropped). */
void assoc_flow_end(struct assoc *a, uint16_t sid, bool rst);

/* The accounting invariants, checked over every connection (O(n): for
 * tests and fuzzing): mem_reserved is the sum of the live connections'
 * windows (each between conn_window and conn_window_max, as they grow
 * and shrink) and within memory_limit, n_conns counts them, and each
 * connection's credit stays within its windows. */
bool assoc_invariants_hold(const struct assoc *a);

#endif
