/*
 * config: see config.h.
 *
 * Loading happens in three passes over one file:
 *   1. scan: our own reading of the raw lines, mirroring iniparser's grammar,
 *      to learn which line every section and key is on (iniparser keeps no
 *      line numbers) and to catch what iniparser silently accepts: duplicate
 *      keys, duplicate sections, keys before any section;
 *   2. iniparser_load: values, with its quote and comment rules; its syntax
 *      errors come back through the error callback;
 *   3. walk: every scanned section and key against the tables below, values
 *      read from iniparser, then checks that involve more than one key.
 * Every problem becomes one message; they are printed sorted by line so the
 * output reads like a compiler's.
 */
#include "config.h"

#include "addr.h"
#include "config_bytes.h"
#include "config_egress.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iniparser/iniparser.h>

#define NO_SECTION ((size_t)-1)

/* iniparser 4.1 reads lines into a 1024-byte buffer: 1022 characters, the
 * newline and the NUL. */
#define INI_LINE_MAX 1022

struct config_msg {
	unsigned line; /* 0: about the whole file */
	size_t seq;    /* keeps messages on one line in the order found */
	char *text;
};

struct scan_section {
	char *name; /* lowercased, as iniparser stores it */
	unsigned line;
};

struct scan_key {
	size_t section; /* index into loader.secs */
	char *key;      /* lowercased, as iniparser stores it */
	unsigned line;
};

struct loader {
	const char *file;
	struct config *c;
	dictionary *ini;

	struct config_msg *msgs;
	size_t n_msgs, cap_msgs;
	bool oom;

	struct scan_section *secs;
	size_t n_secs, cap_secs;
	struct scan_key *keys;
	size_t n_keys, cap_keys;

	unsigned fwd_listen_line[CONFIG_MAX_FORWARDS];
	unsigned path_local_line[CONFIG_MAX_PATHS], path_remote_line[CONFIG_MAX_PATHS];

	/* For the checks that need the paths too, made after every section. */
	size_t sctp_si; /* NO_SECTION when the file has no [sctp] */
	unsigned sctp_bad;
};

/* ---- the keys ---------------------------------------------------------- */

enum spec_kind {
	SPEC_UINT,         /* decimal integer in [min, max] */
	SPEC_SIZE,         /* like SPEC_UINT, with an optional k/K or m/M (KiB, MiB) suffix */
	SPEC_CHOICE,       /* one word of choices[]; its index is the stored enum value */
	SPEC_NAME,         /* 1..max of [A-Za-z0-9._-] */
	SPEC_HOST,         /* bare IP literal */
	SPEC_ENDPOINT,     /* IP:port, [IPv6]:port */
	SPEC_ENDPOINT_OPT, /* the same, or empty: off (ss_family AF_UNSPEC) */
	SPEC_PATH,         /* a file name; relative to the config file's directory */
	SPEC_TARGET,       /* SPEC_ENDPOINT, name:port or "original" (config_forward only) */
	SPEC_ALLOW,        /* [egress] allow: config_egress.h */
	SPEC_RESOLVER,     /* [egress] resolver: config_egress.h */
};

/* One key: how to read it, its default, and where it goes. The defaults
 * here are the only ones; config_defaults() applies them. */
struct spec {
	const char *key;
	enum spec_kind kind;
	bool required;
	unsigned long min, max;
	unsigned long def;          /* SPEC_UINT, SPEC_SIZE, SPEC_CHOICE */
	const char *const *choices; /* SPEC_CHOICE, NULL-terminated */
	size_t offset, size;        /* the field in the section's struct */
};

/* The store code writes enums and ints as 32-bit unsigned values. */
_Static_assert(sizeof(enum config_engine) == 4 && sizeof(enum config_transport) == 4 &&
                   sizeof(enum log_level) == 4 && sizeof(enum config_role) == 4 &&
                   sizeof(enum config_protocol) == 4 && sizeof(enum config_cc) == 4 &&
                   sizeof(enum config_capture) == 4 && sizeof(int) == 4,
               "config stores enums and ints as 32 bits");

#define AT(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define C(member)        AT(struct config, member)
#define P(member)        AT(struct config_path, member)
#define F(member)        AT(struct config_forward, member)

static const char *const engine_names[] = {"auto", "kernel", "userspace", NULL};
/* Same order as enum config_transport. */
static const char *const transport_names[] = {"udp", "sctp", NULL};
static const char *const role_names[] = {"connect", "accept", NULL};
/* Same order as enum log_level. */
static const char *const level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const protocol_names[] = {"tcp", "udp", NULL};
static const char *const yes_no[] = {"no", "yes", NULL};
/* Same order as enum config_cc. */
static const char *const cc_names[] = {"rfc4960", "hstcp", "htcp", "rtcc", NULL};

/* Columns: key, kind, required, min, max, default, choices, field. */
static const struct spec gateway_keys[] = {
    {"name", SPEC_NAME, 0, 1, CONFIG_NAME_MAX - 1, 0, NULL, C(name)},
    {"engine", SPEC_CHOICE, 0, 0, 0, CONFIG_ENGINE_AUTO, engine_names, C(engine)},
    {"udp_encap_port", SPEC_UINT, 0, 1, 65535, 9899, NULL, C(udp_encap_port)},
    {"log_level", SPEC_CHOICE, 0, 0, 0, LOG_INFO, level_names, C(log_level)},
    {"connect_timeout_ms", SPEC_UINT, 0, 100, 600000, 5000, NULL, C(connect_timeout_ms)},
    {"drain_timeout_ms", SPEC_UINT, 0, 0, 600000, 5000, NULL, C(drain_timeout_ms)},
    {"conn_window", SPEC_SIZE, 0, 4096, 67108864, 262144, NULL, C(conn_window)},
    {"conn_window_max", SPEC_SIZE, 0, 4096, 268435456, 16777216, NULL, C(conn_window_max)},
    {"memory_limit", SPEC_SIZE, 0, 65536, 1099511627776, 1073741824, NULL, C(memory_limit)},
    {"max_connections", SPEC_UINT, 0, 0, 10000000, 0, NULL, C(max_connections)},
    {"idle_timeout_s", SPEC_UINT, 0, 0, 604800, 0, NULL, C(idle_timeout_s)},
    {"log_connections", SPEC_CHOICE, 0, 0, 0, 0, yes_no, C(log_connections)},
    {"tcp_keepalive", SPEC_CHOICE, 0, 0, 0, 1, yes_no, C(tcp_keepalive)},
    {"tcp_keepalive_idle_s", SPEC_UINT, 0, 1, 32767, 60, NULL, C(tcp_keepalive_idle_s)},
    {"tcp_keepalive_interval_s", SPEC_UINT, 0, 1, 32767, 10, NULL, C(tcp_keepalive_interval_s)},
    {"tcp_keepalive_count", SPEC_UINT, 0, 1, 127, 6, NULL, C(tcp_keepalive_count)},
    {"admin", SPEC_ENDPOINT_OPT, 0, 0, 0, 0, NULL, C(admin)},
    {"udp_lifetime_ms", SPEC_UINT, 0, 1, 60000, 150, NULL, C(udp_lifetime_ms)},
    {"udp_idle_timeout_ms", SPEC_UINT, 0, 100, 86400000, 30000, NULL, C(udp_idle_timeout_ms)},
    {"udp_max_flows", SPEC_UINT, 0, 1, 1000000, 4096, NULL, C(udp_max_flows)},
};

