/*
 * reload: SIGHUP (and the admin endpoint's reload) reads the config file
 * again and applies it to the running gateway, two-phase as hitch does:
 * the new config is loaded and checked, new listeners are bound, and only
 * when everything succeeded is anything changed; otherwise the running
 * config stays, untouched.
 *
 * Ownership makes it safe: no runtime object points into struct config.
 * A listener copies its forward's target and limit, a connection copies
 * the target it was opened with (struct frame_open) and its windows, the
 * association and its limits, paths and engine copy their settings. So
 * the old config can be freed at once, a connection on a removed forward
 * runs on to its end with what it copied, and a changed target applies to
 * new connections only. config_diff.h says which keys reload live.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "assoc.h"
#include "config_diff.h"
#include "conn_log.h"
#include "gateway.h"
#include "listener.h"
#include "log.h"

/* Load the file into a new config; the errors, as --check prints them,
 * one log line each. */
static struct config *load(const char *file)
{
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	if (!err) {
		log_error("reload: %s", strerror(errno));
		return NULL;
	}
	struct config *c = config_load(file, err);
	fclose(err);
	for (char *line = text, *end; line && *line; line = end) {
		end = strchr(line, '\n');
		if (end)
			*end++ = '\0';
		if (*line)
			log_error("reload: %s", line);
	}
	free(text);
	return c;
}

static int listener_index(const struct gateway *g, const char *name)
{
	for (size_t i = 0; i < g->n_listeners; i++)
		if (strcmp(g->listeners[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* Connections this gateway opened for forward NAME, now. */
static size_t forward_conns(const struct assoc *a, const char *name)
{
	size_t n = 0;
	const struct conn *c;
	TAILQ_FOREACH(c, &a->conns, link)
	n += c->opener && strcmp(c->target.name, name) == 0;
	return n;
}

static void close_listener(struct gateway *g, const char *name, bool moved)
{
	int i = listener_index(g, name);
	if (i < 0)
		return; /* it could not listen at start? then it never ran */
	size_t n = forward_conns(g->assoc, name);
	log_info("reload: forward %s %s: its listener is closed; %zu connection%s on it finish "
	         "normally",
	         name, moved ? "moves to a new listen address" : "removed", n, n == 1 ? "" : "s");
	listener_free(g->listeners[i]);
	g->listeners[i] = g->listeners[--g->n_listeners];
}

int gateway_reload(struct gateway *g)
{
	char file[sizeof g->cfg->file]; /* g->cfg is replaced below */
	snprintf(file, sizeof file, "%s", g->cfg->file);
	if (g->draining) {
		log_warn("reload: ignored: the gateway is draining");
		return -EBUSY;
	}
	log_info("reload: reading %s", file);
	struct config *c = load(file);
	if (!c) {
		g->n_reload_failed++;
		log_error("reload: %s has errors (above); the running configuration stays", file);
		return -EINVAL;
	}

	struct config_diff d;
	config_diff(g->cfg, c, &d);

	/* Phase 1: the new listeners. Nothing running changes until all of
	 * them are bound. */
	struct listener *made[CONFIG_MAX_FORWARDS] = {0};
	for (size_t k = 0; k < d.n_fwd; k++) {
		if (d.fwd[k].what != CONFIG_DIFF_FWD_ADDED &&
		    d.fwd[k].what != CONFIG_DIFF_FWD_MOVED)
			continue;
		int j = d.fwd[k].new_i;
		made[j] = listener_new(g->loop, g->assoc, c, &c->forwards[j]);
		if (made[j])
			continue;
		for (size_t m = 0; m < CONFIG_MAX_FORWARDS; m++)
			listener_free(made[m]);
		g->n_reload_failed++;
		log_error("reload: forward %s cannot listen (above); nothing changed, the running "
		          "configuration stays",
		          c->forwards[j].name);
		config_free(c);
		return -EADDRINUSE;
	}

	/* Phase 2: commit. */
	for (size_t k = 0; k < d.n_restart; k++)
		log_warn("reload: %s: needs a restart; the running value stays", d.restart[k]);
	size_t added = 0, removed = 0, changed = 0;
	/* Closed first, so the table always has room for the new ones. */
	for (size_t k = 0; k < d.n_fwd; k++) {
		enum config_diff_fwd what = d.fwd[k].what;
		if (what == CONFIG_DIFF_FWD_REMOVED || what == CONFIG_DIFF_FWD_MOVED)
			close_listener(g, g->cfg->forwards[d.fwd[k].old_i].name,
			               what == CONFIG_DIFF_FWD_MOVED);
		removed += what == CONFIG_DIFF_FWD_REMOVED;
	}
	for (size_t k = 0; k < d.n_fwd; k++) {
		int j = d.fwd[k].new_i;
		switch (d.fwd[k].what) {
		case CONFIG_DIFF_FWD_SAME:
		case CONFIG_DIFF_FWD_REMOVED:
			break;
		case CONFIG_DIFF_FWD_MOVED:
		case CONFIG_DIFF_FWD_ADDED:
			g->listeners[g->n_listeners++] = made[j];
			log_info("reload: forward %s %s", c->forwards[j].name,
			         d.fwd[k].what == CONFIG_DIFF_FWD_ADDED ? "added" : "moved");
			added += d.fwd[k].what == CONFIG_DIFF_FWD_ADDED;
			changed += d.fwd[k].what == CONFIG_DIFF_FWD_MOVED;
			break;
		case CONFIG_DIFF_FWD_CHANGED: {
			int l = listener_index(g, c->forwards[j].name);
			if (l >= 0)
				listener_update(g->listeners[l], &c->forwards[j]);
			changed++;
			break;
		}
		}
	}
	if (c->log_level != g->cfg->log_level) {
		log_info("reload: log_level %s -> %s", log_level_name(g->cfg->log_level),
		         log_level_name(c->log_level));
		log_set_level(c->log_level);
	}
	if (c->log_connections != g->cfg->log_connections)
		conn_log_enable(c->log_connections);
	g->drain_timeout_ms = c->drain_timeout_ms;
	config_diff_keep_running(g->cfg, c);
	assoc_reload(g->assoc, c);
	config_free(g->cfg);
	g->cfg = c;
	g->n_reloads++;
	log_info("reload: %s applied: %zu forward%s added, %zu removed, %zu changed; %s; %zu "
	         "change%s need%s a restart",
	         file, added, added == 1 ? "" : "s", removed, changed,
	         d.live ? "settings changed live" : "no other setting changed", d.n_restart,
	         d.n_restart == 1 ? "" : "s", d.n_restart == 1 ? "s" : "");
	return 0;
}
