/* engine_prio: see engine_prio.h. */
#include "engine_prio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int engine_prio_init(struct engine_prio *p, uint32_t streams)
{
	p->cls = calloc(streams ? streams : 1, 1);
	p->n = p->cls ? streams : 0;
	return p->cls ? 0 : -ENOMEM;
}

void engine_prio_fini(struct engine_prio *p)
{
	free(p->cls);
	p->cls = NULL;
	p->n = 0;
}

void engine_prio_reset(struct engine_prio *p)
{
	if (p->cls)
		memset(p->cls, 0, p->n);
}
