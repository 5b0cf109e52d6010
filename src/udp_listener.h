/*
 * udp_listener: the UDP socket of one [forward.NAME] with protocol = udp.
 *
 * Start here to see where a client's datagram enters. The socket is bound
 * to the forward's listen address; every datagram read from it goes to
 * udp_flows_from_client (udp_flow.h), which finds its flow by the
 * client's address. Replies to the client leave from the same socket, so
 * the client sees them come from the address it sent to.
 *
 * capture = tproxy: the socket is transparent (IP_TRANSPARENT) and asks for
 * each datagram's original destination (IP_RECVORIGDSTADDR); nftables'
 * TPROXY hands it datagrams addressed anywhere (contrib/nftables/
 * udp-tproxy.nft). Each flow then answers from a transparent socket of its
 * own, bound to the original destination and connected to the client
 * (udp_flow.c), so the client sees the reply come from where it sent.
 */
#ifndef SCTPGW_UDP_LISTENER_H
#define SCTPGW_UDP_LISTENER_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "frame.h"

struct assoc;

struct udp_listener {
	struct ev_loop *loop;
	struct assoc *assoc;
	int fd;
	ev_io io;
	uint8_t index;            /* the forward's index: part of each flow's key */
	bool tproxy;              /* capture = tproxy: original destinations */
	struct frame_open target; /* what every OPEN from here carries */
	struct sockaddr_storage addr;
	char name[CONFIG_NAME_MAX];
	struct sockaddr_storage own[CONFIG_MAX_FORWARDS]; /* every listen address: loops */
	size_t n_own;
};

/* Bind forward F (the INDEX-th of C's). Returns NULL after logging why. */
struct udp_listener *udp_listener_new(struct ev_loop *loop, struct assoc *a, const struct config *c,
                                      uint8_t index);
/* End its flows, close the socket. NULL is fine. */
void udp_listener_free(struct udp_listener *l);

/* Make FD (of FAMILY) transparent: it may bind a foreign address
 * (IP_TRANSPARENT / IPV6_TRANSPARENT). 0 or -errno. */
int udp_transparent(int fd, int family);

/* Send a datagram to CLIENT from L's address. 0 or -errno. */
int udp_listener_reply(struct udp_listener *l, const struct sockaddr_storage *client,
                       const uint8_t *p, size_t len);

#endif
