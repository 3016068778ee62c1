/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's options: values, defaults and the errors that name the option. */
#include <string.h>

#include <criterion/criterion.h>

#include "options.h"

static struct fetch_opts O;
static char err[256];

static enum fetch_action parse(const char *const *args)
{
    char *argv[64] = {"concurio-fetch"};
    int argc = 1;

    while (args[argc - 1] != NULL)
        argv[argc] = (char *)args[argc - 1], argc++;
    fetch_opts_free(&O);
    return fetch_parse_args(argc, argv, &O, err, sizeof err);
}

static void teardown(void)
{
    fetch_opts_free(&O);
}

TestSuite(options, .fini = teardown);

Test(options, defaults_are_the_documented_ones)
{
    cr_assert_eq(parse((const char *[]){NULL}), FETCH_RUN);
    cr_assert_eq(O.concurrency, 50);
    cr_assert_eq(O.max_body, 1u << 20);
    cr_assert_eq(O.grace_ms, 5000);
    cr_assert_eq(O.progress_interval_ms, 10000);
    cr_assert_eq(O.rate.count, 0);
    cr_assert_eq(O.retry.max_attempts, 0);
    cr_assert_eq(O.threads_set, 0, "threads: one per free CPU, decided at run time");
    cr_assert_null(O.input);
}

