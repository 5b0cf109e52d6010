/*
 * config_sctp: the [sctp] section, the SCTP stack's timers and buffers.
 *
 * Start here to add an [sctp] key: a line in sctp_keys (the value's kind,
 * range and default; config_loader.h), its field in struct config
 * (config.h), then its use in engine_params.c. The rules between keys
 * are in load_sctp(); docs/FAILOVER.md explains each.
 */
#include "config_loader.h"

#include <stdio.h>

/* Same order as enum config_cc. */
static const char *const cc_names[] = {"rfc4960", "hstcp", "htcp", "rtcc", NULL};

static const struct spec sctp_keys[] = {
    {"heartbeat_interval_ms", SPEC_UINT, 0, 100, 600000, 1000, NULL, C(heartbeat_interval_ms)},
    {"rto_initial_ms", SPEC_UINT, 0, 10, 600000, 1000, NULL, C(rto_initial_ms)},
    {"rto_min_ms", SPEC_UINT, 0, 10, 600000, 1000, NULL, C(rto_min_ms)},
    {"rto_max_ms", SPEC_UINT, 0, 10, 600000, 3000, NULL, C(rto_max_ms)},
    {"path_max_retrans", SPEC_UINT, 0, 1, 100, 3, NULL, C(path_max_retrans)},
    {"pf_threshold", SPEC_UINT, 0, 0, 100, 1, NULL, C(pf_threshold)},
    {"assoc_max_retrans", SPEC_UINT, 0, 1, 1000, 10, NULL, C(assoc_max_retrans)},
    {"failback_hold_ms", SPEC_UINT, 0, 0, 600000, 5000, NULL, C(failback_hold_ms)},
    {"delayed_sack_ms", SPEC_UINT, 0, 0, 500, 40, NULL, C(delayed_sack_ms)},
    {"congestion_control", SPEC_CHOICE, 0, 0, 0, CONFIG_CC_RFC4960, cc_names,
     C(congestion_control)},
    {"sndbuf", SPEC_SIZE, 0, 65536, 268435456, 2097152, NULL, C(sndbuf)},
    {"rcvbuf", SPEC_SIZE, 0, 65536, 268435456, 2097152, NULL, C(rcvbuf)},
    {"buffer_max", SPEC_SIZE, 0, 65536, 268435456, 33554432, NULL, C(buffer_max)},
    {"path_mtu", SPEC_UINT, 0, CONFIG_PATH_MTU_MIN, CONFIG_PATH_MTU_MAX, CONFIG_PATH_MTU_MIN, NULL,
     C(path_mtu)},
};

