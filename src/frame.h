/*
 * frame: the sctpgw wire format, as pure encode/decode over byte spans.
 *
 * Every SCTP message between two gateways is exactly one frame. Frames on
 * stream 0 belong to the association (HELLO); frames on any other stream
 * belong to the one connection riding that stream. docs/PROTOCOL.md is the
 * reference; this file and that document must agree.
 *
 *   0      1      2
 *   +------+------+---------------------------+
 *   | type | flags| body (depends on type)    |
 *   +------+------+---------------------------+
 *
 * No I/O here: frame_decode never reads past LEN and never allocates, so it
 * can be unit-tested on every truncation and fed garbage.
 */
#ifndef SCTPGW_FRAME_H
#define SCTPGW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define FRAME_HEADER_LEN 2
#define FRAME_MAGIC      0x53475731u /* "SGW1" */
/* 2: per-connection credit; 3: authentication, sealed messages; 4: [egress]
 * allow refusals and host-name targets (docs/PROTOCOL.md). A gateway speaks
 * FRAME_VERSION_MIN..FRAME_VERSION. */
#define FRAME_VERSION     4
#define FRAME_VERSION_MIN 4
#define FRAME_NAME_MAX    63  /* gateway and forward names on the wire */
#define FRAME_HOST_MAX    253 /* OPEN family 0: a host name (RFC 1123), without a final dot */
#define FRAME_DATA_MAX    (64 * 1024) /* payload of one DATA frame */
#define FRAME_MAX         (FRAME_HEADER_LEN + FRAME_DATA_MAX)
/* After the handshake each frame travels sealed (auth.h): a counter before
 * it and a tag after it. The engines accept SCTP messages this long. */
#define FRAME_SEAL_OVERHEAD 24
#define FRAME_WIRE_MAX      (FRAME_MAX + FRAME_SEAL_OVERHEAD)
#define FRAME_NONCE_LEN     32 /* HELLO: the sender's fresh random nonce */
#define FRAME_KEYID_LEN     8  /* HELLO: a key's public fingerprint */
#define FRAME_KEYIDS_MAX    2  /* HELLO: key ids (current and next key) */
#define FRAME_PROOF_LEN     32 /* AUTH: HMAC-SHA256 over both HELLOs */

/* HELLO feature bits. NO_ENCRYPT states this side's setting (auth.c);
 * the others are capabilities, in use when both sides have them
 * (FRAME_FEATURES: those this build knows). */
#define FRAME_FEATURE_NO_ENCRYPT    0x1u /* encrypt = no here: integrity only if both say so */
#define FRAME_FEATURE_WINDOW_GROWTH 0x2u /* CREDIT may grant past the advertised window */
#define FRAME_FEATURE_SCTP_AUTH     0x4u /* SCTP-AUTH on data chunks, keyed by the handshake */
#define FRAME_FEATURES              FRAME_FEATURE_WINDOW_GROWTH
/* The most credit a sender accepts to hold when windows grow: far above
 * any conn_window_max, low enough that sums of it never wrap. */
#define FRAME_CREDIT_MAX (1u << 30)

enum frame_type {
	FRAME_HELLO = 0x01,   /* stream 0: version and features, first thing each side sends */
	FRAME_AUTH = 0x02,    /* stream 0: proof of the key, second thing each side sends */
	FRAME_GOAWAY = 0x03,  /* stream 0: the sender drains: open no more streams toward it */
	FRAME_REKEY = 0x04,   /* stream 0: key rotation on a live association (auth.h) */
	FRAME_OPEN = 0x10,    /* opener -> peer: connect to this target */
	FRAME_OPEN_OK = 0x11, /* peer -> opener: target connected, data may flow */
	FRAME_DATA = 0x12,    /* payload bytes of the connection */
	FRAME_FIN = 0x13,     /* sender will send no more data (TCP half-close) */
	FRAME_RST = 0x14,     /* abort the connection; carries a reason */
	FRAME_CLOSED = 0x15,  /* peer -> opener: both sides finished; stream id may be reused */
	FRAME_CREDIT =
	    0x16, /* the receiver wrote bytes to TCP: the sender may send that many more */
	FRAME_DGRAM = 0x17, /* one UDP datagram of a datagram flow (0 to FRAME_DATA_MAX bytes) */
};

/* OPEN flags. DATAGRAM: the stream carries a UDP flow (DGRAM frames, no
 * credit, no FIN); other bits are reserved: sent 0, ignored on receipt. */
#define FRAME_OPEN_DATAGRAM 0x01u

/* Reasons carried by FRAME_RST; unknown values decode as FRAME_RST_OTHER. */
enum frame_rst_reason {
	FRAME_RST_OTHER = 0,       /* none of the below */
	FRAME_RST_RESET = 1,       /* the TCP peer reset the connection */
	FRAME_RST_REFUSED = 2,     /* the target refused the connection */
	FRAME_RST_TIMEOUT = 3,     /* the target did not answer in time, or idle_timeout_s */
	FRAME_RST_UNREACHABLE = 4, /* no route to the target */
	FRAME_RST_RESOURCES = 5,   /* out of memory, descriptors or streams */
	FRAME_RST_PROTOCOL = 6,    /* the other gateway broke the protocol */
	FRAME_RST_SHUTDOWN = 7,    /* the gateway is shutting down */
	FRAME_RST_NOT_ALLOWED =
	    8,                 /* version 4: [egress] allow of the exit gateway does not name it */
	FRAME_RST_NO_NAME = 9, /* version 4: the target's host name did not resolve */
	FRAME_RST_DRAINING = 10, /* the exit gateway is draining: it opens nothing new */
	FRAME_RST_MAX_,
};