/* Keys that existed once: a file that still has one gets told what replaced
 * it rather than just "unknown key". */
struct renamed_key {
	const char *section, *key, *hint;
};

static const struct renamed_key renamed_keys[] = {
    {"gateway", "conn_buffer",
     "replaced by conn_window in sctpgw 0.2 (a per-connection credit window instead of a "
     "buffer limit that paused the whole association); expected conn_window"},
    {"gateway", "udp_encap",
     "udp_encap was replaced by [association] transport = udp|sctp (udp, the default, is "
     "SCTP over UDP with either engine; sctp is plain IP protocol 132, kernel engine only); "
     "remove udp_encap"},
};

static const struct spec association_keys[] = {
    {"role", SPEC_CHOICE, 1, 0, 0, CONFIG_ROLE_CONNECT, role_names, C(role)},
    {"port", SPEC_UINT, 0, 1, 65535, 5757, NULL, C(port)},
    {"transport", SPEC_CHOICE, 0, 0, 0, CONFIG_TRANSPORT_UDP, transport_names, C(transport)},
    {"remote_udp_encap_port", SPEC_UINT, 0, 1, 65535, 9899, NULL, C(remote_udp_encap_port)},
    {"max_streams", SPEC_UINT, 0, 3, 65535, 4096, NULL, C(max_streams)},
    {"psk_file", SPEC_PATH, 0, 0, 0, 0, NULL, C(psk_file)},
    {"encrypt", SPEC_CHOICE, 0, 0, 0, 1, yes_no, C(encrypt)},
    {"insecure", SPEC_CHOICE, 0, 0, 0, 0, yes_no, C(insecure)},
};

static const struct spec sctp_keys[] = {
    {"heartbeat_interval_ms", SPEC_UINT, 0, 100, 600000, 1000, NULL, C(heartbeat_interval_ms)},
    {"rto_initial_ms", SPEC_UINT, 0, 10, 600000, 1000, NULL, C(rto_initial_ms)},
    {"rto_min_ms", SPEC_UINT, 0, 10, 600000, 1000, NULL, C(rto_min_ms)},
    {"rto_max_ms", SPEC_UINT, 0, 10, 600000, 3000, NULL, C(rto_max_ms)},
    {"path_max_retrans", SPEC_UINT, 0, 1, 100, 3, NULL, C(path_max_retrans)},
    {"pf_threshold", SPEC_UINT, 0, 0, 100, 1, NULL, C(pf_threshold)},
    {"assoc_max_retrans", SPEC_UINT, 0, 1, 1000, 10, NULL, C(assoc_max_retrans)},
    {"failback_hold_ms", SPEC_UINT, 0, 0, 600000, 5000, NULL, C(failback_hold_ms)},
    {"delayed_sack_ms", SPEC_UINT, 0, 0, 500, 40, NULL, C(delayed_sack_ms)},
    {"congestion_control", SPEC_CHOICE, 0, 0, 0, CONFIG_CC_RFC4960, cc_names,
     C(congestion_control)},
    {"sndbuf", SPEC_SIZE, 0, 65536, 268435456, 2097152, NULL, C(sndbuf)},
    {"rcvbuf", SPEC_SIZE, 0, 65536, 268435456, 2097152, NULL, C(rcvbuf)},
};

static const struct spec path_keys[] = {
    {"local", SPEC_HOST, 1, 0, 0, 0, NULL, P(local)},
    {"remote", SPEC_HOST, 1, 0, 0, 0, NULL, P(remote)},
    {"priority", SPEC_UINT, 0, 0, 65535, 10, NULL, P(priority)},
};

static const struct spec forward_keys[] = {
    {"listen", SPEC_ENDPOINT, 1, 0, 0, 0, NULL, F(listen)},
    {"protocol", SPEC_CHOICE, 0, 0, 0, CONFIG_PROTO_TCP, protocol_names, F(protocol)},
    {"target", SPEC_TARGET, 1, 0, 0, 0, NULL, F(target)},
    {"max_connections", SPEC_UINT, 0, 0, 10000000, 0, NULL, F(max_connections)},
    {"capture", SPEC_CHOICE, 0, 0, 0, CONFIG_CAPTURE_NONE, config_capture_names, F(capture)},
};

/* config_egress.h parses these values. */
static const struct spec egress_keys[] = {
    {"allow", SPEC_ALLOW, 0, 0, 0, 0, NULL, C(egress_allow)},
    {"resolver", SPEC_RESOLVER, 0, 0, 0, 0, NULL, C(resolver)},
};

enum section_kind { SEC_GATEWAY, SEC_ASSOCIATION, SEC_SCTP, SEC_PATH, SEC_FORWARD, SEC_EGRESS };

struct section_spec {
	const char *name; /* "path" for [path.NAME] */
	enum section_kind kind;
	bool named;
	const struct spec *keys;
	size_t n_keys;
};

#define KEYS(a)    a, sizeof a / sizeof a[0]
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static const struct section_spec sections[] = {
    {"gateway", SEC_GATEWAY, false, KEYS(gateway_keys)},
    {"association", SEC_ASSOCIATION, false, KEYS(association_keys)},
    {"sctp", SEC_SCTP, false, KEYS(sctp_keys)},
    {"path", SEC_PATH, true, KEYS(path_keys)},
    {"forward", SEC_FORWARD, true, KEYS(forward_keys)},
    {"egress", SEC_EGRESS, false, KEYS(egress_keys)},
};

/* ---- messages ---------------------------------------------------------- */

static bool loader_grow(struct loader *l, void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, ncap * size);
	if (!nv) {
		l->oom = true;
		return false;
	}
	*v = nv;
	*cap = ncap;
	return true;
}

__attribute__((format(printf, 3, 4))) static void loader_error(struct loader *l, unsigned line,
                                                               const char *fmt, ...)
{
	char *text;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		l->oom = true;
		return;
	}
	if (!loader_grow(l, (void **)&l->msgs, &l->cap_msgs, l->n_msgs, sizeof *l->msgs)) {
		free(text);
		return;
	}
	l->msgs[l->n_msgs] = (struct config_msg){line, l->n_msgs, text};
	l->n_msgs++;
}

