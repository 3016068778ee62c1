/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket, with explicit timestamps: no clock, no sleeps. */
#include <limits.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "ratelimit.h"

Test(ratelimit, sixty_per_minute_is_one_per_second)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 60, 1, 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 0);    /* starts full */
    cr_assert_eq(cio__rl_take(&rl, 0), 1000); /* empty: a second to wait */
    cr_assert_eq(cio__rl_take(&rl, 999), 1);
    cr_assert_eq(cio__rl_take(&rl, 1000), 0);
    cr_assert_eq(cio__rl_take(&rl, 1000), 1000);
}

Test(ratelimit, zero_rate_is_unlimited)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 0, 0, 0);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(cio__rl_take(&rl, 0), 0);
}

Test(ratelimit, burst_lets_that_many_go_at_once_then_paces)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 600, 5, 0); /* 10/s, burst 5 */
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio__rl_take(&rl, 0), 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 100);
    cr_assert_eq(cio__rl_take(&rl, 100), 0);
    cr_assert_eq(cio__rl_take(&rl, 100), 100);
}

Test(ratelimit, idle_time_refills_no_more_than_the_burst)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 600, 3, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio__rl_take(&rl, 0), 0);
    int got = 0;
    while (cio__rl_take(&rl, 3600000) == 0) /* an hour later */
        got++;
    cr_assert_eq(got, 3);
}

Test(ratelimit, long_run_rate_is_exact)
{
    /* Taking greedily, every start waiting exactly as told: over ten simulated minutes
     * at 7 per minute (a rate that does not divide a second) the count is exact. */
    struct cio_rl rl;
    uint64_t now = 0;
    unsigned starts = 0;

    cio__rl_init(&rl, 7, 1, 0);
    while (now <= 600000) {
        uint64_t wait = cio__rl_take(&rl, now);
        if (wait == 0)
            starts++;
        else
            now += wait;
    }
    cr_assert_eq(starts, 71, "got %u", starts); /* one at t=0, then 7 per minute */
}

static void check_windows(unsigned per_min, unsigned burst, uint64_t slack_ms)
{
    /* Starts in any window of T ms never exceed burst + rate * (T + slack). */
    struct cio_rl rl;
    uint64_t t[2000];
    unsigned n = 0;
    uint64_t now = 0;

    cio__rl_init(&rl, per_min, burst, 0);
    while (n < 2000) {
        uint64_t wait = cio__rl_take(&rl, now);
        if (wait == 0)
            t[n++] = now;
        else
            now += wait % 7 == 0 ? wait : wait + (now % 3); /* wake a little late too */
    }
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n && t[j] - t[i] <= 1000; j++) {
            uint64_t window = t[j] - t[i];
            cr_assert_leq((uint64_t)(j - i + 1), burst + (per_min * (window + slack_ms)) / 60000,
                          "%u starts in %llu ms at %u/min", j - i + 1, (unsigned long long)window,
                          per_min);
        }
}

Test(ratelimit, no_window_holds_more_than_burst_plus_rate)
{
    check_windows(6000, 4, 0); /* 100/s divides a minute: exact */
    check_windows(6000, 1, 0);
    check_windows(7000, 1, 1); /* 8.57 ms apart: whole-ms wakes, one ms of slack */
    check_windows(7, 3, 1);
}

Test(ratelimit, a_rate_that_does_not_divide_a_millisecond_is_not_slowed)
{
    /* 7000/min wakes every 8 or 9 ms; losing the remainder would make it 9 every time. */
    struct cio_rl rl;
    uint64_t now = 0;
    unsigned starts = 0;

    cio__rl_init(&rl, 7000, 1, 0);
    while (now <= 60000) {
        uint64_t wait = cio__rl_take(&rl, now);
        if (wait == 0)
            starts++;
        else
            now += wait;
    }
    cr_assert_eq(starts, 7001, "got %u", starts);
}

