/* config_diff: see config_diff.h. */
#include "config_diff.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"

/* The keys that cannot change while the gateway runs, and why: the engine,
 * its sockets and ports are made once (usrsctp reads its address list
 * once); the role, name and streams were told to the peer in HELLO; the
 * security mode was agreed in the handshake; the stack's congestion
 * control and buffers are set when its socket is made, and so is the path
 * MTU (usrsctp never raises a live association's MTU). */
static const struct {
	const char *key;
	size_t offset, size;
} restart_keys[] = {
#define K(text, member)                                                                            \
	{                                                                                          \
		text, offsetof(struct config, member), sizeof(((struct config *)0)->member)        \
	}
    K("[gateway] name", name),
    K("[gateway] engine", engine),
    K("[gateway] udp_encap_port", udp_encap_port),
    K("[association] transport", transport),
    K("[association] role", role),
    K("[association] port", port),
    K("[association] remote_udp_encap_port", remote_udp_encap_port),
    K("[association] max_streams", max_streams),
    K("[association] encrypt", encrypt),
    K("[association] packet_auth", packet_auth),
    K("[association] insecure", insecure),
    K("[sctp] congestion_control", congestion_control),
    K("[sctp] sndbuf", sndbuf),
    K("[sctp] rcvbuf", rcvbuf),
    K("[sctp] buffer_max", buffer_max),
    K("[sctp] path_mtu", path_mtu),
    K("[egress] resolver", resolver),
#undef K
};

#define N_RESTART_KEYS (sizeof restart_keys / sizeof restart_keys[0])

/* Values that reload applies live (anything but forwards and paths). */
static bool live_changed(const struct config *a, const struct config *b)
{
	return a->log_level != b->log_level || a->connect_timeout_ms != b->connect_timeout_ms ||
	       a->drain_timeout_ms != b->drain_timeout_ms || a->conn_window != b->conn_window ||
	       a->conn_window_max != b->conn_window_max || a->memory_limit != b->memory_limit ||
	       a->max_connections != b->max_connections || a->idle_timeout_s != b->idle_timeout_s ||
	       a->heartbeat_interval_ms != b->heartbeat_interval_ms ||
	       a->rto_initial_ms != b->rto_initial_ms || a->rto_min_ms != b->rto_min_ms ||
	       a->rto_max_ms != b->rto_max_ms || a->path_max_retrans != b->path_max_retrans ||
	       a->pf_threshold != b->pf_threshold || a->assoc_max_retrans != b->assoc_max_retrans ||
	       a->failback_hold_ms != b->failback_hold_ms ||
	       a->delayed_sack_ms != b->delayed_sack_ms || a->n_psk != b->n_psk ||
	       a->log_connections != b->log_connections || a->tcp_keepalive != b->tcp_keepalive ||
	       a->tcp_keepalive_idle_s != b->tcp_keepalive_idle_s ||
	       a->tcp_keepalive_interval_s != b->tcp_keepalive_interval_s ||
	       a->tcp_keepalive_count != b->tcp_keepalive_count ||
	       memcmp(&a->egress_allow, &b->egress_allow, sizeof a->egress_allow) != 0 ||
	       memcmp(a->psk, b->psk, sizeof a->psk) != 0;
}

static void restart(struct config_diff *d, const char *fmt, const char *name, const char *key)
{
	if (d->n_restart == CONFIG_DIFF_MAX_RESTART)
		return;
	snprintf(d->restart[d->n_restart++], CONFIG_DIFF_KEY_MAX, fmt, name, key);
}

static const struct config_path *find_path(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_paths; i++)
		if (strcmp(c->paths[i].name, name) == 0)
			return &c->paths[i];
	return NULL;
}

