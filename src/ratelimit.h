/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket: pure integer arithmetic on (state, now); no clock, no allocation. */
#ifndef CIO_RATELIMIT_H
#define CIO_RATELIMIT_H

#include <stdint.h>

/* One token is CIO_RL_UNIT units and a rate of N per minute adds exactly N units per
 * millisecond, so the long-run rate is exact with no rounding drift. */
#define CIO_RL_UNIT 60000u

struct cio_rl {
    uint64_t rate;  /* units per ms (= starts per minute); 0: unlimited */
    uint64_t cap;   /* burst * CIO_RL_UNIT */
    uint64_t level; /* units in the bucket at `last` */
    uint64_t last;  /* ms of the last refill */
};

/* A bucket of `burst` tokens (0 counts as 1), full at `now`. Starts in any window of
 * T ms never exceed burst + rate * (T + 1) / 60000: the + 1 is the millisecond
 * granularity of the clock, exact when the rate divides 60000. */
void cio__rl_init(struct cio_rl *rl, unsigned per_minute, unsigned burst, uint64_t now);

/* Takes a token at `now` and returns 0, or takes nothing and returns how many ms to
 * wait until one exists. A `now` earlier than a previous one counts as that one. */
uint64_t cio__rl_take(struct cio_rl *rl, uint64_t now);

/* What cio__rl_take would return, taking nothing. */
uint64_t cio__rl_wait(struct cio_rl *rl, uint64_t now);

/* 1 when the bucket is full at `now` (always, without a rate): forgetting it then
 * changes nothing. */
int cio__rl_full(struct cio_rl *rl, uint64_t now);

#endif
