/* SPDX-License-Identifier: Apache-2.0 */
/* The end-of-run summary: counts and latency quantiles from the fixed histogram. */
#include <string.h>

#include <criterion/criterion.h>

#include "summary.h"

static struct fetch_summary S;

Test(summary, quantiles_are_within_a_few_percent)
{
    memset(&S, 0, sizeof S);
    for (uint64_t ms = 1; ms <= 10000; ms++)
        fetch_summary_add(&S, FETCH_DONE, 200, 1, ms);
    const double q[] = {0.5, 0.9, 0.99};
    for (int i = 0; i < 3; i++) {
        double want = q[i] * 10000, got = (double)fetch_summary_quantile(&S, q[i]);
        cr_assert(got >= want * 0.96 && got <= want * 1.04, "q%.2f: %.0f vs %.0f", q[i], got, want);
    }
    cr_assert_eq(fetch_summary_quantile(&S, 1.0), 10000, "the max is exact");
    cr_assert_eq(S.max_ms, 10000);
}

Test(summary, small_values_are_exact_and_empty_is_zero)
{
    memset(&S, 0, sizeof S);
    cr_assert_eq(fetch_summary_quantile(&S, 0.5), 0);
    fetch_summary_add(&S, FETCH_DONE, 200, 1, 3);
    fetch_summary_add(&S, FETCH_DONE, 200, 1, 5);
    fetch_summary_add(&S, FETCH_ERROR, 0, 0, 0); /* a bad line: not a latency */
    cr_assert_eq(fetch_summary_quantile(&S, 0.5), 3);
    cr_assert_eq(fetch_summary_quantile(&S, 0.99), 5);
    cr_assert_eq(S.latencies, 2);
}

Test(summary, the_text_has_counts_classes_and_latencies)
{
    char buf[512];

    memset(&S, 0, sizeof S);
    fetch_summary_add(&S, FETCH_DONE, 200, 1, 10);
    fetch_summary_add(&S, FETCH_DONE, 404, 1, 20);
    fetch_summary_add(&S, FETCH_ERROR, 503, 1, 30);
    fetch_summary_add(&S, FETCH_TIMEOUT, 0, 1, 1000);
    fetch_summary_format(&S, 2000, buf, sizeof buf);
    cr_assert(strstr(buf, "4 items in 2.00 s (2.0/s): done 2, error 1, timeout 1\n") != NULL, "%s",
              buf);
    cr_assert(strstr(buf, "2xx 1, 3xx 0, 4xx 1, 5xx 1, none 1") != NULL, "%s", buf);
    cr_assert(strstr(buf, "max 1000") != NULL, "%s", buf);
}
