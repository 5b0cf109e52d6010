/*
 * config_scan: pass 1 of config_load() (config_loader.h), our own reading
 * of the raw lines.
 *
 * Start here to see why a message names the line it does: iniparser keeps
 * no line numbers, so this pass mirrors its grammar to learn which line
 * every section and key is on, and catches what iniparser silently
 * accepts: duplicate keys, duplicate sections, keys before any section.
 * It also writes the copy of the file that iniparser reads (comments after
 * a section header cut off) and refuses bytes that are not UTF-8 text
 * (config_bytes.c).
 */
#include "config_loader.h"

#include "config_bytes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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
int scan_file(struct loader *l, FILE *f, FILE *norm)
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
