/*
 * hostcheck: at start, whether this host can carry what the config asks,
 * so a tunnel that could never work stops the gateway (exit 1) with a line
 * that names the culprit instead of logging "running" (issue 10, item 5).
 *
 * Start here to see what is checked before the engine starts:
 *   - every [path.*] local address is an address of this host (the engines
 *     bind exactly those; usrsctp reads the host's addresses only once);
 *   - the user-space engine's UDP port (udp_encap_port) is free: usrsctp
 *     itself says nothing when another program holds it;
 *   - the kernel engine's SCTP port is free on the local addresses.
 * The kernel engine's UDP port is checked where it is set (the sysctl
 * net.sctp.udp_port, engine_kernel.c). Each check binds a socket and
 * closes it at once; a program that takes the port in between is not seen.
 */
#ifndef SCTPGW_HOSTCHECK_H
#define SCTPGW_HOSTCHECK_H

#include "config.h"
#include "engine.h"

/* Every path's local address exists here. 0, or -errno after one error
 * line per missing address naming [path.NAME] and the address. */
int hostcheck_paths(const struct config *c);

/* The UDP port P->udp_encap_port is free for each address family the paths
 * use. 0, or -errno after an error line naming the port. */
int hostcheck_udp_port(const struct engine_params *p);

/* The SCTP port P->port is free on every local address (kernel engine).
 * 0, or -errno after an error line naming the port and the address. */
int hostcheck_sctp_port(const struct engine_params *p);

#endif
