/*
 * Unit tests for metrics (Prometheus text) and status (JSON, lines): the
 * renderers of a snapshot, fed snapshots made by hand. The output is
 * checked against the exposition format's rules (each family one HELP and
 * one TYPE, then its samples together; counters end in _total; label
 * values escaped) and for the values an operator reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "snapshot.h"
#include "status.h"

static const char *const losses[SNAPSHOT_LOSSES] = {"shutdown", "handshake", "aborted", "lost"};
static const char *const refusals[SNAPSHOT_REFUSALS] = {
    "not_ready", "max_connections", "forward_limit", "memory", "streams", "peer", "timeout"};

/* A gateway with two paths (wan1 reachable primary, wan2 failed once) and
 * one forward that carried some bytes. */
static struct snapshot *sample(void)
{
	struct snapshot *s = calloc(1, sizeof *s);
	snprintf(s->gateway, sizeof s->gateway, "site-a");
	s->version = "0.1.0";
	s->engine = "userspace";
	s->transport = "udp";
	s->role = "connect";
	s->state = "ready";
	snprintf(s->peer, sizeof s->peer, "site-b");
	s->established = s->authenticated = true;
	s->uptime_s = 12.5;
	s->establishments = 2;
	for (size_t i = 0; i < SNAPSHOT_LOSSES; i++)
		s->loss_names[i] = losses[i];
	s->losses[3] = 1;
	s->have_engine_stats = true;
	s->engine_stats = (struct engine_stats){
	    .retransmitted_chunks = 17, .t3_timeouts = 3, .watchdog_kicks = 1};
	s->streams_in_use = 5;
	s->streams_limit = 4095;
	s->mem_reserved = 1 << 20;
	s->memory_limit = 1 << 30;
	s->n_paths = 2;
	s->paths[0] = (struct snapshot_path){.name = "wan1",
	                                     .local = "198.18.1.1",
	                                     .remote = "198.18.1.2",
	                                     .priority = 10,
	                                     .known = true,
	                                     .state = "reachable",
	                                     .primary = true,
	                                     .srtt_s = 0.012,
	                                     .rto_s = 0.2,
	                                     .cwnd_bytes = 65536};
	s->paths[1] = (struct snapshot_path){.name = "wan2",
	                                     .local = "198.18.2.1",
	                                     .remote = "198.18.2.2",
	                                     .priority = 20,
	                                     .known = true,
	                                     .state = "unreachable",
	                                     .failures = 1,
	                                     .failovers = 1};
	for (size_t r = 0; r < SNAPSHOT_REFUSALS; r++)
		s->refusal_names[r] = refusals[r];
	s->n_forwards = 1;
	s->forwards[0] = (struct snapshot_forward){
	    .name = "web", .active = 1, .accepted = 4, .bytes_up = 1000, .bytes_down = 2000};
	s->forwards[0].refused[4] = 2; /* streams */
	s->udp_flows = 3;
	s->udp_max_flows = 4096;
	s->udp.opened = 7;
	s->udp.drop_big = 2;
	s->egress_refused = 5;
	s->reloads_failed = 1;
	return s;
}

static char *render(void (*fn)(const struct snapshot *, FILE *), const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(s, f);
	fclose(f);
	return buf;
}

/* The line of OUT that starts with PREFIX followed by a space: its value. */
static const char *value_of(const char *out, const char *prefix)
{
	static char v[64];
	size_t n = strlen(prefix);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ') {
			sscanf(p + n + 1, "%63s", v);
			return v;
		}
	}
	return "(missing)";
}

