/* SPDX-License-Identifier: Apache-2.0 */
/* --report, pure: records into time bins (widened as a run gets long, earlier starts
 * coming late), the sample, junk, times; and the page: self-contained, its data unable
 * to end its script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "report.h"
#include "report_html.h"

static struct fetch_report *R;

static void setup(void)
{
    R = malloc(sizeof *R);
    cr_assert_not_null(R);
    cr_assert_eq(fetch_report_init(R), 0);
}

static void teardown(void)
{
    fetch_report_free(R);
    free(R);
}

/* A record started at second s (ms m) of 05:00 on 2026-12-02, taking ms ms. */
static void add(unsigned s, unsigned m, unsigned ms, const char *outcome, int status)
{
    char line[512];
    int n = snprintf(line, sizeof line,
                     "{\"id\":1,\"line\":1,\"url\":\"http://a.test/x\",\"outcome\":\"%s\","
                     "\"http_status\":%d,\"started_at\":\"2026-12-02T%02u:%02u:%02u.%03uZ\","
                     "\"elapsed_ms\":%u,\"bytes\":5,\"attempts\":1}",
                     outcome, status, 5 + s / 3600, s / 60 % 60, s % 60, m, ms);
    fetch_report_add(R, line, (size_t)n);
}

static uint64_t starts(void)
{
    uint64_t n = 0;

    for (size_t i = 0; i < R->nbins; i++)
        n += R->bins[i].starts;
    return n;
}

Test(report, rfc3339_times_as_records_write_them, .init = setup, .fini = teardown)
{
    int64_t ms;

    cr_assert_eq(fetch_report_time("1970-01-01T00:00:01.250Z", 24, &ms), 0);
    cr_assert_eq(ms, 1250);
    cr_assert_eq(fetch_report_time("2026-12-02T05:14:07.076Z", 24, &ms), 0);
    cr_assert_eq(ms, 1796188447076ll);
    cr_assert_eq(fetch_report_time("2026-12-02T05:14:07Z", 20, &ms), -1);
    cr_assert_eq(fetch_report_time("2026-13-02T05:14:07.076Z", 24, &ms), -1);
    cr_assert_eq(fetch_report_time("2026-12-02 05:14:07.076Z", 24, &ms), -1);
}

Test(report, starts_fall_in_one_second_bins, .init = setup, .fini = teardown)
{
    for (unsigned i = 0; i < 50; i++)
        add(10, i * 20, 5, "done", 200);
    add(11, 0, 1500, "timeout", 0);
    cr_assert_eq(R->records, 51);
    cr_assert_eq(R->width_ms, 1000);
    cr_assert_eq(R->bins[0].starts, 50);
    cr_assert_eq(R->bins[1].starts, 1);
    cr_assert_eq(R->bins[2].outcomes[FETCH_TIMEOUT], 1, "counted where it ended");
    cr_assert_eq(R->bins[0].classes[2], 50);
    cr_assert_eq(R->all.outcomes[FETCH_DONE], 50);
}

Test(report, a_long_run_widens_the_bins_and_loses_no_start, .init = setup, .fini = teardown)
{
    for (unsigned s = 0; s < 5000; s++)
        add(s, 0, 1, "done", 200);
    cr_assert_geq(R->width_ms, 5000 * 1000 / FETCH_REPORT_BINS);
    cr_assert_leq(R->nbins, FETCH_REPORT_BINS);
    cr_assert_eq(starts(), 5000);
    add(1000, 0, 1, "done", 200); /* earlier than the last: its bin is there */
    cr_assert_eq(starts(), 5001);
}

Test(report, earlier_starts_coming_late_move_the_origin, .init = setup, .fini = teardown)
{
    add(3000, 0, 1, "done", 200);
    add(100, 0, 1, "error", 0); /* records come in the order items end */
    add(5, 0, 1, "done", 200);
    cr_assert_eq(starts(), 3);
    cr_assert_leq(R->origin_ms, R->first_ms);
    int64_t s5;
    cr_assert_eq(fetch_report_time("2026-12-02T05:00:05.000Z", 24, &s5), 0);
    cr_assert_eq(R->first_ms, s5);
}

Test(report, junk_and_records_without_a_start_are_counted_not_drawn, .init = setup,
     .fini = teardown)
{
    static const char *const junk[] = {"not json", "{\"outcome\":\"maybe\"}", "[1,2]", "{"};
    for (size_t i = 0; i < 4; i++)
        fetch_report_add(R, junk[i], strlen(junk[i]));
    const char *bad_line =
        "{\"id\":3,\"line\":3,\"url\":\"x\",\"outcome\":\"error\",\"error\":\"bad\"}";
    fetch_report_add(R, bad_line, strlen(bad_line));
    cr_assert_eq(R->junk, 4);
    cr_assert_eq(R->records, 1);
    cr_assert_eq(R->nbins, 0);
    cr_assert_eq(R->npoints, 0);
}

Test(report, the_sample_is_bounded_and_every_request_counts, .init = setup, .fini = teardown)
{
    for (unsigned i = 0; i < FETCH_REPORT_POINTS + 5000; i++)
        add(i / 1000, i % 1000, i % 300, "done", 200);
    cr_assert_eq(R->npoints, FETCH_REPORT_POINTS);
    cr_assert_eq(R->sampled, FETCH_REPORT_POINTS + 5000);
    cr_assert_eq(R->all.latencies, FETCH_REPORT_POINTS + 5000);
}

Test(report, the_page_is_self_contained_and_its_data_cannot_end_its_script, .init = setup,
     .fini = teardown)
{
    const char *evil = "{\"url\":\"http://</script><script>alert(1)//x/\",\"outcome\":\"done\","
                       "\"http_status\":200,\"started_at\":\"2026-12-02T05:00:00.000Z\","
                       "\"elapsed_ms\":3,\"attempts\":1}";
    struct fetch_report_opts o = {.rate = {.count = 10, .period_ms = 1000}};
    struct fetch_buf page = {0};

    fetch_report_add(R, evil, strlen(evil));
    cr_assert_eq(fetch_report_html(R, &o, &page), 0);
    cr_assert_eq(fetch_buf_add(&page, "", 1), 0); /* a NUL to search in */
    size_t scripts = 0;
    for (const char *s = page.p; (s = strstr(s, "</script>")) != NULL; s++)
        scripts++;
    cr_assert_eq(scripts, 2, "the data's and the code's, no third from a host name");
    cr_assert(strstr(page.p, "\"rate\":{\"count\":10,\"period_ms\":1000}") != NULL);
    cr_assert_null(strstr(page.p, "src="), "nothing loaded from elsewhere");
    cr_assert_null(strstr(page.p, "http-equiv"));
    fetch_buf_free(&page);
}
