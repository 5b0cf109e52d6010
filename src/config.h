/*
 * config: the INI file, loaded into a plain struct.
 *
 * Start here to learn what a user can set. Only config.c touches
 * iniparser; the rest of the program reads struct config, which holds no
 * file descriptors and no libev types, so a reload can build a new one and
 * free the old one while the gateway runs. Every key, its default and its
 * meaning is documented in conf/sctpgw.ini.
 */
#ifndef SCTPGW_CONFIG_H
#define SCTPGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config_capture.h"
#include "crypto.h"
#include "egress.h"
#include "log.h"

#define CONFIG_NAME_MAX     64 /* gateway, path and forward names, with NUL */
#define CONFIG_MAX_PATHS    8
#define CONFIG_MAX_FORWARDS 64
#define CONFIG_HOST_MAX     254 /* a host-name target (253 characters), with NUL */
#define CONFIG_RESOLVER_MAX 512 /* [egress] resolver, as c-ares' server CSV */
/* [sctp] path_mtu: the largest IP packet on a path, IP and UDP headers
 * included. 1280 is IPv6's minimum link MTU: every IPv4 or IPv6 path,
 * tunnels included, carries it (the default); 9000 is a jumbo frame. */
#define CONFIG_PATH_MTU_MIN 1280
#define CONFIG_PATH_MTU_MAX 9000

/* Issue 4: a gateway pair must be able to use at least four paths. */
_Static_assert(CONFIG_MAX_PATHS >= 4, "sctpgw promises at least 4 paths");

enum config_engine {
	CONFIG_ENGINE_AUTO,      /* kernel SCTP when the kernel has it, else user space */
	CONFIG_ENGINE_KERNEL,    /* kernel SCTP or fail at start */
	CONFIG_ENGINE_USERSPACE, /* usrsctp over UDP (RFC 6951) */
};

/* What the association travels in on the wire, the same whichever engine
 * runs, so one firewall rule fits every host of a pair ([association]
 * transport). */
enum config_transport {
	CONFIG_TRANSPORT_UDP,  /* SCTP over UDP (RFC 6951): either engine */
	CONFIG_TRANSPORT_SCTP, /* plain SCTP, IP protocol 132: the kernel engine only */
};

enum config_role {
	CONFIG_ROLE_CONNECT, /* this gateway starts the association */
	CONFIG_ROLE_ACCEPT,  /* this gateway waits for the peer */
};

/* The user-space engine's congestion control modules (usrsctp's
 * SCTP_PLUGGABLE_CC); the kernel engine has only RFC 4960's. */
enum config_cc {
	CONFIG_CC_RFC4960, /* RFC 4960/9260 section 7.2: Reno-like, halves on loss */
	CONFIG_CC_HSTCP,   /* HighSpeed TCP (RFC 3649): a larger step on big windows */
	CONFIG_CC_HTCP,    /* H-TCP: growth by the time since the last loss */
	CONFIG_CC_RTCC,    /* RFC 4960 plus an RTT-based step back (usrsctp's own) */
};

enum config_protocol {
	CONFIG_PROTO_TCP,
	CONFIG_PROTO_UDP, /* datagram flows on partially reliable streams (udp_flow.h) */
};

struct config_path {
	char name[CONFIG_NAME_MAX];     /* NAME of [path.NAME] */
	struct sockaddr_storage local;  /* port 0 */
	struct sockaddr_storage remote; /* port 0 */
	int priority;                   /* lower = preferred */
};

struct config_forward {
	char name[CONFIG_NAME_MAX]; /* NAME of [forward.NAME] */
	enum config_protocol protocol;
	struct sockaddr_storage listen;    /* where this gateway accepts */
	struct sockaddr_storage target;    /* what the peer gateway connects to; AF_UNSPEC: */
	char target_host[CONFIG_HOST_MAX]; /* ... a host name the peer resolves (or "" when */
	uint16_t target_port;              /* ... and its port             target = original) */
	bool target_original;              /* target = original: each connection's own */
	enum config_capture capture;       /* how clients reach listen (config_capture.h) */
	unsigned max_connections;          /* clients carried at once; 0: no own limit */
};

struct config {
	char file[256]; /* the path it was loaded from, for messages */

