/*
 * Unit tests for frame: the wire codec.
 *
 * Every decode runs over a heap copy of exactly LEN bytes, so a read past
 * the end shows up under valgrind and -fsanitize=address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* --- helpers --------------------------------------------------------- */

/* frame_decode over an exact-size heap copy of BUF[0..LEN). */
static int decode_exact(const uint8_t *buf, size_t len, struct frame *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	int rc = frame_decode(copy, len, out);
	/* DATA and DGRAM point into the buffer: keep the answer usable after free. */
	if (rc == 0 && (out->type == FRAME_DATA || out->type == FRAME_DGRAM))
		out->u.data.bytes = buf + (out->u.data.bytes - copy);
	free(copy);
	return rc;
}

static size_t encode_ok(const struct frame *f, uint8_t *out, size_t cap)
{
	ssize_t n = frame_encode(f, out, cap);
	assert_true(n >= FRAME_HEADER_LEN);
	return (size_t)n;
}

static struct frame hello_frame(uint8_t role, const char *name)
{
	struct frame f = {.type = FRAME_HELLO};
	f.u.hello.version_min = 1;
	f.u.hello.version_max = 3;
	f.u.hello.role = role;
	f.u.hello.features = 0xa1b2c3d4u;
	f.u.hello.streams = 0x1234;
	snprintf(f.u.hello.name, sizeof f.u.hello.name, "%s", name);
	f.u.hello.has_auth = true;
	for (size_t i = 0; i < FRAME_NONCE_LEN; i++)
		f.u.hello.nonce[i] = (uint8_t)(0xe0 + i);
	f.u.hello.n_key_ids = *name ? 1 : 0;
	for (size_t i = 0; i < FRAME_KEYID_LEN; i++)
		f.u.hello.key_ids[0][i] = (uint8_t)(0x10 + i);
	return f;
}

static struct frame auth_frame(void)
{
	struct frame f = {.type = FRAME_AUTH};
	for (size_t i = 0; i < FRAME_PROOF_LEN; i++)
		f.u.proof[i] = (uint8_t)(0x80 + i);
	return f;
}

static struct frame rekey_frame(uint8_t kind)
{
	struct frame f = {.type = FRAME_REKEY};
	f.u.rekey.kind = kind;
	f.u.rekey.status = kind == FRAME_REKEY_ACK ? FRAME_REKEY_NO_KEY : 0;
	for (size_t i = 0; i < FRAME_KEYID_LEN; i++)
		f.u.rekey.key_id[i] = (uint8_t)(0x10 + i);
	for (size_t i = 0; i < FRAME_NONCE_LEN; i++)
		f.u.rekey.nonce[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < FRAME_PROOF_LEN; i++)
		f.u.rekey.proof[i] = (uint8_t)(0x80 + i);
	return f;
}

static struct frame open4_frame(void)
{
	struct frame f = {.type = FRAME_OPEN};
	struct sockaddr_in *sin = (struct sockaddr_in *)&f.u.open.target;
	f.u.open.window = 0x00040000; /* 256 KiB */
	sin->sin_family = AF_INET;
	sin->sin_port = htons(8080);
	inet_pton(AF_INET, "198.51.100.7", &sin->sin_addr);
	snprintf(f.u.open.name, sizeof f.u.open.name, "web");
	return f;
}

static struct frame open6_frame(void)
{
	struct frame f = {.type = FRAME_OPEN};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f.u.open.target;
	f.u.open.window = 0xffffffffu;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(65535);
	inet_pton(AF_INET6, "2001:db8::42", &sin6->sin6_addr);
	snprintf(f.u.open.name, sizeof f.u.open.name, "ssh-v6");
	return f;
}

static struct frame open_host_frame(const char *host, uint16_t port)
{
	struct frame f = {.type = FRAME_OPEN};
	f.u.open.window = 4096;
	snprintf(f.u.open.host, sizeof f.u.open.host, "%s", host);
	f.u.open.host_port = port;
	snprintf(f.u.open.name, sizeof f.u.open.name, "db");
	return f;
}

static const uint8_t data_payload[] = "hello, \0binary\xff world";

static struct frame data_frame(void)
{
	struct frame f = {.type = FRAME_DATA};
	f.u.data.bytes = data_payload;
	f.u.data.len = sizeof data_payload;
	return f;
}

static struct frame simple_frame(enum frame_type t)
{
	struct frame f = {.type = t};
	return f;
}

static struct frame open_ok_frame(uint32_t window)
{
	struct frame f = {.type = FRAME_OPEN_OK};
	f.u.window = window;
	return f;
}

static struct frame credit_frame(uint32_t increment)
{
	struct frame f = {.type = FRAME_CREDIT};
	f.u.credit = increment;
	return f;
}

static struct frame rst_frame(enum frame_rst_reason r)
{
	struct frame f = {.type = FRAME_RST};
	f.u.rst = r;
	return f;
}

/* Every frame type once (RST once per reason) for the loops below. */
static size_t all_frames(struct frame *out)
{
	size_t n = 0;
	out[n++] = hello_frame(FRAME_ROLE_CONNECT, "site-a");
	out[n++] = hello_frame(FRAME_ROLE_ACCEPT, "");
	out[n++] = auth_frame();
	out[n++] = open4_frame();
	out[n++] = open6_frame();
	out[n++] = open_host_frame("db.internal", 5432);
	out[n++] = open_ok_frame(1);
	out[n++] = open_ok_frame(0xffffffffu);
	out[n++] = data_frame();
	out[n++] = simple_frame(FRAME_FIN);
	for (int r = FRAME_RST_OTHER; r < FRAME_RST_MAX_; r++)
		out[n++] = rst_frame((enum frame_rst_reason)r);
	out[n++] = simple_frame(FRAME_CLOSED);
	out[n++] = simple_frame(FRAME_GOAWAY);
	for (uint8_t k = FRAME_REKEY_REQUEST; k <= FRAME_REKEY_CONFIRM; k++)
		out[n++] = rekey_frame(k);
	out[n++] = credit_frame(1);
	out[n++] = credit_frame(0x12345678u);
	return n;
}

