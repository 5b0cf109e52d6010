/*
 * udp_bufs: grow the buffers of UDP sockets this process did not create.
 *
 * usrsctp opens its UDP encapsulation sockets inside usrsctp_init() with a
 * fixed 128 KiB buffer each way and does not hand out their descriptors.
 * At a few hundred Mbit/s that receive buffer overflows whenever usrsctp's
 * receive thread is descheduled for a moment (seen: about 0.4% of the
 * packets dropped by the kernel during a bulk transfer on a two-core
 * machine), and every drop costs SCTP a retransmission and half its
 * congestion window. udp_bufs_grow() finds the sockets by their bound port.
 */
#ifndef SCTPGW_UDP_BUFS_H
#define SCTPGW_UDP_BUFS_H

#include <stdint.h>

/* Set SO_RCVBUF and SO_SNDBUF to BYTES on every UDP socket of this process
 * bound to PORT (IPv4 and IPv6), above net.core.rmem_max/wmem_max when the
 * process may (CAP_NET_ADMIN). Returns how many sockets were found, and in
 * *RCVBUF the smallest receive buffer the kernel granted (as getsockopt
 * reports it: twice the payload bytes), or -errno when /proc/self/fd
 * cannot be read. */
int udp_bufs_grow(uint16_t port, int bytes, int *rcvbuf);

#endif