	/* [gateway] */
	char name[CONFIG_NAME_MAX];
	enum config_engine engine;
	uint16_t udp_encap_port; /* local UDP port of transport = udp */
	enum log_level log_level;
	unsigned connect_timeout_ms;   /* exit side: target connect deadline */
	unsigned drain_timeout_ms;     /* SIGTERM: wait this long for connections */
	size_t conn_window;            /* per-connection receive window (credit) at start, bytes */
	size_t conn_window_max;        /* ... and the most it may grow to (window.h) */
	size_t memory_limit;           /* sum of the windows of all open connections */
	unsigned max_connections;      /* both ways together; 0: no limit of its own */
	unsigned idle_timeout_s;       /* reset connections that move nothing; 0: off */
	unsigned log_connections;      /* 1: a summary line at info when a connection ends */
	unsigned tcp_keepalive;        /* 1: SO_KEEPALIVE on client and target sockets */
	unsigned tcp_keepalive_idle_s; /* TCP_KEEPIDLE: silence before the first probe */
	unsigned tcp_keepalive_interval_s; /* TCP_KEEPINTVL: between unanswered probes */
	unsigned tcp_keepalive_count;      /* TCP_KEEPCNT: unanswered probes before the reset */
	struct sockaddr_storage admin;     /* HTTP admin endpoint (admin.h); AF_UNSPEC: off */
	unsigned udp_lifetime_ms;          /* a datagram not delivered by then is abandoned */
	unsigned udp_idle_timeout_ms;      /* a UDP flow without a datagram for this long ends */
	unsigned udp_max_flows;            /* UDP flows carried at once, both ways together */

	/* [association] */
	enum config_role role;
	uint16_t port;
	enum config_transport transport;
	uint16_t remote_udp_encap_port;
	unsigned max_streams;                   /* 3..65535 */
	char psk_file[256];                     /* "" when not set */
	unsigned encrypt;                       /* 1: AEAD on every message; 0: integrity only */
	unsigned packet_auth;                   /* 1: SCTP-AUTH on data chunks (docs/SECURITY.md) */
	unsigned insecure;                      /* 1: run without psk_file (no authentication) */
	struct crypto_psk psk[CRYPTO_PSK_KEYS]; /* read from psk_file at load */
	size_t n_psk;

	/* [sctp] */
	unsigned heartbeat_interval_ms;
	unsigned rto_initial_ms;
	unsigned rto_min_ms;
	unsigned rto_max_ms;
	unsigned path_max_retrans;
	unsigned pf_threshold;
	unsigned assoc_max_retrans;
	unsigned failback_hold_ms; /* a better path must stay reachable this long */
	unsigned delayed_sack_ms;  /* 0: a SACK for every packet */
	enum config_cc congestion_control;
	size_t sndbuf; /* where the association's buffers start (bufgrow.h) */
	size_t rcvbuf;
	size_t buffer_max; /* ... and the most they grow to, within memory_limit */
	unsigned path_mtu; /* user space: IP packet size on every path, UDP included */

	size_t n_paths;
	struct config_path paths[CONFIG_MAX_PATHS];
	size_t n_forwards;
	struct config_forward forwards[CONFIG_MAX_FORWARDS];

	/* [egress]: what the peer may make this gateway connect to. */
	bool has_egress;                    /* the section is there (else nothing is allowed) */
	struct egress_list egress_allow;    /* empty: nothing */
	char resolver[CONFIG_RESOLVER_MAX]; /* c-ares server CSV; "": /etc/resolv.conf */
};

/* Load and validate FILE. On success returns a new config (free with
 * config_free) and leaves *err untouched. On failure returns NULL and writes
 * one human message per problem to ERR, each of the form
 *   FILE:LINE: [section] key: what is wrong; expected WHAT
 * (LINE is that of the section header for a missing key, 0 when the whole
 * section is missing or the problem concerns the whole file). */
struct config *config_load(const char *file, FILE *err);

/* Every default, no paths, no forwards (used by tests and by config_load). */
void config_defaults(struct config *c);

void config_free(struct config *c);

const char *config_engine_name(enum config_engine e);
const char *config_role_name(enum config_role r);
const char *config_cc_name(enum config_cc cc);
const char *config_transport_name(enum config_transport t);

#endif
