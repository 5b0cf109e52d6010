/*
 * listener: one listening TCP socket per [forward.NAME].
 *
 * Each accepted client becomes a struct conn on the association. When the
 * process runs out of descriptors, fdguard.h resets the waiting clients and
 * pauses accepting (100 ms doubling to 1 s) instead of spinning on EMFILE.
 * With capture = tproxy the socket is transparent; with target = original
 * each client's OPEN carries its own original destination (capture.h).
 */
#ifndef SCTPGW_LISTENER_H
#define SCTPGW_LISTENER_H

#include <ev.h>
#include <sys/socket.h>

#include "config.h"
#include "fdguard.h"
#include "frame.h"

struct assoc;

struct listener {
	struct ev_loop *loop;
	struct assoc *assoc;
	int fd;
	ev_io io;
	struct fdguard guard;            /* out of descriptors: shed, back off */
	char what[CONFIG_NAME_MAX + 16]; /* "forward NAME", for the guard's logs */
	struct frame_open target;        /* what every OPEN from here carries */
	enum config_capture capture;
	bool target_original; /* OPEN carries each client's original destination */
	struct sockaddr_storage own[CONFIG_MAX_FORWARDS]; /* every listen address: loops */
	size_t n_own;
	struct sockaddr_storage addr;
	char name[CONFIG_NAME_MAX];
	unsigned max_connections;   /* of this forward; 0: none of its own */
	unsigned long long refused; /* clients reset since the last log line */
	ev_tstamp refused_logged;
};

/* Bind and listen for forward F of C. Returns NULL after logging why. */
struct listener *listener_new(struct ev_loop *loop, struct assoc *a, const struct config *c,
                              const struct config_forward *f);
/* Reload: forward F (same name, same listen address) now targets
 * F->target with F->max_connections, for clients accepted from now on. */
void listener_update(struct listener *l, const struct config_forward *f);
/* Stop accepting and close the socket. */
void listener_free(struct listener *l);

#endif