/* The shortest prefix of an encoding that still decodes: DATA carries no
 * length of its own (the SCTP message delimits it), so any prefix that keeps
 * one payload byte is a valid, shorter DATA frame. */
static size_t shortest_valid_prefix(const struct frame *f, size_t len)
{
	if (f->type == FRAME_HELLO) /* cut after the name: a version 2 HELLO */
		return FRAME_HEADER_LEN + 14 + strlen(f->u.hello.name);
	return f->type == FRAME_DATA ? FRAME_HEADER_LEN + 1 : len;
}

static void assert_same_frame(const struct frame *a, const struct frame *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case FRAME_HELLO:
		assert_int_equal(a->u.hello.version_min, b->u.hello.version_min);
		assert_int_equal(a->u.hello.version_max, b->u.hello.version_max);
		assert_int_equal(a->u.hello.role, b->u.hello.role);
		assert_int_equal(a->u.hello.features, b->u.hello.features);
		assert_int_equal(a->u.hello.streams, b->u.hello.streams);
		assert_string_equal(a->u.hello.name, b->u.hello.name);
		assert_int_equal(a->u.hello.has_auth, b->u.hello.has_auth);
		assert_memory_equal(a->u.hello.nonce, b->u.hello.nonce, FRAME_NONCE_LEN);
		assert_int_equal(a->u.hello.n_key_ids, b->u.hello.n_key_ids);
		assert_memory_equal(a->u.hello.key_ids, b->u.hello.key_ids,
		                    a->u.hello.n_key_ids * FRAME_KEYID_LEN);
		break;
	case FRAME_AUTH:
		assert_memory_equal(a->u.proof, b->u.proof, FRAME_PROOF_LEN);
		break;
	case FRAME_REKEY:
		assert_memory_equal(&a->u.rekey, &b->u.rekey, sizeof a->u.rekey);
		break;
	case FRAME_OPEN:
		assert_int_equal(a->u.open.window, b->u.open.window);
		assert_int_equal(a->u.open.target.ss_family, b->u.open.target.ss_family);
		if (a->u.open.target.ss_family == AF_UNSPEC) {
			assert_string_equal(a->u.open.host, b->u.open.host);
			assert_int_equal(a->u.open.host_port, b->u.open.host_port);
		} else if (a->u.open.target.ss_family == AF_INET) {
			const struct sockaddr_in *x = (const struct sockaddr_in *)&a->u.open.target;
			const struct sockaddr_in *y = (const struct sockaddr_in *)&b->u.open.target;
			assert_int_equal(x->sin_port, y->sin_port);
			assert_memory_equal(&x->sin_addr, &y->sin_addr, 4);
		} else {
			const struct sockaddr_in6 *x =
			    (const struct sockaddr_in6 *)&a->u.open.target;
			const struct sockaddr_in6 *y =
			    (const struct sockaddr_in6 *)&b->u.open.target;
			assert_int_equal(x->sin6_port, y->sin6_port);
			assert_memory_equal(&x->sin6_addr, &y->sin6_addr, 16);
		}
		assert_string_equal(a->u.open.name, b->u.open.name);
		break;
	case FRAME_DATA:
		assert_int_equal(a->u.data.len, b->u.data.len);
		assert_memory_equal(a->u.data.bytes, b->u.data.bytes, a->u.data.len);
		break;
	case FRAME_RST:
		assert_int_equal(a->u.rst, b->u.rst);
		break;
	case FRAME_OPEN_OK:
		assert_int_equal(a->u.window, b->u.window);
		break;
	case FRAME_CREDIT:
		assert_int_equal(a->u.credit, b->u.credit);
		break;
	default:
		break;
	}
}

/* A valid HELLO as raw bytes, to corrupt one field at a time. */
static size_t raw_hello(uint8_t *b, const char *name)
{
	size_t n = 0, nl = strlen(name);
	b[n++] = FRAME_HELLO;
	b[n++] = 0;
	b[n++] = 0x53, b[n++] = 0x47, b[n++] = 0x57, b[n++] = 0x31; /* "SGW1" */
	b[n++] = FRAME_VERSION;                                     /* version_min */
	b[n++] = FRAME_VERSION;                                     /* version_max */
	b[n++] = FRAME_ROLE_CONNECT;
	b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = 0; /* features */
	b[n++] = 0, b[n++] = 3;                         /* streams */
	b[n++] = (uint8_t)nl;
	memcpy(b + n, name, nl);
	return n + nl;
}
#define HELLO_OFF_MAGIC   2
#define HELLO_OFF_VMIN    6
#define HELLO_OFF_VMAX    7
#define HELLO_OFF_ROLE    8
#define HELLO_OFF_STREAMS 13
#define HELLO_OFF_NAMELEN 15

/* A valid OPEN for 192.0.2.1:80, window 65536, as raw bytes. */
static size_t raw_open4(uint8_t *b, const char *name)
{
	size_t n = 0, nl = strlen(name);
	b[n++] = FRAME_OPEN;
	b[n++] = 0;
	b[n++] = 0, b[n++] = 1, b[n++] = 0, b[n++] = 0; /* window */
	b[n++] = 4;
	b[n++] = 0, b[n++] = 80;
	b[n++] = 192, b[n++] = 0, b[n++] = 2, b[n++] = 1;
	b[n++] = (uint8_t)nl;
	memcpy(b + n, name, nl);
	return n + nl;
}
#define OPEN_OFF_WINDOW  2
#define OPEN_OFF_FAMILY  6
#define OPEN_OFF_PORT    7
#define OPEN_OFF_NAMELEN 13

/* --- round trips ----------------------------------------------------- */

