/*
 * config_forward: the [forward.NAME] sections, one per listener.
 *
 * Start here to add a forward key: a line in forward_keys
 * (config_loader.h says how), its field in struct config_forward
 * (config.h). The target's text is read in config_value.c (SPEC_TARGET, with
 * config_egress.c for host names and config_capture.c for "original");
 * load_forward() checks the keys together (capture and protocol, target
 * and protocol) and against the forwards before it (one listen address
 * each).
 */
#include "config_loader.h"

#include "addr.h"

#include <stdio.h>

static const char *const protocol_names[] = {"tcp", "udp", NULL};

static const struct spec forward_keys[] = {
    {"listen", SPEC_ENDPOINT, 1, 0, 0, 0, NULL, F(listen)},
    {"protocol", SPEC_CHOICE, 0, 0, 0, CONFIG_PROTO_TCP, protocol_names, F(protocol)},
    {"target", SPEC_TARGET, 1, 0, 0, 0, NULL, F(target)},
    {"max_connections", SPEC_UINT, 0, 0, 10000000, 0, NULL, F(max_connections)},
    {"capture", SPEC_CHOICE, 0, 0, 0, CONFIG_CAPTURE_NONE, config_capture_names, F(capture)},
};

static void load_forward(struct loader *l, size_t si, const struct section_spec *ss,
                         const char *name)
{
	struct config_forward f = {0};
	struct config *c = l->c;
	unsigned seen, bad, bit = spec_bit(ss, "listen", NULL), line = key_line(l, si, "listen");

	spec_defaults(ss, &f);
	snprintf(f.name, sizeof f.name, "%s", name);
	load_keys(l, si, ss, &f, &seen, &bad);
	unsigned tbit = spec_bit(ss, "target", NULL);
	f.target_original =
	    (seen & tbit) && !(bad & tbit) && f.target.ss_family == AF_UNSPEC && !f.target_host[0];
	const char *why = config_capture_check(f.capture, f.target_original);
	if (why && !(bad & spec_bit(ss, "capture", NULL)))
		loader_error(l, key_line(l, si, "target"), "[%s] target: %s", l->secs[si].name,
		             why);
	for (size_t i = 0; (seen & bit) && !(bad & bit) && i < c->n_forwards; i++) {
		char buf[ADDR_STRLEN];
		if (addr_equal(&c->forwards[i].listen, &f.listen)) {
			loader_error(l, line,
			             "[%s] listen: %s is already used by [forward.%s] (line %u); "
			             "expected a different listen address for each forward",
			             l->secs[si].name, addr_format(&f.listen, buf, sizeof buf),
			             c->forwards[i].name, l->fwd_listen_line[i]);
			break;
		}
	}
	/* UDP: TPROXY only (REDIRECT leaves a datagram no original
	 * destination), and an address, not a host name, as the target. */
	unsigned cline = key_line(l, si, "capture"), tline = key_line(l, si, "target");
	if (f.capture == CONFIG_CAPTURE_REDIRECT && f.protocol == CONFIG_PROTO_UDP)
		loader_error(l, cline,
		             "[%s] capture: redirect gives UDP no original destination; expected "
		             "none or tproxy for protocol = udp",
		             l->secs[si].name);
	else if (f.capture == CONFIG_CAPTURE_TPROXY && f.protocol == CONFIG_PROTO_UDP &&
	         !f.target_original && !(bad & spec_bit(ss, "target", NULL)))
		loader_error(l, tline,
		             "[%s] target: a captured UDP forward carries each datagram's original "
		             "destination; expected target = original",
		             l->secs[si].name);
	if (f.target_host[0] && f.protocol == CONFIG_PROTO_UDP)
		loader_error(l, tline,
		             "[%s] target: %s:%u is a host name; expected an IP address and port "
		             "for protocol = udp (host names are resolved for TCP only)",
		             l->secs[si].name, f.target_host, f.target_port);
	if (c->n_forwards < CONFIG_MAX_FORWARDS) {
		l->fwd_listen_line[c->n_forwards] = line;
		c->forwards[c->n_forwards++] = f;
	} else {
		loader_error(l, l->secs[si].line,
		             "[%s]: too many forwards; expected at most %d [forward.NAME] sections",
		             l->secs[si].name, CONFIG_MAX_FORWARDS);
	}
}

const struct section_spec config_forward_section = {"forward", SEC_FORWARD, true,
                                                    KEYS(forward_keys), load_forward};
