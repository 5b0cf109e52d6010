/* gateway: see gateway.h. */
#include "gateway.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "assoc.h"
#include "capture.h"
#include "fdguard.h"
#include "hostcheck.h"
#include "listener.h"
#include "log.h"
#include "resolver.h"
#include "notify.h"
#include "ratelimit.h"
#include "snapshot.h"
#include "udp_listener.h"

#define GATEWAY_CLOSE_DEADLINE 3.0 /* seconds for the SCTP SHUTDOWN handshake */

static void gateway_log_flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	ratelimit_flush(false);
}

static void stop_listeners(struct gateway *g)
{
	for (size_t i = 0; i < g->n_listeners; i++)
		listener_free(g->listeners[i]);
	g->n_listeners = 0;
	for (size_t i = 0; i < g->n_udp_listeners; i++)
		udp_listener_free(g->udp_listeners[i]);
	g->n_udp_listeners = 0;
}

static void gateway_closed(void *ctx)
{
	struct gateway *g = ctx;
	ev_break(g->loop, EVBREAK_ALL);
}

static void close_association(struct gateway *g)
{
	ev_timer_stop(g->loop, &g->drain_poll);
	if (g->assoc->n_conns > 0)
		log_warn("drain: %zu connection%s still open after %u ms; resetting",
		         g->assoc->n_conns, g->assoc->n_conns == 1 ? "" : "s", g->drain_timeout_ms);
	ev_timer_set(&g->deadline, GATEWAY_CLOSE_DEADLINE, 0.);
	ev_timer_start(g->loop, &g->deadline);
	assoc_shutdown(g->assoc);
}

static void gateway_drain_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	(void)loop;
	struct gateway *g = w->data;
	if (g->assoc->n_conns == 0)
		close_association(g);
}

/* One timer, two deadlines: while draining (drain_poll runs) it is the end
 * of the drain; after that, the end of the SCTP SHUTDOWN handshake. */
static void gateway_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct gateway *g = w->data;
	if (!ev_is_active(&g->drain_poll)) {
		log_warn("association did not close within %.0f s; exiting anyway",
		         GATEWAY_CLOSE_DEADLINE);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	close_association(g); /* drain time is up */
}

int gateway_drain(struct gateway *g)
{
	if (g->draining)
		return -EALREADY;
	g->draining = true;
	notify_stopping(g->notify);
	log_info("drain: stop accepting, GOAWAY to the peer; draining %zu connection%s for up to "
	         "%u ms",
	         g->assoc->n_conns, g->assoc->n_conns == 1 ? "" : "s", g->drain_timeout_ms);
	stop_listeners(g);
	assoc_goaway(g->assoc);
	if (g->assoc->n_conns == 0) {
		close_association(g);
		return 0;
	}
	ev_timer_start(g->loop, &g->drain_poll);
	ev_timer_set(&g->deadline, g->drain_timeout_ms / 1000.0, 0.);
	ev_timer_start(g->loop, &g->deadline);
	return 0;
}

bool gateway_draining(const struct gateway *g)
{
	return g->draining;
}

void gateway_snapshot(struct gateway *g, struct snapshot *s)
{
	snapshot_take(s, g->assoc, g->transport, g->draining, ev_now(g->loop) - g->started);
	s->reloads = g->n_reloads;
	s->reloads_failed = g->n_reload_failed;
}

static void gateway_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	struct gateway *g = w->data;
	if (g->draining) {
		log_warn("second stop signal: exiting now");
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_info("signal %d (%s): draining", w->signum, strsignal(w->signum));
	gateway_drain(g);
}

static void gateway_reload_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gateway *g = w->data;
	log_info("signal %d (%s): reloading", w->signum, strsignal(w->signum));
	gateway_reload(g);
}

