/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch, safe by default: what a new user types in the first hour never loses
 * a record, never stalls, never looks like success when it failed. The real tool as a
 * process against the real test server. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "support/server.h"
#include "support/tool.h"

static struct server S;
static struct tool_run R;

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
}

static void teardown(void)
{
    tool_run_free(&R);
    server_stop_checked(&S);
}

#define TEST_SAFE(name, ...) Test(safe, name, .init = setup, .fini = teardown, __VA_ARGS__)

/* Writes text to a file of the test's directory; "%s" stands for the server's URL. */
static const char *write_file(const char *name, const char *fmt)
{
    static char path[8][256];
    static unsigned next;
    char *p = path[next++ % 8];
    FILE *f;

    snprintf(p, sizeof path[0], "%s", tool_tmp(name));
    f = fopen(p, "w");
    cr_assert_not_null(f);
    for (const char *s = fmt; *s != '\0'; s++)
        if (s[0] == '%' && s[1] == 's') {
            fputs(S.url, f);
            s++;
        } else {
            fputc(*s, f);
        }
    fclose(f);
    return p;
}

static size_t outcome_count(const struct tool_run *r, const char *outcome)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nrecs; i++)
        n += strcmp(rec_str(r->recs[i], "outcome"), outcome) == 0;
    return n;
}

static long server_requests(void)
{
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    long n = st.requests;
    server_stats_free(&st);
    return n;
}

static void parse_file(struct tool_run *r, const char *path)
{
    char *all = tool_slurp(path);
    tool_parse(r, all);
    free(all);
}

/* ---- 1. the output never overwrites the input ---------------------------------------- */

