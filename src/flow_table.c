/* flow_table: see flow_table.h. */
#include "flow_table.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define FLOW_TABLE_FIRST 256 /* buckets at first */

static void pack(uint8_t *fam, uint16_t *port, uint8_t addr[16], const struct sockaddr *sa)
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		*fam = AF_INET;
		*port = s->sin_port;
		memcpy(addr, &s->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		*fam = AF_INET6;
		*port = s->sin6_port;
		memcpy(addr, &s->sin6_addr, 16);
	}
}

void flow_key_make(struct flow_key *k, uint8_t fwd, const struct sockaddr *client,
                   const struct sockaddr *orig)
{
	memset(k, 0, sizeof *k);
	k->fwd = fwd;
	pack(&k->cfam, &k->cport, k->caddr, client);
	if (client && client->sa_family == AF_INET6)
		k->cscope = ((const struct sockaddr_in6 *)client)->sin6_scope_id;
	pack(&k->ofam, &k->oport, k->oaddr, orig);
}

/* FNV-1a over the packed key. */
static uint32_t hash_of(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof *k; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int flow_table_init(struct flow_table *t)
{
	t->n = 0;
	t->n_buckets = FLOW_TABLE_FIRST;
	t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
	return t->buckets ? 0 : -ENOMEM;
}

void flow_table_fini(struct flow_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->n_buckets = t->n = 0;
}

struct flow_entry *flow_table_find(const struct flow_table *t, const struct flow_key *k)
{
	uint32_t h = hash_of(k);
	for (struct flow_entry *e = t->buckets[h & (t->n_buckets - 1)]; e; e = e->next)
		if (e->hash == h && memcmp(&e->key, k, sizeof *k) == 0)
			return e;
	return NULL;
}

/* Twice the buckets; on allocation failure the chains just grow longer. */
static void grow(struct flow_table *t)
{
	size_t nb = t->n_buckets * 2;
	struct flow_entry **b = calloc(nb, sizeof *b);
	if (!b)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct flow_entry *e = t->buckets[i];
		while (e) {
			struct flow_entry *next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = nb;
}

void flow_table_insert(struct flow_table *t, struct flow_entry *e)
{
	if (t->n >= 2 * t->n_buckets)
		grow(t);
	e->hash = hash_of(&e->key);
	struct flow_entry **b = &t->buckets[e->hash & (t->n_buckets - 1)];
	e->next = *b;
	*b = e;
	t->n++;
}

void flow_table_remove(struct flow_table *t, struct flow_entry *e)
{
	for (struct flow_entry **p = &t->buckets[e->hash & (t->n_buckets - 1)]; *p;
	     p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			e->next = NULL;
			t->n--;
			return;
		}
	}
}