static void gateway_status_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gateway *g = w->data;
	struct assoc *a = g->assoc;
	log_info("status: association %s, peer %s, engine %s, %zu connections, %zu streams in "
	         "use, %llu associations so far, %llu connections opened, %llu refused",
	         assoc_state_name(a->state), a->peer_name[0] ? a->peer_name : "-",
	         a->engine->ops->name, a->n_conns, a->streams ? a->streams->active : 0,
	         (unsigned long long)a->n_up, (unsigned long long)a->n_opened,
	         (unsigned long long)a->n_refused);
	char line[512] = "";
	if (a->engine->ops->status)
		a->engine->ops->status(a->engine, line, sizeof line);
	path_log_status(&a->paths);
	assoc_log_security(a);
	log_info("status: %zu connections ready to send (engine %s), %zu refusals owed, "
	         "%.1f frames per send turn; windows reserve %zu of memory_limit %zu bytes, %llu "
	         "connections refused at memory_limit, %llu OPEN timeouts (%llu deadlines extended "
	         "while SCTP retransmitted); engine: %s",
	         a->n_ready, a->engine_full ? "full" : "has room", a->n_refusals,
	         a->n_pumps ? (double)a->n_frames / (double)a->n_pumps : 0.0, a->mem_reserved,
	         a->memory_limit, (unsigned long long)a->n_refused_memory,
	         (unsigned long long)a->n_open_timeouts, (unsigned long long)a->n_open_graces,
	         line[0] ? line : "-");
	log_info(
	    "status: limits: max_connections %u (0: none), %llu refused at it, %llu refused at "
	    "forward limits, %llu reset by idle_timeout_s %u (0: off)",
	    a->limits.max_total, (unsigned long long)a->limits.n_refused_total,
	    (unsigned long long)a->limits.n_refused_forward,
	    (unsigned long long)a->limits.n_idle_reset, a->limits.idle_timeout_s);
	for (size_t i = 0; i < a->limits.n_forwards; i++)
		log_info("status: forward %s: %u clients carried, max_connections %u (0: none)",
		         a->limits.fwd[i].name, a->limits.fwd[i].open, a->limits.fwd[i].max);
	log_info("status: egress: %llu peer OPENs refused by [egress] allow, %llu host names "
	         "that did not resolve; the peer refused %llu of ours (reason 8) and could not "
	         "resolve %llu (reason 9)",
	         (unsigned long long)a->n_egress_refused, (unsigned long long)a->n_unresolved,
	         (unsigned long long)a->n_egress_peer, (unsigned long long)a->n_unresolved_peer);
	log_info("status: drain: %s, peer %s; %llu clients reset for the peer's GOAWAY, %llu "
	         "peer OPENs refused while draining; reloads: %llu applied, %llu refused",
	         g->draining ? "draining" : "not draining",
	         a->peer_goaway ? "draining (GOAWAY)" : "not draining",
	         (unsigned long long)a->n_goaway_refused, (unsigned long long)a->n_draining_refused,
	         (unsigned long long)g->n_reloads, (unsigned long long)g->n_reload_failed);
	const struct udp_counters *u = &a->flows->c;
	log_info("status: udp: %zu flows (udp_max_flows %u), %llu opened here, %llu opened by the "
	         "peer, %llu expired, %llu refused at udp_max_flows, %llu refused otherwise; "
	         "datagrams: %llu toward targets, %llu toward clients; dropped: %llu no room in "
	         "the engine, %llu too large, %llu no association, %llu socket errors, %llu late "
	         "(flow ended)",
	         a->flows->n, a->flows->max_flows, (unsigned long long)u->opened,
	         (unsigned long long)u->accepted, (unsigned long long)u->expired,
	         (unsigned long long)u->refused_cap, (unsigned long long)u->refused_other,
	         (unsigned long long)u->dgrams_up, (unsigned long long)u->dgrams_down,
	         (unsigned long long)u->drop_full, (unsigned long long)u->drop_big,
	         (unsigned long long)u->drop_down, (unsigned long long)u->drop_send,
	         (unsigned long long)u->drop_stale);
	ratelimit_flush(false);
	log_info("status: %llu clients refused for lack of descriptors, %llu log lines suppressed "
	         "by rate limits, since start",
	         fdguard_shed_total(), ratelimit_suppressed_total());
	log_info("status: capture: %llu clients refused without an original destination, %llu "
	         "whose original destination was this gateway (loop), since start",
	         capture_refused_nodst_total(), capture_refused_loop_total());
}

/* What the peer may make this gateway connect to, once at start. */
static void log_egress(const struct config *c)
{
	char line[1024];
	size_t n = 0;
	if (c->egress_allow.n == 0) {
		log_info(
		    "egress: no [egress] allow in %s: this gateway opens no connection for its "
		    "peer (every OPEN is refused, RST reason 8)",
		    c->file);
		return;
	}
	line[0] = '\0';
	for (size_t i = 0; i < c->egress_allow.n && n < sizeof line - 64; i++) {
		char r[80];
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i ? ", " : "",
		                      egress_rule_format(&c->egress_allow.rule[i], r, sizeof r));
	}
	log_info(
	    "egress: the peer may make this gateway connect to %s%s (%zu %s of [egress] allow)",
	    line, n >= sizeof line - 64 ? ", ..." : "", c->egress_allow.n,
	    c->egress_allow.n == 1 ? "entry" : "entries");
}

