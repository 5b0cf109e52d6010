/* buf: see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int buf_append(struct buf *b, const void *src, size_t n)
{
	if (b->head + b->len + n > b->cap) {
		if (b->head > 0) {
			/* Slide the unread bytes down before growing. */
			memmove(b->data, b->data + b->head, b->len);
			b->head = 0;
		}
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;
			while (cap < b->len + n)
				cap *= 2;
			if (b->max && cap > b->max)
				cap = b->max > b->len + n ? b->max : b->len + n;
			uint8_t *d = realloc(b->data, cap);
			if (!d)
				return -ENOMEM;
			b->data = d;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->head + b->len, src, n);
	b->len += n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->head += n;
	b->len -= n;
	if (b->len == 0)
		buf_reset(b);
}

void buf_reset(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->len = b->cap = 0; /* max stays: it is the owner's bound */
}
