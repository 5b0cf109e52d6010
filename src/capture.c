/* capture: see capture.h. */
#include "capture.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* After <netinet/in.h>: the kernel headers then leave its types alone. */
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "addr.h"
#include "log.h"
#include "ratelimit.h"

static unsigned long long refused_nodst, refused_loop;

int capture_listener_prepare(int fd, int family, enum config_capture mode)
{
	int on = 1;
	if (mode != CONFIG_CAPTURE_TPROXY)
		return 0;
	int rc = family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &on, sizeof on)
	                            : setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &on, sizeof on);
	return rc < 0 ? -errno : 0;
}

int capture_original_dst(int fd, enum config_capture mode, struct sockaddr_storage *out)
{
	socklen_t len = sizeof *out;
	memset(out, 0, sizeof *out);
	if (mode == CONFIG_CAPTURE_TPROXY)
		return getsockname(fd, (struct sockaddr *)out, &len) < 0 ? -errno : 0;
	/* The family of the accepted socket decides which table to ask. */
	if (getsockname(fd, (struct sockaddr *)out, &len) < 0)
		return -errno;
	int family = out->ss_family;
	len = sizeof *out;
	int rc = family == AF_INET6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, out, &len)
	                            : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, &len);
	if (rc < 0)
		return -errno;
	out->ss_family = (sa_family_t)family;
	return 0;
}

static bool host_is_any(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

static bool host_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return IN6_ARE_ADDR_EQUAL(&((const struct sockaddr_in6 *)a)->sin6_addr,
	                          &((const struct sockaddr_in6 *)b)->sin6_addr);
}

/* This host's interface addresses, read at most once a LOCAL_TTL: a UDP
 * TPROXY listener asks for every datagram, and getifaddrs is a netlink
 * dump. An address added since is seen within LOCAL_TTL. */
#define LOCAL_TTL 1.0 /* s */
static struct {
	struct sockaddr_storage *a;
	size_t n, cap;
	double at;
	bool read; /* at least one getifaddrs succeeded */
} local;

static double mono_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void local_refresh(void)
{
	double now = mono_now();
	if (local.read && now - local.at < LOCAL_TTL)
		return;
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return; /* the last list stays (or none: host_is_local refuses) */
	local.n = 0;
	for (struct ifaddrs *i = list; i; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		if (local.n == local.cap) {
			size_t cap = local.cap ? 2 * local.cap : 16;
			struct sockaddr_storage *grown = realloc(local.a, cap * sizeof *grown);
			if (!grown)
				break;
			local.a = grown;
			local.cap = cap;
		}
		struct sockaddr_storage *s = &local.a[local.n++];
		memset(s, 0, sizeof *s);
		memcpy(s, i->ifa_addr,
		       fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}
	freeifaddrs(list);
	local.at = now;
	local.read = true;
}

/* A is an address of this host: loopback, or on one of its interfaces.
 * (Not a bind() test: with ip_nonlocal_bind set every address binds.) */
static bool host_is_local(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127)
		return true;
	if (a->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr))
		return true;
	local_refresh();
	if (!local.read)
		return true; /* cannot tell: refusing is the safe side */
	for (size_t i = 0; i < local.n; i++)
		if (local.a[i].ss_family == a->ss_family && host_equal(&local.a[i], a))
			return true;
	return false;
}

bool capture_is_own(const struct sockaddr_storage *dst, const struct sockaddr_storage *own,
                    size_t n)
{
	struct sockaddr_storage d = addr_unmapped(dst);
	bool local_known = false, local = false;

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage o = addr_unmapped(&own[i]);
		if (o.ss_family != d.ss_family || addr_port(&o) != addr_port(&d))
			continue;
		if (host_equal(&o, &d))
			return true;
		if (!host_is_any(&o))
			continue;
		if (!local_known) {
			local = host_is_local(&d);
			local_known = true;
		}
		if (local)
			return true;
	}
	return false;
}

int capture_destination(int fd, enum config_capture mode, const char *fwd,
                        const struct sockaddr_storage *own, size_t n_own,
                        struct sockaddr_storage *out)
{
	char who[ADDR_STRLEN] = "?", dst[ADDR_STRLEN];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		addr_format(&peer, who, sizeof who);

	int rc = capture_original_dst(fd, mode, out);
	if (rc < 0) {
		refused_nodst++;
		/* ENOENT: conntrack has no NAT for it, so it came straight
		 * to the listener; carrying it to "original" (the listener
		 * itself) would loop. */
		log_warn_limited("forward %s: resetting client %s: no original destination (%s); "
		                 "target = original carries only connections that capture = %s "
		                 "brought here (%llu refused so far)",
		                 fwd, who,
		                 rc == -ENOENT ? "not redirected by netfilter" : strerror(-rc),
		                 config_capture_name(mode), refused_nodst);
		return -ENOENT;
	}
	if (capture_is_own(out, own, n_own)) {
		char action[ADDR_STRLEN + 32];
		snprintf(action, sizeof action, "resetting client %s", who);
		capture_refuse_loop(fwd, action, out);
		return -ELOOP;
	}
	log_debug("forward %s: client %s captured (%s), original destination %s", fwd, who,
	          config_capture_name(mode), addr_format(out, dst, sizeof dst));
	return 0;
}

void capture_refuse_loop(const char *fwd, const char *action, const struct sockaddr_storage *dst)
{
	char text[ADDR_STRLEN];
	refused_loop++;
	log_warn_limited("forward %s: %s: its original destination %s is a listen address of "
	                 "this gateway (it would loop; %llu refused so far)",
	                 fwd, action, addr_format(dst, text, sizeof text), refused_loop);
}

unsigned long long capture_refused_nodst_total(void)
{
	return refused_nodst;
}

unsigned long long capture_refused_loop_total(void)
{
	return refused_loop;
}