int gateway_run(const struct config *c)
{
	struct gateway g = {.loop = EV_DEFAULT, .drain_timeout_ms = c->drain_timeout_ms};
	g.started = ev_now(g.loop);
	int status = EXIT_FAILURE;

	signal(SIGPIPE, SIG_IGN);
	/* A SIGHUP before the loop watches for it must not kill the gateway
	 * (its default action): it is ignored until then. */
	signal(SIGHUP, SIG_IGN);
	/* The running config: runtime objects copy what they need from it,
	 * and a reload replaces it (reload.c). */
	g.cfg = malloc(sizeof *g.cfg);
	if (!g.cfg) {
		log_error("out of memory");
		return EXIT_FAILURE;
	}
	memcpy(g.cfg, c, sizeof *g.cfg);
	/* A descriptor kept spare so that, out of descriptors, waiting clients
	 * can still be accepted and reset (fdguard.h). */
	if (fdguard_reserve() < 0)
		log_warn("cannot open the reserve descriptor (/dev/null); out of descriptors, "
		         "waiting clients will not be reset");
	if (hostcheck_paths(c) < 0)
		return EXIT_FAILURE;
	g.assoc = assoc_new(g.loop, c);
	if (!g.assoc) {
		config_free(g.cfg);
		return EXIT_FAILURE;
	}
	g.assoc->on_closed = gateway_closed;
	/* Host-name targets of the peer: a gateway without a resolver still
	 * runs, and answers such OPENs with RST 9. */
	g.resolver = resolver_new(
	    g.loop, c->resolver, c->connect_timeout_ms / 3 > 100 ? c->connect_timeout_ms / 3 : 100);
	g.assoc->resolver = g.resolver;
	g.assoc->ctx = &g;

	for (size_t i = 0; i < c->n_forwards; i++) {
		if (c->forwards[i].protocol == CONFIG_PROTO_UDP) {
			struct udp_listener *u = udp_listener_new(g.loop, g.assoc, c, (uint8_t)i);
			if (!u)
				goto out;
			g.udp_listeners[g.n_udp_listeners++] = u;
			continue;
		}
		struct listener *l = listener_new(g.loop, g.assoc, c, &c->forwards[i]);
		if (!l)
			goto out;
		g.listeners[g.n_listeners++] = l;
	}
	if (assoc_start(g.assoc) < 0)
		goto out;
	/* Whatever the engine, the wire carries [association] transport. */
	g.transport = config_transport_name(c->transport);
	if (c->admin.ss_family != AF_UNSPEC) {
		g.admin = admin_new(g.loop, &c->admin, &g);
		if (!g.admin)
			goto out;
	}

	ev_signal_init(&g.sigterm, gateway_stop_cb, SIGTERM);
	ev_signal_init(&g.sigint, gateway_stop_cb, SIGINT);
	ev_signal_init(&g.sigusr1, gateway_status_cb, SIGUSR1);
	ev_signal_init(&g.sighup, gateway_reload_cb, SIGHUP);
	ev_timer_init(&g.drain_poll, gateway_drain_poll_cb, 0.05, 0.05);
	ev_timer_init(&g.deadline, gateway_deadline_cb, 0., 0.);
	ev_timer_init(&g.log_flush, gateway_log_flush_cb, RATELIMIT_INTERVAL, RATELIMIT_INTERVAL);
	g.log_flush.data = &g;
	ev_timer_start(g.loop, &g.log_flush);
	g.sigterm.data = g.sigint.data = g.sigusr1.data = g.sighup.data = &g;
	g.drain_poll.data = g.deadline.data = &g;
	ev_signal_start(g.loop, &g.sigterm);
	ev_signal_start(g.loop, &g.sighup);
	ev_signal_start(g.loop, &g.sigint);
	ev_signal_start(g.loop, &g.sigusr1);

	log_info("gateway %s running (role %s)", c->name, config_role_name(c->role));
	log_egress(c);
	if (g.resolver) {
		char r[600];
		log_info("egress: host names resolved per connection with %s",
		         resolver_describe(g.resolver, r, sizeof r));
	}
	g.notify = notify_new(g.loop, g.assoc); /* listening: READY=1 */
	ev_run(g.loop, 0);
	status = EXIT_SUCCESS;
	log_info("gateway %s stopped", c->name);

	ev_signal_stop(g.loop, &g.sigterm);
	ev_signal_stop(g.loop, &g.sigint);
	ev_signal_stop(g.loop, &g.sigusr1);
	ev_signal_stop(g.loop, &g.sighup);
	ev_timer_stop(g.loop, &g.drain_poll);
	ev_timer_stop(g.loop, &g.deadline);
	ev_timer_stop(g.loop, &g.log_flush);
	ratelimit_flush(true);
out:
	admin_free(g.admin);
	notify_free(g.notify);
	stop_listeners(&g);
	assoc_free(g.assoc); /* its connections cancel their lookups */
	resolver_free(g.resolver);
	fdguard_release();
	config_free(g.cfg);
	return status;
}