Test(options, rates_in_every_unit_are_exact)
{
    cio_rate r;
    cr_assert_eq(fetch_parse_rate("600", &r), 0);
    cr_assert_eq(r.count, 600);
    cr_assert_eq(r.period_ms, 60000, "a bare N is per minute");
    cr_assert_eq(fetch_parse_rate("10/s", &r), 0);
    cr_assert_eq(r.count, 10);
    cr_assert_eq(r.period_ms, 1000);
    cr_assert_eq(fetch_parse_rate("100/h", &r), 0);
    cr_assert_eq(r.period_ms, 3600000);
    cr_assert_eq(fetch_parse_rate("0.5/s", &r), 0);
    cr_assert_eq(r.count, 1);
    cr_assert_eq(r.period_ms, 2000);
    cr_assert_eq(fetch_parse_rate("2.5/s", &r), 0);
    cr_assert_eq(r.count, 25);
    cr_assert_eq(r.period_ms, 10000);
    const char *bad[] = {"0", "-1", "1/d", "", "abc", "1e999", "nan", "inf", "5/s/s", " 5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(fetch_parse_rate(bad[i], &r), -1, "'%s' is refused", bad[i]);
}

Test(options, seconds_take_fractions)
{
    unsigned ms;
    cr_assert_eq(fetch_parse_seconds("2.5", 0, &ms), 0);
    cr_assert_eq(ms, 2500);
    cr_assert_eq(fetch_parse_seconds("0.0001", 0, &ms), 0);
    cr_assert_eq(ms, 1, "a tiny limit is still a limit");
    cr_assert_eq(fetch_parse_seconds("0", 0, &ms), -1);
    cr_assert_eq(fetch_parse_seconds("0", 1, &ms), 0);
    cr_assert_eq(fetch_parse_seconds("-1", 1, &ms), -1);
    cr_assert_eq(fetch_parse_seconds("9999999999", 0, &ms), -1);
    cr_assert_eq(fetch_parse_seconds("1s", 0, &ms), -1);
}

Test(options, every_option_lands_in_its_field)
{
    cr_assert_eq(parse((const char *[]){"-c",
                                        "8",
                                        "--per-host",
                                        "2",
                                        "-r",
                                        "10/s",
                                        "--burst",
                                        "3",
                                        "--rate-mode",
                                        "paced",
                                        "--rate-margin",
                                        "10%",
                                        "--rate-host",
                                        "5/s",
                                        "-t",
                                        "1.5",
                                        "--connect-timeout",
                                        "0.5",
                                        "--deadline",
                                        "60",
                                        "--retries",
                                        "4",
                                        "--retry-max-wait",
                                        "9",
                                        "-X",
                                        "PUT",
                                        "-H",
                                        "A: 1",
                                        "-H",
                                        "B: 2",
                                        "-d",
                                        "x",
                                        "-o",
                                        "out",
                                        "--body",
                                        "text",
                                        "--max-body",
                                        "2M",
                                        "--fail",
                                        "--insecure",
                                        "--resume",
                                        "r",
                                        "--no-progress",
                                        "--progress-interval",
                                        "3",
                                        "--grace",
                                        "0",
                                        "-q",
                                        "--adaptive",
                                        "--http1.1",
                                        "--threads",
                                        "3",
                                        "list.txt",
                                        NULL}),
                 FETCH_RUN, "%s", err);
    cr_assert_eq(O.concurrency, 8);
    cr_assert_eq(O.per_host, 2);
    cr_assert_eq(O.rate.count, 10);
    cr_assert_eq(O.rate.burst, 3);
    cr_assert_eq(O.rate.mode, CIO_RATE_PACED);
    cr_assert_eq(O.rate_margin_pct, 10);
    cr_assert_eq(O.host_rate.count, 5);
    cr_assert_eq(O.host_rate.burst, 3, "the bucket applies to both");
    cr_assert_eq(O.timeout_ms, 1500);
    cr_assert_eq(O.connect_timeout_ms, 500);
    cr_assert_eq(O.deadline_ms, 60000);
    cr_assert_eq(O.retry.max_attempts, 5, "4 retries: 5 attempts");
    cr_assert_eq(O.retry.max_wait_ms, 9000);
    cr_assert_str_eq(O.method, "PUT");
    cr_assert_eq(O.nheaders, 2);
    cr_assert_str_eq(O.headers[1], "B: 2");
    cr_assert_str_eq(O.data, "x");
    cr_assert_str_eq(O.output, "out");
    cr_assert_eq(O.body, FETCH_BODY_TEXT);
    cr_assert_eq(O.max_body, 2u << 20);
    cr_assert(O.fail && O.insecure && O.quiet && O.adaptive);
    cr_assert_str_eq(O.resume, "r");
    cr_assert_eq(O.progress, FETCH_PROGRESS_OFF);
    cr_assert_eq(O.progress_interval_ms, 3000);
    cr_assert_eq(O.grace_ms, 0);
    cr_assert_eq(O.http_version, CIO_HTTP_1_1);
    cr_assert(O.threads_set && O.threads == 3);
    cr_assert_str_eq(O.input, "list.txt");
}

Test(options, retry_on_takes_words_and_statuses)
{
    cr_assert_eq(parse((const char *[]){"--retry-on", "transport,timeout", NULL}), FETCH_RUN);
    cr_assert_eq(O.retry.on, CIO_RETRY_TRANSPORT | CIO_RETRY_TIMEOUT);
    cr_assert_eq(O.retry.nstatuses, 0);
    cr_assert_eq(parse((const char *[]){"--retry-on", "503,429,transport", NULL}), FETCH_RUN);
    cr_assert_eq(O.retry.nstatuses, 2, "numbers make an exact list");
    cr_assert_eq(O.retry.statuses[0], 503);
    cr_assert_eq(O.retry.statuses[1], 429);
    cr_assert_eq(parse((const char *[]){"--retry-on", "408,5xx", NULL}), FETCH_RUN);
    cr_assert_eq(O.retry.nstatuses, 101, "408 and every 5xx");
    const char *bad[] = {"", ",", "429,", "teapot", "99", "600", "5xx,,429"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse((const char *[]){"--retry-on", bad[i], NULL}), FETCH_USAGE, "'%s'",
                     bad[i]);
}

Test(options, mistakes_name_the_option)
{
    cr_assert_eq(parse((const char *[]){"--concurrency=0", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "--concurrency") != NULL, "%s", err);
    cr_assert_eq(parse((const char *[]){"--timeout", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "--timeout") != NULL && strstr(err, "needs a value"), "%s", err);
    cr_assert_eq(parse((const char *[]){"-Z", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "-Z") != NULL, "%s", err);
    cr_assert_eq(parse((const char *[]){"--frobnicate", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "--frobnicate") != NULL, "%s", err);
    cr_assert_eq(parse((const char *[]){"-H", "Bad\r\nHeader: x", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"-X", "GET /x", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"a.txt", "b.txt", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"--max-body", "12Q", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"--threads", "-1", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"--threads", "257", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"--threads", "0", NULL}), FETCH_RUN, "0: main thread");
    /* An error inside a cluster of short options leaves getopt mid-word: the next parse
     * must start afresh (fuzz_options found it reading the old, freed argv). */
    cr_assert_eq(parse((const char *[]){"-Zq", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"-c", "5", NULL}), FETCH_RUN, "%s", err);
    cr_assert(O.concurrency == 5 && !O.quiet, "nothing left over from '-Zq'");
    cr_assert_eq(parse((const char *[]){"-h", NULL}), FETCH_HELP);
    cr_assert_eq(parse((const char *[]){"-V", NULL}), FETCH_VERSION);
}

Test(options, the_rate_mode_applies_to_both_rates)
{
    cr_assert_eq(
        parse((const char *[]){"--rate-mode", "window", "-r", "10/s", "--rate-host", "2/s", NULL}),
        FETCH_RUN, "%s", err);
    cr_assert_eq(O.rate.mode, CIO_RATE_WINDOW);
    cr_assert_eq(O.host_rate.mode, CIO_RATE_WINDOW);
    cr_assert_eq(O.rate_margin_pct, 5, "the default margin");
    cr_assert_eq(parse((const char *[]){"--rate-margin", "0", "-r", "1", NULL}), FETCH_RUN);
    cr_assert_eq(O.rate_margin_pct, 0);
    cr_assert_eq(parse((const char *[]){"--rate-margin", "51", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"--rate-margin", "5%%", NULL}), FETCH_USAGE);
}

Test(options, options_that_contradict_or_do_nothing_are_refused)
{
    static const char *const cases[][5] = {
        {"--insecure", "--cacert", "ca.pem", NULL, "--insecure and --cacert"},
        {"--http1.1", "--http2", NULL, NULL, "--http1.1 and --http2"},
        {"-q", "--progress", NULL, NULL, "-q/--quiet and --progress"},
        {"--burst", "4", "--rate-mode", "window", "--burst"},
        {"--rate-mode", "window", NULL, NULL, "--rate-mode"},
        {"--burst", "2", NULL, NULL, "--burst"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[6] = {cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL};
        if (i == 3) { /* the burst and window case needs a rate too */
            argv[4] = "-r10";
            argv[5] = NULL;
        }
        cr_assert_eq(parse(argv), FETCH_USAGE, "case %zu", i);
        cr_assert(strstr(err, cases[i][4]) != NULL, "case %zu: %s", i, err);
    }
    cr_assert_eq(parse((const char *[]){"--burst", "2", "--rate-host", "5/s", NULL}), FETCH_RUN,
                 "a burst for the per-host rate alone is fine: %s", err);
    cr_assert_eq(parse((const char *[]){"", NULL}), FETCH_USAGE, "an empty file name");
}

Test(options, a_bad_value_names_the_form_expected)
{
    static const char *const cases[][3] = {
        {"--body", "json", "none, text or base64"},
        {"-r", "10/sec", "N, N/s, N/m or N/h"},
        {"-c", "many", "a whole number"},
        {"-t", "2s", "seconds"},
        {"--max-body", "12Q", "K, M or G"},
        {"--rate-mode", "fast", "paced or window"},
        {"--retry-on", "teapot", "transport, 429, 5xx, timeout"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(parse((const char *[]){cases[i][0], cases[i][1], NULL}), FETCH_USAGE);
        cr_assert(strstr(err, cases[i][1]) != NULL, "the value: %s", err);
        cr_assert(strstr(err, cases[i][2]) != NULL, "the form: %s", err);
    }
}

Test(options, an_unknown_long_option_suggests_the_nearest)
{
    cr_assert_eq(parse((const char *[]){"--concurency", "4", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "did you mean --concurrency?") != NULL, "%s", err);
    cr_assert_eq(parse((const char *[]){"--retires=3", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "did you mean --retries?") != NULL, "%s", err);
    cr_assert_eq(parse((const char *[]){"--xyzzy-plugh", NULL}), FETCH_USAGE);
    cr_assert(strstr(err, "did you mean") == NULL, "nothing near: %s", err);
    cr_assert_eq(parse((const char *[]){"-H", "@", NULL}), FETCH_USAGE);
    cr_assert_eq(parse((const char *[]){"-H", "@headers.txt", NULL}), FETCH_RUN,
                 "a file of headers: main reads it");
}

Test(options, the_default_threads_are_the_cpus_nothing_else_runs_on)
{
    cr_assert_eq(fetch_threads_default(2, 0, NULL), 2, "an idle 2-CPU machine: two");
    cr_assert_eq(fetch_threads_default(2, 1, NULL), 0,
                 "one hog on two CPUs: the main thread alone");
    cr_assert_eq(fetch_threads_default(1, 0, NULL), 1, "taskset -c 0: one beside the main one");
    cr_assert_eq(fetch_threads_default(1, 1, NULL), 1, "one CPU, shared with a server: one");
    cr_assert_eq(fetch_threads_default(2, 5, NULL), 0, "more runnable than CPUs");
    cr_assert_eq(fetch_threads_default(8, 3, NULL), 5);
    cr_assert_eq(fetch_threads_default(512, 0, NULL), 64, "at most 64");
}

Test(options, a_rate_one_thread_keeps_needs_no_transfer_threads)
{
    cio_rate r = {0};

    cr_assert_eq(fetch_threads_default(8, 0, &r), 8, "count 0: no limit");
    r.count = 600; /* a minute, the default period */
    cr_assert_eq(fetch_threads_default(8, 0, &r), 0, "600 a minute");
    r.count = FETCH_ONE_THREAD_RATE * 60;
    cr_assert_eq(fetch_threads_default(8, 0, &r), 0, "exactly the pace of one thread");
    r.count++;
    cr_assert_eq(fetch_threads_default(8, 0, &r), 8, "faster: threads");
    r.count = 4000000000u; /* 4e9 a second: no overflow */
    r.period_ms = 1000;
    cr_assert_eq(fetch_threads_default(8, 0, &r), 8);
    r.count = FETCH_ONE_THREAD_RATE;
    cr_assert_eq(fetch_threads_default(8, 0, &r), 0, "-r 10000/s");
    cr_assert_eq(fetch_threads_default(1, 0, &r), 0, "-r 10000/s on one CPU");
    r.count = 1;
    r.period_ms = 4000000000u; /* one in 46 days */
    cr_assert_eq(fetch_threads_default(8, 0, &r), 0);
}
