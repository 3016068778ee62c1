/* SPDX-License-Identifier: Apache-2.0 */
/* Adaptive slowdown for one key (AIMD): a 429 or 503 halves its rate, at most once a
 * second; every second without one gives back a tenth of the rate it had before, never
 * more. Pure arithmetic on (state, now); rates are starts per minute. */
#ifndef CIO_ADAPT_H
#define CIO_ADAPT_H

#include <stdint.h>

struct cio_adapt {
    uint64_t rate;    /* the rate in force while slowed; 0: not slowed */
    uint64_t ceiling; /* what it recovers to: the configured rate, or the rate seen
                         before the first cut */
    uint64_t last_cut, last_throttle, last_step;
    uint64_t slot_start; /* starts counted in 10 slots of 100 ms: the last second */
    unsigned slots[10];
    uint64_t paused_until; /* a RateLimit header said: nothing starts before this */
};

/* Counts a start at `now`. */
void cio__adapt_start(struct cio_adapt *a, uint64_t now);
/* Starts in the second before `now`. */
unsigned cio__adapt_recent(struct cio_adapt *a, uint64_t now);
/* A 429 or 503 at `now`, with `configured` the rate the key is held to (its own, or the
 * pool's; 0: none, then the rate seen over the last second). Returns 1 when the rate in
 * force changed (a->rate). */
int cio__adapt_throttled(struct cio_adapt *a, uint64_t now, uint64_t configured);
/* Recovery, called before each admission decision: returns 1 when a->rate changed; a
 * rate back at its ceiling ends the slowdown (a->rate = 0). A pause the server imposed
 * is no quiet time: the steps count from its end. */
int cio__adapt_tick(struct cio_adapt *a, uint64_t now);
/* Whether a response's rate-limit headers pause the key: remaining and reset as their
 * text (NULL: absent); a reset over 10^9 is an epoch time, else seconds. Returns the
 * pause in ms, or 0. `epoch_now` is the wall clock in seconds. */
uint64_t cio__adapt_pause_ms(const char *remaining, const char *reset, uint64_t epoch_now);

#endif