static int msg_cmp(const void *a, const void *b)
{
	const struct config_msg *x = a, *y = b;
	/* Whole-file complaints (line 0) go last, after the ones a user can
	 * jump to. */
	unsigned lx = x->line ? x->line : UINT_MAX, ly = y->line ? y->line : UINT_MAX;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void loader_flush(struct loader *l, FILE *err)
{
	qsort(l->msgs, l->n_msgs, sizeof *l->msgs, msg_cmp);
	for (size_t i = 0; i < l->n_msgs; i++)
		fprintf(err, "%s:%u: %s\n", l->file, l->msgs[i].line, l->msgs[i].text);
	if (l->oom)
		fprintf(err, "%s: out of memory while checking; expected more memory\n", l->file);
}

/* ---- pass 1: scan ------------------------------------------------------ */

static void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Copy [s, s+len) without surrounding blanks, lowercased. */
static char *dup_name(struct loader *l, const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *d = strndup(s, len);
	if (d)
		str_lower(d);
	else
		l->oom = true;
	return d;
}

static void scan_section(struct loader *l, char *name, unsigned line, size_t *cur)
{
	for (size_t i = 0; i < l->n_secs; i++) {
		if (strcmp(l->secs[i].name, name) == 0) {
			/* iniparser merges the two; the user almost surely
			 * copied a block and forgot to rename it. */
			loader_error(l, line,
			             "[%s]: duplicate section (first on line %u); expected each "
			             "section once",
			             name, l->secs[i].line);
			free(name);
			*cur = i;
			return;
		}
	}
	*cur = NO_SECTION;
	if (!loader_grow(l, (void **)&l->secs, &l->cap_secs, l->n_secs, sizeof *l->secs)) {
		free(name);
		return;
	}
	l->secs[l->n_secs] = (struct scan_section){name, line};
	*cur = l->n_secs++;
}

/* OCC: the first key of this occurrence of the section. A repeat across two
 * occurrences is already reported as a duplicate section. */
static void scan_key(struct loader *l, char *key, unsigned line, size_t cur, size_t occ)
{
	if (cur == NO_SECTION) {
		loader_error(l, line,
		             "%s: key outside any section; expected a [section] header before it",
		             key);
		free(key);
		return;
	}
	for (size_t i = occ; i < l->n_keys; i++) {
		if (l->keys[i].section == cur && strcmp(l->keys[i].key, key) == 0) {
			loader_error(l, line,
			             "[%s] %s: duplicate key (first on line %u); expected each key "
			             "once per section",
			             l->secs[cur].name, key, l->keys[i].line);
			break;
		}
	}
	if (!loader_grow(l, (void **)&l->keys, &l->cap_keys, l->n_keys, sizeof *l->keys)) {
		free(key);
		return;
	}
	l->keys[l->n_keys++] = (struct scan_key){cur, key, line};
}

/* One logical line, classified the way iniparser_line() does it. Lines that
 * iniparser calls syntax errors are left to its callback. */
static void scan_line(struct loader *l, const char *text, unsigned line, size_t *cur, size_t *occ)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t len = strlen(text);
	if (len == 0 || text[0] == '#' || text[0] == ';')
		return;

	const char *eq = strchr(text, '=');
	const char *close = strchr(text, ']');
	/* "[name] ; note" is a syntax error to iniparser, but treating it as
	 * the section the user meant keeps the keys below it from being
	 * reported as duplicates of the section above. */
	if (text[0] == '[' && close && (text[len - 1] == ']' || !eq)) {
		char *name = dup_name(l, text + 1, (size_t)(close - text - 1));
		*occ = l->n_keys;
		if (name)
			scan_section(l, name, line, cur);
	} else if (eq && eq != text) {
		char *key = dup_name(l, text, (size_t)(eq - text));
		if (key)
			scan_key(l, key, line, *cur, *occ);
	}
}

/* iniparser 4.1 calls "[sctp]  ; timers" a syntax error, yet users (and
 * MISSION.md) write comments after headers. The copy handed to iniparser
 * has such lines cut back to "[sctp]"; every other line, and so every line
 * number, is unchanged. */
static void write_normalised(FILE *out, const char *phys)
{
	const char *t = phys + strspn(phys, " \t");
	const char *close = t[0] == '[' ? strchr(t, ']') : NULL;
	const char *after = close ? close + 1 + strspn(close + 1, " \t") : NULL;
	if (after && (*after == ';' || *after == '#'))
		fprintf(out, "%.*s\n", (int)(close + 1 - phys), phys);
	else
		fputs(phys, out);
}

/* Joins continued lines ("\" at the end) like iniparser, and numbers a
 * logical line by its first physical line, where its key is. Writes the
 * copy for iniparser to NORM. */
static int scan_file(struct loader *l, FILE *f, FILE *norm)
{
	char *phys = NULL, *logical = NULL;
	size_t phys_cap = 0, log_len = 0, log_cap = 0;
	unsigned lineno = 0, start = 0;
	size_t cur = NO_SECTION, occ = 0;
	int rc = 0;

	ssize_t got;
	while ((got = getline(&phys, &phys_cap, f)) != -1) {
		lineno++;
		const char *why;
		size_t col = config_bytes_check(phys, (size_t)got, &why);
		if (col)
			loader_error(l, lineno,
			             "%s in column %zu; expected UTF-8 text (the loader cannot "
			             "represent it)",
			             why, col);
		size_t n = strlen(phys);
		write_normalised(norm, phys);
		if (log_len == 0)
			start = lineno;
		if (log_len + n + 1 > log_cap) {
			char *nl = realloc(logical, log_len + n + 1);
			if (!nl) {
				rc = -ENOMEM;
				break;
			}
			logical = nl;
			log_cap = log_len + n + 1;
		}
		memcpy(logical + log_len, phys, n + 1);
		log_len += n;
		while (log_len && isspace((unsigned char)logical[log_len - 1]))
			logical[--log_len] = '\0';
		if (log_len && logical[log_len - 1] == '\\') {
			logical[--log_len] = '\0';
			continue;
		}
		scan_line(l, logical, start, &cur, &occ);
		log_len = 0;
	}
	if (rc == 0 && ferror(f))
		rc = errno ? -errno : -EIO;
	else if (rc == 0 && log_len)
		scan_line(l, logical, start, &cur, &occ);
	free(phys);
	free(logical);
	return rc;
}

/* ---- pass 2: iniparser's messages --------------------------------------- */

/* iniparser's callback carries no user pointer, so the loader in progress
 * sits here for the length of one iniparser_load(). Loading is single
 * threaded (start-up and SIGHUP both run on the main loop). */
static struct loader *config_cb_loader;

