/*
 * conn_log: the one line a connection leaves when it ends, with
 * [gateway] log_connections = yes (at info; off by default: a busy gateway
 * would log a line per connection).
 *
 *   connection forward web: client 198.18.10.2:40312, target
 *   198.18.20.2:9000, 1024 bytes client->target, 8192 bytes target->client,
 *   0.250 s, ended: FIN both ways (stream 4)
 *
 * Each gateway logs its own side: the entry gateway knows the client, the
 * exit gateway only the target ("client at the peer gateway"). How it
 * ended is the first cause seen (tcp_conn.c records it in end_why): FIN
 * both ways, reset by client / target, target refused, idle, drain ...
 * conn_log_format() is pure, for the unit tests.
 */
#ifndef SCTPGW_CONN_LOG_H
#define SCTPGW_CONN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;

/* What the line says (conn_log_line fills it from a conn). */
struct conn_summary {
	const char *forward;
	const char *client; /* NULL: the client is at the peer gateway */
	const char *target;
	uint64_t to_target, to_client; /* bytes */
	double seconds;
	const char *how;
	uint16_t sid;
};

void conn_log_enable(bool on);
bool conn_log_enabled(void);

/* The summary of S into BUF (cut at LEN). */
void conn_log_format(char *buf, size_t len, const struct conn_summary *s);

/* C ends now: log its line when enabled. */
void conn_log_line(const struct conn *c, double now);

#endif
