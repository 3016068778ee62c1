/* SPDX-License-Identifier: Apache-2.0 */
/* Depth, deferred dispatch and deferred free. */
#include <event2/event.h>

#include "guard.h"

void cio__pool_enter(cio_pool *p)
{
    p->depth++;
}

int cio__pool_leave(cio_pool *p)
{
    /* Admission runs here, at the bottom of the stack, so no callback ever runs inside
     * a submit and starts are never nested inside another item's callback. */
    while (p->depth == 1 && p->need_dispatch && !p->closing) {
        p->need_dispatch = 0;
        p->dispatch(p);
    }
    if (--p->depth > 0 || !p->closing)
        return 0;
    if (p->in_run) {
        event_base_loopbreak(p->base);
        return 0;
    }
    p->destroy(p);
    return 1;
}

void cio__guard_dispatch_soon(cio_pool *p)
{
    p->need_dispatch = 1;
}

void cio__guard_next_turn(cio_pool *p)
{
    if (!p->kicked && p->kick != NULL) {
        p->kicked = 1;
        event_active(p->kick, EV_TIMEOUT, 0);
    }
}

void cio__pool_kick(cio_pool *p)
{
    p->need_dispatch = 1;
    if (p->depth == 0)
        cio__guard_next_turn(p);
}