static int config_ini_error_cb(const char *fmt, ...)
{
	struct loader *l = config_cb_loader;
	va_list ap;

	if (!l)
		return 0;
	va_start(ap, fmt);
	/* Only with iniparser 4.1's exact formats do we know the arguments;
	 * anything else is passed on as iniparser wrote it. */
	if (strcmp(fmt, "iniparser: syntax error in %s (%d):\n-> %s\n") == 0) {
		(void)va_arg(ap, const char *);
		unsigned line = (unsigned)va_arg(ap, int);
		const char *text = va_arg(ap, const char *);
		loader_error(l, line,
		             "syntax error: \"%s\"; expected [section], key = value or a comment",
		             text);
	} else if (strcmp(fmt, "iniparser: input line too long in %s (%d)\n") == 0) {
		(void)va_arg(ap, const char *);
		unsigned line = (unsigned)va_arg(ap, int);
		loader_error(l, line, "line too long; expected at most %d characters",
		             INI_LINE_MAX);
	} else {
		char *text = NULL;
		if (vasprintf(&text, fmt, ap) < 0)
			text = NULL;
		size_t n = text ? strcspn(text, "\n") : 0;
		loader_error(l, 0, "%.*s; expected a readable INI file", (int)n, text ? text : "");
		free(text);
	}
	va_end(ap);
	return 0;
}

/* ---- pass 3: values ---------------------------------------------------- */

/* Decimal digits only: no sign, no blanks, no hex, no exponent. Returns 0,
 * -EINVAL (not a number) or -ERANGE (too big for any field). */
