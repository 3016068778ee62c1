/* SPDX-License-Identifier: Apache-2.0 */
/* The progress meter: its line and its arithmetic with explicit times, then the feed
 * from a real run. */
#include <string.h>

#include <criterion/criterion.h>

#include "progress.h"
#include "support/delay.h"
#include "support/ledger.h"

Test(progress, a_line_with_a_total_has_a_bar_a_percentage_and_an_eta)
{
    cio_progress pr = {.total = 1000,
                       .ended = 420,
                       .done = 400,
                       .errors = 15,
                       .timeouts = 5,
                       .elapsed_ms = 4000,
                       .rate = 98.5,
                       .eta_ms = 6000};
    char line[256];

    cio_progress_format(&pr, "Fetching", 10, line, sizeof line);
    cr_assert_str_eq(line, "Fetching  42% |####      | 420/1000 [00:04<00:06, 98.5/s] "
                           "done 400, errors 15, timeouts 5");
}

Test(progress, a_line_without_a_total_counts_only)
{
    cio_progress pr = {.ended = 7, .done = 7, .elapsed_ms = 3723000, .rate = 0.5};
    char line[256];

    cio_progress_format(&pr, NULL, 10, line, sizeof line);
    cr_assert_str_eq(line, "7 [1:02:03, 0.5/s] done 7, errors 0, timeouts 0");
}

Test(progress, a_short_buffer_is_cut_not_overrun)
{
    cio_progress pr = {.total = 10, .ended = 10, .done = 10};
    char line[12];

    int want = cio_progress_format(&pr, "Fetching", 40, line, sizeof line);
    cr_assert_gt(want, (int)sizeof line);
    cr_assert_eq(strlen(line), sizeof line - 1);
}

Test(progress, the_rate_follows_the_last_seconds_and_gives_an_eta)
{
    struct cio_meter m;
    cio_progress pr = {.total = 1000};

    cio__meter_reset(&m, 0, 50); /* 50 ended before this run */
    for (uint64_t t = 200; t <= 10000; t += 200)
        cio__meter_sample(&m, t, 50 + t / 100, &pr); /* 10 a second, steadily */
    cr_assert_eq(pr.ended, 100);
    cr_assert_float_eq(pr.rate, 10.0, 0.01, "rate %f", pr.rate);
    cr_assert_eq(pr.eta_ms, 90000, "900 left at 10/s");
    cio__meter_sample(&m, 12000, 50 + 100 + 100, &pr); /* a burst: 100 in 2 s */
    cr_assert_gt(pr.rate, 10.0);
}

static struct ledger L;
static int calls, finals;
static uint64_t last_ended;

static void meter(cio_pool *p, const cio_progress *pr, void *user)
{
    (void)p;
    (void)user;
    cr_assert_geq(pr->ended, last_ended, "never backwards");
    last_ended = pr->ended;
    calls++;
    finals += pr->final;
    if (pr->final) {
        cr_assert_eq(pr->ended, 20);
        cr_assert_eq(pr->done, 20);
        cr_assert_eq(pr->total, 20);
    }
}

Test(progress, a_run_feeds_the_meter_and_ends_with_a_final_snapshot, .timeout = 20)
{
    cio_pool_opts o;

    cio_pool_opts_init(&o);
    ledger_opts(&o, &L);
    o.on_progress = meter;
    o.progress_ms = 20;
    o.expected = 20;
    o.max_concurrency = 2;
    cio_pool *p = cio_pool_new(&o, NULL);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(20), NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(finals, 1);
    cr_assert_geq(calls, 3, "200 ms of work, a snapshot every 20 ms");
}
