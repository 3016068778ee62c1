/* SPDX-License-Identifier: Apache-2.0 */
/* A clock that misbehaves under a running pool: it jumps forward by an hour, or stands
 * still for a while. The limiter must neither let a burst beyond its bucket through nor
 * stall. Starts are timed by the tests' own (real) clock. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <event2/event.h>

#include <concurio/concurio.h>

#include "clock.h"
#include "support/clock.h"
#include "support/delay.h"
#include "support/ledger.h"

enum { ITEMS = 40, RATE_PER_S = 10, BURST = 3, AT_ITEM = 10 };

static struct ledger L;
static struct event *thaw;

static void unfreeze(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    cio__clock_frozen_us = 0;
}

static void jump_an_hour(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)p;
    (void)l;
    if (id == AT_ITEM)
        cio__clock_jump_us += 3600ull * 1000 * 1000;
}

static void freeze_for_600_ms(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)p;
    (void)l;
    if (id == AT_ITEM) {
        cio__clock_frozen_us = cio__now_ms() * 1000u;
        struct timeval tv = {0, 600 * 1000};
        evtimer_add(thaw, &tv);
    }
}

/* The most starts in any window of `ms` after the first start. */
static int busiest(uint64_t ms)
{
    int most = 0;

    for (int i = 0, j = 0; i < delay_nstarts; i++) {
        while (j < delay_nstarts && delay_starts_ms[j] < delay_starts_ms[i] + ms)
            j++;
        most = j - i > most ? j - i : most;
    }
    return most;
}

/* Runs ITEMS instant items at RATE_PER_S with BURST, the hook acting at AT_ITEM; returns
 * how long the run took. */
static uint64_t run(void (*hook)(cio_pool *, cio_task_id, struct ledger *))
{
    struct event_base *base = event_base_new();
    cio_pool_opts o;

    cio_pool_opts_init(&o);
    ledger_opts(&o, &L);
    L.after = hook;
    o.max_concurrency = 4;
    o.rate = (cio_rate){.count = RATE_PER_S * 60, .burst = BURST};
    delay_reset();
    thaw = evtimer_new(base, unfreeze, NULL);
    cio_pool *p = cio_pool_new(&o, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(cio_pool_attach(p, base), CIO_OK);
    for (int i = 0; i < ITEMS; i++)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(0), NULL, NULL), CIO_OK);
    uint64_t t0 = test_now_ms();
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    event_base_dispatch(base);
    uint64_t took = test_now_ms() - t0;
    cio_pool_free(p);
    event_free(thaw);
    event_base_free(base);
    cr_assert_eq(ledger_once(&L, ITEMS), ITEMS);
    cr_assert_eq(L.done, ITEMS);
    cr_assert_eq(delay_nstarts, ITEMS);
    cio__clock_jump_us = cio__clock_frozen_us = 0;
    return took;
}

Test(clock, a_jump_forward_by_an_hour_lets_no_more_than_the_bucket_through, .timeout = 30)
{
    uint64_t took = run(jump_an_hour);

    /* A bucket holds BURST tokens however long it was idle: any second holds at most
     * BURST (the jump) + BURST (the start) + RATE_PER_S, and any 90 ms (less than one
     * token's 100, for the millisecond our readings may differ) at most BURST + 1. */
    int most_1s = busiest(1000), most_100ms = busiest(90);
    cr_assert_leq(most_1s, 2 * BURST + RATE_PER_S, "%d starts in one second", most_1s);
    cr_assert_leq(most_100ms, BURST + 1, "%d starts in 90 ms", most_100ms);
    /* Paced from there on: (ITEMS - 2 * BURST) / RATE_PER_S s at least, no stall. */
    cr_assert_geq(took, (ITEMS - 2 * BURST - 1) * 1000 / RATE_PER_S - 50);
    cr_assert_lt(took, (ITEMS * 1000 / RATE_PER_S) + 2000);
}

Test(clock, a_clock_that_stands_still_pauses_the_rate_and_then_does_not_stall, .timeout = 30)
{
    uint64_t took = run(freeze_for_600_ms);

    /* No time passes for the bucket while frozen: no starts beyond what it held. */
    int most_1s = busiest(1000), most_100ms = busiest(90);
    cr_assert_leq(most_1s, 2 * BURST + RATE_PER_S, "%d starts in one second", most_1s);
    cr_assert_leq(most_100ms, BURST + 1, "%d starts in 90 ms", most_100ms);
    int gap = 0; /* the pause shows as one long gap between starts */
    for (int i = 1; i < delay_nstarts; i++)
        if (delay_starts_ms[i] - delay_starts_ms[i - 1] > (uint64_t)gap)
            gap = (int)(delay_starts_ms[i] - delay_starts_ms[i - 1]);
    cr_assert_geq(gap, 400, "the longest gap between starts: %d ms", gap);
    /* And the run goes on once the clock does: the pause plus the paced time, give or
     * take the bucket it refilled. */
    cr_assert_lt(took, 600 + (ITEMS * 1000 / RATE_PER_S) + 2000, "took %llu ms",
                 (unsigned long long)took);
}
