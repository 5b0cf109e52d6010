/*
 * status: a snapshot (snapshot.h) as the body of GET /status: JSON for
 * people and tools, or one record per line (?format=lines) for sctpgwctl
 * and shell scripts.
 *
 * Lines: each is a keyword and space-separated fields; no field contains a
 * space (names are config names or the peer's name made printable,
 * addresses have none):
 *   gateway NAME VERSION ENGINE TRANSPORT ROLE
 *   association STATE PEER|- ESTABLISHED(0|1) DRAINING(0|1) READY(0|1)
 *   streams IN_USE LIMIT
 *   path NAME LOCAL REMOTE STATE SRTT_MS|- PRIMARY(0|1) FAILOVERS
 *   forward NAME ACTIVE ACCEPTED REFUSED BYTES_UP BYTES_DOWN
 * A reader skips keywords it does not know, so records can be added.
 */
#ifndef SCTPGW_STATUS_H
#define SCTPGW_STATUS_H

#include <stdio.h>

#include "snapshot.h"

void status_render_json(const struct snapshot *s, FILE *out);
void status_render_lines(const struct snapshot *s, FILE *out);

#endif
