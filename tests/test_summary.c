/* SPDX-License-Identifier: Apache-2.0 */
/* The end-of-run summary: counts and latency quantiles from the fixed histogram. */
#include <stdio.h>
#include <stdlib.h>
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

static void add(const char *url, enum fetch_outcome o, long status, int curl, unsigned attempts)
{
    struct fetch_record r = {.url = url,
                             .outcome = o,
                             .http_status = status,
                             .curl_code = curl,
                             .attempts = attempts,
                             .bytes = 100};
    fetch_summary_add(&S, o, status, attempts > 0, 5);
    fetch_summary_cause(&S, &r);
}

Test(summary, errors_by_cause_and_hosts_by_failures)
{
    char buf[2048];

    memset(&S, 0, sizeof S);
    add("http://a.test/1", FETCH_DONE, 200, 0, 1);
    add("http://a.test/2", FETCH_ERROR, 503, 0, 3);
    add("http://a.test/3", FETCH_ERROR, 503, 0, 3);
    add("https://u:pw@B.test:8443/x", FETCH_ERROR, 0, 7, 1);
    add("not a url", FETCH_ERROR, 0, 0, 0);
    add("http://a.test/4", FETCH_TIMEOUT, 0, 0, 1);
    fetch_summary_format(&S, 1000, buf, sizeof buf);
    cr_assert(strstr(buf, "  errors: HTTP 503 2, bad line 1, curl 7 1\n") != NULL,
              "the most first: %s", buf);
    cr_assert(strstr(buf, "  hosts: a.test 3/4 failed, b.test:8443 1/1 failed\n") != NULL,
              "a timeout fails too; no userinfo, lower case: %s", buf);
    cr_assert_eq(S.bytes, 600);
    char *json = fetch_summary_json(&S, 1000);
    cr_assert_not_null(json);
    cr_assert(strstr(json, "\"errors\":{\"HTTP 503\":2,\"bad line\":1,\"curl 7\":1}") != NULL, "%s",
              json);
    cr_assert(strstr(json, "\"b.test:8443\":{\"items\":1,\"failed\":1}") != NULL, "%s", json);
    cr_assert_eq(json[strlen(json) - 1], '\n');
    free(json);
}

Test(summary, one_host_gets_no_host_line_and_many_stay_bounded)
{
    char buf[4096], url[64];

    memset(&S, 0, sizeof S);
    add("http://only.test/", FETCH_DONE, 200, 0, 1);
    fetch_summary_format(&S, 1000, buf, sizeof buf);
    cr_assert_null(strstr(buf, "hosts:"), "%s", buf);
    for (int i = 0; i < 100; i++) {
        snprintf(url, sizeof url, "http://h%d.test/", i);
        add(url, FETCH_DONE, 200, 0, 1);
    }
    cr_assert_eq(S.nhosts, FETCH_HOSTS);
    cr_assert_eq(S.other_items, 101 - FETCH_HOSTS);
    fetch_summary_format(&S, 1000, buf, sizeof buf);
    cr_assert(strstr(buf, ", and more\n") != NULL, "%s", buf);
}
