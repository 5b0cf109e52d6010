/* engine_params: what an engine is told, copied out of the config (engine.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "engine.h"
#include "path.h"

void engine_params_from_config(struct engine_params *p, const struct config *c)
{
	memset(p, 0, sizeof *p);
	p->role = c->role;
	p->port = c->port;
	p->udp_encap = c->udp_encap == CONFIG_UDP_ENCAP_ON;
	p->udp_encap_port = c->udp_encap_port;
	p->remote_udp_encap_port = c->remote_udp_encap_port;
	p->max_streams = (uint16_t)c->max_streams;
	p->heartbeat_interval_ms = c->heartbeat_interval_ms;
	p->rto_initial_ms = c->rto_initial_ms;
	p->rto_min_ms = c->rto_min_ms;
	p->rto_max_ms = c->rto_max_ms;
	p->path_max_retrans = c->path_max_retrans;
	p->pf_threshold = c->pf_threshold;
	p->assoc_max_retrans = c->assoc_max_retrans;
	p->delayed_sack_ms = c->delayed_sack_ms;
	p->congestion_control = c->congestion_control;
	p->sndbuf = c->sndbuf;
	p->rcvbuf = c->rcvbuf;

	/* Best path first: the engine makes the first address primary. */
	size_t order[CONFIG_MAX_PATHS];
	path_order(c, order);
	p->n_addrs = c->n_paths;
	for (size_t i = 0; i < c->n_paths; i++) {
		p->local[i] = c->paths[order[i]].local;
		p->remote[i] = c->paths[order[i]].remote;
	}
}

bool engine_peer_expected(const struct engine_params *p, const void *addrs, int n, char *seen,
                          size_t len)
{
	bool ok = false;
	snprintf(seen, len, "unknown");
	const uint8_t *at = addrs;
	for (int i = 0; i < n && !ok; i++) {
		struct sockaddr_storage a = {0};
		const struct sockaddr *sa = (const struct sockaddr *)at;
		socklen_t l = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                        : sizeof(struct sockaddr_in);
		memcpy(&a, sa, l);
		at += l;
		if (i == 0)
			addr_format(&a, seen, len);
		if (addr_port(&a) != p->port)
			continue;
		addr_set_port(&a, 0);
		for (size_t j = 0; j < p->n_addrs && !ok; j++)
			ok = addr_equal(&a, &p->remote[j]);
	}
	return ok;
}
