/* udp_bufs: see udp_bufs.h. */
#include "udp_bufs.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

/* Whether FD is a UDP socket bound to PORT. */
static int is_udp_on(int fd, uint16_t port)
{
	int type = 0;
	socklen_t tl = sizeof type;
	struct sockaddr_storage a;
	socklen_t al = sizeof a;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return 0;
	if (a.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&a)->sin_port) == port;
	if (a.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&a)->sin6_port) == port;
	return 0;
}

/* Ask for BYTES; where net.core.*mem_max caps it, force it if we may. */
static void set_buf(int fd, int opt, int force_opt, int bytes)
{
	int got = 0;
	socklen_t len = sizeof got;
	setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == 0 && got < 2 * bytes)
		setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes);
}

int udp_bufs_grow(uint16_t port, int bytes, int *rcvbuf)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	int found = 0;
	*rcvbuf = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dirfd(d) || !is_udp_on((int)fd, port))
			continue;
		set_buf((int)fd, SO_RCVBUF, SO_RCVBUFFORCE, bytes);
		set_buf((int)fd, SO_SNDBUF, SO_SNDBUFFORCE, bytes);
		int got = 0;
		socklen_t len = sizeof got;
		getsockopt((int)fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
		if (!found || got < *rcvbuf)
			*rcvbuf = got;
		found++;
	}
	closedir(d);
	return found;
}