static void frame_encode__every_type__round_trips(void **state)
{
	(void)state;
	struct frame fs[32], got;
	uint8_t buf[FRAME_MAX];
	size_t n = all_frames(fs);
	for (size_t i = 0; i < n; i++) {
		size_t len = encode_ok(&fs[i], buf, sizeof buf);
		assert_int_equal(decode_exact(buf, len, &got), 0);
		assert_same_frame(&fs[i], &got);
		assert_int_equal(got.flags, 0);
	}
}

static void frame_encode__hello__has_the_documented_layout(void **state)
{
	(void)state;
	struct frame f = hello_frame(FRAME_ROLE_ACCEPT, "gw");
	uint8_t buf[256];
	/* clang-format off */
	static const uint8_t want[] = {
		FRAME_HELLO, 0,		/* type, flags */
		'S', 'G', 'W', '1',	/* magic */
		1, 3,			/* version_min, version_max */
		FRAME_ROLE_ACCEPT,
		0xa1, 0xb2, 0xc3, 0xd4,	/* features */
		0x12, 0x34,		/* streams */
		2, 'g', 'w',		/* name */
		/* version 3: nonce, key id count, key ids */
		0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
		0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
		1,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	};
	/* clang-format on */
	assert_int_equal(frame_encode(&f, buf, sizeof buf), sizeof want);
	assert_memory_equal(buf, want, sizeof want);
}

/* REKEY: 74 bytes of body, every field at its place; kind 0 or 4 is
 * malformed, as is a short or long body. */
static void frame_rekey__layout_and_bad_kind_or_length__rejected(void **state)
{
	(void)state;
	struct frame f = rekey_frame(FRAME_REKEY_ACK), got;
	uint8_t buf[128];
	size_t len = encode_ok(&f, buf, sizeof buf);
	assert_int_equal(len, FRAME_HEADER_LEN + 2 + FRAME_KEYID_LEN + FRAME_NONCE_LEN +
	                          FRAME_PROOF_LEN);
	assert_int_equal(buf[0], 0x04);
	assert_int_equal(buf[2], FRAME_REKEY_ACK);
	assert_int_equal(buf[3], FRAME_REKEY_NO_KEY);
	assert_int_equal(buf[4], 0x10);
	assert_int_equal(buf[4 + FRAME_KEYID_LEN], 0x40);
	assert_int_equal(buf[4 + FRAME_KEYID_LEN + FRAME_NONCE_LEN], 0x80);
	assert_string_equal(frame_type_name(FRAME_REKEY), "REKEY");
	buf[2] = 0;
	assert_int_equal(decode_exact(buf, len, &got), -EBADMSG);
	buf[2] = 4;
	assert_int_equal(decode_exact(buf, len, &got), -EBADMSG);
	buf[2] = FRAME_REKEY_CONFIRM;
	assert_int_equal(decode_exact(buf, len, &got), 0);
	assert_int_equal(decode_exact(buf, len - 1, &got), -EBADMSG);
	buf[len] = 0;
	assert_int_equal(decode_exact(buf, len + 1, &got), -EBADMSG);
}