Test(ratelimit, time_going_backwards_adds_nothing)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 60, 1, 5000);
    cr_assert_eq(cio__rl_take(&rl, 5000), 0);
    cr_assert_eq(cio__rl_take(&rl, 1000), 1000);
}

Test(ratelimit, huge_rates_and_gaps_do_not_overflow)
{
    struct cio_rl rl;

    cio__rl_init(&rl, 4000000000u, 4000000000u, 0);
    cr_assert_eq(cio__rl_take(&rl, UINT64_MAX / 2), 0);
    cio__rl_init(&rl, 1, 1, 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 60000);
    cr_assert_eq(cio__rl_take(&rl, UINT64_MAX), 0);
}

/* ---- any period, start empty, and the window mode ---------------------------------- */

Test(ratelimit, thirty_per_hour_is_one_every_two_minutes)
{
    struct cio_rl rl;

    cio__rl_init_period(&rl, 30, 3600000, 1, 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 0);
    cr_assert_eq(cio__rl_take(&rl, 0), 120000);
    cr_assert_eq(cio__rl_take(&rl, 120000), 0);
}

Test(ratelimit, a_bucket_may_start_empty)
{
    struct cio_lim l;
    cio_rate r = {.count = 60, .period_ms = 60000, .burst = 5, .start_empty = 1};

    cr_assert_eq(cio__lim_init(&l, &r, 0), CIO_OK);
    cr_assert_eq(cio__lim_wait(&l, 0), 1000);
    cr_assert_eq(cio__lim_wait(&l, 1000), 0);
    cr_assert_eq(cio__lim_idle(&l, 1000), 0);
    cr_assert_eq(cio__lim_idle(&l, 5000), 1, "full again after burst tokens' time");
    cio__lim_free(&l);
}

#define STARTS 3000

/* A greedy caller: starts whenever allowed, else sleeps as told, sometimes waking up to
 * `late` ms late. Fills t with STARTS start times. */
static void simulate(const cio_rate *r, uint64_t *t, unsigned late)
{
    struct cio_lim l;
    uint64_t now = 0;
    unsigned n = 0;

    cr_assert_eq(cio__lim_init(&l, r, 0), CIO_OK);
    while (n < STARTS) {
        uint64_t wait = cio__lim_wait(&l, now);
        if (wait == 0) {
            cio__lim_take(&l, now);
            t[n++] = now;
        } else {
            now += wait + (n % 5 == 0 ? n % (late + 1) : 0);
        }
    }
    cio__lim_free(&l);
}

/* The most starts in any window [t, t + period). */
static unsigned busiest(const uint64_t *t, uint64_t period)
{
    unsigned most = 0;

    for (unsigned i = 0, j = 0; i < STARTS; i++) {
        while (j < STARTS && t[j] < t[i] + period)
            j++;
        most = j - i > most ? j - i : most;
    }
    return most;
}

static void check_window(unsigned count, unsigned period, int start_empty)
{
    cio_rate r = {
        .count = count, .period_ms = period, .mode = CIO_RATE_WINDOW, .start_empty = start_empty};
    uint64_t t[STARTS];

    simulate(&r, t, 2);
    cr_assert_leq(busiest(t, period), count, "at %u per %u ms", count, period);
    if (!start_empty)
        cr_assert_eq(t[count - 1], 0, "the whole quota may go at once");
    else
        cr_assert_eq(t[0], period, "an empty start waits a whole period");
    /* And it is not slower than the quota: count per period, long run. */
    cr_assert_leq(t[STARTS - 1], (uint64_t)(STARTS / count + 1) * (period + 3));
}

Test(ratelimit, a_window_never_holds_more_than_its_count)
{
    check_window(100, 60000, 0); /* 100 a minute */
    check_window(7, 1000, 0);    /* 7 a second */
    check_window(100, 60000, 1);
    check_window(1, 500, 0);
}

