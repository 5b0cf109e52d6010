/* path: see path.h. */
#include "path.h"

#include <string.h>

#include "addr.h"
#include "log.h"

const char *path_state_name(enum engine_path_state s)
{
	switch (s) {
	case ENGINE_PATH_UNCONFIRMED:
		return "unconfirmed";
	case ENGINE_PATH_REACHABLE:
		return "reachable";
	case ENGINE_PATH_UNREACHABLE:
		return "unreachable";
	}
	return "unknown";
}

static void path_failback_cb(struct ev_loop *loop, ev_timer *w, int revents);

void path_order(const struct config *c, size_t order[CONFIG_MAX_PATHS])
{
	for (size_t i = 0; i < c->n_paths; i++) {
		size_t j = i;
		while (j > 0 && c->paths[order[j - 1]].priority > c->paths[i].priority) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

void path_table_init(struct path_table *t, struct ev_loop *loop, const struct config *c)
{
	size_t order[CONFIG_MAX_PATHS];
	memset(t, 0, sizeof *t);
	t->loop = loop;
	t->n = c->n_paths;
	t->hold = c->failback_hold_ms / 1000.0;
	path_order(c, order);
	for (size_t k = 0; k < t->n; k++) {
		const struct config_path *cp = &c->paths[order[k]];
		struct path *p = &t->paths[k];
		snprintf(p->name, sizeof p->name, "%s", cp->name);
		p->local = cp->local;
		p->remote = cp->remote;
		p->priority = cp->priority;
		p->state = ENGINE_PATH_UNCONFIRMED;
		p->hold = t->hold;
	}
	ev_timer_init(&t->failback, path_failback_cb, 0., 0.);
	t->failback.data = t;
}

void path_attach(struct path_table *t, struct engine *e)
{
	t->engine = e;
}

void path_table_fini(struct path_table *t)
{
	ev_timer_stop(t->loop, &t->failback);
}

static bool set_primary(struct path_table *t, size_t i, const char *why)
{
	int rc = t->engine->ops->set_primary(t->engine, i);
	if (rc < 0) {
		log_debug("primary path: cannot make %s primary yet: %s", t->paths[i].name,
		          strerror(-rc));
		return false;
	}
	if (i != t->primary)
		log_info("primary path: %s -> %s (%s)", t->paths[t->primary].name, t->paths[i].name,
		         why);
	t->primary = i;
	return true;
}

/* Whether path I is preferred to path J: a lower priority value, or the
 * same and earlier in the file order. The table starts best first, but a
 * reload may change priorities while the engine's path indices stay. */
static bool better(const struct path_table *t, size_t i, size_t j)
{
	int pi = t->paths[i].priority, pj = t->paths[j].priority;
	return pi < pj || (pi == pj && i < j);
}

/* The best reachable path, or N when none is. */
static size_t best_reachable(const struct path_table *t)
{
	size_t best = t->n;
	for (size_t i = 0; i < t->n; i++)
		if (t->paths[i].state == ENGINE_PATH_REACHABLE &&
		    (best == t->n || better(t, i, best)))
			best = i;
	return best;
}

static void choose(struct path_table *t)
{
	size_t best = best_reachable(t);
	struct path *cur = &t->paths[t->primary];
	char why[96];

	ev_timer_stop(t->loop, &t->failback);
	if (best == t->n || best == t->primary)
		return; /* nothing better to move to */

	if (cur->state == ENGINE_PATH_UNREACHABLE) {
		/* The primary failed: move at once to the best that works. */
		snprintf(why, sizeof why, "%s is %s", cur->name, path_state_name(cur->state));
		if (set_primary(t, best, why))
			cur->n_failovers++;
		return;
	}
	if (!better(t, best, t->primary))
		return; /* the primary (perhaps not yet confirmed) is still the best */
	if (!t->degraded) {
		/* Nothing has failed in this association yet (start-up, or the
		 * accept side starting on the path INIT came over). */
		set_primary(t, best, "preferred path");
		return;
	}
	/* A better path is back: only after it has proven itself. */
	ev_tstamp left = t->paths[best].reachable_since + t->paths[best].hold - ev_now(t->loop);
	if (left <= 0) {
		snprintf(why, sizeof why, "%s reachable for %.0f ms", t->paths[best].name,
		         t->paths[best].hold * 1000);
		if (!set_primary(t, best, why))
			left = 0.1; /* try again shortly */
		else
			return;
	}
	ev_timer_set(&t->failback, left, 0.);
	ev_timer_start(t->loop, &t->failback);
}

static void path_failback_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct path_table *t = w->data;
	if (t->up)
		path_event(t);
}

static const char *change_reason(enum engine_path_state from, enum engine_path_state to)
{
	if (to == ENGINE_PATH_UNREACHABLE)
		return "heartbeats or data unanswered past path_max_retrans";
	if (from == ENGINE_PATH_UNCONFIRMED)
		return "confirmed by heartbeat";
	return "answering again";
}

/* P was reachable and has failed: was that a flap? (see path.h) */
static void dampen(struct path_table *t, struct path *p, ev_tstamp now)
{
	double up = now - p->reachable_since, old = p->hold;
	if (t->hold <= 0)
		return; /* fail-back at once: the user's choice */
	if (!p->recovered || up >= 2 * p->hold)
		p->hold = t->hold;
	else if (p->hold < t->hold * PATH_HOLD_MAX_FACTOR)
		p->hold *= 2;
	if (p->hold > old)
		log_info("path %s: flapping (failed %.0f ms after it came back): fail-back "
		         "hold-down %.0f -> %.0f ms",
		         p->name, up * 1000, old * 1000, p->hold * 1000);
	else if (p->hold < old)
		log_info("path %s: stable for %.0f ms before this failure: fail-back hold-down "
		         "%.0f -> %.0f ms",
		         p->name, up * 1000, old * 1000, p->hold * 1000);
}

void path_event(struct path_table *t)
{
	if (!t->up)
		return;
	/* The loop's cached time may be a long iteration old on a busy
	 * machine; the hold-down must count from when the path came back,
	 * as the log line says, not from before (seen: a fail-back 1809 ms
	 * after "reachable" with failback_hold_ms = 2000). */
	ev_now_update(t->loop);
	ev_tstamp now = ev_now(t->loop);
	for (size_t i = 0; i < t->n; i++) {
		struct path *p = &t->paths[i];
		struct engine_path_info info;
		if (t->engine->ops->path_info(t->engine, i, &info) < 0 || info.state == p->state)
			continue;
		log_info("path %s: %s -> %s (%s)", p->name, path_state_name(p->state),
		         path_state_name(info.state), change_reason(p->state, info.state));
		if (info.state == ENGINE_PATH_REACHABLE) {
			p->reachable_since = now;
			p->recovered |= p->state == ENGINE_PATH_UNREACHABLE;
		}
		if (info.state == ENGINE_PATH_UNREACHABLE) {
			if (p->state == ENGINE_PATH_REACHABLE) {
				dampen(t, p, now);
				p->n_failures++;
			}
			t->degraded = true;
		}
		p->state = info.state;
	}
	choose(t);
}

void path_reload(struct path_table *t, const struct config *c)
{
	bool changed = false;
	for (size_t i = 0; i < t->n; i++) {
		struct path *p = &t->paths[i];
		for (size_t k = 0; k < c->n_paths; k++) {
			if (strcmp(c->paths[k].name, p->name) != 0 ||
			    c->paths[k].priority == p->priority)
				continue;
			log_info("path %s: priority %d -> %d (reload)", p->name, p->priority,
			         c->paths[k].priority);
			p->priority = c->paths[k].priority;
			changed = true;
		}
	}
	double hold = c->failback_hold_ms / 1000.0;
	if (hold != t->hold) {
		t->hold = hold;
		for (size_t i = 0; i < t->n; i++)
			t->paths[i].hold = hold; /* flap damping starts over */
	}
	if (!t->up)
		return; /* the next association starts on the best path */
	size_t best = best_reachable(t);
	if (changed && best < t->n && best != t->primary && better(t, best, t->primary)) {
		/* The user asked for it: no hold-down. */
		set_primary(t, best, "priorities changed by reload");
		ev_timer_stop(t->loop, &t->failback);
		return;
	}
	choose(t);
}

void path_assoc_up(struct path_table *t)
{
	t->up = true;
	t->degraded = false;
	t->primary = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct engine_path_info info;
		t->paths[i].state = ENGINE_PATH_UNCONFIRMED;
		t->paths[i].recovered = false;
		t->paths[i].hold = t->hold;
		/* The accept side's stack starts on the path the INIT came
		 * over; each side then follows its own priorities. */
		if (t->engine->ops->path_info(t->engine, i, &info) == 0 && info.primary)
			t->primary = i;
	}
	path_event(t);
}

void path_assoc_down(struct path_table *t)
{
	t->up = false;
	ev_timer_stop(t->loop, &t->failback);
}

void path_log_status(struct path_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct path *p = &t->paths[i];
		struct engine_path_info info = {0};
		char l[ADDR_STRLEN], r[ADDR_STRLEN];
		bool have = t->up && t->engine->ops->path_info(t->engine, i, &info) == 0;
		log_info(
		    "status: path %s %s -> %s priority %d %s srtt %u ms rto %u ms hold-down %.0f "
		    "ms%s",
		    p->name, addr_format(&p->local, l, sizeof l),
		    addr_format(&p->remote, r, sizeof r), p->priority,
		    have ? path_state_name(info.state) : "down", have ? info.srtt_ms : 0,
		    have ? info.rto_ms : 0, p->hold * 1000, have && info.primary ? " primary" : "");
	}
}
