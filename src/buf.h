/*
 * buf: a byte FIFO toward a slow socket.
 *
 * Bytes go in at the tail and leave from the head. The storage is freed
 * whenever the buffer drains, so an idle connection holds no buffer at all;
 * the caller bounds what it appends (tcp_conn.c: the peer may send no more
 * than the connection's credit window), and MAX keeps the doubling growth
 * from overshooting that bound.
 */
#ifndef SCTPGW_BUF_H
#define SCTPGW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t head; /* first unread byte */
	size_t len;  /* unread bytes */
	size_t cap;
	size_t max; /* growth stops here (0: no limit); a larger append still fits */
};

/* Append N bytes. Returns 0 or -ENOMEM (nothing appended). */
int buf_append(struct buf *b, const void *src, size_t n);

static inline const uint8_t *buf_head(const struct buf *b)
{
	return b->data + b->head;
}

/* Drop N bytes from the head (N <= len). */
void buf_consume(struct buf *b, size_t n);

/* Drop everything and free the storage. */
void buf_reset(struct buf *b);

#endif
