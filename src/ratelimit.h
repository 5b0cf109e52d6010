/*
 * ratelimit: log lines a peer or a client can trigger again and again
 * (one per message, one per client) without turning a flood into a disk
 * flood.
 *
 * Start here: write log_warn_limited(...) where you would write
 * log_warn(...). Each call site gets its own budget: at most
 * RATELIMIT_BURST lines per RATELIMIT_INTERVAL seconds. The line that uses
 * up the budget says that more are being suppressed; the first line from
 * that site after the interval, or ratelimit_flush() (the gateway calls it
 * every interval and on SIGUSR1), says how many were.
 *
 *   warn ...: stream 7: CLOSED for a stream not waiting for it; ignored
 *   warn ...: (rate limit: more lines like the last are counted, not logged, for up to 10 s)
 *   warn ...: rate limit: 4711 lines suppressed in 10 s like "stream %u: CLOSED for ..."
 */
#ifndef SCTPGW_RATELIMIT_H
#define SCTPGW_RATELIMIT_H

#include <stdbool.h>

#include "log.h"

#define RATELIMIT_BURST    10
#define RATELIMIT_INTERVAL 10.0 /* seconds */

/* One call site's budget. Zero-initialised (static) before first use. */
struct ratelimit {
	const char *fmt;          /* the site's format, named in the summary */
	enum log_level level;     /* the site's level, used for the summary */
	double start;             /* when the current interval began (monotonic s) */
	unsigned lines;           /* lines logged in the current interval */
	unsigned long suppressed; /* lines dropped in the current interval */
	struct ratelimit *next;   /* every site used so far, for ratelimit_flush */
	bool listed;
};

void ratelimit_log(struct ratelimit *r, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Log the count of every site whose interval is over and that suppressed
 * lines in it. FORCE: end every site's interval now (and log its count). */
void ratelimit_flush(bool force);

/* Lines suppressed since start, all sites together (for the status dump). */
unsigned long long ratelimit_suppressed_total(void);

/* Tests: the clock (monotonic seconds) the limiter reads; NULL restores it. */
void ratelimit_set_clock(double (*now)(void));

#define log_limited_(level, ...)                                                                   \
	do {                                                                                       \
		static struct ratelimit ratelimit_site_;                                           \
		ratelimit_log(&ratelimit_site_, level, __VA_ARGS__);                               \
	} while (0)
#define log_warn_limited(...)  log_limited_(LOG_WARN, __VA_ARGS__)
#define log_error_limited(...) log_limited_(LOG_ERROR, __VA_ARGS__)
#define log_info_limited(...)  log_limited_(LOG_INFO, __VA_ARGS__)

#endif
