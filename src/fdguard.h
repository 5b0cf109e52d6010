/*
 * fdguard: what an accepting socket does when the process runs out of
 * file descriptors (or the kernel out of socket memory).
 *
 * accept() failing with EMFILE leaves the client in the listen backlog:
 * the socket stays readable, so a watcher that stays armed spins, and a
 * client that is never accepted hangs. The guard instead
 *   - sheds the backlog cleanly: it closes the process's reserve
 *     descriptor (an open /dev/null kept for this), accepts one client into
 *     the freed slot, resets it (SO_LINGER 0: the client sees a reset, not
 *     a hang), repeats, and reopens the reserve;
 *   - stops the accept watcher and starts it again from a timer that backs
 *     off from 100 ms, doubling to 1 s, until an accept succeeds;
 *   - logs (rate-limited) and counts the clients it refused.
 * Start here: fdguard_reserve() once at start-up; per accepting socket
 * fdguard_init(), and in its accept loop fdguard_accept_failed() on an
 * error and fdguard_accepted() on success. Used by listener.c (TCP
 * clients) and engine_kernel.c (the SCTP listener).
 */
#ifndef SCTPGW_FDGUARD_H
#define SCTPGW_FDGUARD_H

#include <ev.h>
#include <stdbool.h>

#define FDGUARD_DELAY_MIN 0.1 /* seconds before the first retry */
#define FDGUARD_DELAY_MAX 1.0 /* the back-off stops doubling here */

struct fdguard {
	struct ev_loop *loop;
	ev_io *io;               /* the accept watcher it pauses (owned by the caller) */
	ev_timer retry;          /* restarts io */
	double delay;            /* the next pause */
	const char *what;        /* names the socket in log lines */
	unsigned long long shed; /* clients reset for lack of descriptors */
};

/* Open the process's reserve descriptor. Returns 0 or -errno. */
int fdguard_reserve(void);
/* Close it (at exit). */
void fdguard_release(void);

void fdguard_init(struct fdguard *g, struct ev_loop *loop, ev_io *io, const char *what);
void fdguard_stop(struct fdguard *g);

/* Whether ERR (an accept errno) means out of descriptors or memory. */
bool fdguard_exhausted(int err);

/* accept() on LISTEN_FD failed with ERR. For exhaustion errors: sheds the
 * backlog, pauses the watcher, returns true (stop the accept loop). For
 * anything else returns false. */
bool fdguard_accept_failed(struct fdguard *g, int listen_fd, int err);

/* An accept succeeded: the next pause starts short again. */
static inline void fdguard_accepted(struct fdguard *g)
{
	g->delay = FDGUARD_DELAY_MIN;
}

/* Clients (and associations) refused for lack of descriptors since start. */
unsigned long long fdguard_shed_total(void);

#endif
