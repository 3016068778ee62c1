/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket: how many starts may happen now, and how long until the next may. */
#include "ratelimit.h"

void cio__rl_init(struct cio_rl *rl, unsigned per_minute, unsigned burst, uint64_t now)
{
    rl->rate = per_minute;
    rl->cap = (uint64_t)(burst == 0 ? 1 : burst) * CIO_RL_UNIT;
    rl->level = rl->cap;
    rl->last = now;
}

/* The bucket holds up to cap plus less than one millisecond of refill. A waiter wakes
 * on a whole millisecond, up to rate - 1 units after its token was complete; keeping
 * that overshoot makes the long-run rate exact instead of slowly losing it. */
static void refill(struct cio_rl *rl, uint64_t now)
{
    if (now <= rl->last)
        return;
    uint64_t top = rl->cap + rl->rate - 1;
    uint64_t dt = now - rl->last;

    /* Comparing dt first keeps dt * rate from overflowing after a long idle time. */
    rl->level = dt > (top - rl->level) / rl->rate ? top : rl->level + dt * rl->rate;
    rl->last = now;
}

uint64_t cio__rl_wait(struct cio_rl *rl, uint64_t now)
{
    if (rl->rate == 0)
        return 0;
    refill(rl, now);
    if (rl->level >= CIO_RL_UNIT)
        return 0;
    return (CIO_RL_UNIT - rl->level + rl->rate - 1) / rl->rate;
}

uint64_t cio__rl_take(struct cio_rl *rl, uint64_t now)
{
    uint64_t wait = cio__rl_wait(rl, now);

    if (wait == 0 && rl->rate != 0)
        rl->level -= CIO_RL_UNIT;
    return wait;
}

int cio__rl_full(struct cio_rl *rl, uint64_t now)
{
    if (rl->rate == 0)
        return 1;
    refill(rl, now);
    return rl->level >= rl->cap;
}
