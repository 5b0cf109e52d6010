/* conn_log: see conn_log.h. */
#include "conn_log.h"

#include <stdio.h>

#include "addr.h"
#include "log.h"
#include "tcp_conn.h"

static bool enabled;

void conn_log_enable(bool on)
{
	enabled = on;
}

bool conn_log_enabled(void)
{
	return enabled;
}

void conn_log_format(char *buf, size_t len, const struct conn_summary *s)
{
	snprintf(buf, len,
	         "connection forward %s: client %s, target %s, %llu bytes client->target, %llu "
	         "bytes target->client, %.3f s, ended: %s (stream %u)",
	         s->forward, s->client ? s->client : "at the peer gateway", s->target,
	         (unsigned long long)s->to_target, (unsigned long long)s->to_client, s->seconds,
	         s->how, s->sid);
}

/* How C ended when nothing recorded a cause: what went each way. */
static const char *conn_end_guess(const struct conn *c)
{
	if (c->sent_fin && c->got_fin && !c->sent_rst && !c->got_rst)
		return "FIN both ways";
	if (c->got_rst)
		return "reset by the peer gateway";
	if (c->sent_rst)
		return "reset";
	return "closed";
}

void conn_log_line(const struct conn *c, double now)
{
	if (!enabled || !log_enabled(LOG_INFO))
		return;
	char target[ADDR_STRLEN], line[512];
	struct conn_summary s = {
	    .forward = c->target.name,
	    .client = c->opener ? c->peer_text : NULL,
	    .target =
	        c->opener ? addr_format(&c->target.target, target, sizeof target) : c->peer_text,
	    .to_target = c->opener ? c->bytes_up : c->bytes_down,
	    .to_client = c->opener ? c->bytes_down : c->bytes_up,
	    .seconds = now - c->started,
	    .how = c->end_why ? c->end_why : conn_end_guess(c),
	    .sid = c->sid,
	};
	conn_log_format(line, sizeof line, &s);
	log_info("%s", line);
}
