/*
 * tcp_conn: one TCP connection riding one SCTP stream.
 *
 * Both ends of a carried connection are a struct conn: on the gateway that
 * accepted the client (the "opener", which picked the stream) and on the
 * gateway that connected to the target. Each direction closes on its own:
 * a FIN frame follows the last DATA frame of a direction, an RST frame
 * aborts both. A conn is finished when it has sent one of FIN/RST and
 * received one of FIN/RST and has nothing left to write; the side that did
 * not open the stream then sends CLOSED, which frees the id for its owner.
 *
 *   opener:  OPENING --OPEN_OK--> OPEN --FIN/RST both ways--> (freed)
 *   exit:    CONNECTING --target connected--> OPEN --...--> CLOSED sent, (freed)
 *
 * Flow control is per connection (docs/PROTOCOL.md, "Credit"): each side
 * advertises a receive window in OPEN / OPEN_OK and grants more with CREDIT
 * as it writes bytes into its TCP socket. A conn reads its TCP socket only
 * while it holds credit, and never more than it holds, so what waits in
 * its struct buf toward a slow TCP reader never exceeds its own window, and
 * a stalled reader stalls only its own connection. The window grows with
 * use and shrinks back when idle (window.h), reserved out of memory_limit.
 *
 * A conn never sends by itself: it tells the association it is ready
 * (assoc_conn_ready) when it owes a control frame or its TCP socket has
 * bytes and it holds credit, and the association's pump asks it for one
 * frame at a time (conn_pull), in a fair order among connections. Data
 * read from TCP goes straight into the association's frame buffer. While
 * the engine is full nothing is pulled, so nothing is read.
 */
#ifndef SCTPGW_TCP_CONN_H
#define SCTPGW_TCP_CONN_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "buf.h"
#include "frame.h"
#include "window.h"

struct assoc;
struct resolver_query;

#define CONN_DIAL_MAX 16 /* addresses of one host name tried (RESOLVER_ADDRS_MAX) */

enum conn_state {
	CONN_OPENING,    /* opener: OPEN sent, waiting for OPEN_OK; client not read yet */
	CONN_CONNECTING, /* exit side: TCP connect to the target in progress */
	CONN_OPEN,       /* both sockets connected: data flows until FIN/RST */
};

/* Frames owed to the peer, sent in this order when the engine has room. */
enum conn_owed {
	CONN_OWE_OPEN = 1 << 0,
	CONN_OWE_OPEN_OK = 1 << 1,
	CONN_OWE_FIN = 1 << 2,
	CONN_OWE_RST = 1 << 3,
	CONN_OWE_CLOSED = 1 << 4,
	CONN_OWE_CREDIT = 1 << 5, /* rx_grant bytes */
};

struct conn {
	struct assoc *assoc;
	TAILQ_ENTRY(conn) link;       /* assoc's list of all connections */
	TAILQ_ENTRY(conn) ready_link; /* assoc's ready list, while READY */
	bool ready;                   /* on it: has a frame to give */
	bool readable;                /* TCP has bytes for us (rio fired); rio is stopped */

	uint16_t sid;
	bool opener;
	enum conn_state state;
	int fd;
	ev_io rio, wio;
	ev_timer timer;    /* connect deadline (exit side); OPEN's answer (opener) */
	ev_tstamp open_at; /* opener: when OPEN was queued */
	uint64_t open_rtx; /* opener: assoc_rtx_count then, or at the last grace */

	struct frame_open target; /* where the exit side connects; names the forward */

	/* Exit side, while CONNECTING: the addresses to try, in order (one
	 * for an address target; those a host name resolved to that [egress]
	 * allow names), all within dial_deadline (connect_timeout_ms). Only a
	 * host name costs memory here, and only while it connects. */
	struct resolver_query *query;  /* the host name's lookup, while it runs */
	struct sockaddr_storage *dial; /* &target.target, or allocated for a host name */
	uint8_t n_dial, dial_next;
	int dial_err; /* errno of the last failed attempt */
	ev_tstamp dial_deadline;
	struct buf out; /* peer -> TCP, at most rxw.size bytes */

	/* Credit, in DATA payload bytes. Sending: tx_credit <= tx_window.
	 * Receiving: rx_avail + out.len + rxw.ungranted + rx_grant + what is
	 * in flight toward us == rxw.size. */
	uint32_t tx_credit; /* we may send this much more */
	uint32_t tx_window; /* the peer's window: advertised, or grown since */
	struct window rxw;  /* ours, reserved out of memory_limit (window.h) */
	uint32_t rx_avail;  /* the peer may send this much more */
	uint32_t rx_grant;  /* granted, not yet sent in a CREDIT */

	unsigned owed; /* enum conn_owed bits */
	enum frame_rst_reason rst_reason;
	bool sent_fin, sent_rst, got_fin, got_rst;
	bool finished;       /* terminal frames both ways; only CLOSED may be left */
	bool tcp_eof;        /* the TCP side sent FIN */
	bool shut_wr;        /* we sent FIN on the TCP side */
	uint64_t bytes_up;   /* TCP -> peer */
	uint64_t bytes_down; /* peer -> TCP */
	ev_tstamp started;
	uint8_t fwd_slot;     /* conn_limits.h: 1 + its forward's index; 0: counts for none */
	uint64_t idle_mark;   /* conn_limits.h: bytes_up + bytes_down at idle_since */
	ev_tstamp idle_since; /* conn_limits.h: when it last moved a byte (0: not swept yet) */
	char peer_text[64];   /* the client or target, for logs */
	const char *end_why;  /* conn_log.h: the first cause of its end (NULL: none yet) */
};

/* Opener: a client FD was accepted for the forward described by TARGET.
 * Takes ownership of FD (closes it with a reset on failure, -ENOBUFS when
 * memory_limit leaves no room for another window). */
int conn_open(struct assoc *a, int fd, const struct frame_open *target);

/* Exit side: the peer sent OPEN on the free SID. Starts the connect to the
 * target; whatever happens then is told to the peer. 0 or -ENOMEM. The
 * caller checked memory_limit (assoc_has_room). */
int conn_accept(struct assoc *a, uint16_t sid, const struct frame_open *target);

/* A frame for this connection arrived (not OPEN, not CLOSED). */
void conn_on_frame(struct conn *c, const struct frame *f);

/* A frame on this stream was malformed or unknown: reset the connection. */
void conn_protocol_error(struct conn *c, const char *why);

/* The association asks for C's next frame, in order: OPEN, OPEN_OK,
 * CREDIT, DATA (read from TCP now, within credit), RST, FIN, CLOSED.
 * Writes it into BUF (FRAME_MAX bytes) and returns its length, 0 when C
 * had nothing after all. *MORE: C has more to give (it stays ready). When
 * *MORE is false C may have been freed (it was finished): do not touch it. */
size_t conn_pull(struct conn *c, uint8_t *buf, bool *more);

/* The association is gone or shutting down: reset the TCP side, free. */
void conn_kill(struct conn *c);

/* Reset C from outside (conn_limits.h: idle timeout): RST with WHY to the peer,
 * reset to the TCP side. */
void conn_abort(struct conn *c, enum frame_rst_reason why);

#endif