/* HELLO role byte: the two ends of an association must differ. */
enum frame_role {
	FRAME_ROLE_CONNECT = 1,
	FRAME_ROLE_ACCEPT = 2,
};

struct frame_hello {
	uint8_t version_min;
	uint8_t version_max;
	uint8_t role; /* enum frame_role */
	uint32_t features;
	uint16_t streams; /* stream ids the sender can use (SCTP's count as it sees it) */
	char name[FRAME_NAME_MAX + 1];
	/* Version 3 extension (absent in older HELLOs: has_auth false). */
	bool has_auth;
	uint8_t nonce[FRAME_NONCE_LEN];
	uint8_t n_key_ids; /* 0: the sender runs insecure = yes */
	uint8_t key_ids[FRAME_KEYIDS_MAX][FRAME_KEYID_LEN];
};

/* REKEY kinds (docs/PROTOCOL.md): the connect side asks, the accept side
 * answers with its nonce and proof, the connect side confirms. Every
 * REKEY has all fields; those a kind does not use are sent zero. */
enum frame_rekey_kind {
	FRAME_REKEY_REQUEST = 1, /* connect -> accept: key id, nonce */
	FRAME_REKEY_ACK = 2,     /* accept -> connect: status, nonce, proof */
	FRAME_REKEY_CONFIRM = 3, /* connect -> accept: proof */
};
#define FRAME_REKEY_OK     0 /* ACK status: the new keys are derived */
#define FRAME_REKEY_NO_KEY 1 /* ACK status: the accept side does not hold that key */

struct frame_rekey {
	uint8_t kind; /* enum frame_rekey_kind */
	uint8_t status;
	uint8_t key_id[FRAME_KEYID_LEN];
	uint8_t nonce[FRAME_NONCE_LEN];
	uint8_t proof[FRAME_PROOF_LEN];
};

struct frame_open {
	uint32_t window;                /* opener's receive window: DATA bytes it accepts (>= 1) */
	struct sockaddr_storage target; /* AF_INET or AF_INET6 with port; AF_UNSPEC: host */
	char host[FRAME_HOST_MAX + 1];  /* family 0 (version 4): a name the exit side resolves */
	uint16_t host_port;             /* ... and its port (1..65535) */
	char name[FRAME_NAME_MAX + 1];  /* forward name, for logs */
};

struct frame {
	enum frame_type type;
	uint8_t flags; /* OPEN: FRAME_OPEN_DATAGRAM; otherwise reserved: sent 0, ignored */
	union {
		struct frame_hello hello;
		struct frame_open open;
		struct {
			const uint8_t *bytes; /* points into the decoded buffer */
			size_t len;
		} data; /* DATA, DGRAM */
		enum frame_rst_reason rst;
		uint32_t window; /* OPEN_OK: the exit side's receive window (>= 1) */
		uint32_t credit; /* CREDIT: bytes the sender may send on top (>= 1) */
		uint8_t proof[FRAME_PROOF_LEN]; /* AUTH */
		struct frame_rekey rekey;       /* REKEY */
	} u;
};

/* Decode one frame from BUF[0..LEN). Returns 0, -EBADMSG for a malformed
 * frame (truncated, trailing bytes, bad field) or -ENOTSUP for an unknown
 * type. DATA payload points into BUF. */
int frame_decode(const uint8_t *buf, size_t len, struct frame *out);

/* Encode F into OUT (capacity CAP). Returns the length or -ENOSPC; -EINVAL
 * for a frame that cannot be encoded (bad family, oversize name/data). For
 * DATA, prefer frame_data_header() and read the payload in place. */
ssize_t frame_encode(const struct frame *f, uint8_t *out, size_t cap);

/* Write the 2-byte DATA header at OUT; the payload follows it. */
void frame_data_header(uint8_t *out);
/* Write the 2-byte DGRAM header at OUT; the datagram follows it. */
void frame_dgram_header(uint8_t *out);

const char *frame_type_name(uint8_t type);

/* Whether S is a host name by RFC 1123: dot-separated labels of 1..63
 * letters, digits and hyphens, no label starting or ending with a hyphen,
 * at most FRAME_HOST_MAX characters, no final dot. */
bool frame_host_valid(const char *s);

/* The target of O for logs: "addr:port" or "name:port" (ADDR_STRLEN-ish;
 * at least FRAME_HOST_MAX + 8 bytes for names). */
const char *frame_open_target_text(const struct frame_open *o, char *buf, size_t len);
const char *frame_rst_reason_name(enum frame_rst_reason r);

#endif
