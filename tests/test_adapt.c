/* SPDX-License-Identifier: Apache-2.0 */
/* Adaptive slowdown with explicit timestamps: no network, no clock. */
#include <criterion/criterion.h>

#include "adapt.h"

Test(adapt, a_throttle_halves_the_configured_rate_once_a_second)
{
    struct cio_adapt a = {0};

    cr_assert_eq(cio__adapt_throttled(&a, 10000, 600), 1);
    cr_assert_eq(a.rate, 300);
    cr_assert_eq(cio__adapt_throttled(&a, 10500, 600), 0, "answers already in flight");
    cr_assert_eq(a.rate, 300);
    cr_assert_eq(cio__adapt_throttled(&a, 11000, 600), 1);
    cr_assert_eq(a.rate, 150);
}

Test(adapt, it_recovers_a_tenth_a_quiet_second_up_to_the_ceiling)
{
    struct cio_adapt a = {0};

    cio__adapt_throttled(&a, 0, 1000); /* 1000 -> 500 */
    cr_assert_eq(cio__adapt_tick(&a, 999), 0);
    cr_assert_eq(cio__adapt_tick(&a, 1000), 1);
    cr_assert_eq(a.rate, 600);
    cio__adapt_throttled(&a, 1500, 1000); /* a new 429: halved again, the clock restarts */
    cr_assert_eq(a.rate, 300);
    cr_assert_eq(cio__adapt_tick(&a, 2400), 0, "less than a quiet second");
    cr_assert_eq(cio__adapt_tick(&a, 2500), 1);
    cr_assert_eq(a.rate, 400);
    cr_assert_eq(cio__adapt_tick(&a, 8500), 1, "six more quiet seconds");
    cr_assert_eq(a.rate, 0, "back at the ceiling: the slowdown is over");
}

Test(adapt, with_no_rate_set_it_halves_the_starts_of_the_last_second)
{
    struct cio_adapt a = {0};

    for (int i = 0; i < 20; i++)
        cio__adapt_start(&a, 5000 + (uint64_t)i * 40); /* 20 starts in 800 ms */
    cr_assert_eq(cio__adapt_recent(&a, 5800), 20);
    cr_assert_eq(cio__adapt_throttled(&a, 5800, 0), 1);
    cr_assert_eq(a.rate, 600, "20/s is 1200/min; half of it");
    cr_assert_eq(a.ceiling, 1200);
    cr_assert_eq(cio__adapt_recent(&a, 7000), 0, "a second later they are forgotten");
}

Test(adapt, a_pause_the_server_imposed_is_no_quiet_time)
{
    struct cio_adapt a = {0};

    cio__adapt_throttled(&a, 0, 1200); /* 20/s -> 10/s */
    a.paused_until = 4000;             /* RateLimit-Reset: 4 s */
    cr_assert_eq(cio__adapt_tick(&a, 4000), 0, "four paused seconds are not four steps");
    cr_assert_eq(a.rate, 600);
    cr_assert_eq(cio__adapt_tick(&a, 5000), 1, "a quiet second after the pause is one");
    cr_assert_eq(a.rate, 720);
}

Test(adapt, rate_limit_headers_pause_only_when_nothing_remains)
{
    cr_assert_eq(cio__adapt_pause_ms("0", "5", 0), 5000);
    cr_assert_eq(cio__adapt_pause_ms(" 0", "2", 0), 2000);
    cr_assert_eq(cio__adapt_pause_ms("3", "5", 0), 0);
    cr_assert_eq(cio__adapt_pause_ms("0", NULL, 0), 0);
    cr_assert_eq(cio__adapt_pause_ms("0", "soon", 0), 0);
    cr_assert_eq(cio__adapt_pause_ms("0", "1700000030", 1700000000), 30000, "an epoch time");
    cr_assert_eq(cio__adapt_pause_ms("0", "1600000000", 1700000000), 0, "already past");
    cr_assert_eq(cio__adapt_pause_ms("0", "999999", 0), 86400000, "at most a day");
}