static void frame_dgram__empty_and_max_sizes__round_trip_larger_is_rejected(void **state)
{
	(void)state;
	uint8_t *buf = malloc(FRAME_MAX + 1);
	assert_non_null(buf);
	struct frame got;
	frame_dgram_header(buf);
	assert_int_equal(buf[0], 0x17);
	/* An empty UDP datagram is a datagram (unlike an empty DATA frame). */
	assert_int_equal(decode_exact(buf, FRAME_HEADER_LEN, &got), 0);
	assert_int_equal(got.type, FRAME_DGRAM);
	assert_int_equal(got.u.data.len, 0);
	for (size_t i = 0; i < FRAME_DATA_MAX + 1; i++)
		buf[FRAME_HEADER_LEN + i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(frame_decode(buf, FRAME_MAX, &got), 0);
	assert_int_equal(got.u.data.len, FRAME_DATA_MAX);
	uint8_t *re = malloc(FRAME_MAX + 1);
	assert_non_null(re);
	assert_int_equal(frame_encode(&got, re, FRAME_MAX + 1), FRAME_MAX);
	assert_memory_equal(re, buf, FRAME_MAX);
	got.u.data.len = FRAME_DATA_MAX + 1;
	assert_int_equal(frame_encode(&got, re, FRAME_MAX + 1), -EINVAL);
	assert_int_equal(frame_decode(buf, FRAME_MAX + 1, &got), -EBADMSG);
	assert_string_equal(frame_type_name(FRAME_DGRAM), "DGRAM");
	free(re);
	free(buf);
}

static void frame_open__datagram_flag__round_trips_other_flags_are_not_sent(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct frame f = open4_frame(), got;
	f.flags = FRAME_OPEN_DATAGRAM;
	ssize_t n = frame_encode(&f, buf, sizeof buf);
	assert_true(n > 2);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(decode_exact(buf, (size_t)n, &got), 0);
	assert_int_equal(got.flags & FRAME_OPEN_DATAGRAM, FRAME_OPEN_DATAGRAM);
	f.flags = 0xfe; /* reserved bits */
	assert_int_equal(frame_encode(&f, buf, sizeof buf), n);
	assert_int_equal(buf[1], 0);
	/* Flags of other frames stay reserved: sent 0. */
	struct frame rst = {.type = FRAME_RST, .flags = 0x01, .u.rst = FRAME_RST_TIMEOUT};
	assert_int_equal(frame_encode(&rst, buf, sizeof buf), 3);
	assert_int_equal(buf[1], 0);
}

static void frame_encode__open_v4_and_v6__have_the_documented_layout(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct frame f4 = open4_frame();
	/* clang-format off */
	static const uint8_t want4[] = {
		FRAME_OPEN, 0,
		0, 4, 0, 0,		/* window 256 KiB */
		4, 0x1f, 0x90,		/* family, port 8080 */
		198, 51, 100, 7,
		3, 'w', 'e', 'b',
	};
	/* clang-format on */
	assert_int_equal(frame_encode(&f4, buf, sizeof buf), sizeof want4);
	assert_memory_equal(buf, want4, sizeof want4);

	struct frame f6 = open6_frame();
	/* clang-format off */
	static const uint8_t want6[] = {
		FRAME_OPEN, 0,
		0xff, 0xff, 0xff, 0xff,	/* window */
		6, 0xff, 0xff,		/* family, port 65535 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42,
		6, 's', 's', 'h', '-', 'v', '6',
	};
	/* clang-format on */
	assert_int_equal(frame_encode(&f6, buf, sizeof buf), sizeof want6);
	assert_memory_equal(buf, want6, sizeof want6);
}

static void frame_encode__open_ok_and_credit__carry_a_u32_after_the_header(void **state)
{
	(void)state;
	uint8_t buf[16];
	struct frame ok = open_ok_frame(0x01020304u);
	assert_int_equal(frame_encode(&ok, buf, sizeof buf), 6);
	assert_memory_equal(buf, ((uint8_t[]){FRAME_OPEN_OK, 0, 1, 2, 3, 4}), 6);
	struct frame cr = credit_frame(0xa0b0c0d0u);
	assert_int_equal(frame_encode(&cr, buf, sizeof buf), 6);
	assert_memory_equal(buf, ((uint8_t[]){FRAME_CREDIT, 0, 0xa0, 0xb0, 0xc0, 0xd0}), 6);
}

static void frame_encode__control_frames__are_header_only(void **state)
{
	(void)state;
	uint8_t buf[16];
	enum frame_type ts[] = {FRAME_FIN, FRAME_CLOSED};
	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		struct frame f = simple_frame(ts[i]);
		assert_int_equal(frame_encode(&f, buf, sizeof buf), 2);
		assert_int_equal(buf[0], ts[i]);
		assert_int_equal(buf[1], 0);
	}
	struct frame r = rst_frame(FRAME_RST_REFUSED);
	assert_int_equal(frame_encode(&r, buf, sizeof buf), 3);
	assert_int_equal(buf[2], FRAME_RST_REFUSED);
}

static void frame_encode__name_of_63_chars__round_trips(void **state)
{
	(void)state;
	char name[FRAME_NAME_MAX + 1];
	memset(name, 'n', FRAME_NAME_MAX);
	name[FRAME_NAME_MAX] = '\0';
	struct frame f = hello_frame(FRAME_ROLE_CONNECT, name), got;
	uint8_t buf[128];
	size_t len = encode_ok(&f, buf, sizeof buf);
	assert_int_equal(decode_exact(buf, len, &got), 0);
	assert_string_equal(got.u.hello.name, name);

	struct frame o = open4_frame();
	memcpy(o.u.open.name, name, sizeof name);
	len = encode_ok(&o, buf, sizeof buf);
	assert_int_equal(decode_exact(buf, len, &got), 0);
	assert_string_equal(got.u.open.name, name);
}

static void frame_encode__data_of_frame_data_max__round_trips(void **state)
{
	(void)state;
	uint8_t *payload = malloc(FRAME_DATA_MAX), *buf = malloc(FRAME_MAX);
	assert_non_null(payload);
	assert_non_null(buf);
	for (size_t i = 0; i < FRAME_DATA_MAX; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	struct frame f = {.type = FRAME_DATA}, got;
	f.u.data.bytes = payload;
	f.u.data.len = FRAME_DATA_MAX;
	assert_int_equal(frame_encode(&f, buf, FRAME_MAX), FRAME_MAX);
	assert_int_equal(frame_decode(buf, FRAME_MAX, &got), 0);
	assert_int_equal(got.u.data.len, FRAME_DATA_MAX);
	assert_ptr_equal(got.u.data.bytes, buf + FRAME_HEADER_LEN);
	assert_memory_equal(got.u.data.bytes, payload, FRAME_DATA_MAX);
	free(payload);
	free(buf);
}

static void frame_data_header__then_payload__decodes_as_data(void **state)
{
	(void)state;
	uint8_t buf[8];
	struct frame got;
	frame_data_header(buf);
	memcpy(buf + FRAME_HEADER_LEN, "abc", 3);
	assert_int_equal(decode_exact(buf, 5, &got), 0);
	assert_int_equal(got.type, FRAME_DATA);
	assert_int_equal(got.u.data.len, 3);
	assert_memory_equal(got.u.data.bytes, "abc", 3);
}

static void frame_decode__nonzero_flags__are_ignored(void **state)
{
	(void)state;
	struct frame fs[32], got;
	uint8_t buf[FRAME_MAX];
	size_t n = all_frames(fs);
	for (size_t i = 0; i < n; i++) {
		size_t len = encode_ok(&fs[i], buf, sizeof buf);
		buf[1] = 0xa5;
		assert_int_equal(decode_exact(buf, len, &got), 0);
		assert_same_frame(&fs[i], &got);
	}
}

/* --- truncation and trailing bytes ----------------------------------- */

static void frame_decode__every_truncation_of_every_frame__is_rejected(void **state)
{
	(void)state;
	struct frame fs[32], got;
	uint8_t buf[FRAME_MAX];
	size_t n = all_frames(fs);
	for (size_t i = 0; i < n; i++) {
		size_t len = encode_ok(&fs[i], buf, sizeof buf);
		size_t shortest = shortest_valid_prefix(&fs[i], len);
		for (size_t cut = 0; cut < shortest; cut++) {
			int rc = decode_exact(buf, cut, &got);
			if (rc != -EBADMSG)
				fail_msg("%s cut to %zu of %zu bytes: got %d, want -EBADMSG",
				         frame_type_name(fs[i].type), cut, len, rc);
		}
	}
}

static void frame_decode__one_trailing_byte_on_any_frame__is_rejected(void **state)
{
	(void)state;
	struct frame fs[32], got;
	uint8_t buf[FRAME_MAX + 1];
	size_t n = all_frames(fs);
	for (size_t i = 0; i < n; i++) {
		if (fs[i].type == FRAME_DATA)
			continue; /* a longer DATA frame is just more payload */
		size_t len = encode_ok(&fs[i], buf, sizeof buf);
		for (unsigned extra = 1; extra <= 3; extra++) {
			memset(buf + len, 0, extra);
			int rc = decode_exact(buf, len + extra, &got);
			if (rc != -EBADMSG)
				fail_msg("%s plus %u bytes: got %d, want -EBADMSG",
				         frame_type_name(fs[i].type), extra, rc);
		}
	}
}

/* --- bad fields ------------------------------------------------------ */

static void frame_decode__hello_with_bad_magic__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_hello(b, "gw");
	assert_int_equal(decode_exact(b, len, &got), 0);
	for (size_t i = 0; i < 4; i++) {
		size_t n = raw_hello(b, "gw");
		b[HELLO_OFF_MAGIC + i] ^= 0x01;
		assert_int_equal(decode_exact(b, n, &got), -EBADMSG);
	}
}

static void frame_decode__hello_with_version_min_0__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_hello(b, "gw");
	b[HELLO_OFF_VMIN] = 0;
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
}

