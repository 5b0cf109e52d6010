/*
 * test_reload: what a reload changes (config_diff.c) and how the
 * association takes it (assoc_reload), and the drain's GOAWAY between two
 * gateways on the fake engine (assoc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "config_diff.h"
#include "pair.h"

/* --- config_diff -------------------------------------------------------- */

static void add_forward(struct config *c, const char *name, const char *listen, const char *target)
{
	struct config_forward *f = &c->forwards[c->n_forwards++];
	memset(f, 0, sizeof *f);
	snprintf(f->name, sizeof f->name, "%s", name);
	assert_int_equal(addr_parse_endpoint(listen, &f->listen), 0);
	assert_int_equal(addr_parse_endpoint(target, &f->target), 0);
}

static void add_path(struct config *c, const char *name, const char *local, const char *remote,
                     int priority)
{
	struct config_path *p = &c->paths[c->n_paths++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	assert_int_equal(addr_parse_host(local, &p->local), 0);
	assert_int_equal(addr_parse_host(remote, &p->remote), 0);
	p->priority = priority;
}

/* Two paths, three forwards. */
static void base_config(struct config *c)
{
	config_defaults(c);
	snprintf(c->name, sizeof c->name, "site-a");
	add_path(c, "wan1", "198.18.1.1", "198.18.1.2", 10);
	add_path(c, "wan2", "198.18.2.1", "198.18.2.2", 20);
	add_forward(c, "web", "198.18.10.1:8080", "198.18.20.2:80");
	add_forward(c, "db", "198.18.10.1:5432", "198.18.20.3:5432");
	add_forward(c, "old", "198.18.10.1:9000", "198.18.20.4:9000");
}

static enum config_diff_fwd fwd_change(const struct config_diff *d, const struct config *old,
                                       const struct config *new, const char *name)
{
	for (size_t k = 0; k < d->n_fwd; k++) {
		int i = d->fwd[k].old_i, j = d->fwd[k].new_i;
		if ((i >= 0 && strcmp(old->forwards[i].name, name) == 0) ||
		    (j >= 0 && strcmp(new->forwards[j].name, name) == 0))
			return d->fwd[k].what;
	}
	fail_msg("forward %s not in the diff", name);
	return CONFIG_DIFF_FWD_SAME;
}

static bool needs_restart(const struct config_diff *d, const char *what)
{
	for (size_t k = 0; k < d->n_restart; k++)
		if (strcmp(d->restart[k], what) == 0)
			return true;
	return false;
}

static void config_diff__same_file__changes_nothing(void **state)
{
	(void)state;
	struct config a, b;
	base_config(&a);
	base_config(&b);
	struct config_diff d;
	config_diff(&a, &b, &d);
	assert_int_equal(d.n_restart, 0);
	assert_false(d.live);
	assert_false(d.priorities);
	assert_int_equal(d.n_fwd, 3);
	for (size_t k = 0; k < d.n_fwd; k++)
		assert_int_equal(d.fwd[k].what, CONFIG_DIFF_FWD_SAME);
}

static void config_diff__forwards__added_removed_changed_and_moved(void **state)
{
	(void)state;
	struct config a, b;
	base_config(&a);
	config_defaults(&b);
	snprintf(b.name, sizeof b.name, "site-a");
	add_path(&b, "wan1", "198.18.1.1", "198.18.1.2", 10);
	add_path(&b, "wan2", "198.18.2.1", "198.18.2.2", 20);
	add_forward(&b, "db", "198.18.10.1:5433", "198.18.20.3:5432");  /* listen moved */
	add_forward(&b, "web", "198.18.10.1:8080", "198.18.20.9:8080"); /* new target */
	add_forward(&b, "new", "198.18.10.1:7000", "198.18.20.5:7000"); /* added */
	/* "old" removed */
	struct config_diff d;
	config_diff(&a, &b, &d);
	assert_int_equal(d.n_fwd, 4);
	assert_int_equal(fwd_change(&d, &a, &b, "web"), CONFIG_DIFF_FWD_CHANGED);
	assert_int_equal(fwd_change(&d, &a, &b, "db"), CONFIG_DIFF_FWD_MOVED);
	assert_int_equal(fwd_change(&d, &a, &b, "old"), CONFIG_DIFF_FWD_REMOVED);
	assert_int_equal(fwd_change(&d, &a, &b, "new"), CONFIG_DIFF_FWD_ADDED);
	assert_int_equal(d.n_restart, 0);

	/* A new max_connections alone is a change for new clients too. */
	base_config(&b);
	b.forwards[1].max_connections = 7;
	config_diff(&a, &b, &d);
	assert_int_equal(fwd_change(&d, &a, &b, "db"), CONFIG_DIFF_FWD_CHANGED);
	assert_int_equal(fwd_change(&d, &a, &b, "web"), CONFIG_DIFF_FWD_SAME);
}

static void config_diff__priorities_and_timers__are_live(void **state)
{
	(void)state;
	struct config a, b;
	base_config(&a);
	base_config(&b);
	b.paths[0].priority = 30;
	b.heartbeat_interval_ms = 250;
	struct config_diff d;
	config_diff(&a, &b, &d);
	assert_true(d.priorities);
	assert_true(d.live);
	assert_int_equal(d.n_restart, 0);

	base_config(&b);
	b.memory_limit /= 2;
	config_diff(&a, &b, &d);
	assert_false(d.priorities);
	assert_true(d.live);
}

static void config_diff__engine_port_role_and_addresses__need_a_restart(void **state)
{
	(void)state;
	struct config a, b;
	base_config(&a);
	base_config(&b);
	b.engine = CONFIG_ENGINE_USERSPACE;
	b.port = 6000;
	b.role = CONFIG_ROLE_ACCEPT;
	b.udp_encap_port = 9900;
	b.max_streams = 100;
	assert_int_equal(addr_parse_host("198.18.3.2", &b.paths[1].remote), 0);
	add_path(&b, "wan3", "198.18.4.1", "198.18.4.2", 5);
	b.paths[0].priority = 1; /* still live */
	struct config_diff d;
	config_diff(&a, &b, &d);
	assert_int_equal(d.n_restart, 7);
	assert_true(needs_restart(&d, "[gateway] engine changed"));
	assert_true(needs_restart(&d, "[gateway] udp_encap_port changed"));
	assert_true(needs_restart(&d, "[association] port changed"));
	assert_true(needs_restart(&d, "[association] role changed"));
	assert_true(needs_restart(&d, "[association] max_streams changed"));
	assert_true(needs_restart(&d, "[path.wan2] remote changed"));
	assert_true(needs_restart(&d, "[path.wan3] added"));
	assert_true(d.priorities);

	/* What runs afterwards: the old values, the new priority. */
	config_diff_keep_running(&a, &b);
	assert_int_equal(b.engine, a.engine);
	assert_int_equal(b.port, a.port);
	assert_int_equal(b.role, a.role);
	assert_int_equal(b.n_paths, 2);
	assert_true(addr_equal(&b.paths[1].remote, &a.paths[1].remote));
	assert_int_equal(b.paths[0].priority, 1);
	struct config_diff again;
	config_diff(&a, &b, &again);
	assert_int_equal(again.n_restart, 0); /* nothing of it runs */
}

/* usrsctp never raises a live association's MTU, and the buffers' max
 * follows it (bufgrow.h): a new path_mtu needs a restart, and what runs
 * keeps the old one. */
static void config_diff__path_mtu__needs_a_restart_and_the_old_one_runs(void **state)
{
	(void)state;
	struct config a, b;
	base_config(&a);
	base_config(&b);
	b.path_mtu = 1500;
	struct config_diff d;
	config_diff(&a, &b, &d);
	assert_int_equal(d.n_restart, 1);
	assert_true(needs_restart(&d, "[sctp] path_mtu changed"));
	assert_false(d.live);
	config_diff_keep_running(&a, &b);
	assert_int_equal(b.path_mtu, 1280);
}

/* --- assoc_reload -------------------------------------------------------- */

static void assoc_reload__windows_and_timers__apply_to_new_connections_only(void **state)
{
	struct fx *f = *state;
	f->ca->conn_window = 65536;
	fx_start(f);
	struct link old = open_link(f, f->a);
	struct conn *oc = conn_at(f->a, old.sid);
	assert_int_equal(oc->rxw.initial, 65536);

	struct config *c = malloc(sizeof *c);
	assert_non_null(c);
	memcpy(c, f->ca, sizeof *c);
	c->conn_window = 131072;
	c->heartbeat_interval_ms = 4321;
	c->rto_max_ms = 7000;
	c->connect_timeout_ms = 1234;
	/* Lower than what the open connection holds: it keeps its window. */
	c->memory_limit = 65536 + 1000;
	assoc_reload(f->a, c);
	assert_int_equal(f->ea->n_set_timers, 1);
	assert_int_equal(f->ea->params.heartbeat_interval_ms, 4321);
	assert_int_equal(f->ea->params.rto_max_ms, 7000);
	assert_int_equal(f->a->connect_timeout_ms, 1234);
	assert_true(assoc_invariants_hold(f->a));
	ping(f, &old);
	assert_int_equal(oc->rxw.initial, 65536);

	/* No room for a 128 KiB window under the lower limit: refused. */
	int rc = 0;
	int cl = open_client(f, f->a, &rc);
	assert_int_equal(rc, -ENOBUFS);
	expect_reset(f, cl);

	/* Room again: new connections get the new window. */
	c->memory_limit = 1 << 20;
	assoc_reload(f->a, c);
	struct link young = open_link(f, f->a);
	assert_int_equal(conn_at(f->a, young.sid)->rxw.initial, 131072);
	ping(f, &young);
	ping(f, &old);
	assert_true(assoc_invariants_hold(f->a));
	free(c);
}

/* --- GOAWAY -------------------------------------------------------------- */

/* OPENs E sent, on any stream. */
static size_t opens_sent(const struct fake_engine *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_sent; i++)
		n += e->sent[i].head[0] == FRAME_OPEN;
	return n;
}

