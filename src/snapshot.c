/* snapshot: see snapshot.h. */
#include "snapshot.h"
#include "udp_flow.h"

#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "assoc.h"
#include "conn_limits.h"
#include "fdguard.h"

_Static_assert(SNAPSHOT_LOSSES == ASSOC_LOSS_N_, "one loss label per enum assoc_loss");
_Static_assert(SNAPSHOT_REFUSALS == LIMITS_REFUSED_N_, "one label per enum limits_refusal");

/* The peer chose its name: keep what is safe in a label, a JSON string
 * and a status line. */
static void printable_name(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < len; i++) {
		char ch = src[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		dst[i] = ok ? ch : '?';
	}
	dst[i] = '\0';
}

static void take_paths(struct snapshot *s, struct assoc *a)
{
	struct path_table *t = &a->paths;
	s->n_paths = t->n;
	for (size_t i = 0; i < t->n; i++) {
		struct path *p = &t->paths[i];
		struct snapshot_path *o = &s->paths[i];
		struct engine_path_info info = {0};
		snprintf(o->name, sizeof o->name, "%s", p->name);
		addr_format(&p->local, o->local, sizeof o->local);
		addr_format(&p->remote, o->remote, sizeof o->remote);
		o->priority = p->priority;
		o->failures = p->n_failures;
		o->failovers = p->n_failovers;
		o->known = t->up && a->engine->ops->path_info(a->engine, i, &info) == 0;
		o->state = o->known ? path_state_name(info.state) : "down";
		if (!o->known)
			continue;
		o->primary = info.primary;
		o->srtt_s = info.srtt_ms / 1000.0;
		o->rto_s = info.rto_ms / 1000.0;
		o->cwnd_bytes = info.cwnd;
	}
}

static void take_forwards(struct snapshot *s, struct assoc *a)
{
	const struct limits *l = &a->limits;
	for (size_t r = 0; r < SNAPSHOT_REFUSALS; r++)
		s->refusal_names[r] = limits_refusal_name((enum limits_refusal)r);
	s->n_forwards = l->n_forwards;
	for (size_t i = 0; i < l->n_forwards; i++) {
		struct snapshot_forward *o = &s->forwards[i];
		snprintf(o->name, sizeof o->name, "%s", l->fwd[i].name);
		o->active = l->fwd[i].open;
		o->accepted = l->fwd[i].accepted;
		memcpy(o->refused, l->fwd[i].refused, sizeof o->refused);
		o->bytes_up = l->fwd[i].bytes_up;
		o->bytes_down = l->fwd[i].bytes_down;
		o->max_connections = l->fwd[i].max;
	}
	/* The live connections' bytes so far: the totals hold only the ended
	 * ones, so the data path never touches a counter for /metrics. */
	struct conn *c;
	TAILQ_FOREACH(c, &a->conns, link)
	{
		if (c->fwd_slot == 0 || c->fwd_slot > s->n_forwards)
			continue;
		s->forwards[c->fwd_slot - 1].bytes_up += c->bytes_up;
		s->forwards[c->fwd_slot - 1].bytes_down += c->bytes_down;
	}
}

void snapshot_take(struct snapshot *s, struct assoc *a, const char *transport, bool draining,
                   double uptime_s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->gateway, sizeof s->gateway, "%s", a->name);
	s->version = SCTPGW_VERSION;
	s->engine = a->engine->ops->name;
	s->transport = transport;
	s->role = config_role_name(a->role);
	s->state = assoc_state_name(a->state);
	if (a->state == ASSOC_HELLO || a->state == ASSOC_READY)
		printable_name(s->peer, sizeof s->peer, a->peer_name);
	s->established = a->state == ASSOC_READY;
	s->authenticated = s->established && a->auth.state == AUTH_SEALED;
	s->draining = draining;
	s->uptime_s = uptime_s;

	s->establishments = a->n_up;
	for (size_t i = 0; i < SNAPSHOT_LOSSES; i++) {
		s->loss_names[i] = assoc_loss_name((enum assoc_loss)i);
		s->losses[i] = a->n_lost[i];
	}
	s->attempts_failed = a->n_attempts_failed;
	s->auth_failures = a->n_auth_failed;
	s->rekeys = a->n_rekeys;
	s->rekeys_failed = a->n_rekey_failed;
	s->msg_forged = a->n_msg_forged;
	s->msg_replayed = a->n_msg_replayed;
	s->msg_missing = a->n_msg_missing;
	s->have_engine_stats =
	    a->engine->ops->stats && a->engine->ops->stats(a->engine, &s->engine_stats) == 0;

	if (a->streams) {
		s->streams_in_use = (unsigned)a->streams->active;
		s->streams_limit = a->streams->n ? a->streams->n - 1u : 0; /* ids 1 .. n-1 */
	}
	s->mem_reserved = a->mem_reserved;
	s->memory_limit = a->memory_limit;
	s->conns_active = a->n_conns;
	s->fd_shed = fdguard_shed_total();
	s->egress_refused = a->n_egress_refused;
	s->egress_unresolved = a->n_unresolved;
	s->goaway_refused = a->n_goaway_refused;
	s->draining_refused = a->n_draining_refused;
	if (a->flows) {
		s->udp_flows = a->flows->n;
		s->udp_max_flows = a->flows->max_flows;
		s->udp = a->flows->c;
	}
	take_paths(s, a);
	take_forwards(s, a);
}