static int find_forward(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_forwards; i++)
		if (strcmp(c->forwards[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void diff_paths(const struct config *old, const struct config *new, struct config_diff *d)
{
	for (size_t i = 0; i < old->n_paths; i++) {
		const struct config_path *o = &old->paths[i], *n = find_path(new, o->name);
		if (!n) {
			restart(d, "[path.%s]%s removed", o->name, "");
			continue;
		}
		if (!addr_equal(&o->local, &n->local))
			restart(d, "[path.%s] %s changed", o->name, "local");
		if (!addr_equal(&o->remote, &n->remote))
			restart(d, "[path.%s] %s changed", o->name, "remote");
		if (o->priority != n->priority)
			d->priorities = true;
	}
	for (size_t i = 0; i < new->n_paths; i++)
		if (!find_path(old, new->paths[i].name))
			restart(d, "[path.%s]%s added", new->paths[i].name, "");
}

static void diff_forwards(const struct config *old, const struct config *new, struct config_diff *d)
{
	for (size_t i = 0; i < old->n_forwards; i++) {
		const struct config_forward *o = &old->forwards[i];
		int j = find_forward(new, o->name);
		enum config_diff_fwd what = CONFIG_DIFF_FWD_REMOVED;
		if (j >= 0) {
			const struct config_forward *n = &new->forwards[j];
			/* A new capture mode needs a new socket (IP_TRANSPARENT). */
			if (!addr_equal(&o->listen, &n->listen) || o->protocol != n->protocol ||
			    o->capture != n->capture)
				what = CONFIG_DIFF_FWD_MOVED;
			else if (!addr_equal(&o->target, &n->target) ||
			         strcmp(o->target_host, n->target_host) != 0 ||
			         o->target_port != n->target_port ||
			         o->target_original != n->target_original ||
			         o->max_connections != n->max_connections)
				what = CONFIG_DIFF_FWD_CHANGED;
			else
				what = CONFIG_DIFF_FWD_SAME;
		}
		/* UDP forwards are made once, at start (their flows are keyed by
		 * the forward's index): any change to one needs a restart. */
		if (what != CONFIG_DIFF_FWD_SAME &&
		    (o->protocol == CONFIG_PROTO_UDP ||
		     (j >= 0 && new->forwards[j].protocol == CONFIG_PROTO_UDP))) {
			restart(d, "[forward.%s] (protocol = udp)%s changed or removed", o->name,
			        "");
			what = CONFIG_DIFF_FWD_SAME;
		}
		d->fwd[d->n_fwd].what = what;
		d->fwd[d->n_fwd].old_i = (int)i;
		d->fwd[d->n_fwd++].new_i = j;
	}
	for (size_t j = 0; j < new->n_forwards; j++) {
		if (find_forward(old, new->forwards[j].name) >= 0)
			continue;
		if (new->forwards[j].protocol == CONFIG_PROTO_UDP) {
			restart(d, "[forward.%s] (protocol = udp)%s added", new->forwards[j].name,
			        "");
			continue;
		}
		d->fwd[d->n_fwd].what = CONFIG_DIFF_FWD_ADDED;
		d->fwd[d->n_fwd].old_i = -1;
		d->fwd[d->n_fwd++].new_i = (int)j;
	}
}

void config_diff(const struct config *old, const struct config *new, struct config_diff *d)
{
	memset(d, 0, sizeof *d);
	for (size_t k = 0; k < N_RESTART_KEYS; k++) {
		const char *o = (const char *)old + restart_keys[k].offset;
		const char *n = (const char *)new + restart_keys[k].offset;
		if (memcmp(o, n, restart_keys[k].size) != 0)
			restart(d, "%s%s changed", restart_keys[k].key, "");
	}
	/* insecure = yes has no keys; a key file that appears or goes away
	 * changes the security mode, which insecure = covers. */
	diff_paths(old, new, d);
	diff_forwards(old, new, d);
	d->live = live_changed(old, new) || d->priorities;
}

void config_diff_keep_running(const struct config *old, struct config *new)
{
	for (size_t k = 0; k < N_RESTART_KEYS; k++)
		memcpy((char *)new + restart_keys[k].offset,
		       (const char *)old + restart_keys[k].offset, restart_keys[k].size);
	struct config_path paths[CONFIG_MAX_PATHS];
	memcpy(paths, old->paths, sizeof paths);
	for (size_t i = 0; i < old->n_paths; i++) {
		const struct config_path *n = find_path(new, paths[i].name);
		if (n)
			paths[i].priority = n->priority;
	}
	memcpy(new->paths, paths, sizeof paths);
	new->n_paths = old->n_paths;
	if (old->n_psk == 0 || new->n_psk == 0) {
		/* Without keys on either side the mode is insecure (restart). */
		memcpy(new->psk, old->psk, sizeof new->psk);
		new->n_psk = old->n_psk;
	}
}

const char *config_diff_fwd_name(enum config_diff_fwd what)
{
	static const char *const names[] = {"unchanged", "added", "removed", "changed", "moved"};
	return names[what];
}
