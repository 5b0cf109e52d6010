/* metrics: see metrics.h. */
#include "metrics.h"

#include <inttypes.h>
#include <string.h>

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void label(FILE *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(o, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", o);
		else
			fputc(*v, o);
	}
}

static void head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *o, const char *name, const char *type, const char *help, uint64_t v)
{
	head(o, name, type, help);
	fprintf(o, "%s %" PRIu64 "\n", name, v);
}

/* PRE (a separator: "", ",") then KEY="VAL". */
static void label_pair(FILE *o, const char *pre, const char *key, const char *val)
{
	fprintf(o, "%s%s=\"", pre, key);
	label(o, val);
	fputc('"', o);
}

/* NAME{path="P" or NAME{forward="F": the caller adds labels, "} " and the value. */
static void labelled(FILE *o, const char *name, const char *key, const char *val)
{
	fprintf(o, "%s{", name);
	label_pair(o, "", key, val);
}

static void render_association(const struct snapshot *s, FILE *o)
{
	static const char *const states[] = {"down", "connecting", "hello", "ready", "closing"};
	head(o, "sctpgw_info", "gauge", "The gateway, its engine and wire transport (always 1).");
	labelled(o, "sctpgw_info", "gateway", s->gateway);
	label_pair(o, ",", "version", s->version);
	label_pair(o, ",", "engine", s->engine);
	label_pair(o, ",", "transport", s->transport);
	label_pair(o, ",", "role", s->role);
	fputs("} 1\n", o);
	head(o, "sctpgw_uptime_seconds", "gauge", "Seconds since the gateway started.");
	fprintf(o, "sctpgw_uptime_seconds %.3f\n", s->uptime_s);
	one(o, "sctpgw_draining", "gauge", "1 while draining (SIGTERM or POST /drain).",
	    s->draining);
	one(o, "sctpgw_association_up", "gauge",
	    "1 while the association is established and the peer authenticated.", s->established);
	head(o, "sctpgw_association_state", "gauge",
	     "The association's state: 1 for the current one.");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		fprintf(o, "sctpgw_association_state{state=\"%s\"} %d\n", states[i],
		        strcmp(states[i], s->state) == 0);
	one(o, "sctpgw_association_establishments_total", "counter",
	    "Associations established and authenticated.", s->establishments);
	head(o, "sctpgw_association_losses_total", "counter",
	     "Associations that came up and ended, by how they ended.");
	for (size_t i = 0; i < SNAPSHOT_LOSSES; i++)
		fprintf(o, "sctpgw_association_losses_total{reason=\"%s\"} %" PRIu64 "\n",
		        s->loss_names[i], s->losses[i]);
	one(o, "sctpgw_association_attempts_failed_total", "counter",
	    "Association attempts that never came up.", s->attempts_failed);
	one(o, "sctpgw_auth_failures_total", "counter",
	    "Handshakes where the peer failed to prove the key, or refused ours.",
	    s->auth_failures);
	head(o, "sctpgw_rekeys_total", "counter",
	     "Key rotations on the live association (REKEY): done, or failed (old key kept).");
	fprintf(o, "sctpgw_rekeys_total{result=\"done\"} %" PRIu64 "\n", s->rekeys);
	fprintf(o, "sctpgw_rekeys_total{result=\"failed\"} %" PRIu64 "\n", s->rekeys_failed);
	head(o, "sctpgw_messages_dropped_total", "counter",
	     "Messages from the peer dropped: forged (failed to open) or replayed.");
	fprintf(o, "sctpgw_messages_dropped_total{reason=\"forged\"} %" PRIu64 "\n", s->msg_forged);
	fprintf(o, "sctpgw_messages_dropped_total{reason=\"replayed\"} %" PRIu64 "\n",
	        s->msg_replayed);
	if (s->have_engine_stats) {
		one(o, "sctpgw_association_retransmissions_total", "counter",
		    "DATA chunks the SCTP stack sent again (timeout and fast retransmit), all "
		    "paths.",
		    s->engine_stats.retransmitted_chunks);
		one(o, "sctpgw_association_t3_timeouts_total", "counter",
		    "Retransmission timer expiries (user-space engine; 0 with the kernel's).",
		    s->engine_stats.t3_timeouts);
		one(o, "sctpgw_stall_watchdog_kicks_total", "counter",
		    "Times the stall watchdog forced a retransmission the stack had lost "
		    "(user-space engine).",
		    s->engine_stats.watchdog_kicks);
		one(o, "sctpgw_packets_auth_failed_total", "counter",
		    "SCTP packets the stack dropped because their SCTP-AUTH did not verify "
		    "(altered or forged on the path; user-space engine).",
		    s->engine_stats.auth_failed);
	}
	one(o, "sctpgw_streams_in_use", "gauge", "SCTP streams carrying a connection now.",
	    s->streams_in_use);
	one(o, "sctpgw_streams_limit", "gauge",
	    "Streams the association negotiated (0 without an association).", s->streams_limit);
	one(o, "sctpgw_connections_active", "gauge", "Connections carried now, both directions.",
	    s->conns_active);
	one(o, "sctpgw_memory_reserved_bytes", "gauge",
	    "Receive windows reserved by open connections.", s->mem_reserved);
	one(o, "sctpgw_memory_limit_bytes", "gauge", "memory_limit: the bound on the reserve.",
	    s->memory_limit);
	one(o, "sctpgw_descriptor_shed_total", "counter",
	    "Waiting clients reset because the process ran out of file descriptors.", s->fd_shed);
	head(o, "sctpgw_egress_refused_total", "counter",
	     "The peer's connections refused here: destination not in [egress] allow, or a "
	     "host name that did not resolve.");
	fprintf(o, "sctpgw_egress_refused_total{reason=\"not_allowed\"} %" PRIu64 "\n",
	        s->egress_refused);
	fprintf(o, "sctpgw_egress_refused_total{reason=\"unresolved\"} %" PRIu64 "\n",
	        s->egress_unresolved);
	one(o, "sctpgw_goaway_refused_total", "counter",
	    "Clients reset without opening a stream because the peer drains (GOAWAY).",
	    s->goaway_refused);
	one(o, "sctpgw_draining_refused_total", "counter",
	    "The peer's connections refused because this gateway drains.", s->draining_refused);
	head(o, "sctpgw_reloads_total", "counter",
	     "Configuration reloads (SIGHUP, POST /reload), applied or refused.");
	fprintf(o, "sctpgw_reloads_total{result=\"applied\"} %" PRIu64 "\n", s->reloads);
	fprintf(o, "sctpgw_reloads_total{result=\"failed\"} %" PRIu64 "\n", s->reloads_failed);
}

