/* engine_defer: see engine_defer.h. */
#include "engine_defer.h"

#include <stdio.h>

#include "engine.h"

static void engine_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	engine_defer_flush(w->data);
}

void engine_defer_init(struct engine_defer *d, struct engine *e)
{
	d->engine = e;
	d->pending = false;
	ev_timer_init(&d->timer, engine_defer_cb, 0., 0.);
	d->timer.data = d;
}

void engine_defer_down(struct engine_defer *d, bool graceful, const char *why)
{
	if (d->pending)
		return;
	d->pending = true;
	d->graceful = graceful;
	snprintf(d->why, sizeof d->why, "%s", why);
	ev_timer_stop(d->engine->loop, &d->timer);
	ev_timer_set(&d->timer, 0., 0.);
	ev_timer_start(d->engine->loop, &d->timer);
}

void engine_defer_flush(struct engine_defer *d)
{
	ev_timer_stop(d->engine->loop, &d->timer);
	if (!d->pending)
		return;
	d->pending = false;
	struct engine *e = d->engine;
	e->cb.down(e->ctx, d->graceful, d->why);
}

void engine_defer_stop(struct engine_defer *d)
{
	ev_timer_stop(d->engine->loop, &d->timer);
	d->pending = false;
}
