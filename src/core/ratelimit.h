/* SPDX-License-Identifier: Apache-2.0 */
/* Rate limiters: pure integer arithmetic on (state, now); no clock, no allocation but
 * the window's ring, which cio__lim_init makes.
 *
 * Paced: a token bucket. A token is `period` units and a rate of `count` per period adds
 * exactly `count` units per millisecond, so the long-run rate is exact with no rounding
 * drift. Starts in any window of T ms never exceed burst + count * (T + 1) / period:
 * the + 1 is the millisecond granularity of the clock, exact when count divides it. A
 * held start (cio__rl_hold) takes its token at once and counts as going out at every
 * moment until it does (cio__rl_sent): at most burst - 1 others (and a millisecond's
 * refill) start meanwhile, and the bound holds for the times the requests went out,
 * however long connecting takes.
 *
 * Window: never more than `count` starts in any window of `period` ms: a start is
 * allowed when fewer than count starts happened in the last period (the Python
 * original's per-minute semantics; it lets count go at once, then holds). A start may
 * be held (cio__lim_hold) until its request goes out (cio__lim_sent): it counts as in
 * the window all that while, and from then on at the time it went out, so the quota
 * holds for what the server sees however long connecting takes. */
#ifndef CIO_RATELIMIT_H
#define CIO_RATELIMIT_H

#include <stdint.h>

#include "concurio/concurio.h"

#define CIO_RL_MINUTE 60000u
#define CIO_RW_MAX 1000000u /* the most starts a window may remember */

struct cio_rl {
    uint64_t rate;    /* units per ms (= starts per period); 0: unlimited */
    uint64_t unit;    /* units per token (= the period in ms) */
    uint64_t cap;     /* burst * unit */
    uint64_t level;   /* units in the bucket at `last` */
    uint64_t last;    /* ms of the last refill */
    unsigned pending; /* held: taken, not gone out yet */
};

/* A bucket of `burst` tokens (0 counts as 1), full at `now`, for `per_minute` starts a
 * minute; cio__rl_init_period for `count` per `period_ms`. */
void cio__rl_init(struct cio_rl *rl, unsigned per_minute, unsigned burst, uint64_t now);
void cio__rl_init_period(struct cio_rl *rl, unsigned count, unsigned period_ms, unsigned burst,
                         uint64_t now);

/* Takes a token at `now` and returns 0, or takes nothing and returns how many ms to
 * wait until one exists. A `now` earlier than a previous one counts as that one. */
uint64_t cio__rl_take(struct cio_rl *rl, uint64_t now);
/* What cio__rl_take would return, taking nothing. */
uint64_t cio__rl_wait(struct cio_rl *rl, uint64_t now);
/* 1 when the bucket is full at `now` and nothing is held (always, without a rate). */
int cio__rl_full(struct cio_rl *rl, uint64_t now);
/* Takes a start (cio__rl_wait said 0) whose moment is when it goes out: cio__rl_sent. */
void cio__rl_hold(struct cio_rl *rl, uint64_t now);
/* A held start went out at `when` (or ended without going out). */
void cio__rl_sent(struct cio_rl *rl, uint64_t when);

struct cio_rw {
    uint64_t *ring; /* times of the starts still in the window, oldest at head */
    unsigned count, head, used;
    unsigned pending; /* held: taken, their time not known yet (counted as now) */
    uint64_t period;
};

/* A window over `ring` (count slots); start_empty: as if count starts just happened. */
void cio__rw_init(struct cio_rw *w, uint64_t *ring, unsigned count, unsigned period_ms,
                  int start_empty, uint64_t now);
/* 0 when a start may happen at `now`, else the ms until one may (with every slot held,
 * a whole period: a send, which frees one, comes sooner). Forgets starts that left. */
uint64_t cio__rw_wait(struct cio_rw *w, uint64_t now);
/* A start at `now`. */
void cio__rw_take(struct cio_rw *w, uint64_t now);
/* A start whose time comes later, with cio__rw_sent (the time its request went out). */
void cio__rw_hold(struct cio_rw *w);
void cio__rw_sent(struct cio_rw *w, uint64_t when);

/* Either kind, as a cio_rate says. */
struct cio_lim {
    unsigned window : 1;
    struct cio_rl rl;
    struct cio_rw rw;
};

/* CIO_E_INVAL for a window over CIO_RW_MAX starts; CIO_E_NOMEM. */
int cio__lim_init(struct cio_lim *l, const cio_rate *r, uint64_t now);
void cio__lim_free(struct cio_lim *l);
uint64_t cio__lim_wait(struct cio_lim *l, uint64_t now);
void cio__lim_take(struct cio_lim *l, uint64_t now);
/* Takes a start whose moment is the one its request goes out and returns 1
 * (cio__lim_sent must follow, once), or 0 without a limit. */
int cio__lim_hold(struct cio_lim *l, uint64_t now);
/* A held start's request went out at `when` (or the start ended without one). */
void cio__lim_sent(struct cio_lim *l, uint64_t when);
/* A held start that never began (no descriptor for it): it does not count. */
void cio__lim_unhold(struct cio_lim *l);
/* Puts `fresh` (a new rate) in the place of `l`, keeping what `l` holds; frees `l`'s. */
void cio__lim_replace(struct cio_lim *l, struct cio_lim *fresh);
/* 1 when forgetting the limiter at `now` would change nothing. */
int cio__lim_idle(struct cio_lim *l, uint64_t now);
/* The cio_rate for the simple form: per_minute starts a minute, paced, burst. */
cio_rate cio__rate_per_minute(unsigned per_minute, unsigned burst);
/* A rate in starts per minute (0: unlimited). */
uint64_t cio__rate_minute(const cio_rate *r);

#endif
