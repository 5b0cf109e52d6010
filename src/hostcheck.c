/* hostcheck: see hostcheck.h. */
#include "hostcheck.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

/* Bind a socket of TYPE/PROTO to A; 0 or -errno. V6ONLY keeps an IPv6
 * wildcard from also claiming IPv4 (usrsctp binds both families apart). */
static int try_bind(const struct sockaddr_storage *a, int type, int proto)
{
	int fd = socket(a->ss_family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	int on = 1, rc = 0;
	if (a->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (bind(fd, (const struct sockaddr *)a, addr_len(a)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int hostcheck_paths(const struct config *c)
{
	int rc = 0;
	for (size_t i = 0; i < c->n_paths; i++) {
		const struct config_path *p = &c->paths[i];
		int err = try_bind(&p->local, SOCK_DGRAM, 0);
		if (err != -EADDRNOTAVAIL)
			continue; /* present; other errors are the engine's to report */
		char text[ADDR_STRLEN];
		log_error("[path.%s] local = %s is not an address of this host (%s): the "
		          "association cannot use this path; give the address to an interface "
		          "(`ip addr` lists them; an IPv6 address still in duplicate address "
		          "detection counts as absent) or correct the configuration",
		          p->name, addr_format(&p->local, text, sizeof text), strerror(-err));
		rc = err;
	}
	return rc;
}

static void wildcard(struct sockaddr_storage *a, int family, uint16_t port)
{
	memset(a, 0, sizeof *a);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)a;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
	}
	addr_set_port(a, port);
}

int hostcheck_udp_port(const struct engine_params *p)
{
	bool fam4 = false, fam6 = false;
	for (size_t i = 0; i < p->n_addrs; i++) {
		fam4 |= p->local[i].ss_family == AF_INET;
		fam6 |= p->local[i].ss_family == AF_INET6;
	}
	const int families[] = {fam4 ? AF_INET : 0, fam6 ? AF_INET6 : 0};
	for (size_t f = 0; f < 2; f++) {
		if (!families[f])
			continue;
		struct sockaddr_storage a;
		wildcard(&a, families[f], p->udp_encap_port);
		int err = try_bind(&a, SOCK_DGRAM, IPPROTO_UDP);
		if (err == -EADDRINUSE) {
			log_error("UDP port %u (udp_encap_port, %s) is in use by another program: "
			          "SCTP over UDP cannot run here; `ss -ulpn 'sport = :%u'` shows "
			          "who holds it; stop that program or choose another "
			          "udp_encap_port (and the peer's remote_udp_encap_port)",
			          p->udp_encap_port, families[f] == AF_INET ? "IPv4" : "IPv6",
			          p->udp_encap_port);
			return err;
		}
		if (err == -EACCES) {
			log_error("UDP port %u (udp_encap_port): %s: a port below 1024 needs root "
			          "or CAP_NET_BIND_SERVICE",
			          p->udp_encap_port, strerror(-err));
			return err;
		}
	}
	return 0;
}

int hostcheck_sctp_port(const struct engine_params *p)
{
	for (size_t i = 0; i < p->n_addrs; i++) {
		struct sockaddr_storage a = p->local[i];
		addr_set_port(&a, p->port);
		int err = try_bind(&a, SOCK_STREAM, IPPROTO_SCTP);
		if (err == -EADDRINUSE) {
			char text[ADDR_STRLEN];
			log_error("SCTP port %u ([association] port) on %s is in use by another "
			          "program: the kernel engine cannot bind it; `ss -Slpn` shows who "
			          "holds it; stop that program or choose another port (the same on "
			          "both gateways)",
			          p->port, addr_format(&p->local[i], text, sizeof text));
			return err;
		}
	}
	return 0;
}