static void frame_decode__hello_with_min_above_max__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_hello(b, "gw");
	b[HELLO_OFF_VMIN] = 3;
	b[HELLO_OFF_VMAX] = 2;
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	/* min == max is fine, and versions we do not speak still decode: the
	 * association, not the codec, decides about them. */
	b[HELLO_OFF_VMIN] = 7;
	b[HELLO_OFF_VMAX] = 7;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(got.u.hello.version_min, 7);
}

static void frame_decode__hello_with_fewer_than_3_streams__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_hello(b, "gw");
	for (unsigned n = 0; n < 3; n++) {
		b[HELLO_OFF_STREAMS + 1] = (uint8_t)n;
		assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	}
	b[HELLO_OFF_STREAMS + 1] = 3;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(got.u.hello.streams, 3);
	b[HELLO_OFF_STREAMS] = 0xff;
	b[HELLO_OFF_STREAMS + 1] = 0xff;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(got.u.hello.streams, 65535);
}

static void frame_decode__hello_with_bad_role__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_hello(b, "gw");
	uint8_t bad[] = {0, 3, 0x81, 0xff};
	for (size_t i = 0; i < sizeof bad; i++) {
		b[HELLO_OFF_ROLE] = bad[i];
		assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	}
	b[HELLO_OFF_ROLE] = FRAME_ROLE_ACCEPT;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(got.u.hello.role, FRAME_ROLE_ACCEPT);
}

static void frame_decode__open_with_bad_family__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_open4(b, "web");
	assert_int_equal(decode_exact(b, len, &got), 0);
	/* 2 and 10 are AF_INET and AF_INET6: the wire says 4 and 6 (and 0
	 * for a host name, tested on its own). */
	uint8_t bad[] = {1, 2, 5, 7, 10, 0xff};
	for (size_t i = 0; i < sizeof bad; i++) {
		b[OPEN_OFF_FAMILY] = bad[i];
		assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
		/* Also when nothing follows the port, so no other check can
		 * be what rejects it. */
		assert_int_equal(decode_exact(b, OPEN_OFF_PORT + 2, &got), -EBADMSG);
	}
}

static void frame_decode__open_with_port_0__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_open4(b, "web");
	b[OPEN_OFF_PORT] = 0;
	b[OPEN_OFF_PORT + 1] = 0;
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	b[OPEN_OFF_PORT + 1] = 1;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&got.u.open.target)->sin_port), 1);
}

static void frame_decode__zero_window_or_zero_credit__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	size_t len = raw_open4(b, "web");
	memset(b + OPEN_OFF_WINDOW, 0, 4);
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	b[OPEN_OFF_WINDOW + 3] = 1;
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_int_equal(got.u.open.window, 1);

	uint8_t ok[6] = {FRAME_OPEN_OK, 0, 0, 0, 0, 0};
	uint8_t cr[6] = {FRAME_CREDIT, 0, 0, 0, 0, 0};
	assert_int_equal(decode_exact(ok, sizeof ok, &got), -EBADMSG);
	assert_int_equal(decode_exact(cr, sizeof cr, &got), -EBADMSG);
	ok[5] = cr[5] = 1;
	assert_int_equal(decode_exact(ok, sizeof ok, &got), 0);
	assert_int_equal(got.u.window, 1);
	assert_int_equal(decode_exact(cr, sizeof cr, &got), 0);
	assert_int_equal(got.u.credit, 1);
}

static void frame_decode__name_longer_than_63__is_rejected(void **state)
{
	(void)state;
	char name[FRAME_NAME_MAX + 2];
	uint8_t b[256];
	struct frame got;
	memset(name, 'x', FRAME_NAME_MAX + 1);
	name[FRAME_NAME_MAX + 1] = '\0';

	size_t len = raw_hello(b, name); /* length byte 64, 64 name bytes */
	assert_int_equal(b[HELLO_OFF_NAMELEN], 64);
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
	len = raw_open4(b, name);
	assert_int_equal(decode_exact(b, len, &got), -EBADMSG);

	/* A length byte of 255 with 255 bytes behind it, too. */
	uint8_t big[512];
	len = raw_hello(big, "");
	big[HELLO_OFF_NAMELEN] = 255;
	memset(big + len, 'y', 255);
	assert_int_equal(decode_exact(big, len + 255, &got), -EBADMSG);
}

static void frame_decode__non_printable_name_byte__is_rejected(void **state)
{
	(void)state;
	uint8_t b[128];
	struct frame got;
	uint8_t bad[] = {0x00, 0x09, 0x0a, 0x1f, ' ', 0x7f, 0x80, 0xc3, 0xff};
	for (size_t i = 0; i < sizeof bad; i++) {
		for (size_t pos = 0; pos < 3; pos++) {
			size_t len = raw_hello(b, "abc");
			b[HELLO_OFF_NAMELEN + 1 + pos] = bad[i];
			assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
			len = raw_open4(b, "abc");
			b[OPEN_OFF_NAMELEN + 1 + pos] = bad[i];
			assert_int_equal(decode_exact(b, len, &got), -EBADMSG);
		}
	}
	/* The printable edges are fine. */
	size_t len = raw_hello(b, "!~");
	assert_int_equal(decode_exact(b, len, &got), 0);
	assert_string_equal(got.u.hello.name, "!~");
}