static void load_sctp(struct loader *l, size_t si, const struct section_spec *ss, const char *name)
{
	struct config *c = l->c;
	unsigned seen, bad;

	(void)name;
	load_keys(l, si, ss, c, &seen, &bad);
	l->sctp_si = si;
	l->sctp_bad = bad;
	/* A key already reported as bad holds its default; comparing it would
	 * only add a confusing second message. Each rule is explained in
	 * docs/FAILOVER.md. */
	static const char rto_rule[] = "rto_min_ms <= rto_initial_ms <= rto_max_ms";
	if (!(bad & (spec_bit(ss, "rto_min_ms", NULL) | spec_bit(ss, "rto_initial_ms", NULL) |
	             spec_bit(ss, "rto_max_ms", NULL)))) {
		check_order(l, si, "rto_min_ms", c->rto_min_ms, "rto_initial_ms", c->rto_initial_ms,
		            false, rto_rule);
		check_order(l, si, "rto_initial_ms", c->rto_initial_ms, "rto_max_ms", c->rto_max_ms,
		            false, rto_rule);
	}
	/* The buffers start at sndbuf/rcvbuf and grow up to buffer_max
	 * (bufgrow.h). */
	static const char buf_rule[] = "sndbuf <= buffer_max and rcvbuf <= buffer_max (the "
	                               "buffers start at sndbuf/rcvbuf and grow up to buffer_max)";
	unsigned bmax = spec_bit(ss, "buffer_max", NULL);
	if (!(seen & bmax)) {
		/* Not given: a config written before buffer_max, with larger
		 * fixed buffers, keeps them (no growth beyond). */
		if (c->buffer_max < c->sndbuf)
			c->buffer_max = c->sndbuf;
		if (c->buffer_max < c->rcvbuf)
			c->buffer_max = c->rcvbuf;
	}
	if (!(bad & (bmax | spec_bit(ss, "sndbuf", NULL))))
		check_order(l, si, "sndbuf", c->sndbuf, "buffer_max", c->buffer_max, false,
		            buf_rule);
	if (!(bad & (bmax | spec_bit(ss, "rcvbuf", NULL))))
		check_order(l, si, "rcvbuf", c->rcvbuf, "buffer_max", c->buffer_max, false,
		            buf_rule);
	/* The stacks (usrsctp, Linux) enter the potentially-failed state only
	 * when pf_threshold < path_max_retrans. */
	if (!(bad & (spec_bit(ss, "pf_threshold", NULL) | spec_bit(ss, "path_max_retrans", NULL))))
		check_order(
		    l, si, "pf_threshold", c->pf_threshold, "path_max_retrans", c->path_max_retrans,
		    true,
		    "pf_threshold < path_max_retrans (otherwise a path is never potentially "
		    "failed and data stays on a dead path until it is declared unreachable)");
	/* A receiver holds a SACK for up to delayed_sack_ms; a retransmission
	 * timer shorter than that plus the round trip expires before the SACK
	 * of a lone last packet can arrive: a spurious timeout that doubles
	 * the RTO and counts as a path error. Half the floor for the delay
	 * leaves the other half for the round trip (docs/PERFORMANCE.md). */
	unsigned dsack = spec_bit(ss, "delayed_sack_ms", NULL);
	if (!(bad & (dsack | spec_bit(ss, "rto_min_ms", NULL))) &&
	    2ull * c->delayed_sack_ms > c->rto_min_ms) {
		unsigned ld = key_line(l, si, "delayed_sack_ms"),
		         lr = key_line(l, si, "rto_min_ms");
		unsigned other = ld >= lr ? lr : ld;
		char where[32] = "default";
		if (other)
			snprintf(where, sizeof where, "line %u", other);
		if (ld >= lr)
			loader_error(
			    l, ld,
			    "[%s] delayed_sack_ms: %u is more than half of rto_min_ms (%u, "
			    "%s); expected delayed_sack_ms <= rto_min_ms / 2 (a SACK held "
			    "longer makes retransmission timeouts expire on a clean path)",
			    l->secs[si].name, c->delayed_sack_ms, c->rto_min_ms, where);
		else
			loader_error(l, lr,
			             "[%s] rto_min_ms: %u is less than twice delayed_sack_ms (%u, "
			             "%s); expected rto_min_ms >= 2 x delayed_sack_ms (a shorter "
			             "floor makes retransmission timeouts expire on a clean path)",
			             l->secs[si].name, c->rto_min_ms, c->delayed_sack_ms, where);
	}
	/* The first heartbeat answered makes a path reachable again; the hold
	 * should see it answer at least one more. */
	if (c->failback_hold_ms > 0 && !(bad & (spec_bit(ss, "failback_hold_ms", NULL) |
	                                        spec_bit(ss, "heartbeat_interval_ms", NULL))))
		check_order(
		    l, si, "heartbeat_interval_ms", c->heartbeat_interval_ms, "failback_hold_ms",
		    c->failback_hold_ms, false,
		    "failback_hold_ms >= heartbeat_interval_ms, or 0 for no hold (a shorter "
		    "hold ends before the returning path has answered another heartbeat)");
}

const struct section_spec config_sctp_section = {"sctp", SEC_SCTP, false, KEYS(sctp_keys),
                                                 load_sctp};

/* See config_loader.h. */
void config_sctp_check_paths(struct loader *l)
{
	const struct config *c = l->c;
	const struct section_spec *ss = &config_sctp_section;

	if (l->sctp_si == NO_SECTION || c->n_paths < 2)
		return; /* the defaults obey every rule */
	/* Every timeout on a path also counts toward the association, and only
	 * an acknowledgement resets that count. */
	if (!(l->sctp_bad &
	      (spec_bit(ss, "path_max_retrans", NULL) | spec_bit(ss, "assoc_max_retrans", NULL))))
		check_order(l, l->sctp_si, "path_max_retrans", c->path_max_retrans,
		            "assoc_max_retrans", c->assoc_max_retrans, true,
		            "assoc_max_retrans > path_max_retrans with 2 or more paths (every "
		            "timeout on a path also counts for the association, which would give "
		            "up no later than a dead path is declared unreachable)");
}

const char *config_cc_name(enum config_cc cc)
{
	return (unsigned)cc <= CONFIG_CC_RTCC ? cc_names[cc] : "?";
}