Test(ratelimit, a_paced_minute_holds_at_most_burst_plus_count)
{
    /* The REST issue's property: in paced mode no 60 s window exceeds B + N. */
    cio_rate r = {.count = 600, .period_ms = 60000, .burst = 20};
    uint64_t t[STARTS];

    simulate(&r, t, 3);
    cr_assert_leq(busiest(t, 60000), 620);
}

Test(ratelimit, an_oversized_window_is_refused)
{
    struct cio_lim l;
    cio_rate r = {.count = CIO_RW_MAX + 1, .mode = CIO_RATE_WINDOW};

    cr_assert_eq(cio__lim_init(&l, &r, 0), CIO_E_INVAL);
}

/* Starts held until their request goes out, up to `delay` ms after admission (a cold
 * connection, a TLS handshake); fills sent with the STARTS times they went out. */
static void simulate_held(const cio_rate *r, unsigned delay, uint64_t *sent)
{
    struct cio_lim l;
    uint64_t now = 0, out[STARTS], rnd = 88172645463325252ULL;
    unsigned started = 0, nout = 0, nsent = 0;

    cr_assert_eq(cio__lim_init(&l, r, 0), CIO_OK);
    while (nsent < STARTS) {
        unsigned first = 0; /* the request out that goes first */
        for (unsigned i = 1; i < nout; i++)
            first = out[i] < out[first] ? i : first;
        if (nout > 0 && out[first] <= now) {
            cio__lim_sent(&l, out[first]);
            sent[nsent++] = out[first];
            out[first] = out[--nout];
            continue;
        }
        uint64_t wait = cio__lim_wait(&l, now);
        if (wait == 0 && started < STARTS) {
            cr_assert_eq(cio__lim_hold(&l, now), 1);
            rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
            out[nout++] = now + rnd % (delay + 1);
            started++;
            continue;
        }
        uint64_t next = wait > 0 && started < STARTS ? now + wait : UINT64_MAX;
        if (nout > 0 && out[first] < next)
            next = out[first];
        now = next;
    }
    cio__lim_free(&l);
}

static int by_time(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(ratelimit, a_window_counts_a_held_start_when_it_goes_out)
{
    static uint64_t sent[STARTS];
    const unsigned cases[][3] = {{20, 1000, 150}, {200, 1000, 40}, {5, 1000, 3000}, {1, 100, 10}};

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cio_rate r = {.count = cases[c][0], .period_ms = cases[c][1], .mode = CIO_RATE_WINDOW};
        simulate_held(&r, cases[c][2], sent);
        qsort(sent, STARTS, sizeof sent[0], by_time);
        cr_assert_leq(busiest(sent, cases[c][1]), cases[c][0],
                      "%u per %u ms, sent up to %u ms late", cases[c][0], cases[c][1], cases[c][2]);
        /* Not slower than one quota per period plus the longest delay. */
        uint64_t most = (uint64_t)(STARTS / cases[c][0] + 1) * (cases[c][1] + cases[c][2] + 2);
        cr_assert_leq(sent[STARTS - 1], most, "case %zu took %llu ms", c,
                      (unsigned long long)sent[STARTS - 1]);
    }
}

/* The most sends of the sorted `t` in any [t_i, t_j] beyond what a bucket of `burst`
 * allows: burst + count * (t_j - t_i + 1) / period (the + 1: the clock's millisecond). */
static long paced_excess(const uint64_t *t, unsigned count, unsigned period, unsigned burst)
{
    long worst = LONG_MIN;

    for (unsigned i = 0; i < STARTS; i++)
        for (unsigned j = i; j < STARTS && j < i + 4 * burst + 64; j++) {
            long allowed = (long)burst + (long)((t[j] - t[i] + 1) * count / period);
            long excess = (long)(j - i + 1) - allowed;
            worst = excess > worst ? excess : worst;
        }
    return worst;
}

