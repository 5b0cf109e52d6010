/* Unit tests for udp_bufs: growing the buffers of sockets found by port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_bufs.h"

/* A socket of TYPE bound to an ephemeral loopback port; *PORT set. */
static int bound_socket(int type, uint16_t *port)
{
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int rcvbuf_of(int fd)
{
	int v = 0;
	socklen_t len = sizeof v;
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	return v;
}

static void udp_bufs_grow__udp_socket_on_port__gets_the_bigger_buffer(void **state)
{
	(void)state;
	uint16_t port;
	int fd = bound_socket(SOCK_DGRAM, &port);
	int small = 8192, granted = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	int before = rcvbuf_of(fd);
	/* 64 KiB: under any net.core.rmem_max, so no privilege is needed. */
	assert_int_equal(udp_bufs_grow(port, 65536, &granted), 1);
	assert_true(rcvbuf_of(fd) > before);
	assert_int_equal(granted, rcvbuf_of(fd));
	assert_true(granted >= 65536);
	close(fd);
}

static void udp_bufs_grow__tcp_socket_on_same_port__is_left_alone(void **state)
{
	(void)state;
	uint16_t port;
	int fd = bound_socket(SOCK_STREAM, &port);
	int small = 8192, granted = -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	int before = rcvbuf_of(fd);
	assert_int_equal(udp_bufs_grow(port, 65536, &granted), 0);
	assert_int_equal(rcvbuf_of(fd), before);
	close(fd);
}

static void udp_bufs_grow__no_socket_on_port__finds_none(void **state)
{
	(void)state;
	uint16_t port;
	int fd = bound_socket(SOCK_DGRAM, &port);
	int granted = -1;
	assert_int_equal(udp_bufs_grow((uint16_t)(port == 65535 ? 1 : port + 1), 65536, &granted),
	                 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(udp_bufs_grow__udp_socket_on_port__gets_the_bigger_buffer),
	    cmocka_unit_test(udp_bufs_grow__tcp_socket_on_same_port__is_left_alone),
	    cmocka_unit_test(udp_bufs_grow__no_socket_on_port__finds_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