static void frame_decode__empty_data__is_rejected(void **state)
{
	(void)state;
	uint8_t b[2] = {FRAME_DATA, 0};
	struct frame got;
	assert_int_equal(decode_exact(b, sizeof b, &got), -EBADMSG);
}

static void frame_decode__data_over_frame_data_max__is_rejected(void **state)
{
	(void)state;
	size_t len = FRAME_MAX + 1;
	uint8_t *b = calloc(1, len);
	assert_non_null(b);
	b[0] = FRAME_DATA;
	struct frame got;
	assert_int_equal(frame_decode(b, len, &got), -EBADMSG);
	assert_int_equal(frame_decode(b, len - 1, &got), 0);
	assert_int_equal(got.u.data.len, FRAME_DATA_MAX);
	free(b);
}

static void frame_decode__unknown_type__is_not_supported(void **state)
{
	(void)state;
	struct frame got;
	for (unsigned t = 0; t < 256; t++) {
		switch (t) {
		case FRAME_HELLO:
		case FRAME_AUTH:
		case FRAME_GOAWAY:
		case FRAME_REKEY:
		case FRAME_OPEN:
		case FRAME_OPEN_OK:
		case FRAME_DATA:
		case FRAME_FIN:
		case FRAME_RST:
		case FRAME_CLOSED:
		case FRAME_CREDIT:
		case FRAME_DGRAM:
			continue;
		}
		uint8_t b[4] = {(uint8_t)t, 0, 1, 2};
		assert_int_equal(decode_exact(b, 2, &got), -ENOTSUP);
		assert_int_equal(decode_exact(b, sizeof b, &got), -ENOTSUP);
		assert_string_equal(frame_type_name((uint8_t)t), "unknown");
	}
	/* Even an unknown type needs its two header bytes. */
	uint8_t one = 0x7f;
	assert_int_equal(decode_exact(&one, 1, &got), -EBADMSG);
}

static void frame_decode__unknown_rst_reason__decodes_as_other(void **state)
{
	(void)state;
	struct frame got;
	for (unsigned r = 0; r < 256; r++) {
		uint8_t b[3] = {FRAME_RST, 0, (uint8_t)r};
		assert_int_equal(decode_exact(b, sizeof b, &got), 0);
		assert_int_equal(got.type, FRAME_RST);
		if (r < FRAME_RST_MAX_)
			assert_int_equal(got.u.rst, r);
		else
			assert_int_equal(got.u.rst, FRAME_RST_OTHER);
		assert_non_null(frame_rst_reason_name(got.u.rst));
	}
	assert_string_equal(frame_rst_reason_name((enum frame_rst_reason)200), "other");
}

/* OPEN family 0 (version 4): u16 port, u8 name_len, the name, then the
 * forward's name, as docs/PROTOCOL.md draws it. */
static void frame_encode__open_with_a_host_name__has_the_documented_layout(void **state)
{
	(void)state;
	struct frame f = open_host_frame("db.internal", 5432), got;
	uint8_t buf[512];
	ssize_t len = frame_encode(&f, buf, sizeof buf);
	const uint8_t want[] = {FRAME_OPEN, 0,    0,   0,   0x10, 0, /* window 4096 */
	                        0,                                   /* family: host name */
	                        0x15,       0x38,                    /* port 5432 */
	                        11,         'd',  'b', '.', 'i',  'n', 't', 'e',
	                        'r',        'n',  'a', 'l', 2,    'd', 'b'};
	assert_int_equal(len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	assert_int_equal(decode_exact(buf, (size_t)len, &got), 0);
	assert_int_equal(got.u.open.target.ss_family, AF_UNSPEC);
	assert_string_equal(got.u.open.host, "db.internal");
	assert_int_equal(got.u.open.host_port, 5432);
}

/* What a resolver or a log line would choke on never decodes: empty
 * labels, a final dot, bad characters, a hyphen at a label's edge, a label
 * of 64, an empty name. A name of 253 characters does. */
static void frame_decode__open_with_a_bad_host_name__is_rejected(void **state)
{
	(void)state;
	const char *bad[] = {"",    ".",   "a..b",   "a.",    ".a",  "-a",  "a-",  "a.-b",
	                     "a_b", "a b", "a\x01b", "xn--é", "a/b", "a:b", "a%b", "a.b-."};
	uint8_t buf[512];
	struct frame got;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct frame f = open_host_frame("ok.example", 1);
		/* Encode a good one, then put the bad name in by hand. */
		ssize_t len = frame_encode(&f, buf, sizeof buf);
		assert_true(len > 0);
		size_t n = strlen(bad[i]);
		buf[9] = (uint8_t)n;
		memcpy(buf + 10, bad[i], n);
		buf[10 + n] = 2;
		memcpy(buf + 11 + n, "db", 2);
		assert_int_equal(decode_exact(buf, 13 + n, &got), -EBADMSG);
		/* and the encoder refuses it too */
		f = open_host_frame(bad[i], 1);
		assert_int_equal(frame_encode(&f, buf, sizeof buf), -EINVAL);
	}
	/* A NUL inside the name (found by fuzz_frame): "db\0\0ernal" would
	 * be taken as "db" and re-encode shorter. */
	{
		struct frame f = open_host_frame("db.internal", 5432);
		ssize_t len = frame_encode(&f, buf, sizeof buf);
		assert_true(len > 0);
		buf[12] = '\0';
		assert_int_equal(decode_exact(buf, (size_t)len, &got), -EBADMSG);
	}
	/* A length byte over 253 (found by fuzz_frame: 255 wrote past the
	 * name's buffer) is malformed, whatever follows. */
	{
		uint8_t big[16 + 255 + 4] = {FRAME_OPEN, 0, 0, 0, 0x10, 0, 0, 0x15, 0x38};
		for (unsigned n = FRAME_HOST_MAX + 1; n <= 255; n++) {
			big[9] = (uint8_t)n;
			memset(big + 10, 'a', n);
			big[10 + n] = 0; /* empty forward name */
			assert_int_equal(decode_exact(big, 11 + n, &got), -EBADMSG);
		}
	}
	char label64[80], long_name[FRAME_HOST_MAX + 2];
	memset(label64, 'a', 64);
	label64[64] = '\0';
	assert_false(frame_host_valid(label64));
	label64[63] = '\0';
	assert_true(frame_host_valid(label64));
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(long_name, 'a', FRAME_HOST_MAX);
	long_name[63] = long_name[127] = long_name[191] = '.';
	long_name[FRAME_HOST_MAX] = '\0';
	assert_int_equal(strlen(long_name), FRAME_HOST_MAX);
	assert_true(frame_host_valid(long_name));
	struct frame f = open_host_frame(long_name, 65535);
	ssize_t len = frame_encode(&f, buf, sizeof buf);
	assert_true(len > 0);
	assert_int_equal(decode_exact(buf, (size_t)len, &got), 0);
	assert_string_equal(got.u.open.host, long_name);
	strcat(long_name, "b");
	assert_false(frame_host_valid(long_name));
	/* a host name with port 0 is as malformed as an address with one */
	f = open_host_frame("db", 0);
	assert_int_equal(frame_encode(&f, buf, sizeof buf), -EINVAL);
	assert_true(frame_host_valid("db-1.Internal.example"));
	assert_true(frame_host_valid("1.2.3.4"));
}