static int parse_number(const char *p, bool suffix, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	bool overflow = false;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (ULLONG_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (suffix && (*p == 'k' || *p == 'K'))
		mult = 1024, p++;
	else if (suffix && (*p == 'm' || *p == 'M'))
		mult = 1024 * 1024, p++;
	else if (suffix && (*p == 'g' || *p == 'G'))
		mult = 1024 * 1024 * 1024, p++;
	if (*p)
		return -EINVAL;
	if (overflow || v > ULLONG_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static const char *spec_expected(const struct spec *s, char *buf, size_t len)
{
	size_t n = 0;

	switch (s->kind) {
	case SPEC_UINT:
		snprintf(buf, len, "an integer from %lu to %lu", s->min, s->max);
		break;
	case SPEC_SIZE:
		snprintf(buf, len,
		         "a size from %lu to %lu bytes (suffix k, m or g for KiB, MiB or GiB)",
		         s->min, s->max);
		break;
	case SPEC_CHOICE:
		for (size_t i = 0; s->choices[i] && n < len; i++) {
			const char *sep = i == 0 ? "" : s->choices[i + 1] ? ", " : " or ";
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, s->choices[i]);
		}
		break;
	case SPEC_NAME:
		snprintf(buf, len, "1 to %lu characters of A-Z a-z 0-9 . _ -", s->max);
		break;
	case SPEC_HOST:
		snprintf(buf, len, "an IPv4 or IPv6 address");
		break;
	case SPEC_ENDPOINT:
		snprintf(buf, len, "host:port");
		break;
	case SPEC_ENDPOINT_OPT:
		snprintf(buf, len, "host:port, or nothing for off");
		break;
	case SPEC_PATH:
		snprintf(buf, len, "a file name");
		break;
	case SPEC_TARGET:
		snprintf(buf, len, "address:port, host name:port or %s", CONFIG_TARGET_ORIGINAL);
		break;
	case SPEC_ALLOW:
		snprintf(buf, len, "networks with optional ports, like 10.0.0.0/8, 192.0.2.10:443");
		break;
	case SPEC_RESOLVER:
		snprintf(buf, len, "DNS server addresses, like 198.18.0.53 or [2001:db8::53]:53");
		break;
	}
	return buf;
}

static void store_uint(void *base, const struct spec *s, unsigned long long v)
{
	char *p = (char *)base + s->offset;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = v;

	memcpy(p,
	       s->size == 2   ? (void *)&v16
	       : s->size == 4 ? (void *)&v32
	                      : (void *)&v64,
	       s->size);
}

static void spec_defaults(const struct section_spec *ss, void *base)
{
	for (size_t i = 0; i < ss->n_keys; i++)
		if (ss->keys[i].kind == SPEC_UINT || ss->keys[i].kind == SPEC_SIZE ||
		    ss->keys[i].kind == SPEC_CHOICE)
			store_uint(base, &ss->keys[i], ss->keys[i].def);
}

static bool name_valid(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

/* Why an endpoint failed, for the most common slips. */
static const char *endpoint_hint(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon)
		return " is not a valid address (no port)";
	if (v[0] != '[' && strchr(v, ':') != colon)
		return " is not a valid address (IPv6 needs brackets: [addr]:port)";
	return " is not a valid address (an IP address and a port from 1 to 65535; names are "
	       "not resolved)";
}

/* Stores V into BASE, or reports it and returns -EINVAL. */
static int parse_value(struct loader *l, const char *sec, const struct spec *s, const char *v,
                       void *base, unsigned line)
{
	char exp[160], word[32];
	struct sockaddr_storage ss;
	unsigned long long n;
	const char *what = NULL; /* follows the quoted value in the message */

	switch (s->kind) {
	case SPEC_UINT:
	case SPEC_SIZE: {
		int rc = parse_number(v, s->kind == SPEC_SIZE, &n);
		if (rc == -EINVAL)
			what = " is not a number";
		else if (rc != 0 || n < s->min || n > s->max)
			what = " is out of range";
		else
			store_uint(base, s, n);
		break;
	}
	case SPEC_CHOICE:
		/* Words are matched without case: "TCP" means tcp. */
		what = " is not valid";
		snprintf(word, sizeof word, "%s", v);
		str_lower(word);
		for (size_t i = 0; strlen(v) < sizeof word && s->choices[i]; i++) {
			if (strcmp(word, s->choices[i]) == 0) {
				store_uint(base, s, i);
				what = NULL;
			}
		}
		break;
	case SPEC_NAME:
		if (name_valid(v, s->max, "._-"))
			snprintf((char *)base + s->offset, s->size, "%s", v);
		else
			what = " is not a valid name";
		break;
	case SPEC_ENDPOINT_OPT:
		if (*v == '\0') {
			memset((char *)base + s->offset, 0, sizeof ss); /* AF_UNSPEC: off */
			break;
		}
		/* fall through */
	case SPEC_HOST:
	case SPEC_ENDPOINT:
		if ((s->kind == SPEC_HOST ? addr_parse_host(v, &ss)
		                          : addr_parse_endpoint(v, &ss)) == 0)
			memcpy((char *)base + s->offset, &ss, sizeof ss);
		else if (s->kind == SPEC_HOST)
			what = " is not an IP address (no port, no brackets, no names)";
		else
			what = endpoint_hint(v);
		break;
	case SPEC_PATH:
		if (!*v || strlen(v) >= s->size)
			what = " is not a usable file name";
		else
			snprintf((char *)base + s->offset, s->size, "%s", v);
		break;
	case SPEC_TARGET: {
		struct config_forward *f = base;
		char why[400];
		/* Left with neither family nor host: load_forward reads that as original. */
		if (config_capture_is_original(v)) {
			memset(&f->target, 0, sizeof f->target);
			f->target_host[0] = '\0';
			break;
		}
		if (addr_parse_endpoint(v, &f->target) == 0)
			break;
		memset(&f->target, 0, sizeof f->target);
		if (v[0] == '[' || strchr(v, ':') != strrchr(v, ':')) {
			what = endpoint_hint(v);
			break;
		}
		if (config_host_target(v, f->target_host, sizeof f->target_host, &f->target_port,
		                       why, sizeof why) == 0)
			break;
		loader_error(l, line, "[%s] %s: %s", sec, s->key, why);
		return -EINVAL;
	}
	case SPEC_ALLOW:
	case SPEC_RESOLVER: {
		char why[400];
		int rc = s->kind == SPEC_ALLOW
		             ? config_egress_allow(v, &l->c->egress_allow, why, sizeof why)
		             : config_egress_resolver(v, l->c->resolver, sizeof l->c->resolver, why,
		                                      sizeof why);
		if (rc == 0)
			break;
		loader_error(l, line, "[%s] %s: %s", sec, s->key, why);
		return -EINVAL;
	}
	}
	if (!what)
		return 0;
	spec_expected(s, exp, sizeof exp);
	if (*v == '\0')
		loader_error(l, line, "[%s] %s: empty value; expected %s", sec, s->key, exp);
	else
		loader_error(l, line, "[%s] %s: \"%s\"%s; expected %s", sec, s->key, v, what, exp);
	return -EINVAL;
}

/* ---- pass 3: sections -------------------------------------------------- */

static unsigned key_line(const struct loader *l, size_t si, const char *key)
{
	unsigned line = 0;
	/* The last one: with a duplicate, iniparser kept the last value. */
	for (size_t i = 0; i < l->n_keys; i++)
		if (l->keys[i].section == si && strcmp(l->keys[i].key, key) == 0)
			line = l->keys[i].line;
	return line;
}

/* The bit of KEY in the seen/bad masks of load_keys(), and its spec; 0 if
 * the key is unknown. */
static unsigned spec_bit(const struct section_spec *ss, const char *key, const struct spec **spec)
{
	for (size_t i = 0; i < ss->n_keys; i++) {
		if (strcmp(ss->keys[i].key, key) == 0) {
			if (spec)
				*spec = &ss->keys[i];
			return 1u << i;
		}
	}
	return 0;
}

static const char *renamed_hint(const char *sec, const char *key)
{
	for (size_t i = 0; i < sizeof renamed_keys / sizeof renamed_keys[0]; i++)
		if (strcmp(sec, renamed_keys[i].section) == 0 &&
		    strcmp(key, renamed_keys[i].key) == 0)
			return renamed_keys[i].hint;
	return NULL;
}

/* Reads every key of section SI into BASE. *seen and *bad get one bit per
 * spec, so the cross-key checks can skip keys that are already reported. */
static void load_keys(struct loader *l, size_t si, const struct section_spec *ss, void *base,
                      unsigned *seen, unsigned *bad)
{
	const char *sec = l->secs[si].name;
	char ikey[2 * INI_LINE_MAX + 2], buf[1024];

	*seen = *bad = 0;
	for (size_t i = 0; i < l->n_keys; i++) {
		const struct scan_key *k = &l->keys[i];
		if (k->section != si || key_line(l, si, k->key) != k->line)
			continue; /* another section, or a duplicate seen later */
		const struct spec *s;
		unsigned bit = spec_bit(ss, k->key, &s);
		const char *hint = bit ? NULL : renamed_hint(sec, k->key);
		if (hint) {
			loader_error(l, k->line, "[%s] %s: %s", sec, k->key, hint);
			continue;
		}
		if (!bit) {
			size_t n = 0;
			for (size_t j = 0; j < ss->n_keys && n < sizeof buf; j++)
				n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
				                      j ? ", " : "", ss->keys[j].key);
			loader_error(l, k->line, "[%s] %s: unknown key; expected one of %s", sec,
			             k->key, buf);
			continue;
		}
		*seen |= bit;
		int w = snprintf(ikey, sizeof ikey, "%s:%s", sec, k->key);
		const char *v = w > 0 && (size_t)w < sizeof ikey
		                    ? iniparser_getstring(l->ini, ikey, NULL)
		                    : NULL;
		if (!v || parse_value(l, sec, s, v, base, k->line) != 0)
			*bad |= bit;
	}
	for (size_t i = 0; i < ss->n_keys; i++)
		if (ss->keys[i].required && !(*seen & (1u << i)))
			loader_error(l, l->secs[si].line, "[%s] %s: missing; expected %s", sec,
			             ss->keys[i].key, spec_expected(&ss->keys[i], buf, sizeof buf));
}

/* A must not exceed B (STRICT: must be less than B). The message goes to the
 * line the user wrote last and names the key on that line first, so it
 * reads true where it points. RULE says what is expected and why. */
static void check_order(struct loader *l, size_t si, const char *a, unsigned long long va,
                        const char *b, unsigned long long vb, bool strict, const char *rule)
{
	if (va < vb || (va == vb && !strict))
		return;
	unsigned la = key_line(l, si, a), lb = key_line(l, si, b);
	bool blame_a = la >= lb;
	unsigned other = blame_a ? lb : la;
	char where[32] = "default";
	if (other)
		snprintf(where, sizeof where, "line %u", other);
	const char *rel = va == vb ? "equal to" : blame_a ? "greater than" : "less than";
	loader_error(l, blame_a ? la : lb, "[%s] %s: %llu is %s %s (%llu, %s); expected %s",
	             l->secs[si].name, blame_a ? a : b, blame_a ? va : vb, rel, blame_a ? b : a,
	             blame_a ? vb : va, where, rule);
}

static void load_gateway(struct loader *l, size_t si, const struct section_spec *ss)
{
	const struct config *c = l->c;
	unsigned seen, bad;

	load_keys(l, si, ss, l->c, &seen, &bad);
	/* Every open connection reserves its window out of memory_limit, so
	 * a limit below one window would refuse every connection. */
	if (!(bad & (spec_bit(ss, "conn_window", NULL) | spec_bit(ss, "memory_limit", NULL))))
		check_order(l, si, "conn_window", c->conn_window, "memory_limit", c->memory_limit,
		            false,
		            "memory_limit >= conn_window (each open connection reserves "
		            "conn_window bytes of memory_limit)");
	if (!(bad & (spec_bit(ss, "conn_window", NULL) | spec_bit(ss, "conn_window_max", NULL))))
		check_order(l, si, "conn_window", c->conn_window, "conn_window_max",
		            c->conn_window_max, false,
		            "conn_window <= conn_window_max (a window starts at conn_window and "
		            "grows up to conn_window_max)");
}

/* The key file is read here, so --check finds a bad one. A relative name
 * is taken first from $CREDENTIALS_DIRECTORY when the service manager set
 * it (systemd's LoadCredential=: the unit's user cannot read a root-only
 * file under /etc, systemd hands it a copy), else from the config file's
 * directory. */
static void load_psk(struct loader *l, unsigned line, const char *sec)
{
	struct config *c = l->c;
	char path[sizeof c->psk_file + 4096], err[256];
	const char *slash = strrchr(l->file, '/');
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	int n = -ENOENT;
	if (c->psk_file[0] != '/' && creds && creds[0]) {
		snprintf(path, sizeof path, "%s/%s", creds, c->psk_file);
		n = crypto_psk_load(path, c->psk, err, sizeof err);
	}
	if (n == -ENOENT) {
		if (c->psk_file[0] != '/' && slash)
			snprintf(path, sizeof path, "%.*s/%s", (int)(slash - l->file), l->file,
			         c->psk_file);
		else
			snprintf(path, sizeof path, "%s", c->psk_file);
		n = crypto_psk_load(path, c->psk, err, sizeof err);
	}
	if (n < 0)
		loader_error(l, line, "[%s] psk_file: %s: %s", sec, path, err);
	else
		c->n_psk = (size_t)n;
}

static void load_association(struct loader *l, size_t si, const struct section_spec *ss)
{
	struct config *c = l->c;
	unsigned seen, bad;
	const char *sec = l->secs[si].name;

	load_keys(l, si, ss, c, &seen, &bad);
	unsigned psk = spec_bit(ss, "psk_file", NULL), insecure = spec_bit(ss, "insecure", NULL);
	if (bad & (psk | insecure))
		return;
	if ((seen & psk) && c->insecure)
		loader_error(l, key_line(l, si, "insecure"),
		             "[%s] insecure: yes contradicts psk_file (line %u); expected one of "
		             "them",
		             sec, key_line(l, si, "psk_file"));
	else if (seen & psk)
		load_psk(l, key_line(l, si, "psk_file"), sec);
	else if (!c->insecure)
		loader_error(l, l->secs[si].line,
		             "[%s] psk_file: missing; expected the file with the key both gateways "
		             "share (make one with `sctpgw --gen-psk`), or insecure = yes to run "
		             "without authentication or encryption",
		             sec);
}

static void load_sctp(struct loader *l, size_t si, const struct section_spec *ss)
{
	struct config *c = l->c;
	unsigned seen, bad;

	load_keys(l, si, ss, c, &seen, &bad);
	l->sctp_si = si;
	l->sctp_bad = bad;
	/* A key already reported as bad holds its default; comparing it would
	 * only add a confusing second message. Each rule is explained in
	 * docs/FAILOVER.md. */
	static const char rto_rule[] = "rto_min_ms <= rto_initial_ms <= rto_max_ms";
	if (!(bad & (spec_bit(ss, "rto_min_ms", NULL) | spec_bit(ss, "rto_initial_ms", NULL) |
	             spec_bit(ss, "rto_max_ms", NULL)))) {
		check_order(l, si, "rto_min_ms", c->rto_min_ms, "rto_initial_ms", c->rto_initial_ms,
		            false, rto_rule);
		check_order(l, si, "rto_initial_ms", c->rto_initial_ms, "rto_max_ms", c->rto_max_ms,
		            false, rto_rule);
	}
	/* The stacks (usrsctp, Linux) enter the potentially-failed state only
	 * when pf_threshold < path_max_retrans. */
	if (!(bad & (spec_bit(ss, "pf_threshold", NULL) | spec_bit(ss, "path_max_retrans", NULL))))
		check_order(
		    l, si, "pf_threshold", c->pf_threshold, "path_max_retrans", c->path_max_retrans,
		    true,
		    "pf_threshold < path_max_retrans (otherwise a path is never potentially "
		    "failed and data stays on a dead path until it is declared unreachable)");
	/* A receiver holds a SACK for up to delayed_sack_ms; a retransmission
	 * timer shorter than that plus the round trip expires before the SACK
	 * of a lone last packet can arrive: a spurious timeout that doubles
	 * the RTO and counts as a path error. Half the floor for the delay
	 * leaves the other half for the round trip (docs/PERFORMANCE.md). */
	unsigned dsack = spec_bit(ss, "delayed_sack_ms", NULL);
	if (!(bad & (dsack | spec_bit(ss, "rto_min_ms", NULL))) &&
	    2ull * c->delayed_sack_ms > c->rto_min_ms) {
		unsigned ld = key_line(l, si, "delayed_sack_ms"),
		         lr = key_line(l, si, "rto_min_ms");
		unsigned other = ld >= lr ? lr : ld;
		char where[32] = "default";
		if (other)
			snprintf(where, sizeof where, "line %u", other);
		if (ld >= lr)
			loader_error(
			    l, ld,
			    "[%s] delayed_sack_ms: %u is more than half of rto_min_ms (%u, "
			    "%s); expected delayed_sack_ms <= rto_min_ms / 2 (a SACK held "
			    "longer makes retransmission timeouts expire on a clean path)",
			    l->secs[si].name, c->delayed_sack_ms, c->rto_min_ms, where);
		else
			loader_error(l, lr,
			             "[%s] rto_min_ms: %u is less than twice delayed_sack_ms (%u, "
			             "%s); expected rto_min_ms >= 2 x delayed_sack_ms (a shorter "
			             "floor makes retransmission timeouts expire on a clean path)",
			             l->secs[si].name, c->rto_min_ms, c->delayed_sack_ms, where);
	}
	/* The first heartbeat answered makes a path reachable again; the hold
	 * should see it answer at least one more. */
	if (c->failback_hold_ms > 0 && !(bad & (spec_bit(ss, "failback_hold_ms", NULL) |
	                                        spec_bit(ss, "heartbeat_interval_ms", NULL))))
		check_order(
		    l, si, "heartbeat_interval_ms", c->heartbeat_interval_ms, "failback_hold_ms",
		    c->failback_hold_ms, false,
		    "failback_hold_ms >= heartbeat_interval_ms, or 0 for no hold (a shorter "
		    "hold ends before the returning path has answered another heartbeat)");
}

/* Two paths on one local or one remote address are not two links: the
 * stack tracks a path by its remote address, and a shared local address
 * is a shared point of failure. Checks P's remote address, or its local one. */
static void path_unique(struct loader *l, size_t si, const struct config_path *p, bool remote)
{
	const struct config *c = l->c;
	const char *key = remote ? "remote" : "local";
	const unsigned *lines = remote ? l->path_remote_line : l->path_local_line;
	const struct sockaddr_storage *addr = remote ? &p->remote : &p->local;
	/* An IPv4-mapped address reaches the same interface as the IPv4 one. */
	struct sockaddr_storage mine = addr_unmapped(addr);

	for (size_t i = 0; i < c->n_paths; i++) {
		struct sockaddr_storage theirs =
		    addr_unmapped(remote ? &c->paths[i].remote : &c->paths[i].local);
		if (!addr_equal(&mine, &theirs))
			continue;
		char buf[ADDR_STRLEN];
		loader_error(l, key_line(l, si, key),
		             "[%s] %s: %s is already the %s address of [path.%s] (line %u); "
		             "expected a different %s address for each path",
		             l->secs[si].name, key, addr_format(addr, buf, sizeof buf), key,
		             c->paths[i].name, lines[i], key);
		return;
	}
}

static void load_path(struct loader *l, size_t si, const struct section_spec *ss, const char *name)
{
	struct config_path p = {0};
	unsigned seen, bad;

	spec_defaults(ss, &p);
	snprintf(p.name, sizeof p.name, "%s", name);
	load_keys(l, si, ss, &p, &seen, &bad);
	unsigned both = spec_bit(ss, "local", NULL) | spec_bit(ss, "remote", NULL);
	if ((seen & both) == both && !(bad & both) && p.local.ss_family != p.remote.ss_family) {
		unsigned ll = key_line(l, si, "local"), lr = key_line(l, si, "remote");
		char a[ADDR_STRLEN], b[ADDR_STRLEN];
		loader_error(l, ll > lr ? ll : lr,
		             "[%s] remote: %s is IPv%c but local %s (line %u) is IPv%c; expected "
		             "local and remote of the same family",
		             l->secs[si].name, addr_format(&p.remote, a, sizeof a),
		             p.remote.ss_family == AF_INET6 ? '6' : '4',
		             addr_format(&p.local, b, sizeof b), ll,
		             p.local.ss_family == AF_INET6 ? '6' : '4');
	}
	/* An unset or unreadable address has no family and matches nothing. */
	path_unique(l, si, &p, false);
	path_unique(l, si, &p, true);
	if (l->c->n_paths < CONFIG_MAX_PATHS) {
		l->path_local_line[l->c->n_paths] = key_line(l, si, "local");
		l->path_remote_line[l->c->n_paths] = key_line(l, si, "remote");
		l->c->paths[l->c->n_paths++] = p;
	} else
		loader_error(l, l->secs[si].line,
		             "[%s]: too many paths; expected at most %d [path.NAME] sections",
		             l->secs[si].name, CONFIG_MAX_PATHS);
}

static void load_forward(struct loader *l, size_t si, const struct section_spec *ss,
                         const char *name)
{
	struct config_forward f = {0};
	struct config *c = l->c;
	unsigned seen, bad, bit = spec_bit(ss, "listen", NULL), line = key_line(l, si, "listen");

	spec_defaults(ss, &f);
	snprintf(f.name, sizeof f.name, "%s", name);
	load_keys(l, si, ss, &f, &seen, &bad);
	unsigned tbit = spec_bit(ss, "target", NULL);
	f.target_original =
	    (seen & tbit) && !(bad & tbit) && f.target.ss_family == AF_UNSPEC && !f.target_host[0];
	const char *why = config_capture_check(f.capture, f.target_original);
	if (why && !(bad & spec_bit(ss, "capture", NULL)))
		loader_error(l, key_line(l, si, "target"), "[%s] target: %s", l->secs[si].name,
		             why);
	for (size_t i = 0; (seen & bit) && !(bad & bit) && i < c->n_forwards; i++) {
		char buf[ADDR_STRLEN];
		if (addr_equal(&c->forwards[i].listen, &f.listen)) {
			loader_error(l, line,
			             "[%s] listen: %s is already used by [forward.%s] (line %u); "
			             "expected a different listen address for each forward",
			             l->secs[si].name, addr_format(&f.listen, buf, sizeof buf),
			             c->forwards[i].name, l->fwd_listen_line[i]);
			break;
		}
	}
	/* UDP: TPROXY only (REDIRECT leaves a datagram no original
	 * destination), and an address, not a host name, as the target. */
	unsigned cline = key_line(l, si, "capture"), tline = key_line(l, si, "target");
	if (f.capture == CONFIG_CAPTURE_REDIRECT && f.protocol == CONFIG_PROTO_UDP)
		loader_error(l, cline,
		             "[%s] capture: redirect gives UDP no original destination; expected "
		             "none or tproxy for protocol = udp",
		             l->secs[si].name);
	else if (f.capture == CONFIG_CAPTURE_TPROXY && f.protocol == CONFIG_PROTO_UDP &&
	         !f.target_original && !(bad & spec_bit(ss, "target", NULL)))
		loader_error(l, tline,
		             "[%s] target: a captured UDP forward carries each datagram's original "
		             "destination; expected target = original",
		             l->secs[si].name);
	if (f.target_host[0] && f.protocol == CONFIG_PROTO_UDP)
		loader_error(l, tline,
		             "[%s] target: %s:%u is a host name; expected an IP address and port "
		             "for protocol = udp (host names are resolved for TCP only)",
		             l->secs[si].name, f.target_host, f.target_port);
	if (c->n_forwards < CONFIG_MAX_FORWARDS) {
		l->fwd_listen_line[c->n_forwards] = line;
		c->forwards[c->n_forwards++] = f;
	} else {
		loader_error(l, l->secs[si].line,
		             "[%s]: too many forwards; expected at most %d [forward.NAME] sections",
		             l->secs[si].name, CONFIG_MAX_FORWARDS);
	}
}

/* Which table SECTION belongs to; *suffix gets NAME of [path.NAME]. */
static const struct section_spec *section_find(const char *section, const char **suffix)
{
	for (size_t j = 0; j < N_SECTIONS; j++) {
		size_t n = strlen(sections[j].name);
		if (!sections[j].named && strcmp(section, sections[j].name) == 0)
			return &sections[j];
		if (sections[j].named && strncmp(section, sections[j].name, n) == 0 &&
		    section[n] == '.') {
			*suffix = section + n + 1;
			return &sections[j];
		}
	}
	return NULL;
}

/* Rules between [sctp] and the paths, once every section is read. */
static void check_sctp_paths(struct loader *l)
{
	const struct config *c = l->c;
	const char *suffix;
	const struct section_spec *ss = section_find("sctp", &suffix);

	if (l->sctp_si == NO_SECTION || c->n_paths < 2)
		return; /* the defaults obey every rule */
	/* Every timeout on a path also counts toward the association, and only
	 * an acknowledgement resets that count. */
	if (!(l->sctp_bad &
	      (spec_bit(ss, "path_max_retrans", NULL) | spec_bit(ss, "assoc_max_retrans", NULL))))
		check_order(l, l->sctp_si, "path_max_retrans", c->path_max_retrans,
		            "assoc_max_retrans", c->assoc_max_retrans, true,
		            "assoc_max_retrans > path_max_retrans with 2 or more paths (every "
		            "timeout on a path also counts for the association, which would give "
		            "up no later than a dead path is declared unreachable)");
}

/* Line of KEY in the first section named SEC, 0 when it is not written. */
static unsigned key_line_in(const struct loader *l, const char *sec, const char *key)
{
	for (size_t si = 0; si < l->n_secs; si++)
		if (strcmp(l->secs[si].name, sec) == 0)
			return key_line(l, si, key);
	return 0;
}

/* Plain SCTP is IP protocol 132: only the kernel's stack speaks it. A bad
 * value of either key was reported already and left the default, which
 * never contradicts. */
static void check_transport(struct loader *l)
{
	const struct config *c = l->c;
	if (c->transport != CONFIG_TRANSPORT_SCTP || c->engine != CONFIG_ENGINE_USERSPACE)
		return;
	loader_error(l, key_line_in(l, "association", "transport"),
	             "[association] transport: sctp (plain SCTP, IP protocol 132) needs the "
	             "kernel engine, and [gateway] engine = userspace (line %u) is usrsctp, "
	             "which speaks SCTP over UDP only; expected transport = udp, or engine = "
	             "kernel or auto",
	             key_line_in(l, "gateway", "engine"));
}

static void load_sections(struct loader *l)
{
	bool present[N_SECTIONS] = {false}; /* by enum section_kind */
	unsigned seen, bad;

	l->sctp_si = NO_SECTION;

	for (size_t si = 0; si < l->n_secs; si++) {
		const char *name = l->secs[si].name, *suffix = NULL;
		const struct section_spec *ss = section_find(name, &suffix);
		if (!ss) {
			loader_error(l, l->secs[si].line,
			             "[%s]: unknown section; expected gateway, association, sctp, "
			             "path.NAME, forward.NAME or egress",
			             name);
			continue;
		}
		present[ss->kind] = true;
		/* Keys are still checked under a bad name: all problems at once. */
		if (suffix && !name_valid(suffix, CONFIG_NAME_MAX - 1, "_-"))
			loader_error(l, l->secs[si].line,
			             "[%s]: \"%s\" is not a valid name; expected 1 to %d "
			             "characters of a-z 0-9 _ - after \"%s.\"",
			             name, suffix, CONFIG_NAME_MAX - 1, ss->name);
		if (ss->kind == SEC_GATEWAY)
			load_gateway(l, si, ss);
		else if (ss->kind == SEC_SCTP)
			load_sctp(l, si, ss);
		else if (ss->kind == SEC_ASSOCIATION)
			load_association(l, si, ss);
		else if (ss->kind == SEC_GATEWAY)
			load_gateway(l, si, ss);
		else if (ss->kind == SEC_PATH)
			load_path(l, si, ss, suffix);
		else if (ss->kind == SEC_FORWARD)
			load_forward(l, si, ss, suffix);
		else if (ss->kind == SEC_EGRESS)
			l->c->has_egress = true, load_keys(l, si, ss, l->c, &seen, &bad);
		else
			load_keys(l, si, ss, l->c, &seen, &bad);
	}
	check_sctp_paths(l);
	check_transport(l);

	/* A required key of a section that is not there at all. */
	for (size_t j = 0; j < N_SECTIONS; j++) {
		if (sections[j].named || present[sections[j].kind])
			continue;
		for (size_t i = 0; i < sections[j].n_keys; i++) {
			char exp[160];
			if (sections[j].keys[i].required)
				loader_error(l, 0, "[%s] %s: missing; expected %s",
				             sections[j].name, sections[j].keys[i].key,
				             spec_expected(&sections[j].keys[i], exp, sizeof exp));
		}
	}
	if (!present[SEC_PATH])
		loader_error(l, 0,
		             "[path.NAME]: missing; expected at least one [path.NAME] section");
}

/* ---- the API ----------------------------------------------------------- */

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "sctpgw");
	for (size_t j = 0; j < N_SECTIONS; j++)
		if (!sections[j].named)
			spec_defaults(&sections[j], c);
}

