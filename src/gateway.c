/* gateway: see gateway.h. */
#include "gateway.h"

#include <ev.h>
#include <signal.h>
#include <stdlib.h>

#include "assoc.h"
#include "fdguard.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "ratelimit.h"
#include "udp_listener.h"

#define GATEWAY_CLOSE_DEADLINE 3.0 /* seconds for the SCTP SHUTDOWN handshake */

struct gateway {
	struct ev_loop *loop;
	struct assoc *assoc;
	struct listener *listeners[CONFIG_MAX_FORWARDS];
	size_t n_listeners;
	struct udp_listener *udp_listeners[CONFIG_MAX_FORWARDS];
	size_t n_udp_listeners;
	unsigned drain_timeout_ms;
	bool draining;
	struct notify *notify; /* systemd Type=notify; NULL without */
	ev_signal sigterm, sigint, sigusr1;
	ev_timer drain_poll, deadline;
	ev_timer log_flush; /* reports what rate-limited log sites suppressed */
};

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

static void gateway_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	struct gateway *g = w->data;
	if (g->draining) {
		log_warn("second stop signal: exiting now");
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	g->draining = true;
	notify_stopping(g->notify);
	log_info("signal %d: stop accepting; draining %zu connection%s for up to %u ms", w->signum,
	         g->assoc->n_conns, g->assoc->n_conns == 1 ? "" : "s", g->drain_timeout_ms);
	stop_listeners(g);
	if (g->assoc->n_conns == 0) {
		close_association(g);
		return;
	}
	ev_timer_start(loop, &g->drain_poll);
	ev_timer_set(&g->deadline, g->drain_timeout_ms / 1000.0, 0.);
	ev_timer_start(loop, &g->deadline);
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
	         "connections refused at memory_limit, %llu OPEN timeouts; engine: %s",
	         a->n_ready, a->engine_full ? "full" : "has room", a->n_refusals,
	         a->n_pumps ? (double)a->n_frames / (double)a->n_pumps : 0.0, a->mem_reserved,
	         a->memory_limit, (unsigned long long)a->n_refused_memory,
	         (unsigned long long)a->n_open_timeouts, line[0] ? line : "-");
	log_info(
	    "status: limits: max_connections %u (0: none), %llu refused at it, %llu refused at "
	    "forward limits, %llu reset by idle_timeout_s %u (0: off)",
	    a->limits.max_total, (unsigned long long)a->limits.n_refused_total,
	    (unsigned long long)a->limits.n_refused_forward,
	    (unsigned long long)a->limits.n_idle_reset, a->limits.idle_timeout_s);
	for (size_t i = 0; i < a->limits.n_forwards; i++)
		log_info("status: forward %s: %u clients carried, max_connections %u (0: none)",
		         a->limits.fwd[i].name, a->limits.fwd[i].open, a->limits.fwd[i].max);
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
}

int gateway_run(const struct config *c)
{
	struct gateway g = {.loop = EV_DEFAULT, .drain_timeout_ms = c->drain_timeout_ms};
	int status = EXIT_FAILURE;

	signal(SIGPIPE, SIG_IGN);
	/* A descriptor kept spare so that, out of descriptors, waiting clients
	 * can still be accepted and reset (fdguard.h). */
	if (fdguard_reserve() < 0)
		log_warn("cannot open the reserve descriptor (/dev/null); out of descriptors, "
		         "waiting clients will not be reset");
	g.assoc = assoc_new(g.loop, c);
	if (!g.assoc)
		return EXIT_FAILURE;
	g.assoc->on_closed = gateway_closed;
	g.assoc->ctx = &g;

	for (size_t i = 0; i < c->n_forwards; i++) {
		if (c->forwards[i].protocol == CONFIG_PROTO_UDP) {
			struct udp_listener *u =
			    udp_listener_new(g.loop, g.assoc, &c->forwards[i], (uint8_t)i);
			if (!u)
				goto out;
			g.udp_listeners[g.n_udp_listeners++] = u;
			continue;
		}
		struct listener *l = listener_new(g.loop, g.assoc, &c->forwards[i]);
		if (!l)
			goto out;
		g.listeners[g.n_listeners++] = l;
	}
	if (assoc_start(g.assoc) < 0)
		goto out;

	ev_signal_init(&g.sigterm, gateway_stop_cb, SIGTERM);
	ev_signal_init(&g.sigint, gateway_stop_cb, SIGINT);
	ev_signal_init(&g.sigusr1, gateway_status_cb, SIGUSR1);
	ev_timer_init(&g.drain_poll, gateway_drain_poll_cb, 0.05, 0.05);
	ev_timer_init(&g.deadline, gateway_deadline_cb, 0., 0.);
	ev_timer_init(&g.log_flush, gateway_log_flush_cb, RATELIMIT_INTERVAL, RATELIMIT_INTERVAL);
	g.log_flush.data = &g;
	ev_timer_start(g.loop, &g.log_flush);
	g.sigterm.data = g.sigint.data = g.sigusr1.data = g.drain_poll.data = g.deadline.data = &g;
	ev_signal_start(g.loop, &g.sigterm);
	ev_signal_start(g.loop, &g.sigint);
	ev_signal_start(g.loop, &g.sigusr1);

	log_info("gateway %s running (role %s)", c->name, config_role_name(c->role));
	g.notify = notify_new(g.loop, g.assoc); /* listening: READY=1 */
	ev_run(g.loop, 0);
	status = EXIT_SUCCESS;
	log_info("gateway %s stopped", c->name);

	ev_signal_stop(g.loop, &g.sigterm);
	ev_signal_stop(g.loop, &g.sigint);
	ev_signal_stop(g.loop, &g.sigusr1);
	ev_timer_stop(g.loop, &g.drain_poll);
	ev_timer_stop(g.loop, &g.deadline);
	ev_timer_stop(g.loop, &g.log_flush);
	ratelimit_flush(true);
out:
	notify_free(g.notify);
	stop_listeners(&g);
	assoc_free(g.assoc);
	fdguard_release();
	return status;
}