/* The exposition format's structure: fails the test on the first breach. */
static void check_exposition(char *out)
{
	char families[128][96];
	size_t nf = 0;
	char cur[96] = "", type[16] = "";
	bool helped = false;
	for (char *save = NULL, *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[96], t[16];
		if (strncmp(l, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%95s", name), 1);
			for (size_t i = 0; i < nf; i++)
				assert_string_not_equal(families[i], name); /* declared once */
			assert_true(nf < 128);
			snprintf(families[nf++], sizeof families[0], "%s", name);
			snprintf(cur, sizeof cur, "%s", name);
			helped = true;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%95s %15s", name, t), 2);
			assert_true(helped);
			assert_string_equal(name, cur);
			assert_true(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0);
			if (strcmp(t, "counter") == 0)
				assert_non_null(strstr(name, "_total"));
			assert_int_equal(strncmp(name, "sctpgw_", 7), 0);
			snprintf(type, sizeof type, "%s", t);
			continue;
		}
		/* A sample: NAME or NAME{labels}, a space, a number. */
		size_t n = strcspn(l, "{ ");
		assert_true(n > 0 && n < sizeof name);
		assert_true(strncmp(l, cur, n) == 0 && strlen(cur) == n); /* its family's */
		const char *rest = l + n;
		if (*rest == '{') {
			const char *end = strstr(rest, "} ");
			assert_non_null(end);
			rest = end + 1;
		}
		assert_true(*rest == ' ');
		char *num_end;
		strtod(rest + 1, &num_end);
		assert_true(num_end != rest + 1 && *num_end == '\0');
	}
	assert_true(nf > 20);
}

static void metrics__render__follows_the_exposition_format(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	char *out = render(metrics_render, s);
	check_exposition(out);
	free(out);
	free(s);
}

static void metrics__render__carries_the_snapshot_values(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	char *out = render(metrics_render, s);
	assert_non_null(strstr(out,
	                       "sctpgw_info{gateway=\"site-a\",version=\"0.1.0\","
	                       "engine=\"userspace\",transport=\"udp\",role=\"connect\"} 1\n"));
	assert_string_equal(value_of(out, "sctpgw_association_up"), "1");
	assert_string_equal(value_of(out, "sctpgw_association_state{state=\"ready\"}"), "1");
	assert_string_equal(value_of(out, "sctpgw_association_state{state=\"down\"}"), "0");
	assert_string_equal(value_of(out, "sctpgw_association_establishments_total"), "2");
	assert_string_equal(value_of(out, "sctpgw_udp_flows"), "3");
	assert_string_equal(value_of(out, "sctpgw_udp_flows_opened_total{by=\"local\"}"), "7");
	assert_string_equal(
	    value_of(out, "sctpgw_udp_datagrams_dropped_total{reason=\"too_large\"}"), "2");
	assert_string_equal(value_of(out, "sctpgw_egress_refused_total{reason=\"not_allowed\"}"),
	                    "5");
	assert_string_equal(value_of(out, "sctpgw_reloads_total{result=\"failed\"}"), "1");
	assert_string_equal(value_of(out, "sctpgw_association_losses_total{reason=\"lost\"}"), "1");
	assert_string_equal(value_of(out, "sctpgw_association_retransmissions_total"), "17");
	assert_string_equal(value_of(out, "sctpgw_stall_watchdog_kicks_total"), "1");
	assert_string_equal(value_of(out, "sctpgw_path_srtt_seconds{path=\"wan1\"}"), "0.012");
	assert_string_equal(value_of(out, "sctpgw_path_rto_seconds{path=\"wan1\"}"), "0.200");
	assert_string_equal(value_of(out, "sctpgw_path_cwnd_bytes{path=\"wan1\"}"), "65536");
	assert_string_equal(value_of(out, "sctpgw_path_primary{path=\"wan1\"}"), "1");
	assert_string_equal(value_of(out, "sctpgw_path_primary{path=\"wan2\"}"), "0");
	assert_string_equal(value_of(out, "sctpgw_path_state{path=\"wan2\",state=\"unreachable\"}"),
	                    "1");
	assert_string_equal(value_of(out, "sctpgw_path_state{path=\"wan2\",state=\"reachable\"}"),
	                    "0");
	assert_string_equal(value_of(out, "sctpgw_path_failovers_total{path=\"wan2\"}"), "1");
	assert_string_equal(value_of(out, "sctpgw_streams_in_use"), "5");
	assert_string_equal(value_of(out, "sctpgw_streams_limit"), "4095");
	assert_string_equal(value_of(out, "sctpgw_memory_reserved_bytes"), "1048576");
	assert_string_equal(value_of(out, "sctpgw_forward_connections_active{forward=\"web\"}"),
	                    "1");
	assert_string_equal(
	    value_of(out, "sctpgw_forward_connections_accepted_total{forward=\"web\"}"), "4");
	assert_string_equal(value_of(out,
	                             "sctpgw_forward_connections_refused_total{forward=\"web\","
	                             "reason=\"streams\"}"),
	                    "2");
	assert_string_equal(value_of(out, "sctpgw_forward_bytes_total{forward=\"web\","
	                                  "direction=\"client_to_target\"}"),
	                    "1000");
	assert_string_equal(value_of(out, "sctpgw_forward_bytes_total{forward=\"web\","
	                                  "direction=\"target_to_client\"}"),
	                    "2000");
	free(out);
	free(s);
}

/* Without an association the engine describes no path: no RTT, RTO or
 * window series (absent, not a made-up 0), every state 0, none primary. */
static void metrics__path_unknown__has_no_timing_series(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	s->state = "down";
	s->established = false;
	for (size_t i = 0; i < s->n_paths; i++)
		s->paths[i] =
		    (struct snapshot_path){.name = "wan1", .state = "down", .failovers = 3};
	snprintf(s->paths[1].name, sizeof s->paths[1].name, "wan2");
	char *out = render(metrics_render, s);
	assert_null(strstr(out, "sctpgw_path_srtt_seconds{"));
	assert_null(strstr(out, "sctpgw_path_cwnd_bytes{"));
	assert_string_equal(value_of(out, "sctpgw_path_state{path=\"wan1\",state=\"reachable\"}"),
	                    "0");
	assert_string_equal(value_of(out, "sctpgw_path_primary{path=\"wan1\"}"), "0");
	assert_string_equal(value_of(out, "sctpgw_path_failovers_total{path=\"wan1\"}"), "3");
	assert_string_equal(value_of(out, "sctpgw_association_up"), "0");
	check_exposition(out);
	free(out);
	free(s);
}

static void metrics__label_values__are_escaped(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	snprintf(s->forwards[0].name, sizeof s->forwards[0].name, "a\"b\\c\nd");
	char *out = render(metrics_render, s);
	assert_non_null(
	    strstr(out, "sctpgw_forward_connections_active{forward=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(out);
	free(s);
}

static void status__lines__one_record_per_line_without_spaces_in_fields(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	char *out = render(status_render_lines, s);
	assert_non_null(strstr(out, "gateway site-a 0.1.0 userspace udp connect\n"));
	assert_non_null(strstr(out, "association ready site-b 1 0 1\n"));
	assert_non_null(strstr(out, "streams 5 4095\n"));
	assert_non_null(strstr(out, "path wan1 198.18.1.1 198.18.1.2 reachable 12 1 0\n"));
	assert_non_null(strstr(out, "path wan2 198.18.2.1 198.18.2.2 unreachable 0 0 1\n"));
	assert_non_null(strstr(out, "forward web 1 4 2 1000 2000\n"));
	free(out);
	free(s);
}

static void status__draining__is_not_ready(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	assert_true(snapshot_ready(s));
	s->draining = true;
	assert_false(snapshot_ready(s));
	char *out = render(status_render_json, s);
	assert_non_null(strstr(out, "\"ready\":false,\"draining\":true"));
	free(out);
	s->draining = false;
	s->established = false;
	assert_false(snapshot_ready(s));
	free(s);
}

static void status__json__escapes_strings_and_balances(void **state)
{
	(void)state;
	struct snapshot *s = sample();
	snprintf(s->forwards[0].name, sizeof s->forwards[0].name, "x\"y\\z\001");
	char *out = render(status_render_json, s);
	assert_non_null(strstr(out, "\"name\":\"x\\\"y\\\\z\\u0001\""));
	assert_non_null(strstr(out, "\"srtt_seconds\":0.012"));
	assert_non_null(strstr(out, "\"bytes_client_to_target\":1000"));
	/* Brackets balance outside strings. */
	int depth = 0;
	bool in_str = false;
	for (const char *p = out; *p; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"')
			in_str = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			assert_true(--depth >= 0);
	}
	assert_int_equal(depth, 0);
	assert_false(in_str);
	free(out);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(metrics__render__follows_the_exposition_format),
	    cmocka_unit_test(metrics__render__carries_the_snapshot_values),
	    cmocka_unit_test(metrics__path_unknown__has_no_timing_series),
	    cmocka_unit_test(metrics__label_values__are_escaped),
	    cmocka_unit_test(status__lines__one_record_per_line_without_spaces_in_fields),
	    cmocka_unit_test(status__draining__is_not_ready),
	    cmocka_unit_test(status__json__escapes_strings_and_balances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
