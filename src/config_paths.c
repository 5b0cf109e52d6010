/*
 * config_paths: the [path.NAME] sections, one per link between the sites.
 *
 * Start here to add a path key: a line in path_keys (config_loader.h
 * says how), its field in struct config_path (config.h). load_path()
 * checks a path against itself (one address family) and against the
 * paths before it (no address used twice); config_sctp.c has the rules
 * between [sctp] and the number of paths.
 */
#include "config_loader.h"

#include "addr.h"

#include <stdio.h>

static const struct spec path_keys[] = {
    {"local", SPEC_HOST, 1, 0, 0, 0, NULL, P(local)},
    {"remote", SPEC_HOST, 1, 0, 0, 0, NULL, P(remote)},
    {"priority", SPEC_UINT, 0, 0, 65535, 10, NULL, P(priority)},
};

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

const struct section_spec config_path_section = {"path", SEC_PATH, true, KEYS(path_keys),
                                                 load_path};