static void goaway__peer_drains__new_clients_are_reset_without_an_open(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct link l = open_link(f, f->a);
	struct link back = open_link(f, f->b); /* the other direction */

	assoc_goaway(f->b);
	RUN_UNTIL(f, f->a->peer_goaway);
	assert_int_equal(fake_engine_count_sent(f->eb, 0, FRAME_GOAWAY), 1);

	size_t opens = opens_sent(f->ea);
	for (int i = 0; i < 3; i++) {
		int rc = 0;
		int cl = open_client(f, f->a, &rc);
		assert_int_equal(rc, -ESHUTDOWN);
		expect_reset(f, cl);
	}
	assert_int_equal(opens_sent(f->ea), opens);
	assert_int_equal(f->a->n_goaway_refused, 3);

	/* The connections open in both directions carry on. */
	ping(f, &l);
	ping(f, &back);
	/* The draining side itself still opens nothing new only because its
	 * listeners are closed; its assoc carries what it has. */
	assert_false(f->b->peer_goaway);
}

static void goaway__open_that_crossed_it__is_refused_with_reason_draining(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	/* B drains, and A opens before the GOAWAY reached it. */
	assoc_goaway(f->b);
	int rc = -1;
	int cl = open_client(f, f->a, &rc);
	assert_int_equal(rc, 0);
	uint16_t sid = last_sid(f->a);
	expect_reset(f, cl);
	assert_sent_rst(f->eb, sid, FRAME_RST_DRAINING);
	assert_int_equal(f->b->n_draining_refused, 1);
	RUN_UNTIL(f, all_idle(f));
	assert_true(f->a->peer_goaway);
}

