/*
 * udp_flow: UDP flows, each riding one SCTP stream as unordered,
 * partially reliable datagrams.
 *
 * Start here to follow a datagram. A flow is what one client address and
 * port (plus the original destination, when captured) sends to one
 * [forward.NAME] with protocol = udp. Both gateways hold a struct udp_flow
 * for it: the entry gateway (the "opener", whose udp_listener received the
 * client's first datagram) and the exit gateway, which owns a connected UDP
 * socket to the target. Frames on the flow's stream (docs/PROTOCOL.md):
 *
 *   opener -> exit:  OPEN (flag DATAGRAM), DGRAM..., RST (idle expiry)
 *   exit -> opener:  OPEN_OK, DGRAM..., CLOSED (after the RST)
 *
 * DGRAM frames are sent partially reliable (abandoned after
 * udp_lifetime_ms) and unordered, so a lost datagram is never waited for
 * and delays nothing else; the opener's datagrams sent before OPEN_OK came
 * back go ordered, so they cannot overtake the OPEN. No credit: a datagram
 * that finds no room in the engine is dropped and counted, so UDP never
 * blocks a TCP connection. The opener ends a flow that carried nothing
 * for udp_idle_timeout_ms (RST; the exit's CLOSED frees the stream id for
 * reuse). udp_max_flows bounds the flows a gateway carries, both roles
 * together; past it new flows' datagrams are dropped (opener) or the OPEN
 * is refused with RST reason 5 (exit).
 *
 *   opener: (first datagram) OPEN sent --OPEN_OK--> datagrams unordered
 *           --idle--> RST sent, freed (stream WAIT_CLOSED until CLOSED)
 *   exit:   OPEN rcvd: socket connected, OPEN_OK --RST rcvd--> CLOSED, freed
 */
#ifndef SCTPGW_UDP_FLOW_H
#define SCTPGW_UDP_FLOW_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "config.h"
#include "flow_table.h"
#include "frame.h"

struct assoc;
struct udp_listener;

struct udp_flow {
	struct udp_flows *flows;
	TAILQ_ENTRY(udp_flow) link; /* opener: lru (least recently used first); exit: exits */
	struct flow_entry entry;    /* opener: in flows->table */
	struct udp_listener *l;     /* opener: where the client sends; NULL on the exit side */
	uint16_t sid;
	bool opener;
	bool open_ok;                   /* opener: OPEN_OK came, datagrams go unordered */
	bool owe_open_ok;               /* exit: OPEN_OK did not fit in the engine yet */
	int fd;                         /* exit: connected to the target; opener: -1 */
	ev_io rio;                      /* exit: the target's replies */
	struct sockaddr_storage client; /* opener: the client */
	struct sockaddr_storage orig;   /* opener: original destination (captured) or family 0 */
	ev_tstamp last;                 /* the last datagram either way */
	uint64_t up, down;              /* datagrams client -> target, target -> client */
	char text[64];                  /* the client or target, for logs */
};

TAILQ_HEAD(udp_flow_list, udp_flow);

/* Counters since start, for the status dump (gateway.c). */
struct udp_counters {
	uint64_t opened;        /* flows this gateway opened (first datagram of a client) */
	uint64_t accepted;      /* flows the peer opened here */
	uint64_t expired;       /* ended by udp_idle_timeout_ms */
	uint64_t refused_cap;   /* new flows refused at udp_max_flows (both roles) */
	uint64_t refused_other; /* no stream id free, or the target socket failed */
	uint64_t dgrams_up, dgrams_down; /* datagrams carried toward targets, toward clients */
	uint64_t drop_full;              /* no room in the engine's send buffer */
	uint64_t drop_big;               /* larger than FRAME_DATA_MAX: dropped, never truncated */
	uint64_t drop_down;              /* no association (or not ready) */
	uint64_t drop_send;              /* the UDP socket refused it (full, unreachable) */
	uint64_t drop_stale;             /* a datagram of a flow that had ended */
};

struct udp_flows {
	struct ev_loop *loop;
	struct assoc *assoc;
	unsigned lifetime_ms;
	double idle_timeout; /* s */
	unsigned max_flows;
	struct udp_flow_list lru;   /* opener flows */
	struct udp_flow_list exits; /* exit flows */
	size_t n;                   /* both lists */
	struct flow_table table;    /* opener flows by key */
	ev_timer sweep;             /* at the deadline of lru's head */
	uint8_t *buf;               /* one DGRAM frame: header, datagram, one byte more */
	struct udp_counters c;
};

/* The receive buffer's size: a frame header, the largest datagram, and one
 * byte that only a datagram too large for a frame reaches. */
#define UDP_FLOW_BUF (FRAME_HEADER_LEN + FRAME_DATA_MAX + 1)

/* Created with the association; NULL on allocation failure. */
struct udp_flows *udp_flows_new(struct ev_loop *loop, struct assoc *a, const struct config *c);
void udp_flows_free(struct udp_flows *fl);

/* The association is gone: free every flow, sending nothing. */
void udp_flows_kill_all(struct udp_flows *fl);

/* A datagram of LEN bytes from CLIENT (ORIG: its original destination,
 * or NULL) arrived at listener L; it sits at fl->buf + FRAME_HEADER_LEN.
 * Finds or opens its flow and sends it, or drops and counts it. */
void udp_flows_from_client(struct udp_flows *fl, struct udp_listener *l,
                           const struct sockaddr *client, const struct sockaddr *orig, size_t len);

/* Listener L is closing: end its flows (RST to the peer). */
void udp_flows_forget_listener(struct udp_flows *fl, struct udp_listener *l);

/* Exit side: the peer sent OPEN with FRAME_OPEN_DATAGRAM on its free SID.
 * 0, or -errno and nothing was created (the caller refuses the OPEN). */
int udp_flow_accept(struct udp_flows *fl, uint16_t sid, const struct frame_open *o);

/* A frame (not OPEN, not CLOSED) for flow F, or RC < 0 when it did not
 * decode. F may be freed. */
void udp_flow_on_frame(struct udp_flow *f, const struct frame *fr, int rc);

#endif
