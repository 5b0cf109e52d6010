/* window: see window.h for the rules. */
#include "window.h"

void window_init(struct window *w, uint32_t initial, uint32_t max, double now)
{
	*w = (struct window){.size = initial,
	                     .initial = initial,
	                     .max = max > initial ? max : initial,
	                     .period_start = now,
	                     .last_use = now};
}

uint32_t window_consumed(struct window *w, uint32_t n, double now, double rtt)
{
	double period = rtt > WINDOW_MIN_PERIOD ? rtt : WINDOW_MIN_PERIOD;
	double idle =
	    WINDOW_IDLE_RTTS * period > WINDOW_IDLE ? WINDOW_IDLE_RTTS * period : WINDOW_IDLE;
	if (now - w->last_use >= idle) {
		/* Back from idle: what the path needs may have changed, and
		 * the reservation should not outlive the use (as TCP restarts
		 * its congestion window after idle, RFC 2861). */
		w->shrinking = w->size > w->initial ? w->size - w->initial : 0;
		w->period_start = now;
		w->period_bytes = 0;
	}
	w->last_use = now;
	w->ungranted += n;
	w->period_bytes += n;
	if (now - w->period_start < period)
		return 0;
	/* Bytes per round trip, from a period that may have run longer. */
	double per_rtt = (double)w->period_bytes * period / (now - w->period_start);
	w->period_start = now;
	w->period_bytes = 0;
	if (w->shrinking || w->size >= w->max || per_rtt * 2 < w->size)
		return 0;
	uint32_t room = w->max - w->size;
	return w->size < room ? w->size : room;
}

void window_grow(struct window *w, uint32_t by)
{
	if (by > w->max - w->size)
		by = w->max - w->size;
	w->size += by;
	w->ungranted += by;
}

uint32_t window_shrink(struct window *w)
{
	uint32_t keep = w->shrinking < w->ungranted ? w->shrinking : w->ungranted;
	w->shrinking -= keep;
	w->ungranted -= keep;
	w->size -= keep;
	return keep;
}

bool window_grant_due(const struct window *w)
{
	uint32_t keep = w->shrinking < w->ungranted ? w->shrinking : w->ungranted;
	uint32_t size = w->size - keep;
	uint32_t threshold = size / 4 ? size / 4 : 1;
	return w->ungranted - keep >= threshold;
}

uint32_t window_grant(struct window *w, uint32_t *released)
{
	*released = window_shrink(w);
	if (!window_grant_due(w))
		return 0;
	uint32_t grant = w->ungranted;
	w->ungranted = 0;
	return grant;
}