static void render_udp(const struct snapshot *s, FILE *o)
{
	const struct udp_counters *u = &s->udp;
	one(o, "sctpgw_udp_flows", "gauge", "UDP flows carried now, both directions.",
	    s->udp_flows);
	one(o, "sctpgw_udp_flows_limit", "gauge", "udp_max_flows: the cap on UDP flows.",
	    s->udp_max_flows);
	head(o, "sctpgw_udp_flows_opened_total", "counter",
	     "UDP flows opened: by a client here (local) or by the peer (peer).");
	fprintf(o, "sctpgw_udp_flows_opened_total{by=\"local\"} %" PRIu64 "\n", u->opened);
	fprintf(o, "sctpgw_udp_flows_opened_total{by=\"peer\"} %" PRIu64 "\n", u->accepted);
	one(o, "sctpgw_udp_flows_expired_total", "counter",
	    "UDP flows ended by udp_idle_timeout_ms.", u->expired);
	head(o, "sctpgw_udp_flows_refused_total", "counter",
	     "New UDP flows refused: at udp_max_flows, or otherwise (no stream, socket).");
	fprintf(o, "sctpgw_udp_flows_refused_total{reason=\"max_flows\"} %" PRIu64 "\n",
	        u->refused_cap);
	fprintf(o, "sctpgw_udp_flows_refused_total{reason=\"other\"} %" PRIu64 "\n",
	        u->refused_other);
	head(o, "sctpgw_udp_datagrams_total", "counter",
	     "UDP datagrams carried, toward targets (up) and toward clients (down).");
	fprintf(o, "sctpgw_udp_datagrams_total{direction=\"up\"} %" PRIu64 "\n", u->dgrams_up);
	fprintf(o, "sctpgw_udp_datagrams_total{direction=\"down\"} %" PRIu64 "\n", u->dgrams_down);
	static const char *const why[] = {"engine_full", "too_large", "no_association",
	                                  "socket_error", "flow_ended"};
	const uint64_t n[] = {u->drop_full, u->drop_big, u->drop_down, u->drop_send, u->drop_stale};
	head(o, "sctpgw_udp_datagrams_dropped_total", "counter",
	     "UDP datagrams dropped (never truncated), by reason.");
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
		fprintf(o, "sctpgw_udp_datagrams_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
		        why[i], n[i]);
}

