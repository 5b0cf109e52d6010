/*
 * engine_defer: how an engine keeps the "no callback inside an ops call"
 * rule of engine.h for its down callback.
 *
 * Start here when an engine has to end the association from inside an op
 * (abort, a failed shutdown) or anywhere else: it calls engine_defer_down()
 * after forgetting its socket, and the down callback runs from the loop on
 * a zero-delay timer. Before it reports a new up, the engine calls
 * engine_defer_flush() so the layer above always sees down before up.
 */
#ifndef SCTPGW_ENGINE_DEFER_H
#define SCTPGW_ENGINE_DEFER_H

#include <ev.h>
#include <stdbool.h>

struct engine;

struct engine_defer {
	struct engine *engine;
	ev_timer timer; /* zero delay: the next loop iteration */
	bool pending;
	bool graceful;
	char why[256];
};

void engine_defer_init(struct engine_defer *d, struct engine *e);

/* Report down(GRACEFUL, WHY) from the loop. A second call before delivery
 * keeps the first reason: one association ends once. */
void engine_defer_down(struct engine_defer *d, bool graceful, const char *why);

/* Deliver a pending down now (the caller is a loop callback, not an op). */
void engine_defer_flush(struct engine_defer *d);

/* Drop a pending down without delivering it (the engine is being freed). */
void engine_defer_stop(struct engine_defer *d);

#endif
