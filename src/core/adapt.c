/* SPDX-License-Identifier: Apache-2.0 */
/* Additive increase, multiplicative decrease of a key's rate on 429 and 503. */
#include <stdlib.h>
#include <string.h>

#include "adapt.h"

#define SLOT_MS 100u
#define NSLOTS 10u

static void roll(struct cio_adapt *a, uint64_t now)
{
    if (a->slot_start == 0 || now >= a->slot_start + SLOT_MS * NSLOTS) {
        memset(a->slots, 0, sizeof a->slots);
        a->slot_start = now - now % SLOT_MS;
        return;
    }
    while (now >= a->slot_start + SLOT_MS) { /* drop the oldest slot */
        memmove(a->slots, a->slots + 1, (NSLOTS - 1) * sizeof a->slots[0]);
        a->slots[NSLOTS - 1] = 0;
        a->slot_start += SLOT_MS;
    }
}

/* Slot i covers [slot_start - (NSLOTS-1-i) * SLOT_MS, ...): the last one is current. */
void cio__adapt_start(struct cio_adapt *a, uint64_t now)
{
    roll(a, now);
    a->slots[NSLOTS - 1]++;
}

unsigned cio__adapt_recent(struct cio_adapt *a, uint64_t now)
{
    unsigned n = 0;

    roll(a, now);
    for (unsigned i = 0; i < NSLOTS; i++)
        n += a->slots[i];
    return n;
}

int cio__adapt_throttled(struct cio_adapt *a, uint64_t now, uint64_t configured)
{
    a->last_throttle = now;
    if (a->last_cut != 0 && now < a->last_cut + 1000)
        return 0; /* one cut a second: the other answers were already in flight */
    uint64_t current = a->rate;
    if (current == 0) { /* first cut: from the configured rate, or the rate seen */
        current = configured != 0 ? configured : (uint64_t)cio__adapt_recent(a, now) * 60;
        a->ceiling = current;
    }
    a->rate = current / 2 > 0 ? current / 2 : 1;
    a->last_cut = now;
    a->last_step = now;
    return 1;
}

int cio__adapt_tick(struct cio_adapt *a, uint64_t now)
{
    int changed = 0;

    if (a->paused_until > a->last_step)
        a->last_step = a->paused_until;
    while (a->rate != 0 && now >= a->last_step + 1000 && now >= a->last_throttle + 1000) {
        uint64_t step = a->ceiling / 10 > 0 ? a->ceiling / 10 : 1;
        a->last_step += 1000;
        a->rate += step;
        if (a->rate >= a->ceiling)
            a->rate = 0; /* recovered: the configured limit (or none) applies again */
        changed = 1;
    }
    return changed;
}

static int number(const char *s, uint64_t *out)
{
    char *end;

    if (s == NULL)
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    *out = v;
    return 1;
}

uint64_t cio__adapt_pause_ms(const char *remaining, const char *reset, uint64_t epoch_now)
{
    uint64_t left, at;

    if (!number(remaining, &left) || left > 0 || !number(reset, &at))
        return 0;
    if (at > 1000000000u) /* an epoch time */
        at = at > epoch_now ? at - epoch_now : 0;
    if (at > 86400)
        at = 86400; /* no pause longer than a day, whatever a header says */
    return at * 1000;
}
