/* engine_params: what an engine is told, copied out of the config (engine.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "bufgrow.h"
#include "engine.h"
#include "path.h"

void engine_params_from_config(struct engine_params *p, const struct config *c)
{
	memset(p, 0, sizeof *p);
	p->role = c->role;
	p->port = c->port;
	p->transport = c->transport;
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
	p->packet_auth = c->packet_auth;
	p->congestion_control = c->congestion_control;
	p->sndbuf = c->sndbuf;
	p->rcvbuf = c->rcvbuf;
	p->path_mtu = c->path_mtu;
	p->sndbuf_max = bufgrow_max(c->sndbuf, c->buffer_max, c->memory_limit, c->path_mtu);
	p->rcvbuf_max = bufgrow_max(c->rcvbuf, c->buffer_max, c->memory_limit, c->path_mtu);

	/* Best path first: the engine makes the first address primary. */
	size_t order[CONFIG_MAX_PATHS];
	path_order(c, order);
	p->n_addrs = c->n_paths;
	for (size_t i = 0; i < c->n_paths; i++) {
		p->local[i] = c->paths[order[i]].local;
		p->remote[i] = c->paths[order[i]].remote;
	}
}

void engine_params_take_timers(struct engine_params *dst, const struct engine_params *src)
{
	dst->heartbeat_interval_ms = src->heartbeat_interval_ms;
	dst->rto_initial_ms = src->rto_initial_ms;
	dst->rto_min_ms = src->rto_min_ms;
	dst->rto_max_ms = src->rto_max_ms;
	dst->path_max_retrans = src->path_max_retrans;
	dst->pf_threshold = src->pf_threshold;
	dst->assoc_max_retrans = src->assoc_max_retrans;
	dst->delayed_sack_ms = src->delayed_sack_ms;
}

/* Whether A, with its port, is a configured remote address with our SCTP
 * port. */
static bool peer_configured(const struct engine_params *p, const struct sockaddr_storage *a)
{
	if (addr_port(a) != p->port)
		return false;
	struct sockaddr_storage bare = *a;
	addr_set_port(&bare, 0);
	for (size_t j = 0; j < p->n_addrs; j++)
		if (addr_equal(&bare, &p->remote[j]))
			return true;
	return false;
}

/* SA as a sockaddr_storage; an IPv4-mapped IPv6 address (an AF_INET6
 * socket may report one) becomes the IPv4 address it is. */
static struct sockaddr_storage copy_sa(const struct sockaddr *sa)
{
	struct sockaddr_storage a = {0};
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&a;
			s4->sin_family = AF_INET;
			s4->sin_port = s6->sin6_port;
			memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			memcpy(&a, sa, sizeof(struct sockaddr_in6));
		}
	} else if (sa->sa_family == AF_INET) {
		memcpy(&a, sa, sizeof(struct sockaddr_in));
	}
	return a;
}

bool engine_peer_expected(const struct engine_params *p, const struct sockaddr *from,
                          const void *addrs, int n, char *seen, size_t len)
{
	snprintf(seen, len, "unknown");
	if (!from || n <= 0 || !addrs)
		return false;
	struct sockaddr_storage a = copy_sa(from);
	addr_format(&a, seen, len);
	if (!peer_configured(p, &a))
		return false;
	const uint8_t *at = addrs;
	for (int i = 0; i < n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)at;
		if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
			return false;
		a = copy_sa(sa);
		at += sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                : sizeof(struct sockaddr_in);
		if (!peer_configured(p, &a)) {
			addr_format(&a, seen, len);
			return false;
		}
	}
	return true;
}
