/* SPDX-License-Identifier: Apache-2.0 */
/* Rate limiters: how many starts may happen now, and how long until the next may. */
#include <stdlib.h>

#include "mem.h"
#include "ratelimit.h"

void cio__rl_init_period(struct cio_rl *rl, unsigned count, unsigned period_ms, unsigned burst,
                         uint64_t now)
{
    rl->rate = count;
    rl->unit = period_ms != 0 ? period_ms : CIO_RL_MINUTE;
    rl->cap = (uint64_t)(burst == 0 ? 1 : burst) * rl->unit;
    rl->level = rl->cap;
    rl->last = now;
    rl->pending = 0;
}

void cio__rl_init(struct cio_rl *rl, unsigned per_minute, unsigned burst, uint64_t now)
{
    cio__rl_init_period(rl, per_minute, CIO_RL_MINUTE, burst, now);
}

/* The bucket holds up to cap plus less than one millisecond of refill. A waiter wakes
 * on a whole millisecond, up to rate - 1 units after its token was complete; keeping
 * that overshoot makes the long-run rate exact instead of slowly losing it. A held start
 * took its token early but is still to go out, so it keeps its token's room: the level
 * plus the held tokens, not the level alone, is what the brim stops (as a bucket counting
 * at the moments of going out would). */
static uint64_t brim(const struct cio_rl *rl)
{
    return rl->cap + rl->rate - 1;
}

static void refill(struct cio_rl *rl, uint64_t now)
{
    if (now <= rl->last)
        return;
    uint64_t held = (uint64_t)rl->pending * rl->unit;
    uint64_t top = held < brim(rl) ? brim(rl) - held : 0;
    if (rl->level >= top) { /* (above it only after cio__lim_replace) */
        rl->level = top;
        rl->last = now;
        return;
    }
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
    /* Each held start may go out now: with this one, all must fit in the bucket, brim
     * included (a millisecond's refill: at high rates, a few may be held at once).
     * Refilling cannot free that; a send, which comes sooner, looks again. */
    if ((uint64_t)rl->pending * rl->unit + rl->unit > brim(rl))
        return (rl->unit + rl->rate - 1) / rl->rate;
    if (rl->level >= rl->unit)
        return 0;
    return (rl->unit - rl->level + rl->rate - 1) / rl->rate;
}

uint64_t cio__rl_take(struct cio_rl *rl, uint64_t now)
{
    uint64_t wait = cio__rl_wait(rl, now);

    if (wait == 0 && rl->rate != 0)
        rl->level -= rl->unit;
    return wait;
}

int cio__rl_full(struct cio_rl *rl, uint64_t now)
{
    if (rl->rate == 0)
        return 1;
    refill(rl, now);
    return rl->level >= rl->cap && rl->pending == 0;
}

void cio__rl_hold(struct cio_rl *rl, uint64_t now)
{
    if (rl->rate == 0)
        return;
    cio__rl_take(rl, now);
    rl->pending++;
}

void cio__rl_sent(struct cio_rl *rl, uint64_t when)
{
    if (rl->pending == 0)
        return;
    refill(rl, when);
    rl->pending--;
}

void cio__rw_init(struct cio_rw *w, uint64_t *ring, unsigned count, unsigned period_ms,
                  int start_empty, uint64_t now)
{
    w->ring = ring;
    w->count = count;
    w->period = period_ms != 0 ? period_ms : CIO_RL_MINUTE;
    w->head = 0;
    w->used = 0;
    w->pending = 0;
    if (start_empty)
        for (; w->used < count; w->used++)
            ring[w->used] = now;
}

/* Drops the starts that have left the window at `now`. */
static void expire(struct cio_rw *w, uint64_t now)
{
    while (w->used > 0 && w->ring[w->head] + w->period <= now) {
        w->head = (w->head + 1) % w->count;
        w->used--;
    }
}

uint64_t cio__rw_wait(struct cio_rw *w, uint64_t now)
{
    if (w->count == 0)
        return 0;
    expire(w, now);
    if (w->used + w->pending < w->count)
        return 0;
    if (w->used == 0)
        return w->period;
    return w->ring[w->head] + w->period - now; /* when the oldest leaves */
}

/* Appends a start at `when`; the times stay in order (a later report never counts as
 * earlier than the last one, which only keeps it in the window longer). */
