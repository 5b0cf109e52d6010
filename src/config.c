/*
 * config: see config.h.
 *
 * Loading happens in three passes over one file:
 *   1. scan (config_scan.c): our own reading of the raw lines, mirroring
 *      iniparser's grammar, to learn which line every section and key is on
 *      (iniparser keeps no line numbers) and to catch what iniparser
 *      silently accepts: duplicate keys, duplicate sections, keys before
 *      any section;
 *   2. iniparser_load: values, with its quote and comment rules; its syntax
 *      errors come back through the error callback;
 *   3. walk: every scanned section and key against its section's table
 *      ([gateway], [association] and [egress] below; [sctp], [path.NAME]
 *      and [forward.NAME] in config_sctp.c, config_paths.c and
 *      config_forward.c), values read from iniparser (config_value.c),
 *      then checks that involve more than one key.
 * Every problem becomes one message; they are printed sorted by line so the
 * output reads like a compiler's.
 */
#include "config.h"

#include "addr.h"
#include "config_egress.h"
#include "config_loader.h"

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

/* iniparser 4.1 reads lines into a 1024-byte buffer: 1022 characters, the
 * newline and the NUL. */
#define INI_LINE_MAX 1022

/* ---- the keys ---------------------------------------------------------- */

static const char *const engine_names[] = {"auto", "kernel", "userspace", NULL};
/* Same order as enum config_transport. */
static const char *const transport_names[] = {"udp", "sctp", NULL};
static const char *const role_names[] = {"connect", "accept", NULL};
/* Same order as enum log_level. */
static const char *const level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const yes_no[] = {"no", "yes", NULL};

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
    {"packet_auth", SPEC_CHOICE, 0, 0, 0, 1, yes_no, C(packet_auth)},
    {"insecure", SPEC_CHOICE, 0, 0, 0, 0, yes_no, C(insecure)},
};

/* config_egress.h parses these values. */
static const struct spec egress_keys[] = {
    {"allow", SPEC_ALLOW, 0, 0, 0, 0, NULL, C(egress_allow)},
    {"resolver", SPEC_RESOLVER, 0, 0, 0, 0, NULL, C(resolver)},
};

static void load_gateway(struct loader *l, size_t si, const struct section_spec *ss,
                         const char *name);
static void load_association(struct loader *l, size_t si, const struct section_spec *ss,
                             const char *name);
static void load_egress(struct loader *l, size_t si, const struct section_spec *ss,
                        const char *name);

static const struct section_spec gateway_section = {"gateway", SEC_GATEWAY, false,
                                                    KEYS(gateway_keys), load_gateway};
static const struct section_spec association_section = {"association", SEC_ASSOCIATION, false,
                                                        KEYS(association_keys), load_association};
static const struct section_spec egress_section = {"egress", SEC_EGRESS, false, KEYS(egress_keys),
                                                   load_egress};

/* In the order of enum section_kind. */
static const struct section_spec *const sections[] = {
    &gateway_section,     &association_section,    &config_sctp_section,
    &config_path_section, &config_forward_section, &egress_section,
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

/* ---- messages ---------------------------------------------------------- */

bool loader_grow(struct loader *l, void **v, size_t *cap, size_t n, size_t size)
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

void loader_error(struct loader *l, unsigned line, const char *fmt, ...)
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

void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
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

/* ---- pass 3: sections -------------------------------------------------- */

unsigned key_line(const struct loader *l, size_t si, const char *key)
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
unsigned spec_bit(const struct section_spec *ss, const char *key, const struct spec **spec)
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
void load_keys(struct loader *l, size_t si, const struct section_spec *ss, void *base,
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
void check_order(struct loader *l, size_t si, const char *a, unsigned long long va, const char *b,
                 unsigned long long vb, bool strict, const char *rule)
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

static void load_gateway(struct loader *l, size_t si, const struct section_spec *ss,
                         const char *name)
{
	const struct config *c = l->c;
	unsigned seen, bad;

	(void)name;
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

static void load_association(struct loader *l, size_t si, const struct section_spec *ss,
                             const char *name)
{
	struct config *c = l->c;
	unsigned seen, bad;
	const char *sec = l->secs[si].name;

	(void)name;
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

static void load_egress(struct loader *l, size_t si, const struct section_spec *ss,
                        const char *name)
{
	unsigned seen, bad;

	(void)name;
	l->c->has_egress = true;
	load_keys(l, si, ss, l->c, &seen, &bad);
}

/* Which table SECTION belongs to; *suffix gets NAME of [path.NAME]. */
static const struct section_spec *section_find(const char *section, const char **suffix)
{
	for (size_t j = 0; j < N_SECTIONS; j++) {
		size_t n = strlen(sections[j]->name);
		if (!sections[j]->named && strcmp(section, sections[j]->name) == 0)
			return sections[j];
		if (sections[j]->named && strncmp(section, sections[j]->name, n) == 0 &&
		    section[n] == '.') {
			*suffix = section + n + 1;
			return sections[j];
		}
	}
	return NULL;
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
		ss->load(l, si, ss, suffix);
	}
	config_sctp_check_paths(l);
	check_transport(l);

	/* A required key of a section that is not there at all. */
	for (size_t j = 0; j < N_SECTIONS; j++) {
		if (sections[j]->named || present[sections[j]->kind])
			continue;
		for (size_t i = 0; i < sections[j]->n_keys; i++) {
			char exp[160];
			if (sections[j]->keys[i].required)
				loader_error(l, 0, "[%s] %s: missing; expected %s",
				             sections[j]->name, sections[j]->keys[i].key,
				             spec_expected(&sections[j]->keys[i], exp, sizeof exp));
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
		if (!sections[j]->named)
			spec_defaults(sections[j], c);
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
