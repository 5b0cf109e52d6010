/*
 * capture: where a transparently captured connection was going.
 *
 * Start here for capture = redirect | tproxy (config_capture.h). With
 * REDIRECT, netfilter rewrote the destination to our listener and keeps the
 * original in its connection tracking (SO_ORIGINAL_DST, IPv6:
 * IP6T_SO_ORIGINAL_DST). With TPROXY, the packet was delivered unchanged
 * to a transparent listener, so the accepted socket's own local address is
 * the original destination. The listener asks here, per accepted client,
 * and refuses a client whose destination it cannot tell or that points
 * back at one of this gateway's own listeners (a loop).
 */
#ifndef SCTPGW_CAPTURE_H
#define SCTPGW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config_capture.h"

/* Before bind(): makes FD (of FAMILY) a transparent listener for
 * capture = tproxy (IP_TRANSPARENT / IPV6_TRANSPARENT); nothing for the
 * other modes. 0 or -errno; -EPERM without CAP_NET_ADMIN (or CAP_NET_RAW). */
int capture_listener_prepare(int fd, int family, enum config_capture mode);

/* The original destination of accepted client FD. 0, -ENOENT when netfilter
 * did not redirect it (no conntrack entry), or another -errno. */
int capture_original_dst(int fd, enum config_capture mode, struct sockaddr_storage *out);

/* For target = original: the destination to carry for accepted client FD
 * of forward FWD, into *OUT. When there is none (not redirected) or it is
 * one of OWN[0..N_OWN), logs why (rate-limited), counts the refusal and
 * returns -ENOENT or -ELOOP: the caller resets the client. */
int capture_destination(int fd, enum config_capture mode, const char *fwd,
                        const struct sockaddr_storage *own, size_t n_own,
                        struct sockaddr_storage *out);

/* Clients refused since start: no original destination; a loop. */
unsigned long long capture_refused_nodst_total(void);
unsigned long long capture_refused_loop_total(void);

/* DST is one of OWN[0..N) (listen addresses; a wildcard one matches each of
 * this host's addresses on its port): carrying it would loop back here. */
bool capture_is_own(const struct sockaddr_storage *dst, const struct sockaddr_storage *own,
                    size_t n);

/* Count and log (rate-limited) a client of forward FWD refused because its
 * original destination DST is one of this gateway's listen addresses;
 * ACTION says what happens to it ("resetting client 198.18.10.2:4711",
 * "dropping a datagram from ..."). TCP and UDP captures share the count. */
void capture_refuse_loop(const char *fwd, const char *action, const struct sockaddr_storage *dst);

#endif