static void append(struct cio_rw *w, uint64_t when)
{
    if (w->used > 0) {
        uint64_t last = w->ring[(w->head + w->used - 1) % w->count];
        when = when > last ? when : last;
    }
    if (w->used == w->count) { /* full: the oldest gives its place to the newest */
        w->head = (w->head + 1) % w->count;
        w->used--;
    }
    w->ring[(w->head + w->used++) % w->count] = when;
}

void cio__rw_take(struct cio_rw *w, uint64_t now)
{
    if (w->count == 0)
        return;
    expire(w, now);
    append(w, now);
}

void cio__rw_hold(struct cio_rw *w)
{
    if (w->count != 0 && w->pending < w->count)
        w->pending++;
}

void cio__rw_sent(struct cio_rw *w, uint64_t when)
{
    if (w->count == 0)
        return;
    if (w->pending > 0)
        w->pending--;
    expire(w, when);
    append(w, when);
}

cio_rate cio__rate_per_minute(unsigned per_minute, unsigned burst)
{
    cio_rate r = {.count = per_minute, .period_ms = CIO_RL_MINUTE, .burst = burst};
    return r;
}

uint64_t cio__rate_minute(const cio_rate *r)
{
    uint64_t period = r->period_ms != 0 ? r->period_ms : CIO_RL_MINUTE;

    return (uint64_t)r->count * CIO_RL_MINUTE / period;
}

int cio__lim_init(struct cio_lim *l, const cio_rate *r, uint64_t now)
{
    l->window = r->mode == CIO_RATE_WINDOW && r->count != 0;
    l->rw.ring = NULL;
    cio__rl_init_period(&l->rl, r->count, r->period_ms, r->burst, now);
    if (r->start_empty)
        l->rl.level = 0;
    if (!l->window)
        return CIO_OK;
    if (r->count > CIO_RW_MAX)
        return CIO_E_INVAL;
    uint64_t *ring = cio__malloc((size_t)r->count * sizeof *ring);
    if (ring == NULL)
        return CIO_E_NOMEM;
    cio__rw_init(&l->rw, ring, r->count, r->period_ms, r->start_empty, now);
    return CIO_OK;
}

void cio__lim_free(struct cio_lim *l)
{
    cio__free(l->rw.ring);
    l->rw.ring = NULL;
}

uint64_t cio__lim_wait(struct cio_lim *l, uint64_t now)
{
    return l->window ? cio__rw_wait(&l->rw, now) : cio__rl_wait(&l->rl, now);
}

void cio__lim_take(struct cio_lim *l, uint64_t now)
{
    if (l->window)
        cio__rw_take(&l->rw, now);
    else
        cio__rl_take(&l->rl, now);
}

int cio__lim_hold(struct cio_lim *l, uint64_t now)
{
    if (!l->window) {
        if (l->rl.rate == 0)
            return 0;
        cio__rl_hold(&l->rl, now);
        return 1;
    }
    if (l->rw.count == 0)
        return 0;
    cio__rw_hold(&l->rw);
    return 1;
}

void cio__lim_sent(struct cio_lim *l, uint64_t when)
{
    if (l->window)
        cio__rw_sent(&l->rw, when);
    else
        cio__rl_sent(&l->rl, when);
}

void cio__lim_unhold(struct cio_lim *l)
{
    if (l->window && l->rw.pending > 0)
        l->rw.pending--;
    else if (!l->window && l->rl.pending > 0)
        l->rl.pending--;
}

void cio__lim_replace(struct cio_lim *l, struct cio_lim *fresh)
{
    unsigned held = l->window ? l->rw.pending : l->rl.pending;

    cio__lim_free(l);
    *l = *fresh;
    if (l->window)
        l->rw.pending = held < l->rw.count ? held : l->rw.count;
    else if (l->rl.rate != 0)
        l->rl.pending = held;
}

int cio__lim_idle(struct cio_lim *l, uint64_t now)
{
    if (!l->window)
        return cio__rl_full(&l->rl, now);
    if (l->rw.pending > 0)
        return 0;
    if (l->rw.used == 0)
        return 1;
    unsigned newest = (l->rw.head + l->rw.used - 1) % l->rw.count;
    return l->rw.ring[newest] + l->rw.period <= now;
}
