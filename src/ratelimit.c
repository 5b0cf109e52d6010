/* ratelimit: see ratelimit.h. */
#include "ratelimit.h"

#include <stdarg.h>
#include <stdbool.h>
#include <time.h>

static double monotonic_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double (*clock_fn)(void) = monotonic_now;
static struct ratelimit *sites;
static unsigned long long suppressed_total;

void ratelimit_set_clock(double (*now)(void))
{
	clock_fn = now ? now : monotonic_now;
}

unsigned long long ratelimit_suppressed_total(void)
{
	return suppressed_total;
}

/* Close R's interval: report what it suppressed, start a new one at NOW. */
static void roll(struct ratelimit *r, double now)
{
	if (r->suppressed)
		log_msg(r->level, "rate limit: %lu line%s suppressed in %.0f s like \"%s\"",
		        r->suppressed, r->suppressed == 1 ? "" : "s", now - r->start, r->fmt);
	r->start = now;
	r->lines = 0;
	r->suppressed = 0;
}

void ratelimit_log(struct ratelimit *r, enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	double now = clock_fn();
	if (!r->listed) {
		r->listed = true;
		r->fmt = fmt;
		r->level = level;
		r->start = now;
		r->next = sites;
		sites = r;
	}
	if (now - r->start >= RATELIMIT_INTERVAL)
		roll(r, now);
	if (r->lines >= RATELIMIT_BURST) {
		r->suppressed++;
		suppressed_total++;
		return;
	}
	r->lines++;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
	if (r->lines == RATELIMIT_BURST)
		log_msg(level,
		        "(rate limit: more lines like the last are counted, not logged, for up to "
		        "%.0f s)",
		        RATELIMIT_INTERVAL - (now - r->start));
}

void ratelimit_flush(bool force)
{
	double now = clock_fn();
	for (struct ratelimit *r = sites; r; r = r->next)
		if (force || (r->suppressed && now - r->start >= RATELIMIT_INTERVAL))
			roll(r, now);
}