static void loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->n_msgs; i++)
		free(l->msgs[i].text);
	free(l->msgs);
	for (size_t i = 0; i < l->n_secs; i++)
		free(l->secs[i].name);
	free(l->secs);
	for (size_t i = 0; i < l->n_keys; i++)
		free(l->keys[i].key);
	free(l->keys);
	if (l->ini)
		iniparser_freedict(l->ini);
}

struct config *config_load(const char *file, FILE *err)
{
	struct loader l = {.file = file};

	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(err, "%s: cannot read: %s\n", file, strerror(errno));
		return NULL;
	}
	/* iniparser 4.1 loads only by path: the normalised copy lives in an
	 * anonymous memory file reached through /proc/self/fd. */
	int mfd = memfd_create("sctpgw-config", MFD_CLOEXEC);
	FILE *norm = mfd >= 0 ? fdopen(mfd, "w") : NULL;
	if (!norm) {
		fprintf(err, "%s: cannot load: %s\n", file, strerror(errno));
		if (mfd >= 0)
			close(mfd);
		fclose(f);
		return NULL;
	}
	errno = 0;
	int rc = scan_file(&l, f, norm);
	fclose(f);
	char norm_path[64];
	snprintf(norm_path, sizeof norm_path, "/proc/self/fd/%d", mfd);
	if (fflush(norm) != 0 && rc == 0)
		rc = -errno;
	l.c = malloc(sizeof *l.c);
	if (rc != 0 || !l.c) {
		/* A directory opens fine and fails here with EISDIR. */
		fprintf(err, "%s: cannot read: %s\n", file, strerror(rc ? -rc : ENOMEM));
		fclose(norm);
		free(l.c);
		loader_free(&l);
		return NULL;
	}
	config_defaults(l.c);
	snprintf(l.c->file, sizeof l.c->file, "%s", file);

	size_t before = l.n_msgs;
	config_cb_loader = &l;
	iniparser_set_error_callback(config_ini_error_cb);
	l.ini = iniparser_load(norm_path);
	iniparser_set_error_callback(NULL);
	fclose(norm);
	config_cb_loader = NULL;

	if (l.ini)
		load_sections(&l);
	else if (l.n_msgs == before)
		loader_error(&l, 0, "cannot be parsed; expected a readable INI file");

	struct config *c = l.c;
	if (l.n_msgs || l.oom) {
		loader_flush(&l, err);
		free(c);
		c = NULL;
	}
	loader_free(&l);
	return c;
}

void config_free(struct config *c)
{
	if (c)
		crypto_wipe(c->psk, sizeof c->psk);
	free(c);
}

const char *config_engine_name(enum config_engine e)
{
	return (unsigned)e <= CONFIG_ENGINE_USERSPACE ? engine_names[e] : "?";
}

const char *config_role_name(enum config_role r)
{
	return (unsigned)r <= CONFIG_ROLE_ACCEPT ? role_names[r] : "?";
}

const char *config_transport_name(enum config_transport t)
{
	return (unsigned)t <= CONFIG_TRANSPORT_SCTP ? transport_names[t] : "?";
}

const char *config_cc_name(enum config_cc cc)
{
	return (unsigned)cc <= CONFIG_CC_RTCC ? cc_names[cc] : "?";
}
