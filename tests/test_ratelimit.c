/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket, with explicit timestamps: no clock, no sleeps. */
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
