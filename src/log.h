/*
 * log: one line per event on stderr.
 *
 *   2026-11-29T06:51:21.123Z info site-a: association up (engine userspace)
 *
 * Lines below the configured level are dropped before formatting.
 * When stderr is the journal (systemd sets JOURNAL_STREAM to the device
 * and inode of that stream), each line starts with its sd-daemon(3)
 * priority, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug, which
 * journald strips and keeps as the priority: `journalctl -p warning`.
 * Lines a peer or a client can trigger repeatedly: log_warn_limited()
 * (ratelimit.h).
 */
#ifndef SCTPGW_LOG_H
#define SCTPGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LOG_ERROR, /* the gateway or a flow cannot go on */
	LOG_WARN,  /* something a user should look at; the gateway goes on */
	LOG_INFO,  /* association and listener life */
	LOG_DEBUG, /* every connection */
};

/* Also turns the priority prefixes on when stderr is the journal. */
void log_init(const char *name, enum log_level level);
/* Whether ENV (the value of JOURNAL_STREAM, "DEV:INODE") names FD. */
bool log_journal_stream(const char *env, int fd);
/* Priority prefixes on or off (tests). */
void log_set_journal(bool on);
void log_set_level(enum log_level level);
/* Parse "error" | "warn" | "info" | "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *text, enum log_level *out);
const char *log_level_name(enum log_level level);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Where lines go: stderr unless set (tests). */
void log_set_output(FILE *f);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
