/* upwatch: see upwatch.h. */
#include "upwatch.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"

#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (n < len)                                                                       \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);                      \
	} while (0)

void upwatch_message(char *buf, size_t len, const struct upwatch_facts *f)
{
	size_t n = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	APPEND("association not established %.0f s after %s (role %s, peer %s, SCTP port %u, ",
	       f->waited, f->ups ? "it was lost" : "start", config_role_name(f->role), f->peers,
	       f->port);
	if (f->transport == CONFIG_TRANSPORT_UDP)
		APPEND("transport udp: UDP port %u here, %u at the peer)", f->udp_port,
		       f->remote_udp_port);
	else
		APPEND("transport sctp: plain SCTP, IP protocol 132)");
	if (f->last_why && *f->last_why)
		APPEND("; last attempt: %s", f->last_why);
	else if (f->role == CONFIG_ROLE_ACCEPT)
		APPEND("; no peer has connected");
	APPEND("; likely causes: ");
	if (f->auth_failed)
		APPEND("the peer answered but %llu handshake%s failed: the two gateways' psk_file "
		       "differ (the key id is logged on both sides); ",
		       (unsigned long long)f->auth_failed, f->auth_failed == 1 ? "" : "s");
	APPEND("the peer gateway is not running or its address is not reachable; ");
	if (f->transport == CONFIG_TRANSPORT_UDP && f->udp_port == f->remote_udp_port)
		APPEND("a firewall drops UDP port %u between the paths' addresses; ", f->udp_port);
	else if (f->transport == CONFIG_TRANSPORT_UDP)
		APPEND("a firewall drops UDP port %u or %u between the paths' addresses; ",
		       f->udp_port, f->remote_udp_port);
	else
		APPEND("a firewall or NAT drops IP protocol 132 (SCTP); ");
	APPEND("the peer uses another port or transport (port, transport, udp_encap_port and "
	       "remote_udp_encap_port must match across the pair); both gateways have role = "
	       "%s (exactly one must connect and the other accept)",
	       config_role_name(f->role));
	APPEND("; next warning in %.0f s", f->next);
}

static void upwatch_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	struct upwatch *w = t->data;
	char line[900];
	w->facts.waited = ev_now(loop) - w->since;
	w->interval = w->interval * 2 > UPWATCH_CAP ? UPWATCH_CAP : w->interval * 2;
	w->facts.next = w->interval;
	w->facts.last_why = w->last_why;
	w->facts.auth_failed = *w->auth_failed;
	w->facts.ups = *w->ups;
	upwatch_message(line, sizeof line, &w->facts);
	log_warn("%s", line);
	ev_timer_set(t, w->interval, 0.);
	ev_timer_start(loop, t);
}

void upwatch_init(struct upwatch *w, struct ev_loop *loop, const struct config *c,
                  const uint64_t *auth_failed, const uint64_t *ups)
{
	memset(w, 0, sizeof *w);
	w->loop = loop;
	w->auth_failed = auth_failed;
	w->ups = ups;
	ev_timer_init(&w->timer, upwatch_cb, 0., 0.);
	w->timer.data = w;
	struct upwatch_facts *f = &w->facts;
	f->role = c->role;
	f->transport = c->transport;
	f->port = c->port;
	f->udp_port = c->udp_encap_port;
	f->remote_udp_port = c->remote_udp_encap_port;
	size_t n = 0, len = sizeof f->peers;
	char *buf = f->peers;
	for (size_t i = 0; i < c->n_paths; i++) {
		char text[ADDR_STRLEN];
		APPEND("%s%s", i ? ", " : "", addr_format(&c->paths[i].remote, text, sizeof text));
	}
}

void upwatch_start(struct upwatch *w)
{
	w->since = ev_now(w->loop);
	w->interval = UPWATCH_FIRST;
	w->last_why[0] = '\0';
	ev_timer_stop(w->loop, &w->timer);
	ev_timer_set(&w->timer, UPWATCH_FIRST, 0.);
	ev_timer_start(w->loop, &w->timer);
}

void upwatch_attempt_failed(struct upwatch *w, const char *why)
{
	snprintf(w->last_why, sizeof w->last_why, "%s", why ? why : "");
}

void upwatch_up(struct upwatch *w)
{
	ev_timer_stop(w->loop, &w->timer);
}

void upwatch_stop(struct upwatch *w)
{
	ev_timer_stop(w->loop, &w->timer);
}
