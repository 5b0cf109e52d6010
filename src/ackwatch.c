/*
 * ackwatch: notice sent data that nothing will ever retransmit; see
 * ackwatch.h for why.
 */
#include "ackwatch.h"

#include <string.h>

void ackwatch_reset(struct ackwatch *w)
{
	memset(w, 0, sizeof *w);
}

enum ackwatch_verdict ackwatch_sample(struct ackwatch *w, uint32_t unacked, uint32_t sacks,
                                      uint32_t timeouts)
{
	bool stuck = w->primed && unacked > 0 && unacked == w->unacked && sacks == w->sacks &&
	             timeouts == w->timeouts;
	w->primed = true;
	w->unacked = unacked;
	w->sacks = sacks;
	w->timeouts = timeouts;
	if (!stuck)
		return ACKWATCH_OK;
	if (w->kicks >= ACKWATCH_MAX_KICKS)
		return ACKWATCH_GIVE_UP;
	w->kicks++;
	return ACKWATCH_KICK;
}