static void render_paths(const struct snapshot *s, FILE *o)
{
	static const char *const states[SNAPSHOT_STATES] = {"unconfirmed", "reachable",
	                                                    "unreachable"};
	head(o, "sctpgw_path_state", "gauge",
	     "The path's state as SCTP sees it: 1 for the current one (all 0 without an "
	     "association).");
	for (size_t i = 0; i < s->n_paths; i++)
		for (size_t k = 0; k < SNAPSHOT_STATES; k++) {
			labelled(o, "sctpgw_path_state", "path", s->paths[i].name);
			fprintf(o, ",state=\"%s\"} %d\n", states[k],
			        s->paths[i].known && strcmp(states[k], s->paths[i].state) == 0);
		}
#define PATH_SERIES(metric, kind, help, fmt, expr, only_known)                                     \
	do {                                                                                       \
		head(o, metric, kind, help);                                                       \
		for (size_t i = 0; i < s->n_paths; i++) {                                          \
			const struct snapshot_path *p = &s->paths[i];                              \
			if ((only_known) && !p->known)                                             \
				continue;                                                          \
			labelled(o, metric, "path", p->name);                                      \
			fprintf(o, "} " fmt "\n", expr);                                           \
		}                                                                                  \
	} while (0)
	PATH_SERIES("sctpgw_path_primary", "gauge", "1 for the path carrying new data.", "%d",
	            p->known && p->primary, false);
	PATH_SERIES("sctpgw_path_priority", "gauge", "The configured priority (lower preferred).",
	            "%d", p->priority, false);
	PATH_SERIES("sctpgw_path_srtt_seconds", "gauge", "Smoothed round-trip time.", "%.3f",
	            p->srtt_s, true);
	PATH_SERIES("sctpgw_path_rto_seconds", "gauge", "Current retransmission timeout.", "%.3f",
	            p->rto_s, true);
	PATH_SERIES("sctpgw_path_cwnd_bytes", "gauge", "Congestion window.", "%" PRIu64,
	            p->cwnd_bytes, true);
	PATH_SERIES("sctpgw_path_failures_total", "counter",
	            "Times the path went from reachable to unreachable.", "%" PRIu64, p->failures,
	            false);
	PATH_SERIES("sctpgw_path_failovers_total", "counter",
	            "Times the primary moved away from this path because it failed.", "%" PRIu64,
	            p->failovers, false);
#undef PATH_SERIES
}

static void render_forwards(const struct snapshot *s, FILE *o)
{
	if (s->n_forwards == 0)
		return;
	head(o, "sctpgw_forward_connections_active", "gauge",
	     "Clients of the forward carried now.");
	for (size_t i = 0; i < s->n_forwards; i++) {
		labelled(o, "sctpgw_forward_connections_active", "forward", s->forwards[i].name);
		fprintf(o, "} %" PRIu64 "\n", s->forwards[i].active);
	}
	head(o, "sctpgw_forward_connections_accepted_total", "counter",
	     "Clients carried: their OPEN went to the peer gateway.");
	for (size_t i = 0; i < s->n_forwards; i++) {
		labelled(o, "sctpgw_forward_connections_accepted_total", "forward",
		         s->forwards[i].name);
		fprintf(o, "} %" PRIu64 "\n", s->forwards[i].accepted);
	}
	head(o, "sctpgw_forward_connections_refused_total", "counter",
	     "Clients reset instead of carried, by reason (peer and timeout: after the OPEN).");
	for (size_t i = 0; i < s->n_forwards; i++)
		for (size_t r = 0; r < SNAPSHOT_REFUSALS; r++) {
			labelled(o, "sctpgw_forward_connections_refused_total", "forward",
			         s->forwards[i].name);
			fprintf(o, ",reason=\"%s\"} %" PRIu64 "\n", s->refusal_names[r],
			        s->forwards[i].refused[r]);
		}
	head(o, "sctpgw_forward_bytes_total", "counter",
	     "Payload bytes carried, by direction (client_to_target, target_to_client).");
	for (size_t i = 0; i < s->n_forwards; i++) {
		labelled(o, "sctpgw_forward_bytes_total", "forward", s->forwards[i].name);
		fprintf(o, ",direction=\"client_to_target\"} %" PRIu64 "\n",
		        s->forwards[i].bytes_up);
		labelled(o, "sctpgw_forward_bytes_total", "forward", s->forwards[i].name);
		fprintf(o, ",direction=\"target_to_client\"} %" PRIu64 "\n",
		        s->forwards[i].bytes_down);
	}
}

void metrics_render(const struct snapshot *s, FILE *out)
{
	render_association(s, out);
	render_paths(s, out);
	render_forwards(s, out);
	render_udp(s, out);
}
