/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* sd-daemon(3) priority prefixes: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const char *const journal_prefix[] = {"<3>", "<4>", "<6>", "<7>"};
static bool journal;

static char log_name[64] = "sctpgw";
static enum log_level log_level = LOG_INFO;

bool log_journal_stream(const char *env, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_journal(bool on)
{
	journal = on;
}

void log_init(const char *name, enum log_level level)
{
	snprintf(log_name, sizeof log_name, "%s", name);
	log_level = level;
	journal = log_journal_stream(getenv("JOURNAL_STREAM"), STDERR_FILENO);
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

int log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

int log_enabled(enum log_level level)
{
	return level <= log_level;
}

static FILE *log_out;

void log_set_output(FILE *f)
{
	log_out = f;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;

	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	/* Build the whole line first so concurrent writers never interleave. */
	char line[1024];
	int n =
	    snprintf(line, sizeof line, "%s%s.%03ldZ %s %s: ", journal ? journal_prefix[level] : "",
	             stamp, ts.tv_nsec / 1000000, level_names[level], log_name);
	if (n >= 0 && (size_t)n < sizeof line)
		n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line - 1)
		n = sizeof line - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, log_out ? log_out : stderr);
}