static void goaway__on_stream_0_before_the_handshake__aborts(void **state)
{
	struct fx *f = *state;
	struct assoc *x = fx_alone(f, false, 16);
	struct frame g = {.type = FRAME_GOAWAY};
	inject_frame(f->ea, 0, &g);
	RUN_UNTIL(f, f->ea->n_abort > 0);
	assert_false(x->peer_goaway);
}

static void goaway__peer_comes_back__new_clients_are_carried_again(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	assoc_goaway(f->b);
	RUN_UNTIL(f, f->a->peer_goaway);

	/* B's process ends; a new one starts and A connects to it again. */
	assoc_free(f->b);
	f->b = assoc_new(f->loop, f->cb);
	assert_non_null(f->b);
	f->eb = fake_of(f->b->engine);
	fake_engine_pair(f->ea, f->eb);
	assert_int_equal(assoc_start(f->b), 0);
	RUN_UNTIL(f, f->a->state == ASSOC_READY && f->b->state == ASSOC_READY);
	assert_false(f->a->peer_goaway);
	struct link l = open_link(f, f->a);
	ping(f, &l);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_diff__same_file__changes_nothing),
	    cmocka_unit_test(config_diff__forwards__added_removed_changed_and_moved),
	    cmocka_unit_test(config_diff__priorities_and_timers__are_live),
	    cmocka_unit_test(config_diff__engine_port_role_and_addresses__need_a_restart),
	    cmocka_unit_test(config_diff__path_mtu__needs_a_restart_and_the_old_one_runs),
	    T(assoc_reload__windows_and_timers__apply_to_new_connections_only),
	    T(goaway__peer_drains__new_clients_are_reset_without_an_open),
	    T(goaway__open_that_crossed_it__is_refused_with_reason_draining),
	    T(goaway__on_stream_0_before_the_handshake__aborts),
	    T(goaway__peer_comes_back__new_clients_are_carried_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