/* --- encode errors --------------------------------------------------- */

static void frame_encode__into_too_small_buffer__gives_enospc(void **state)
{
	(void)state;
	struct frame fs[32];
	uint8_t buf[FRAME_MAX], small[FRAME_MAX];
	size_t n = all_frames(fs);
	for (size_t i = 0; i < n; i++) {
		size_t len = encode_ok(&fs[i], buf, sizeof buf);
		for (size_t cap = 0; cap < len; cap++) {
			/* Bytes past CAP must stay untouched. */
			memset(small, 0xee, sizeof small);
			ssize_t rc = frame_encode(&fs[i], small, cap);
			if (rc != -ENOSPC)
				fail_msg("%s into %zu of %zu bytes: got %zd, want -ENOSPC",
				         frame_type_name(fs[i].type), cap, len, rc);
			for (size_t k = cap; k < len; k++)
				assert_int_equal(small[k], 0xee);
		}
		assert_int_equal(frame_encode(&fs[i], small, len), (ssize_t)len);
		assert_memory_equal(small, buf, len);
	}
}

static void frame_encode__name_over_63_chars__gives_einval(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct frame h = hello_frame(FRAME_ROLE_CONNECT, "");
	struct frame o = open4_frame();
	/* The struct holds at most 63 chars and a NUL; a caller that filled
	 * all 64 bytes with no NUL has a name the wire cannot carry. */
	memset(h.u.hello.name, 'h', sizeof h.u.hello.name);
	memset(o.u.open.name, 'o', sizeof o.u.open.name);
	assert_int_equal(frame_encode(&h, buf, sizeof buf), -EINVAL);
	assert_int_equal(frame_encode(&o, buf, sizeof buf), -EINVAL);
}

static void frame_encode__bad_family_or_bad_data__gives_einval(void **state)
{
	(void)state;
	uint8_t buf[FRAME_MAX + 16];
	struct frame o = open4_frame();
	o.u.open.target.ss_family = AF_UNIX;
	assert_int_equal(frame_encode(&o, buf, sizeof buf), -EINVAL);

	struct frame d = {.type = FRAME_DATA};
	d.u.data.bytes = buf;
	d.u.data.len = 0;
	assert_int_equal(frame_encode(&d, buf, sizeof buf), -EINVAL);
	d.u.data.len = FRAME_DATA_MAX + 1;
	assert_int_equal(frame_encode(&d, buf, sizeof buf), -EINVAL);

	struct frame u = {.type = (enum frame_type)0x7f};
	assert_int_equal(frame_encode(&u, buf, sizeof buf), -EINVAL);

	/* Zero windows and zero increments are not sent either. */
	struct frame z = open4_frame();
	z.u.open.window = 0;
	assert_int_equal(frame_encode(&z, buf, sizeof buf), -EINVAL);
	z = open_ok_frame(0);
	assert_int_equal(frame_encode(&z, buf, sizeof buf), -EINVAL);
	z = credit_frame(0);
	assert_int_equal(frame_encode(&z, buf, sizeof buf), -EINVAL);
}

