/*
 * config_egress: the text of [egress] and of host-name targets, parsed.
 *
 * config_value.c reads the values out of the INI file and calls these;
 * each returns 0 or -EINVAL with WHY filled in the form it prints after
 * "FILE:LINE: [section] key: " (what is wrong; expected what). The syntax
 * is documented in conf/sctpgw.ini and man/sctpgw.ini.5.
 */
#ifndef SCTPGW_CONFIG_EGRESS_H
#define SCTPGW_CONFIG_EGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "egress.h"

/* [egress] allow: entries separated by commas and/or blanks, each
 *   ADDR[/PREFIX][:PORT]       IPv4: 10.0.0.0/8, 192.0.2.10:443
 *   [ADDR][/PREFIX][:PORT]     IPv6: [2001:db8::]/32:53, [::1]:80
 *   ADDR[/PREFIX]              IPv6 without a port: 2001:db8::/32, ::1
 * No prefix: one host. No port: every port. Host bits under the prefix
 * must be zero (a typo guard). An empty value allows nothing. */
int config_egress_allow(const char *value, struct egress_list *out, char *why, size_t n);

/* [egress] resolver: DNS servers as "ADDR[:PORT]" ([v6]:port), separated
 * by commas and/or blanks; port 53 by default. OUT gets c-ares' server
 * CSV ("198.18.0.1:53,[2001:2::1]:53"). */
int config_egress_resolver(const char *value, char *out, size_t outlen, char *why, size_t n);

/* A forward's target given as a host name: "NAME:PORT", NAME a host name
 * by RFC 1123 (frame_host_valid). HOST gets NAME (HOSTLEN >= 254). */
int config_host_target(const char *value, char *host, size_t hostlen, uint16_t *port, char *why,
                       size_t n);

#endif
