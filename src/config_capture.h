/*
 * config_capture: the transparent-capture keys of [forward.NAME].
 *
 *   capture = none | redirect | tproxy   how clients reach the listener:
 *       none      they connect to it (the default);
 *       redirect  nftables/iptables REDIRECT sends them (the original
 *                 destination comes from SO_ORIGINAL_DST, capture.h);
 *       tproxy    nftables/iptables TPROXY hands them over (a transparent
 *                 listener; the original destination is the local address
 *                 of the accepted socket).
 *   target = original   the peer gateway connects to each connection's
 *                 original destination; needs capture = redirect or tproxy.
 *
 * config_forward.c reads the keys through its table; the words and the rule that
 * ties the two keys together live here.
 */
#ifndef SCTPGW_CONFIG_CAPTURE_H
#define SCTPGW_CONFIG_CAPTURE_H

#include <stdbool.h>

enum config_capture {
	CONFIG_CAPTURE_NONE,     /* clients connect to the listener itself */
	CONFIG_CAPTURE_REDIRECT, /* NAT REDIRECT: original destination in conntrack */
	CONFIG_CAPTURE_TPROXY,   /* TPROXY: original destination is our local address */
};

/* The words of capture, in enum order, NULL-terminated. */
extern const char *const config_capture_names[];

/* The word that makes target the original destination. */
#define CONFIG_TARGET_ORIGINAL "original"

/* V is "original" (any case). */
bool config_capture_is_original(const char *v);

/* NULL when CAPTURE and TARGET_ORIGINAL go together; otherwise what is
 * wrong with target, to follow "[forward.NAME] target: ". */
const char *config_capture_check(enum config_capture capture, bool target_original);

const char *config_capture_name(enum config_capture c);

#endif