/* --- fuzz ------------------------------------------------------------ */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void frame_decode__random_bytes__never_crash_and_reencode_exactly(void **state)
{
	(void)state;
	static const uint8_t types[] = {FRAME_HELLO,  FRAME_OPEN,   FRAME_OPEN_OK,
	                                FRAME_DATA,   FRAME_FIN,    FRAME_RST,
	                                FRAME_CLOSED, FRAME_CREDIT, FRAME_DGRAM};
	uint64_t seed = 0x5eed5eed12345678ull;
	uint8_t tmp[160] = {0}, re[FRAME_MAX];
	unsigned n_ok = 0, n_bad = 0, n_unsup = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		uint64_t r = xorshift64(&seed);
		size_t len = r % sizeof tmp;
		for (size_t i = 0; i < len; i++)
			tmp[i] = (uint8_t)xorshift64(&seed);
		/* Steer most inputs to known types and plausible fields so the
		 * deep checks run, not just the type switch. */
		if (len > 0 && (r >> 16) % 4 != 0)
			tmp[0] = types[(r >> 20) % (sizeof types / sizeof types[0])];
		if (len > 5 && tmp[0] == FRAME_HELLO && (r >> 24) % 2)
			memcpy(tmp + 2, "SGW1", 4);
		if (len > 6 && tmp[0] == FRAME_OPEN && (r >> 26) % 2)
			tmp[6] = (r >> 27) % 2 ? 4 : 6;
		/* Fixed-size frames: mostly the exact length, so they decode. */
		if (len > 0 &&
		    (tmp[0] == FRAME_OPEN_OK || tmp[0] == FRAME_CREDIT || tmp[0] == FRAME_RST) &&
		    (r >> 28) % 2)
			len = tmp[0] == FRAME_RST ? 3 : 6;

		struct frame f;
		int rc = decode_exact(tmp, len, &f);
		if (rc == -EBADMSG) {
			n_bad++;
			continue;
		}
		if (rc == -ENOTSUP) {
			n_unsup++;
			continue;
		}
		if (rc != 0)
			fail_msg("iteration %u: decode returned %d", iter, rc);
		n_ok++;
		/* What decodes re-encodes to the same bytes, except the flags
		 * (sent 0) and an unknown RST reason (sent as OTHER). */
		ssize_t n = frame_encode(&f, re, sizeof re);
		assert_int_equal(n, (ssize_t)len);
		tmp[1] = f.type == FRAME_OPEN ? tmp[1] & FRAME_OPEN_DATAGRAM : 0;
		if (f.type == FRAME_RST && tmp[2] >= FRAME_RST_MAX_)
			tmp[2] = FRAME_RST_OTHER;
		if (memcmp(re, tmp, len) != 0)
			fail_msg("iteration %u: type 0x%02x, %zu bytes, re-encoded differently",
			         iter, (unsigned)f.type, len);
	}
	/* The steering must actually reach every outcome. */
	assert_true(n_ok > 1000);
	assert_true(n_bad > 1000);
	assert_true(n_unsup > 1000);
}

/* A version 2 HELLO (no nonce) still decodes, so the version check can
 * name both ranges; a HELLO with a torn extension or too many key ids is
 * malformed. */
static void frame_decode__hello_extension__is_optional_and_checked(void **state)
{
	(void)state;
	struct frame f = hello_frame(FRAME_ROLE_CONNECT, "gw"), got;
	uint8_t buf[256];
	ssize_t len = frame_encode(&f, buf, sizeof buf);
	size_t v2 = FRAME_HEADER_LEN + 14 + 2;
	assert_int_equal(decode_exact(buf, v2, &got), 0);
	assert_false(got.u.hello.has_auth);
	assert_int_equal(decode_exact(buf, (size_t)len, &got), 0);
	assert_true(got.u.hello.has_auth);
	buf[v2 + FRAME_NONCE_LEN] = FRAME_KEYIDS_MAX + 1;
	assert_int_equal(decode_exact(buf, (size_t)len, &got), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(frame_rekey__layout_and_bad_kind_or_length__rejected),
	    cmocka_unit_test(frame_dgram__empty_and_max_sizes__round_trip_larger_is_rejected),
	    cmocka_unit_test(frame_open__datagram_flag__round_trips_other_flags_are_not_sent),
	    cmocka_unit_test(frame_encode__every_type__round_trips),
	    cmocka_unit_test(frame_decode__hello_extension__is_optional_and_checked),
	    cmocka_unit_test(frame_encode__hello__has_the_documented_layout),
	    cmocka_unit_test(frame_encode__open_v4_and_v6__have_the_documented_layout),
	    cmocka_unit_test(frame_encode__open_ok_and_credit__carry_a_u32_after_the_header),
	    cmocka_unit_test(frame_encode__control_frames__are_header_only),
	    cmocka_unit_test(frame_encode__name_of_63_chars__round_trips),
	    cmocka_unit_test(frame_encode__data_of_frame_data_max__round_trips),
	    cmocka_unit_test(frame_data_header__then_payload__decodes_as_data),
	    cmocka_unit_test(frame_decode__nonzero_flags__are_ignored),
	    cmocka_unit_test(frame_decode__every_truncation_of_every_frame__is_rejected),
	    cmocka_unit_test(frame_decode__one_trailing_byte_on_any_frame__is_rejected),
	    cmocka_unit_test(frame_decode__hello_with_bad_magic__is_rejected),
	    cmocka_unit_test(frame_decode__hello_with_version_min_0__is_rejected),
	    cmocka_unit_test(frame_decode__hello_with_min_above_max__is_rejected),
	    cmocka_unit_test(frame_decode__hello_with_fewer_than_3_streams__is_rejected),
	    cmocka_unit_test(frame_decode__hello_with_bad_role__is_rejected),
	    cmocka_unit_test(frame_decode__open_with_bad_family__is_rejected),
	    cmocka_unit_test(frame_decode__open_with_port_0__is_rejected),
	    cmocka_unit_test(frame_encode__open_with_a_host_name__has_the_documented_layout),
	    cmocka_unit_test(frame_decode__open_with_a_bad_host_name__is_rejected),
	    cmocka_unit_test(frame_decode__zero_window_or_zero_credit__is_rejected),
	    cmocka_unit_test(frame_decode__name_longer_than_63__is_rejected),
	    cmocka_unit_test(frame_decode__non_printable_name_byte__is_rejected),
	    cmocka_unit_test(frame_decode__empty_data__is_rejected),
	    cmocka_unit_test(frame_decode__data_over_frame_data_max__is_rejected),
	    cmocka_unit_test(frame_decode__unknown_type__is_not_supported),
	    cmocka_unit_test(frame_decode__unknown_rst_reason__decodes_as_other),
	    cmocka_unit_test(frame_encode__into_too_small_buffer__gives_enospc),
	    cmocka_unit_test(frame_encode__name_over_63_chars__gives_einval),
	    cmocka_unit_test(frame_encode__bad_family_or_bad_data__gives_einval),
	    cmocka_unit_test(frame_decode__random_bytes__never_crash_and_reencode_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
