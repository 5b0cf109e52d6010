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
 * Data read from TCP goes straight into an engine message; only when the
 * engine is full is it kept (one frame per connection), and the socket is
 * not read again until the frame is gone. Data from the peer that the TCP
 * socket cannot take at once waits in a struct buf; while any buffer is
 * over its limit the association stops reading (assoc_rx_full).
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

struct assoc;

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
};

struct conn {
	struct assoc *assoc;
	TAILQ_ENTRY(conn) link;      /* assoc's list of all connections */
	TAILQ_ENTRY(conn) wait_link; /* assoc's list waiting for engine room */
	bool waiting;
	bool rx_full; /* counted in the association's rx_full */

	uint16_t sid;
	bool opener;
	enum conn_state state;
	int fd;
	ev_io rio, wio;
	ev_timer timer; /* connect deadline (exit side) */

	struct frame_open target; /* where the exit side connects; names the forward */
	uint8_t *tx;              /* a DATA frame the engine refused for now */
	size_t tx_len;
	struct buf out; /* peer -> TCP */

	unsigned owed; /* enum conn_owed bits */
	enum frame_rst_reason rst_reason;
	bool sent_fin, sent_rst, got_fin, got_rst;
	bool finished;       /* terminal frames both ways; only CLOSED may be left */
	bool tcp_eof;        /* the TCP side sent FIN */
	bool shut_wr;        /* we sent FIN on the TCP side */
	uint64_t bytes_up;   /* TCP -> peer */
	uint64_t bytes_down; /* peer -> TCP */
	ev_tstamp started;
	char peer_text[64]; /* the client or target, for logs */
};

/* Opener: a client FD was accepted for the forward described by TARGET.
 * Takes ownership of FD (closes it with a reset on failure). */
int conn_open(struct assoc *a, int fd, const struct frame_open *target);

/* Exit side: the peer sent OPEN on the free SID. Starts the connect to the
 * target; whatever happens then is told to the peer. 0 or -ENOMEM. */
int conn_accept(struct assoc *a, uint16_t sid, const struct frame_open *target);

/* A frame for this connection arrived (not OPEN, not CLOSED). */
void conn_on_frame(struct conn *c, const struct frame *f);

/* A frame on this stream was malformed or unknown: reset the connection. */
void conn_protocol_error(struct conn *c, const char *why);

/* The engine has room again: send what is owed. */
void conn_flush(struct conn *c);

/* The association is gone or shutting down: reset the TCP side, free. */
void conn_kill(struct conn *c);

#endif
