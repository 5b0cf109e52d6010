/*
 * flow_table: which UDP flow a datagram from a client belongs to.
 *
 * Start here to see how the entry gateway tells flows apart. A flow is
 * one (forward, client address and port, original destination) triple;
 * the original destination is all zeros for a fixed target. The key is
 * packed (no sockaddr padding), so keys compare and hash as bytes. The
 * table chains entries embedded in their owners (struct udp_flow) and
 * doubles its buckets when it holds more than two entries per bucket;
 * it allocates nothing per entry.
 */
#ifndef SCTPGW_FLOW_TABLE_H
#define SCTPGW_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct flow_key {
	uint8_t fwd;           /* the forward's index */
	uint8_t cfam, ofam;    /* AF_INET or AF_INET6; ofam 0: no original destination */
	uint8_t pad;           /* always 0 */
	uint16_t cport, oport; /* network order */
	uint32_t cscope;       /* IPv6 scope id of the client */
	uint8_t caddr[16], oaddr[16];
};

struct flow_entry {
	struct flow_entry *next;
	uint32_t hash;
	struct flow_key key;
};

struct flow_table {
	struct flow_entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t n;
};

/* Pack FWD, CLIENT and ORIG (NULL: none) into K. */
void flow_key_make(struct flow_key *k, uint8_t fwd, const struct sockaddr *client,
                   const struct sockaddr *orig);

/* 0 or -ENOMEM. */
int flow_table_init(struct flow_table *t);
void flow_table_fini(struct flow_table *t);

struct flow_entry *flow_table_find(const struct flow_table *t, const struct flow_key *k);
/* E->key set by the caller, and not in the table yet. */
void flow_table_insert(struct flow_table *t, struct flow_entry *e);
/* E is in the table. */
void flow_table_remove(struct flow_table *t, struct flow_entry *e);

#endif