TEST_SAFE(an_output_that_is_the_input_is_refused_however_spelled, .timeout = 30)
{
    const char *list = write_file("list.txt", "%s/ok\n%s/ok\n");
    char *before = tool_slurp(list), dot[300], soft[300], hard[300];
    snprintf(dot, sizeof dot, "%s/./list.txt", tool_tmp(""));
    snprintf(soft, sizeof soft, "%s", tool_tmp("link.txt"));
    snprintf(hard, sizeof hard, "%s", tool_tmp("hard.txt"));
    unlink(soft);
    unlink(hard);
    cr_assert_eq(symlink(list, soft), 0);
    cr_assert_eq(link(list, hard), 0);
    const char *outs[] = {list, dot, soft, hard};
    for (size_t i = 0; i < 4; i++) {
        tool_run_free(&R);
        tool_run(&R, NULL, (const char *[]){"-o", outs[i], list, NULL});
        cr_assert_eq(R.status, 2, "-o %s: a usage error: %s", outs[i], R.err);
        cr_assert(strstr(R.err, "is the input FILE") != NULL, "%s", R.err);
        char *after = tool_slurp(list);
        cr_assert_str_eq(after, before, "the input is untouched");
        free(after);
    }
    /* Standard output appended to the input: the records would be read as input. */
    int fd = open(list, O_WRONLY | O_APPEND);
    pid_t pid = tool_spawn_fds((const char *[]){list, NULL}, -1, fd, -1);
    close(fd);
    cr_assert_eq(tool_wait(pid), 2);
    char *after = tool_slurp(list);
    cr_assert_str_eq(after, before, "nothing was appended to the input");
    free(after);
    /* And the input read through standard input. */
    fd = open(list, O_RDONLY);
    tool_run_free(&R);
    int out = open(tool_tmp("x.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid = tool_spawn_fds((const char *[]){"-o", list, NULL}, fd, out, -1);
    close(fd);
    close(out);
    cr_assert_eq(tool_wait(pid), 2);
    after = tool_slurp(list);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
    cr_assert_eq(server_requests(), 0, "nothing was fetched");
}

TEST_SAFE(an_input_that_is_a_directory_or_a_missing_cacert_is_refused_at_once, .timeout = 30)
{
    const char *list = write_file("l.txt", "%s/ok\n");
    tool_run(&R, NULL, (const char *[]){tool_tmp(""), NULL});
    cr_assert_eq(R.status, 2);
    cr_assert(strstr(R.err, "is a directory") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "items in") == NULL, "no summary of a run that did not start");
    tool_run_free(&R);
    tool_run(&R, NULL, (const char *[]){"--cacert", tool_tmp("nope.pem"), list, NULL});
    cr_assert_eq(R.status, 2);
    cr_assert(strstr(R.err, "nope.pem") != NULL, "%s", R.err);
    cr_assert_eq(R.nrecs, 0);
    tool_run_free(&R);
    tool_run(&R, NULL, (const char *[]){"--cacert", list, list, NULL});
    cr_assert_eq(R.status, 2, "a file with no certificate: %s", R.err);
    cr_assert(strstr(R.err, "no PEM certificate") != NULL, "%s", R.err);
    cr_assert_eq(server_requests(), 0);
}

/* ---- 2. resume under another spelling keeps every record ------------------------------ */

TEST_SAFE(resume_under_another_spelling_appends_to_the_same_file, .timeout = 30)
{
    const char *list = write_file("three.txt", "%s/ok\n%s/status/503\n%s/ok\n");
    char out[300], dotted[300];
    snprintf(out, sizeof out, "%s", tool_tmp("a.jsonl"));
    snprintf(dotted, sizeof dotted, "%s/./a.jsonl", tool_tmp(""));
    unlink(out);
    tool_run(&R, NULL, (const char *[]){"-q", "-o", out, list, NULL});
    cr_assert_eq(R.status, 0);
    tool_run_free(&R);
    tool_run(&R, NULL, (const char *[]){"-q", "-o", dotted, "--resume", out, list, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    tool_run_free(&R);
    parse_file(&R, out);
    cr_assert_eq(R.nrecs, 3, "the three records of the first run are all there");
    cr_assert_eq(server_requests(), 3, "and nothing was fetched again");
}

TEST_SAFE(resume_into_another_file_starts_it_with_the_earlier_done_records, .timeout = 30)
{
    /* Line 2 fails (a transport error): the resumed run does it again. */
    const char *list = write_file("mix.txt", "%s/ok\nhttp://127.0.0.1:1/\n%s/ok\n");
    char a[300], b[300];
    snprintf(a, sizeof a, "%s", tool_tmp("first.jsonl"));
    snprintf(b, sizeof b, "%s", tool_tmp("second.jsonl"));
    unlink(a);
    tool_run(&R, NULL, (const char *[]){"-q", "-o", a, list, NULL});
    cr_assert_eq(R.status, 1);
    tool_run_free(&R);
    char *first = tool_slurp(a);
    tool_run(&R, NULL, (const char *[]){"-o", b, "--resume", a, list, NULL});
    cr_assert_eq(R.status, 1, "line 2 fails again: %s", R.err);
    char *kept = tool_slurp(a);
    cr_assert_str_eq(kept, first, "the --resume file is only read");
    free(kept);
    free(first);
    tool_run_free(&R);
    parse_file(&R, b);
    cr_assert_eq(R.nrecs, 3, "2 done records copied, 1 new");
    cr_assert_eq(outcome_count(&R, "done"), 2);
    cr_assert_eq(server_requests(), 2, "the done lines were not fetched again");
}

/* ---- 3. resume skips only a line's own done record ------------------------------------ */

TEST_SAFE(resume_goes_by_line_never_by_a_colliding_id, .timeout = 30)
{
    /* Line 1's id is 2, line 2 is a plain URL (its id is its line number, 2), line 3 a
     * POST whose string id has invalid UTF-8, lines 4 and 5 share an id. */
    const char *list = write_file("ids.txt", "{\"url\": \"%s/ok\", \"id\": 2}\n"
                                             "%s/status/500\n"
                                             "{\"url\": \"%s/echo\", \"method\": \"POST\", "
                                             "\"id\": \"caf\xC3\"}\n"
                                             "{\"url\": \"%s/ok\", \"id\": \"dup\"}\n"
                                             "{\"url\": \"%s/status/500\", \"id\": \"dup\"}\n");
    char out[300];
    snprintf(out, sizeof out, "%s", tool_tmp("ids.jsonl"));
    unlink(out);
    tool_run(&R, NULL, (const char *[]){"--no-progress", "--fail", "-o", out, list, NULL});
    cr_assert_eq(R.status, 1, "two 500s with --fail");
    cr_assert(strstr(R.err, "line 5: id \"dup\" was used by line 4 already") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "duplicate ids: 1 (the first: line 5 has the id of line 4)") != NULL,
              "in the summary: %s", R.err);
    tool_run_free(&R);
    long before = server_requests();
    tool_run(&R, NULL, (const char *[]){"-q", "--fail", "-o", out, "--resume", out, list, NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_eq(server_requests() - before, 2, "only lines 2 and 5, which are not done");
    tool_run_free(&R);
    parse_file(&R, out);
    size_t done_of[6] = {0};
    for (size_t i = 0; i < R.nrecs; i++)
        if (strcmp(rec_str(R.recs[i], "outcome"), "done") == 0)
            done_of[(size_t)rec_num(R.recs[i], "line")]++;
    cr_assert(done_of[1] == 1 && done_of[3] == 1 && done_of[4] == 1, "one done each");
    cr_assert(done_of[2] == 0 && done_of[5] == 0);
}

TEST_SAFE(a_changed_input_is_refused_before_anything_is_skipped, .timeout = 60)
{
    char text[64 * 40], line[64];
    text[0] = '\0';
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "%%s/bytes/%d\n", i + 1);
        strcat(text, line);
    }
    const char *list = write_file("forty.txt", text);
    char out[300];
    snprintf(out, sizeof out, "%s", tool_tmp("forty.jsonl"));
    unlink(out);
    tool_run(&R, NULL, (const char *[]){"-q", "-o", out, list, NULL});
    cr_assert_eq(R.status, 0);
    tool_run_free(&R);
    char *before = tool_slurp(out);
    /* A line inserted at the top: every line moves down by one. */
    char shifted[sizeof text + 64];
    snprintf(shifted, sizeof shifted, "%%s/ok\n%s", text);
    list = write_file("forty.txt", shifted);
    long requests = server_requests();
    tool_run(&R, NULL, (const char *[]){"-o", out, "--resume", out, list, NULL});
    cr_assert_eq(R.status, 2, "%s", R.err);
    cr_assert(strstr(R.err, "the input changed since?") != NULL, "%s", R.err);
    char *after = tool_slurp(out);
    cr_assert_str_eq(after, before, "the records are untouched");
    free(after);
    free(before);
    cr_assert_eq(server_requests(), requests, "nothing was fetched");
}

/* ---- 5. a slow pipe never stalls what was read --------------------------------------- */

TEST_SAFE(a_slow_producer_never_delays_the_items_it_sent, .timeout = 30)
{
    int in[2], out[2];
    cr_assert_eq(pipe2(in, O_CLOEXEC), 0); /* the child must not hold a writer */
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = tool_spawn_fds((const char *[]){"-q", NULL}, in[0], out[1], -1);
    close(in[0]);
    close(out[1]);
    char line[256];
    snprintf(line, sizeof line, "%s/ok\n", S.url);
    cr_assert_eq(write(in[1], line, strlen(line)), (ssize_t)strlen(line));
    /* The first record must come while the producer still has the pipe open. */
    struct pollfd pfd = {.fd = out[0], .events = POLLIN};
    cr_assert_eq(poll(&pfd, 1, 5000), 1, "a record arrives before the second line is written");
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_assert(strstr(buf, "\"line\":1") != NULL && strstr(buf, "\"outcome\":\"done\"") != NULL,
              "%s", buf);
    snprintf(line, sizeof line, "%s/ok\n", S.url);
    cr_assert_eq(write(in[1], line, strlen(line)), (ssize_t)strlen(line));
    close(in[1]);
    size_t len = (size_t)n;
    while ((n = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(out[0]);
    cr_assert_eq(tool_wait(pid), 0);
    tool_parse(&R, buf);
    cr_assert_eq(R.nrecs, 2);
    cJSON *t = cJSON_GetObjectItem(R.recs[0], "timings");
    cr_assert_lt(rec_num(t, "queued_ms"), 1000, "line 1 did not wait for line 2");
}

/* ---- 10. passwords and tokens -------------------------------------------------------- */

TEST_SAFE(headers_come_from_a_file_and_secrets_stay_out_of_the_resume_hint, .timeout = 30)
{
    const char *headers = write_file("headers.txt", "Authorization: Bearer t0ken-XYZ\r\n\n"
                                                    "X-Trace: abc\n");
    const char *list = write_file("echo.txt", "%s/echo\n%s/delay/3000\n%s/delay/3000\n");
    char out[300], errp[300];
    snprintf(out, sizeof out, "%s", tool_tmp("echo.jsonl"));
    snprintf(errp, sizeof errp, "%s", tool_tmp("echo.err"));
    unlink(out);
    pid_t pid =
        tool_spawn((const char *[]){"-c", "1", "--body", "text", "-H", "@dummy", "-H",
                                    "Authorization: Bearer on-the-line", "-o", out, list, NULL},
                   tool_tmp("x.out"), errp);
    cr_assert_eq(tool_wait(pid), 2, "a missing header file is a usage error");
    pid = tool_spawn(
        (const char *[]){"-c", "1", "--body", "text", "-H", headers, "-o", out, list, NULL},
        tool_tmp("x.out"), errp);
    cr_assert_eq(tool_wait(pid), 2, "a header without @ must be Name: value");
    char at[300];
    snprintf(at, sizeof at, "@%s", headers);
    pid = tool_spawn((const char *[]){"-c", "1", "--body", "text", "-H", at, "-H",
                                      "Cookie: session=s3cr3t", "-o", out, list, NULL},
                     tool_tmp("x.out"), errp);
    for (int i = 0; i < 300; i++) { /* the echo's record is in: interrupt the rest */
        char *o = tool_slurp(out);
        int in = strstr(o, "\"line\":1") != NULL;
        free(o);
        if (in)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(pid, SIGINT);
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL); /* two signals, not one */
    kill(pid, SIGINT);
    cr_assert_eq(tool_wait(pid), 130);
    parse_file(&R, out);
    cr_assert_geq(R.nrecs, 1);
    const char *body = rec_str(R.recs[0], "body");
    cr_assert(strstr(body, "t0ken-XYZ") != NULL, "the file's header was sent: %s", body);
    cr_assert(strstr(body, "abc") != NULL, "both of its lines: %s", body);
    char *err = tool_slurp(errp);
    cr_assert(strstr(err, "to resume:") != NULL, "%s", err);
    cr_assert(strstr(err, "s3cr3t") == NULL, "no secret on stderr: %s", err);
    cr_assert(strstr(err, "'Cookie: ***'") != NULL, "%s", err);
    free(err);
}

/* ---- 11. lines --------------------------------------------------------------------- */

TEST_SAFE(an_overlong_line_is_one_error_record_whatever_it_holds, .timeout = 30)
{
    static char text[3 * 71000];
    size_t n = 0;
    memset(text, ' ', 70000); /* 70,000 spaces, then a URL */
    n = 70000;
    n += (size_t)snprintf(text + n, sizeof text - n, "%s/ok\n%s/ok", S.url, S.url);
    memset(text + n, ' ', 70000); /* a URL, 70,000 spaces, then X */
    n += 70000;
    n += (size_t)snprintf(text + n, sizeof text - n, "X\n%s/ok\n", S.url);
    tool_run(&R, text, (const char *[]){"-q", NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.nrecs, 3, "%s", R.out);
    cr_assert_eq(outcome_count(&R, "error"), 2);
    for (size_t i = 0; i < R.nrecs; i++)
        if (strcmp(rec_str(R.recs[i], "outcome"), "error") == 0)
            cr_assert(strstr(rec_str(R.recs[i], "error"), "longer than 64 KiB") != NULL);
    cr_assert_eq(server_requests(), 1, "only line 3 was fetched");
}

/* ---- 4. a failure never looks like success ------------------------------------------- */

TEST_SAFE(a_status_that_outlived_its_retries_is_an_error_and_resume_runs_it_again, .timeout = 30)
{
    const char *list = write_file("retry.txt", "%s/status/503\n%s/status/404\n%s/ok\n");
    char out[300];
    snprintf(out, sizeof out, "%s", tool_tmp("retry.jsonl"));
    unlink(out);
    tool_run(&R, NULL,
             (const char *[]){"--no-progress", "--retries", "2", "--retry-max-wait", "0.05", "-o",
                              out, list, NULL});
    cr_assert_eq(R.status, 1, "a failure: exit 1: %s", R.err);
    cr_assert(strstr(R.err, "done 2, error 1") != NULL, "the summary counts it: %s", R.err);
    tool_run_free(&R);
    parse_file(&R, out);
    cr_assert_eq(R.nrecs, 3);
    for (size_t i = 0; i < R.nrecs; i++) {
        long status = (long)rec_num(R.recs[i], "http_status");
        const char *outcome = rec_str(R.recs[i], "outcome");
        if (status == 503) {
            cr_assert_str_eq(outcome, "error");
            cr_assert_eq(rec_num(R.recs[i], "attempts"), 3);
            cr_assert(strstr(rec_str(R.recs[i], "error"), "retries exhausted") != NULL, "%s",
                      rec_str(R.recs[i], "error"));
        } else {
            cr_assert_str_eq(outcome, "done", "a 404 is a result, as curl has it");
        }
    }
    tool_run_free(&R);
    long before = server_requests();
    tool_run(&R, NULL,
             (const char *[]){"-q", "--retries", "2", "--retry-max-wait", "0.05", "-o", out,
                              "--resume", out, list, NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_eq(server_requests() - before, 3, "the 503 item ran again, three attempts");
}

TEST_SAFE(an_error_status_keeps_its_body_with_fail, .timeout = 30)
{
    char line[256];
    snprintf(line, sizeof line, "%s/status/422\n", S.url);
    tool_run(&R, line, (const char *[]){"-q", "--fail", "--body", "text", NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.nrecs, 1);
    cr_assert_str_eq(rec_str(R.recs[0], "outcome"), "error");
    cr_assert_eq(rec_num(R.recs[0], "http_status"), 422);
    cr_assert_str_neq(rec_str(R.recs[0], "body"), "", "the REST error payload is kept");
}

/* ---- 8. one slow host never takes every slot ----------------------------------------- */

TEST_SAFE(a_slow_host_never_holds_up_a_quick_one, .timeout = 30)
{
    static char text[64 * 1024];
    unsigned port;
    size_t n = 0;
    cr_assert_eq(sscanf(S.url, "http://127.0.0.1:%u", &port), 1);
    for (int i = 0; i < 8; i++) /* localhost: a key of its own, and slow */
        n += (size_t)snprintf(text + n, sizeof text - n, "http://localhost:%u/delay/1500\n", port);
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s/ok\n", S.url);
    tool_run(&R, text, (const char *[]){"-q", "-c", "4", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 48);
    for (size_t i = 0; i < 40; i++)
        cr_assert(strstr(rec_str(R.recs[i], "url"), "/ok") != NULL,
                  "the 40 quick records come first; record %zu: %s", i, rec_str(R.recs[i], "url"));
    for (size_t i = 0; i < R.nrecs; i++)
        if (strstr(rec_str(R.recs[i], "url"), "/ok") != NULL)
            cr_assert_lt(rec_num(cJSON_GetObjectItem(R.recs[i], "timings"), "total_ms"), 1500,
                         "no quick item waited for a slow one");
}

/* ---- 13. the records tell the truth -------------------------------------------------- */

/* The last meter line's counts, and the summary's. */
static void meter_and_summary(const char *err, unsigned long m[3], unsigned long s[3])
{
    const char *last = NULL;
    for (const char *p = err; (p = strstr(p, "] done ")) != NULL; p++)
        last = p;
    cr_assert_not_null(last, "a meter line: %s", err);
    cr_assert_eq(sscanf(last, "] done %lu, errors %lu, timeouts %lu", &m[0], &m[1], &m[2]), 3);
    const char *sum = strstr(err, " items in ");
    cr_assert_not_null(sum, "a summary: %s", err);
    sum = strstr(sum, "): done ");
    cr_assert_eq(sscanf(sum, "): done %lu, error %lu, timeout %lu", &s[0], &s[1], &s[2]), 3);
}

TEST_SAFE(the_meter_and_the_summary_count_the_same_things, .timeout = 30)
{
    static char text[64 * 1024];
    size_t n = (size_t)snprintf(text, sizeof text, "not a url\n{\"url\": 5}\n");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s/delay/300\n", S.url);
    const char *list = write_file("meter.txt", text);
    char out[300], errp[300];
    snprintf(out, sizeof out, "%s", tool_tmp("meter.out"));
    snprintf(errp, sizeof errp, "%s", tool_tmp("meter.err"));
    pid_t pid = tool_spawn(
        (const char *[]){"-c", "4", "--progress-interval", "0.05", "-o", out, list, NULL},
        tool_tmp("x.out"), errp);
    nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
    kill(pid, SIGINT);
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    kill(pid, SIGINT); /* the items in flight are cancelled too: error records */
    cr_assert_eq(tool_wait(pid), 130);
    char *err = tool_slurp(errp);
    unsigned long m[3], s[3];
    meter_and_summary(err, m, s);
    cr_assert(m[0] == s[0] && m[1] == s[1] && m[2] == s[2],
              "meter done %lu errors %lu timeouts %lu, summary %lu %lu %lu: %s", m[0], m[1], m[2],
              s[0], s[1], s[2], err);
    cr_assert_geq(s[1], 2, "the two bad lines are errors in both");
    parse_file(&R, out);
    cr_assert_eq(R.nrecs, s[0] + s[1] + s[2], "and the records are as many");
    free(err);
}

TEST_SAFE(a_cut_body_says_so_whatever_the_body_mode, .timeout = 30)
{
    char line[256];
    snprintf(line, sizeof line, "%s/bytes/5000\n%s/bytes/10\n", S.url, S.url);
    tool_run(&R, line, (const char *[]){"-q", "--max-body", "1K", NULL});
    cr_assert_eq(R.status, 0);
    cr_assert_eq(R.nrecs, 2);
    for (size_t i = 0; i < 2; i++) {
        cJSON *t = cJSON_GetObjectItem(R.recs[i], "truncated");
        if (rec_num(R.recs[i], "line") == 1)
            cr_assert(cJSON_IsTrue(t), "the 5000-byte body passed --max-body 1K");
        else
            cr_assert_null(t, "nothing cut, nothing said");
    }
}

TEST_SAFE(a_long_password_in_a_bad_line_never_shows, .timeout = 30)
{
    static char text[2048];
    char secret[301];
    memset(secret, 'Q', 300);
    secret[300] = '\0';
    /* A bad line (a space in the URL) whose password is longer than the 200 bytes kept,
     * then a token alone as userinfo, and a password with a raw '#'. */
    snprintf(text, sizeof text,
             "http://user:%s@127.0.0.1:1/ x\n"
             "http://T0KEN-%s@127.0.0.1:1/\n"
             "http://user:pa#%s@127.0.0.1:1/\n",
             secret, secret, secret);
    tool_run(&R, text, (const char *[]){"--no-progress", NULL});
    cr_assert_eq(R.nrecs, 3);
    cr_assert(strstr(R.out, "QQQ") == NULL, "records: %s", R.out);
    cr_assert(strstr(R.err, "QQQ") == NULL, "stderr: %s", R.err);
    cr_assert(strstr(R.out, "T0KEN") == NULL, "a token alone is hidden: %s", R.out);
}