Test(ratelimit, a_bucket_counts_a_held_start_when_it_goes_out)
{
    /* A first request that connects for 6 ms used to go out 6 ms late and the second on
     * time: 99 ms apart at 10/s, a 429 from a server allowing no burst. */
    static uint64_t sent[STARTS];
    const unsigned cases[][4] = {{19, 2000, 1, 150}, {19, 2000, 3, 150}, {200, 1000, 1, 40},
                                 {200, 1000, 8, 40}, {5, 1000, 2, 3000}, {7, 60000, 1, 20},
                                 {47500, 1000, 1, 5}};

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const unsigned *k = cases[c];
        cio_rate r = {.count = k[0], .period_ms = k[1], .burst = k[2]};
        simulate_held(&r, k[3], sent);
        qsort(sent, STARTS, sizeof sent[0], by_time);
        cr_assert_leq(paced_excess(sent, k[0], k[1], k[2]), 0,
                      "%u per %u ms, burst %u, sent up to %u ms late", k[0], k[1], k[2], k[3]);
        /* Not slower than one token, one delay and the clock's millisecond a start. */
        uint64_t most = (uint64_t)STARTS * (k[1] / k[0] + k[3] + 2);
        cr_assert_leq(sent[STARTS - 1], most, "case %zu took %llu ms", c,
                      (unsigned long long)sent[STARTS - 1]);
    }
}

/* Without delays, holding costs nothing: the bucket's own pace, exactly. */
Test(ratelimit, a_bucket_whose_starts_go_out_at_once_keeps_its_rate)
{
    static uint64_t sent[STARTS], taken[STARTS];
    cio_rate r = {.count = 19, .period_ms = 2000, .burst = 1};

    simulate_held(&r, 0, sent);
    simulate(&r, taken, 0);
    cr_assert_eq(sent[STARTS - 1], taken[STARTS - 1]);
}

Test(ratelimit, a_held_start_counts_until_it_is_sent)
{
    struct cio_lim l;
    cio_rate r = {.count = 2, .period_ms = 1000, .mode = CIO_RATE_WINDOW};

    cr_assert_eq(cio__lim_init(&l, &r, 0), CIO_OK);
    cr_assert_eq(cio__lim_hold(&l, 0), 1);
    cr_assert_eq(cio__lim_hold(&l, 0), 1);
    cr_assert_eq(cio__lim_wait(&l, 5000), 1000, "both held: nothing leaves until one is sent");
    cr_assert_eq(cio__lim_idle(&l, 9000), 0, "a held start keeps the window");
    cio__lim_sent(&l, 5000);
    cr_assert_eq(cio__lim_wait(&l, 5100), 900, "it counts from when it went out");
    cio__lim_sent(&l, 5200);
    cr_assert_eq(cio__lim_wait(&l, 6000), 0);
    cr_assert_eq(cio__lim_idle(&l, 6200), 1);
    cio__lim_free(&l);
    cio_rate paced = {.count = 60, .period_ms = 60000};
    cr_assert_eq(cio__lim_init(&l, &paced, 0), CIO_OK);
    cr_assert_eq(cio__lim_hold(&l, 0), 1, "a bucket holds it too");
    cr_assert_eq(cio__lim_wait(&l, 5000), 1000, "held: the next waits for it to go out");
    cr_assert_eq(cio__lim_idle(&l, 5000), 0, "a held start keeps the bucket");
    cio__lim_sent(&l, 5000);
    cr_assert_eq(cio__lim_wait(&l, 5000), 1000, "a token from when it went out");
    cr_assert_eq(cio__lim_wait(&l, 6000), 0);
    cio__lim_free(&l);
    cio_rate none = {.count = 0};
    cr_assert_eq(cio__lim_init(&l, &none, 0), CIO_OK);
    cr_assert_eq(cio__lim_hold(&l, 0), 0, "no limit holds nothing");
    cio__lim_free(&l);
}
