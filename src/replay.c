/* replay: see replay.h. */
#include "replay.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define WORDS (REPLAY_WINDOW / 64)

void replay_reset(struct replay *r)
{
	memset(r, 0, sizeof *r);
}

static bool bit_get(const struct replay *r, uint64_t seq)
{
	uint64_t k = seq % REPLAY_WINDOW;
	return (r->bits[k / 64] >> (k % 64)) & 1;
}

static void bit_set(struct replay *r, uint64_t seq, bool on)
{
	uint64_t k = seq % REPLAY_WINDOW, m = (uint64_t)1 << (k % 64);
	if (on)
		r->bits[k / 64] |= m;
	else
		r->bits[k / 64] &= ~m;
}

int replay_check(const struct replay *r, uint64_t seq)
{
	if (seq >= r->top)
		return 0;
	if (r->top - seq > REPLAY_WINDOW)
		return -ESTALE;
	return bit_get(r, seq) ? -EALREADY : 0;
}

void replay_mark(struct replay *r, uint64_t seq)
{
	if (seq >= r->top) {
		/* Slide: the numbers between the old top and SEQ were not seen. */
		if (seq - r->top >= REPLAY_WINDOW)
			memset(r->bits, 0, sizeof r->bits);
		else
			for (uint64_t s = r->top; s < seq; s++)
				bit_set(r, s, false);
		r->top = seq + 1;
	}
	bit_set(r, seq, true);
}
