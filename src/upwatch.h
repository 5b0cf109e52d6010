/*
 * upwatch: says loudly when the association is not established.
 *
 * Start here to see what a user is told about a tunnel that never comes
 * up. From the start of the gateway, and again from every loss of the
 * association, a timer runs; when the association is not established
 * (SCTP up and the peer authenticated) UPWATCH_FIRST seconds later, one
 * warning names what was tried and the likely causes (firewall, peer
 * down, port mismatch, both roles the same, a different psk_file when
 * handshakes failed), and repeats after 2, 4, 8 ... times that, at most
 * every UPWATCH_CAP seconds, until the association is up.
 *
 *   stopped --start/down--> waiting --timer--> warned (next: x2, capped)
 *      ^                       |                  |
 *      +---------- up ---------+------ up --------+
 *
 * upwatch_message() is pure, for the unit tests.
 */
#ifndef SCTPGW_UPWATCH_H
#define SCTPGW_UPWATCH_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define UPWATCH_FIRST 60.0   /* s: the first warning */
#define UPWATCH_CAP   1920.0 /* s: warnings at most this far apart (32 min) */

/* What the warning says, copied from the config at init. */
struct upwatch_facts {
	enum config_role role;
	enum config_transport transport;
	uint16_t port, udp_port, remote_udp_port;
	char peers[160];      /* the configured remote addresses, ", " between */
	double waited;        /* s since start or since the association was lost */
	double next;          /* s until the next warning */
	const char *last_why; /* the last attempt's failure, or NULL */
	uint64_t auth_failed; /* handshakes that failed so far */
	uint64_t ups;         /* associations established so far */
};

struct upwatch {
	struct ev_loop *loop;
	ev_timer timer;
	ev_tstamp since; /* start, or the last loss */
	double interval; /* until the next warning */
	struct upwatch_facts facts;
	char last_why[160];
	const uint64_t *auth_failed, *ups; /* the association's counters */
};

void upwatch_init(struct upwatch *w, struct ev_loop *loop, const struct config *c,
                  const uint64_t *auth_failed, const uint64_t *ups);
/* Start (or restart) the count: at start and when the association is lost. */
void upwatch_start(struct upwatch *w);
/* An attempt failed with WHY (kept for the next warning). */
void upwatch_attempt_failed(struct upwatch *w, const char *why);
/* Established: no warning until the next upwatch_start. */
void upwatch_up(struct upwatch *w);
void upwatch_stop(struct upwatch *w);

/* The warning for F into BUF (cut at LEN). */
void upwatch_message(char *buf, size_t len, const struct upwatch_facts *f);

#endif
