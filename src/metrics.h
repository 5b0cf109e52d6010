/*
 * metrics: a snapshot (snapshot.h) as Prometheus text exposition format
 * 0.0.4, the body of GET /metrics.
 *
 * Start here to see what an operator can scrape; docs/OPERATIONS.md says
 * what each metric means. Names carry the sctpgw_ prefix and their unit
 * (_seconds, _bytes); counters end in _total and count since the process
 * started; per-path and per-forward series carry path="NAME" and
 * forward="NAME". A pure function: no I/O but the FILE it writes.
 */
#ifndef SCTPGW_METRICS_H
#define SCTPGW_METRICS_H

#include <stdio.h>

#include "snapshot.h"

/* The media type of what metrics_render writes. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Write S to OUT. */
void metrics_render(const struct snapshot *s, FILE *out);

#endif
