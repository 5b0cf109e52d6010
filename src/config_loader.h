/*
 * config_loader: the inside of config_load(), shared by the files that
 * read one part of the INI file. Only config*.c include it; the rest of
 * the program sees config.h.
 *
 * Start here to add a key or a check: a section's keys are a table of
 * struct spec (how to read each value, its default, its field); its
 * struct section_spec names the table and the function that reads the
 * section (load_keys() for the values, then the checks between keys).
 * Every problem is one loader_error() naming the line; config_load()
 * prints them sorted by line.
 *
 *   config.c          the loader (pass 2: iniparser; pass 3: the sections),
 *                     [gateway], [association], [egress]
 *   config_scan.c     pass 1: the raw lines (where each key is)
 *   config_value.c    pass 3: one value against its spec
 *   config_sctp.c     [sctp]: the SCTP timers and their rules
 *   config_paths.c    [path.NAME]: the paths
 *   config_forward.c  [forward.NAME]: listeners and their targets
 *   config_egress.c, config_capture.c, config_bytes.c: pure parsers of
 *                     values and lines, without the loader
 *
 * The helpers keep the short names they had as static functions of
 * config.c (loader_error, key_line, ...).
 */
#ifndef SCTPGW_CONFIG_LOADER_H
#define SCTPGW_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define NO_SECTION ((size_t)-1)

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
	struct _dictionary_ *ini; /* iniparser's dictionary (config.c) */

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

#define AT(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define C(member)        AT(struct config, member)
#define P(member)        AT(struct config_path, member)
#define F(member)        AT(struct config_forward, member)

enum section_kind { SEC_GATEWAY, SEC_ASSOCIATION, SEC_SCTP, SEC_PATH, SEC_FORWARD, SEC_EGRESS };

struct section_spec {
	const char *name; /* "path" for [path.NAME] */
	enum section_kind kind;
	bool named;
	const struct spec *keys;
	size_t n_keys;
	/* Reads section SI (NAME: the NAME of [path.NAME], else NULL) into l->c. */
	void (*load)(struct loader *l, size_t si, const struct section_spec *ss, const char *name);
};

#define KEYS(a) a, sizeof a / sizeof a[0]

/* The sections of their own files (config_sctp.c, config_paths.c,
 * config_forward.c). */
extern const struct section_spec config_sctp_section;
extern const struct section_spec config_path_section;
extern const struct section_spec config_forward_section;

/* ---- config.c ---------------------------------------------------------- */

/* One message about LINE (0: the whole file). */
__attribute__((format(printf, 3, 4))) void loader_error(struct loader *l, unsigned line,
                                                        const char *fmt, ...);
/* Room for element N of *V (capacity *CAP); false, with l->oom set, when
 * there is no memory. */
bool loader_grow(struct loader *l, void **v, size_t *cap, size_t n, size_t size);
void str_lower(char *s);
/* The line of KEY in section SI (the last one written), 0 if not written. */
unsigned key_line(const struct loader *l, size_t si, const char *key);
/* The bit of KEY in the seen/bad masks of load_keys(), and its spec; 0 if
 * the key is unknown. */
unsigned spec_bit(const struct section_spec *ss, const char *key, const struct spec **spec);
/* Reads every key of section SI into BASE. *seen and *bad get one bit per
 * spec, so the cross-key checks can skip keys that are already reported. */
void load_keys(struct loader *l, size_t si, const struct section_spec *ss, void *base,
               unsigned *seen, unsigned *bad);
/* A (value VA) must not exceed B (VB); STRICT: must be less than B. RULE
 * says what is expected and why. */
void check_order(struct loader *l, size_t si, const char *a, unsigned long long va, const char *b,
                 unsigned long long vb, bool strict, const char *rule);

/* ---- config_value.c ---------------------------------------------------- */

/* Stores V, the value of key S in section SEC on LINE, into BASE (the
 * section's struct), or reports it and returns -EINVAL. */
int parse_value(struct loader *l, const char *sec, const struct spec *s, const char *v, void *base,
                unsigned line);
/* What S expects, for a message: "an integer from 1 to 65535", ... */
const char *spec_expected(const struct spec *s, char *buf, size_t len);
/* The section's defaults into BASE (a named section's struct). */
void spec_defaults(const struct section_spec *ss, void *base);
/* 1 to MAX characters, each alphanumeric or in EXTRA. */
bool name_valid(const char *s, size_t max, const char *extra);

/* ---- config_scan.c ----------------------------------------------------- */

/* Pass 1 over F: every section and key with its line into L, and the copy
 * of the file for iniparser into NORM. 0 or -errno. */
int scan_file(struct loader *l, FILE *f, FILE *norm);

/* ---- config_sctp.c ----------------------------------------------------- */

/* Rules between [sctp] and the paths, once every section is read. */
void config_sctp_check_paths(struct loader *l);

#endif
