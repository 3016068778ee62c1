/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch end to end: the real tool as a process against the real test server.
 * Records are parsed as JSON; caps and rates are checked from the server's side. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* timegm */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <concurio/concurio.h>

#include <criterion/criterion.h>

#include "support/server.h"
#include "support/tool.h"

static struct server S;
static struct tool_run R;
static char input[1 << 20];

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    input[0] = '\0';
}

static void teardown(void)
{
    tool_run_free(&R);
    server_stop_checked(&S);
}

#define TEST_FETCH(name, ...) Test(fetch, name, .init = setup, .fini = teardown, __VA_ARGS__)

/* Appends a line to the input; "%s" in fmt stands for the server's base URL. */
static void add(const char *fmt)
{
    tool_input_add(input, sizeof input, fmt, S.url);
}

static void run(const char *const *args)
{
    tool_run(&R, input, args);
}

static size_t count_outcome(const char *outcome)
{
    size_t n = 0;

    for (size_t i = 0; i < R.nrecs; i++)
        n += strcmp(rec_str(R.recs[i], "outcome"), outcome) == 0;
    return n;
}

TEST_FETCH(a_plain_list_gives_one_done_record_per_url, .timeout = 30)
{
    add("%s/ok");
    add("# a comment");
    add("");
    add("   ");
    add("%s/bytes/10");
    add("%s/status/404");
    run((const char *[]){"-q", "--threads", "0", NULL}); /* all on the main thread */
    cr_assert_eq(R.status, 0, "all done: %s", R.err);
    cr_assert_eq(R.nrecs, 3);
    cJSON *r = tool_record(&R, "1");
    cr_assert_not_null(r, "the id is the line number");
    cr_assert_eq(rec_num(r, "line"), 1);
    cr_assert_str_eq(rec_str(r, "method"), "GET");
    cr_assert_str_eq(rec_str(r, "outcome"), "done");
    cr_assert_eq(rec_num(r, "http_status"), 200);
    cr_assert_eq(rec_num(r, "bytes"), 2);
    cr_assert_eq(rec_num(r, "attempts"), 1);
    cr_assert_geq(rec_num(r, "elapsed_ms"), 0);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(r, "timings")));
    cr_assert_null(cJSON_GetObjectItem(r, "error"));
    cr_assert_eq(rec_num(tool_record(&R, "5"), "bytes"), 10);
    cr_assert_eq(rec_num(tool_record(&R, "6"), "http_status"), 404, "a 404 is done");
    cr_assert_str_eq(R.err, "", "-q: nothing on stderr");
}

TEST_FETCH(every_bad_line_is_one_error_record_and_the_run_goes_on, .timeout = 30)
{
    static char lines[4][70000];
    add("{\"url\": ");                                                  /* 1: invalid JSON */
    add("{\"id\": \"no-url\"}");                                        /* 2: no url */
    add("ftp://example.org/file");                                      /* 3: not http(s) */
    add("{\"url\": \"%s/ok\", \"headers\": {\"X\": \"a\\r\\nB: c\"}}"); /* 4: CR LF */
    add("%s/caf\xC3");                                                  /* 5: invalid UTF-8 */
    memset(lines[0], 'a', 69999);                                       /* 6: longer than 64 KiB */
    memcpy(lines[0], "http://x/", 9);
    add(lines[0]);
    add("%s/ok"); /* 7: fine */
    size_t n = strlen(input);
    memcpy(input + n, "http://x/\0y\n", 12); /* 8: a NUL byte */
    input[n + 12] = '\0';
    /* strlen stops at the NUL: write the input by hand. */
    FILE *f = fopen(tool_tmp("bad.txt"), "wb");
    fwrite(input, 1, n + 12, f);
    fclose(f);
    char path[256];
    snprintf(path, sizeof path, "%s", tool_tmp("bad.txt"));
    input[0] = '\0';
    run((const char *[]){"-q", path, NULL});
    cr_assert_eq(R.status, 1, "some errors: exit 1");
    cr_assert_eq(R.nrecs, 8, "one record per line: %s", R.out);
    const char *want[] = {"invalid JSON",
                          "no \"url\"",
                          "not an http or https URL",
                          "",
                          "invalid UTF-8",
                          "longer than 64 KiB",
                          NULL,
                          "NUL byte"};
    for (int i = 0; i < 8; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        if (i == 1)
            snprintf(id, sizeof id, "\"no-url\""); /* a bad line keeps its own id */
        cJSON *r = tool_record(&R, id);
        cr_assert_not_null(r, "line %d has its record", i + 1);
        if (i == 6) {
            cr_assert_str_eq(rec_str(r, "outcome"), "done");
            continue;
        }
        cr_assert_str_eq(rec_str(r, "outcome"), "error", "line %d", i + 1);
        char where[32];
        snprintf(where, sizeof where, "line %d:", i + 1);
        cr_assert(strstr(rec_str(r, "error"), where) != NULL, "%s", rec_str(r, "error"));
        cr_assert(strstr(rec_str(r, "error"), want[i]) != NULL, "%s", rec_str(r, "error"));
        cr_assert_leq(strlen(rec_str(r, "url")), 200, "a bad line's url is cut");
    }
    cr_assert_str_eq(rec_str(tool_record(&R, "\"no-url\""), "url"), "{\"id\": \"no-url\"}");
}

TEST_FETCH(json_lines_carry_their_method_headers_body_and_id, .timeout = 30)
{
    add("{\"url\": \"%s/echo\", \"id\": \"a7\", \"body\": {\"k\": [1, 2]}, "
        "\"headers\": {\"x-mine\": \"json\"}}");
    add("{\"url\": \"%s/echo\", \"id\": 17, \"method\": \"PUT\", \"body\": \"text\"}");
    add("%s/echo");
    run((const char *[]){"-q", "--body", "text", "-H", "X-Mine: flag", "-H", "X-All: yes", "-d",
                         "plain=1", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cJSON *a = tool_record(&R, "\"a7\"");
    cr_assert_not_null(a);
    cr_assert_str_eq(rec_str(a, "method"), "POST", "a JSON body means POST");
    const char *body = rec_str(a, "body");
    cr_assert(strstr(body, "\"body\":\"{\\\"k\\\":[1,2]}\"") != NULL, "compact JSON sent: %s",
              body);
    cr_assert(strstr(body, "application/json") != NULL, "%s", body);
    cr_assert(strstr(body, "\"x-mine\":\"json\"") != NULL, "the line's header wins: %s", body);
    cr_assert(strstr(body, "flag") == NULL, "%s", body);
    cr_assert(strstr(body, "\"X-All\":\"yes\"") != NULL, "-H applies to every line: %s", body);
    cJSON *b = tool_record(&R, "17");
    cr_assert_str_eq(rec_str(b, "method"), "PUT");
    cr_assert(strstr(rec_str(b, "body"), "\"body\":\"text\"") != NULL);
    cJSON *c = tool_record(&R, "3");
    cr_assert_str_eq(rec_str(c, "method"), "POST", "-d without -X means POST");
    cr_assert(strstr(rec_str(c, "body"), "plain=1") != NULL);
    cr_assert_eq(cJSON_IsFalse(cJSON_GetObjectItem(c, "truncated")), 1);
}

TEST_FETCH(fail_makes_http_errors_errors, .timeout = 30)
{
    add("%s/status/404");
    add("%s/ok");
    run((const char *[]){"-q", "--fail", NULL});
    cr_assert_eq(R.status, 1);
    cJSON *r = tool_record(&R, "1");
    cr_assert_str_eq(rec_str(r, "outcome"), "error");
    cr_assert_eq(rec_num(r, "http_status"), 404);
    cr_assert_str_eq(rec_str(r, "error"), "HTTP status 404");
    cr_assert_str_eq(rec_str(tool_record(&R, "2"), "outcome"), "done");
}

TEST_FETCH(an_expired_timeout_is_a_timeout_record, .timeout = 30)
{
    add("%s/delay/5000");
    add("%s/ok");
    run((const char *[]){"-q", "-t", "0.3", NULL});
    cr_assert_eq(R.status, 1);
    cJSON *r = tool_record(&R, "1");
    cr_assert_str_eq(rec_str(r, "outcome"), "timeout");
    cr_assert_eq(rec_num(r, "timeout_ms"), 300);
    cr_assert_geq(rec_num(r, "elapsed_ms"), 290);
    cr_assert_lt(rec_num(r, "elapsed_ms"), 4000);
    cr_assert(strstr(rec_str(r, "error"), "timed out") != NULL);
    cr_assert_str_eq(rec_str(tool_record(&R, "2"), "outcome"), "done");
}

TEST_FETCH(the_cap_holds_and_is_reached_at_the_server, .timeout = 60)
{
    for (int i = 0; i < 24; i++)
        add("%s/delay/150");
    /* Transfers on 3 threads (more than the default on two CPUs): the cap stays global. */
    run((const char *[]){"-q", "-c", "4", "--threads", "3", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 24);
    cr_assert_eq(count_outcome("done"), 24);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.max_in_flight, 4, "at most 4 at once, and 4 reached");
    server_stats_free(&st);
}

TEST_FETCH(the_rate_holds_at_the_server, .timeout = 60)
{
    for (int i = 0; i < 11; i++)
        add("%s/ok");
    run((const char *[]){"-q", "-r", "20/s", "--threads", "2", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 11);
    /* 20/s with burst 1: one start every 50 ms, so 10 gaps take at least ~500 ms. */
    uint64_t span = st.starts_ms[10] - st.starts_ms[0];
    cr_assert_geq(span, 450, "11 starts at 20/s spanned %llu ms", (unsigned long long)span);
    for (size_t i = 1; i < st.nstarts; i++)
        cr_assert_geq(st.starts_ms[i] - st.starts_ms[i - 1], 30, "evenly spaced");
    server_stats_free(&st);
}

TEST_FETCH(per_host_caps_each_host, .timeout = 60)
{
    char port[16];
    const char *colon = strrchr(S.url, ':');
    snprintf(port, sizeof port, "%s", colon + 1);
    for (int i = 0; i < 10; i++) {
        add("%s/delay/150");
        size_t n = strlen(input);
        snprintf(input + n, sizeof input - n, "http://localhost:%s/delay/150\n", port);
    }
    run((const char *[]){"-q", "-c", "10", "--per-host", "2", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    char host[64];
    snprintf(host, sizeof host, "localhost:%s", port);
    cr_assert_eq(server_host_max(&st, host), 2);
    snprintf(host, sizeof host, "127.0.0.1:%s", port);
    cr_assert_eq(server_host_max(&st, host), 2);
    server_stats_free(&st);
}

TEST_FETCH(retries_follow_the_policy_and_are_counted, .timeout = 60)
{
    add("%s/flaky/a/2?status=503");
    add("%s/flaky/b/5?status=429");
    add("%s/status/429?retry_after=30");
    run((const char *[]){"-q", "--retries", "3", "--retry-on", "5xx", "--retry-max-wait", "2",
                         NULL});
    cJSON *a = tool_record(&R, "1");
    cr_assert_eq(rec_num(a, "http_status"), 200, "503 twice, then 200");
    cr_assert_eq(rec_num(a, "attempts"), 3);
    cJSON *b = tool_record(&R, "2");
    cr_assert_eq(rec_num(b, "http_status"), 429, "429 is not in --retry-on");
    cr_assert_eq(rec_num(b, "attempts"), 1);
    cJSON *c = tool_record(&R, "3");
    cr_assert_eq(rec_num(c, "attempts"), 1);
    cr_assert_str_eq(rec_str(c, "outcome"), "done", "not retried: 429 is not in the list");
    tool_run_free(&R);
    input[0] = '\0';
    add("%s/status/503?retry_after=30");
    run((const char *[]){"-q", "--retries", "2", "--retry-max-wait", "1", NULL});
    cJSON *d = tool_record(&R, "1");
    cr_assert_str_eq(rec_str(d, "outcome"), "error");
    cr_assert(strstr(rec_str(d, "error"), "Retry-After") != NULL, "%s", rec_str(d, "error"));
    cr_assert_eq(R.status, 1);
}

TEST_FETCH(bodies_are_kept_as_asked_and_capped, .timeout = 30)
{
    add("%s/bytes/3000000");
    add("%s/bytes/5");
    run((const char *[]){"-q", "--body", "base64", "--max-body", "1K", NULL});
    cJSON *big = tool_record(&R, "1");
    cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(big, "truncated")), 1);
    cr_assert_eq(strlen(rec_str(big, "body")), 1368, "1024 bytes in base64");
    cr_assert_leq(rec_num(big, "bytes"), 1024 + 65536, "the transfer stopped at the cap");
    cr_assert_eq(rec_num(tool_record(&R, "2"), "bytes"), 5);
    tool_run_free(&R);
    run((const char *[]){"-q", NULL}); /* no --body: still capped, at 1 MiB */
    cr_assert_leq(rec_num(tool_record(&R, "1"), "bytes"), (1 << 20) + 65536);
    cr_assert_geq(rec_num(tool_record(&R, "1"), "bytes"), 1 << 20);
    cr_assert_null(cJSON_GetObjectItem(tool_record(&R, "2"), "body"));
}

TEST_FETCH(usage_errors_exit_2_with_one_line_naming_the_option, .timeout = 30)
{
    const char *cases[][3] = {
        {"--bogus", NULL, "--bogus"},
        {"-c", NULL, "-c"},
        {"-c", "0", "--concurrency"},
        {"-c", "12x", "--concurrency"},
        {"--rate", "0", "--rate"},
        {"--rate", "-5/s", "--rate"},
        {"--rate", "3/d", "--rate"},
        {"-t", "soon", "--timeout"},
        {"--body", "xml", "--body"},
        {"-H", "NoColon", "--header"},
        {"--rate-mode", "fast", "--rate-mode"},
        {"--retry-on", "teapot", "--retry-on"},
        {"--keep-header", "Bad Name", "--keep-header"},
        {"--keep-header", "", "--keep-header"},
        {"--fields", "id,nope", "--fields"},
        {"--max-redirs", "0", "--max-redirs"},
        {"-u", "nopassword", "--user"},
        {"-x", "", "--proxy"},
        {"--resolve", "host:80", "--resolve"},
        {"--resolve", "host:0:127.0.0.1", "--resolve"},
        {"--connect-to", "a:b:c:d", "--connect-to"},
        {"--format", "xlsx", "--format"},
    };
    add("%s/ok");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run((const char *[]){cases[i][0], cases[i][1], NULL});
        cr_assert_eq(R.status, 2, "%s %s", cases[i][0], cases[i][1] ? cases[i][1] : "");
        cr_assert_eq(R.nrecs, 0, "no records");
        cr_assert(strstr(R.err, cases[i][2]) != NULL, "names the option: %s", R.err);
        tool_run_free(&R);
    }
    run((const char *[]){"/nonexistent/list.txt", NULL});
    cr_assert_eq(R.status, 2, "an unreadable input");
    cr_assert(strstr(R.err, "/nonexistent/list.txt") != NULL);
    tool_run_free(&R);
    run((const char *[]){"--help", NULL});
    cr_assert_eq(R.status, 0);
    for (const char *o = "--concurrency --per-host --rate --burst --timeout --connect-timeout "
                         "--deadline --retries --request --header --data --output --body "
                         "--max-body --fail --insecure --resume --progress --no-progress "
                         "--progress-interval --grace --quiet --version --rate-mode --rate-host "
                         "--retry-on --retry-max-wait --adaptive --http1.1 --http2 "
                         "--keep-header --headers --fields --format --user --user-agent "
                         "--no-location --max-redirs --no-compressed --proxy --noproxy "
                         "--resolve --connect-to --summary-json";
         *o != '\0';) {
        size_t len = strcspn(o, " ");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)len, o);
        cr_assert(strstr(R.out, name) != NULL, "--help lists %s", name);
        o += len + (o[len] == ' ');
    }
}

TEST_FETCH(records_that_cannot_be_written_exit_74, .timeout = 30)
{
    add("%s/ok");
    run((const char *[]){"-q", "-o", "/dev/full", NULL});
    cr_assert_eq(R.status, 74);
    cr_assert(strstr(R.err, "/dev/full") != NULL, "%s", R.err);
}

/* A disk that fills mid-run: a 16 KiB tmpfs (root only; skipped where mounting is not
 * allowed). The tool must say so and exit 74, and what it wrote must be whole lines. */
TEST_FETCH(a_disk_that_fills_mid_run_exits_74_with_whole_lines, .timeout = 60)
{
    char dir[200], out[300], cmd[600];

    snprintf(dir, sizeof dir, "%s", tool_tmp("small-disk"));
    snprintf(cmd, sizeof cmd, "mkdir -p %s && mount -t tmpfs -o size=16k tmpfs %s 2>/dev/null", dir,
             dir);
    if (geteuid() != 0 || system(cmd) != 0)
        cr_skip_test("cannot mount a tmpfs here (needs root)");
    for (int i = 0; i < 2000; i++)
        add("%s/ok");
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    run((const char *[]){"-q", "-c", "16", "-o", out, NULL});
    char *text = tool_slurp(out);
    snprintf(cmd, sizeof cmd, "umount %s", dir);
    int umounted = system(cmd);
    cr_assert_eq(R.status, 74, "exit %d: %s", R.status, R.err);
    cr_assert(strstr(R.err, "No space left on device") != NULL, "%s", R.err);
    size_t len = strlen(text);
    cr_assert_gt(len, 0, "it wrote until the disk was full");
    cr_assert_eq(text[len - 1], '\n', "no cut line at the end");
    size_t lines = 0;
    for (char *line = text; *line != '\0'; lines++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        cJSON *rec = cJSON_Parse(line);
        cr_assert_not_null(rec, "a whole record: %s", line);
        cJSON_Delete(rec);
        line = nl + 1;
    }
    cr_assert_lt(lines, 2000);
    free(text);
    cr_assert_eq(umounted, 0);
}

TEST_FETCH(the_deadline_ends_the_run_with_deadline_records, .timeout = 30)
{
    for (int i = 0; i < 200; i++) /* more than the queue reads ahead (64 at -c 2) */
        add("%s/delay/3000");
    FILE *f = fopen(tool_tmp("slow.txt"), "w");
    fputs(input, f);
    fclose(f);
    char path[256];
    snprintf(path, sizeof path, "%s", tool_tmp("slow.txt"));
    run((const char *[]){"-c", "2", "--deadline", "0.4", "--no-progress", path, NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_gt(R.nrecs, 0);
    cr_assert_lt(R.nrecs, 200, "input not yet read gets no record");
    for (size_t i = 0; i < R.nrecs; i++)
        cr_assert_str_eq(rec_str(R.recs[i], "error"), "deadline exceeded");
    cr_assert(strstr(R.err, "deadline reached") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "-o FILE") != NULL, "how to resume: %s", R.err);
}

TEST_FETCH(a_connect_timeout_is_a_timeout_record_with_its_limit, .timeout = 30)
{
    struct blackhole bh;
    cr_assert_eq(blackhole_open(&bh), 0);

    add(bh.url);
    run((const char *[]){"-q", "--connect-timeout", "0.25", "-t", "20", NULL});
    blackhole_close(&bh);
    cJSON *r = tool_record(&R, "1");
    cr_assert_str_eq(rec_str(r, "outcome"), "timeout", "%s", R.out);
    cr_assert_eq(rec_num(r, "timeout_ms"), 250);
    cr_assert(strstr(rec_str(r, "error"), "connect") != NULL);
}

static size_t lines_in(const char *path)
{
    char *text = tool_slurp(path);
    size_t n = 0;

    for (char *s = text; (s = strchr(s, '\n')) != NULL; s++)
        n++;
    free(text);
    return n;
}

TEST_FETCH(an_interrupted_run_resumes_to_exactly_one_done_per_id, .timeout = 90)
{
    char list[256], out[256], err[256], junk[256];
    snprintf(list, sizeof list, "%s", tool_tmp("list.txt"));
    snprintf(out, sizeof out, "%s", tool_tmp("out.jsonl"));
    snprintf(err, sizeof err, "%s", tool_tmp("err.txt"));
    snprintf(junk, sizeof junk, "%s", tool_tmp("junk.txt"));
    for (int i = 0; i < 30; i++)
        add("%s/delay/300");
    FILE *f = fopen(list, "w");
    fputs(input, f);
    fclose(f);
    unlink(out);

    pid_t pid = tool_spawn((const char *[]){"-c", "3", "-o", out, list, NULL}, junk, err);
    for (int i = 0; i < 200 && lines_in(out) < 3; i++) /* the first round has ended */
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    kill(pid, SIGINT);
    int status = tool_wait(pid);
    char *msg = tool_slurp(err);
    cr_assert_eq(status, 130, "exit %d after %zu lines; stderr: %.6000s", status, lines_in(out),
                 msg);
    cr_assert(strstr(msg, "inputs were not started") != NULL, "%s", msg);
    cr_assert(strstr(msg, "to resume:") != NULL, "%s", msg);
    cr_assert(strstr(msg, "--resume") != NULL, "%s", msg);
    free(msg);
    size_t first = lines_in(out);
    cr_assert_geq(first, 3);
    cr_assert_lt(first, 30, "interrupted before the end");
    /* A run killed mid-write leaves a fragment; the resumed run must cut it off. */
    f = fopen(out, "a");
    fputs("{\"id\":9,\"line\":9,\"outc", f);
    fclose(f);

    input[0] = '\0';
    run((const char *[]){"-q", "-c", "3", "-o", out, "--resume", out, list, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    tool_run_free(&R);
    char *all = tool_slurp(out);
    tool_parse(&R, all); /* every line of the file parses */
    free(all);
    int seen[31] = {0};
    for (size_t i = 0; i < R.nrecs; i++) {
        int id = (int)rec_num(R.recs[i], "id");
        cr_assert(id >= 1 && id <= 30);
        if (strcmp(rec_str(R.recs[i], "outcome"), "done") == 0)
            seen[id]++;
    }
    for (int id = 1; id <= 30; id++)
        cr_assert_eq(seen[id], 1, "id %d has exactly one done record", id);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_leq(st.requests, 30 + 3, "done items were not fetched again");
    server_stats_free(&st);
}

TEST_FETCH(resume_skips_done_lines_and_tolerates_bad_lines, .timeout = 30)
{
    char prev[256], buf[2048];
    snprintf(prev, sizeof prev, "%s", tool_tmp("prev.jsonl"));
    FILE *f = fopen(prev, "w");
    snprintf(buf, sizeof buf,
             "{\"id\":1,\"line\":1,\"url\":\"%s/ok\",\"outcome\":\"done\"}\nnot a record\n"
             "{\"id\":\"b\",\"line\":2,\"url\":\"%s/ok\",\"outcome\":\"done\"}\n"
             "{\"id\":3,\"line\":3,\"url\":\"%s/ok\",\"outcome\":\"error\"}\n",
             S.url, S.url, S.url);
    fputs(buf, f);
    fclose(f);
    add("%s/ok");
    add("{\"url\": \"%s/ok\", \"id\": \"b\"}");
    add("%s/ok");
    run((const char *[]){"--no-progress", "--resume", prev, NULL});
    cr_assert_eq(R.status, 0);
    cr_assert_eq(R.nrecs, 3, "the 2 done records first (the output is another file), then 1");
    cr_assert_str_eq(rec_str(R.recs[2], "outcome"), "done");
    cr_assert_eq(rec_num(R.recs[2], "line"), 3, "only the item without a done record runs");
    cr_assert(strstr(R.err, "not records") != NULL, "one warning: %s", R.err);
    cr_assert(strstr(R.err, "2 done records of") != NULL, "the copy is said: %s", R.err);
    tool_run_free(&R);
    run((const char *[]){"-q", "--resume", tool_tmp("missing.jsonl"), NULL});
    cr_assert_eq(R.nrecs, 3, "a missing resume file is empty");
}

TEST_FETCH(the_summary_and_log_lines_go_to_stderr, .timeout = 30)
{
    add("%s/ok");
    add("%s/status/503");
    add("%s/delay/2000");
    run((const char *[]){"-t", "0.2", "--progress-interval", "0.05", NULL});
    cr_assert_eq(R.status, 1);
    cr_assert(strstr(R.err, "3 items in") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "done 2, error 0, timeout 1") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "2xx 1") != NULL && strstr(R.err, "5xx 1") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "p50") != NULL && strstr(R.err, "p99") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "fetch ") != NULL, "log lines when stderr is not a terminal");
    cr_assert(strstr(R.err, "\r") == NULL, "no redrawing into a file");
}

TEST_FETCH(insecure_is_said_loudly, .timeout = 30)
{
    add("%s/ok");
    run((const char *[]){"-q", "--insecure", NULL});
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.err, "NOT verified") != NULL, "%s", R.err);
}

/* Puts "user:s3cr3t@" into the server's URL: "%s" in fmt stands for it. */
static void add_with_password(const char *fmt)
{
    char line[512], url[128];

    snprintf(url, sizeof url, "http://user:s3cr3t@%s", S.url + strlen("http://"));
    snprintf(line, sizeof line, fmt, url);
    size_t n = strlen(input);
    snprintf(input + n, sizeof input - n, "%s\n", line);
}

TEST_FETCH(passwords_never_reach_the_output, .timeout = 30)
{
    add_with_password("%s/ok");
    add_with_password("%s/status/401");
    add_with_password("%s/delay/3000");                  /* a timeout */
    add_with_password("%s/redirect?to=ftp://x/");        /* an error with curl's message */
    add_with_password("{\"url\": \"%s/ok\", \"id\": 7"); /* a bad line, echoed */
    add("http://user:s3cr3t@127.0.0.1:1/");              /* connection refused */
    run((const char *[]){"-t", "0.3", "--progress-interval", "0.05", "--progress", NULL});
    cr_assert_eq(R.nrecs, 6, "%s", R.out);
    cr_assert(strstr(R.out, "s3cr3t") == NULL, "records: %s", R.out);
    cr_assert(strstr(R.err, "s3cr3t") == NULL, "stderr: %s", R.err);
    cr_assert(strstr(R.out, "http://***@127.0.0.1") != NULL, "the URL stays readable: %s", R.out);
}

TEST_FETCH(json_keys_get_their_own_per_host_limits, .timeout = 60)
{
    for (int i = 0; i < 4; i++) {
        add("{\"url\": \"%s/delay/200\", \"key\": \"token-a\"}");
        add("{\"url\": \"%s/delay/200\", \"key\": \"token-b\"}");
    }
    run((const char *[]){"-q", "-c", "10", "--per-host", "1", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.max_in_flight, 2, "one per key, two keys, one host");
    server_stats_free(&st);
}

TEST_FETCH(a_rate_per_host_spaces_that_hosts_starts, .timeout = 60)
{
    for (int i = 0; i < 11; i++)
        add("%s/ok");
    run((const char *[]){"-q", "--rate-host", "20/s", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 11);
    cr_assert_geq(st.starts_ms[10] - st.starts_ms[0], 450);
    server_stats_free(&st);
}

TEST_FETCH(window_mode_lets_the_quota_go_then_holds, .timeout = 60)
{
    for (int i = 0; i < 10; i++)
        add("%s/ok");
    run((const char *[]){"-q", "-r", "5/s", "--rate-mode", "window", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 10);
    cr_assert_lt(st.starts_ms[4] - st.starts_ms[0], 500, "five at once");
    cr_assert_geq(st.starts_ms[5] - st.starts_ms[0], 950, "then the window holds a second");
    server_stats_free(&st);
}

TEST_FETCH(with_32_descriptors_and_c_64_every_item_is_done, .timeout = 60)
{
    struct rlimit rl = {32, 32}; /* ulimit -n 32, inherited by the tool */

    for (int i = 0; i < 200; i++)
        add("%s/delay/5");
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    run((const char *[]){"-q", "-c", "64", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 200);
    cr_assert_eq(count_outcome("done"), 200);
}

/* Reads the records of a file: every line complete and valid JSON with an id in 1..n.
 * Counts records per id in all[id] and done records in done[id]; returns how many. */
static size_t ids_in(const char *path, unsigned char *all, unsigned char *done, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    size_t recs = 0;

    cr_assert_not_null(f);
    memset(all, 0, n + 1);
    memset(done, 0, n + 1);
    while (fgets(line, sizeof line, f) != NULL) {
        cr_assert_neq(strchr(line, '\n'), NULL, "a torn line: %s", line);
        cJSON *o = cJSON_Parse(line);
        cr_assert_not_null(o, "not JSON: %s", line);
        double id = rec_num(o, "id");
        cr_assert(id >= 1 && id <= (double)n, "id %g", id);
        all[(size_t)id]++;
        done[(size_t)id] += strcmp(rec_str(o, "outcome"), "done") == 0;
        cJSON_Delete(o);
        recs++;
    }
    fclose(f);
    return recs;
}

/* A signal (or two) during a 100,000-item run: the records and the not-started count on
 * stderr add up to the input, disjointly, and the resume command it prints then gives
 * every id exactly one done record. */
static void interrupt_big_run(int sig, int twice)
{
    enum { ITEMS = 100000 };
    char list[256], out[256], err[256], junk[256];
    snprintf(list, sizeof list, "%s", tool_tmp("big.txt"));
    snprintf(out, sizeof out, "%s", tool_tmp("big.jsonl"));
    snprintf(err, sizeof err, "%s", tool_tmp("big.err"));
    snprintf(junk, sizeof junk, "%s", tool_tmp("big.stdout"));
    FILE *f = fopen(list, "w");
    for (int i = 0; i < ITEMS; i++) /* a slow one now and then: many are in flight */
        fprintf(f, "%s/%s\n", S.url, i % 50 == 0 ? "delay/300" : "ok");
    fclose(f);
    unlink(out);

    pid_t pid = tool_spawn((const char *[]){"-c", "64", "-o", out, list, NULL}, junk, err);
    for (int i = 0; i < 1000 && lines_in(out) < 2000; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    kill(pid, sig);
    if (twice) {
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        kill(pid, SIGINT);
    }
    int status = tool_wait(pid);
    char *msg = tool_slurp(err);
    cr_assert_eq(status, 130, "exit %d after %zu lines; stderr: %.6000s", status, lines_in(out),
                 msg);
    const char *at = strstr(msg, " inputs were not started");
    cr_assert_not_null(at, "%s", msg);
    while (at > msg && at[-1] >= '0' && at[-1] <= '9')
        at--;
    unsigned long long not_started = strtoull(at, NULL, 10);
    cr_assert(strstr(msg, "--resume") != NULL, "%s", msg);
    free(msg);

    unsigned char *all = malloc(ITEMS + 1), *done = malloc(ITEMS + 1);
    size_t first = ids_in(out, all, done, ITEMS), cancelled = 0;
    cr_assert_geq(first, 2000);
    cr_assert_lt(first, ITEMS, "interrupted before the end");
    for (size_t id = 1; id <= ITEMS; id++) {
        cr_assert_leq(all[id], 1, "id %zu has two records", id);
        cancelled += all[id] == 1 && done[id] == 0;
    }
    cr_assert_eq(first + not_started, ITEMS, "%zu records + %llu not started", first, not_started);
    if (twice)
        cr_assert_geq(cancelled, 1, "the second signal cancelled items in flight");

    /* The rest, by the resume command (cancelled ones again): one done record per id. */
    pid = tool_spawn((const char *[]){"-q", "-c", "64", "--resume", out, "-o", out, list, NULL},
                     junk, err);
    cr_assert_eq(tool_wait(pid), 0);
    size_t total = ids_in(out, all, done, ITEMS);
    for (size_t id = 1; id <= ITEMS; id++)
        cr_assert_eq(done[id], 1, "id %zu: %u done records", id, done[id]);
    cr_assert_eq(total, ITEMS + cancelled);
    fprintf(stderr, "signal %d%s: %zu records (%zu cancelled) + %llu not started = %d\n", sig,
            twice ? " twice" : "", first, cancelled, not_started, ITEMS);
    free(all);
    free(done);
    unlink(list);
    unlink(out);
}

TEST_FETCH(sigint_during_100000_items_loses_nothing, .timeout = 240)
{
    interrupt_big_run(SIGINT, 0);
}

TEST_FETCH(sigterm_during_100000_items_loses_nothing, .timeout = 240)
{
    interrupt_big_run(SIGTERM, 0);
}

TEST_FETCH(a_second_sigint_cancels_and_still_loses_nothing, .timeout = 240)
{
    interrupt_big_run(SIGINT, 1);
}

/* More done lines in a row than one feeder call reads (4096): the resumed run goes on past
 * them. It hung once: the feeder's call for "more next turn" was lost. */
TEST_FETCH(resume_past_thousands_of_done_lines_goes_on, .timeout = 60)
{
    char list[256], prev[256];
    snprintf(list, sizeof list, "%s", tool_tmp("long.txt"));
    snprintf(prev, sizeof prev, "%s", tool_tmp("long.jsonl"));
    FILE *l = fopen(list, "w"), *p = fopen(prev, "w");
    for (int i = 1; i <= 5000; i++) {
        fprintf(l, "%s/ok\n", S.url);
        if (i <= 4500)
            fprintf(p, "{\"id\":%d,\"line\":%d,\"url\":\"%s/ok\",\"outcome\":\"done\"}\n", i, i,
                    S.url);
    }
    fclose(l);
    fclose(p);
    run((const char *[]){"-q", "--resume", prev, "-o", prev, list, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 0, "the records went to the file");
    tool_run_free(&R);
    char *all = tool_slurp(prev);
    tool_parse(&R, all);
    free(all);
    cr_assert_eq(R.nrecs, 5000);
    for (size_t i = 4500; i < 5000; i++) /* in the order they ended */
        cr_assert_geq(rec_num(R.recs[i], "id"), 4501, "the new records follow the old ones");
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.requests, 500, "only the 500 lines not done were fetched");
    server_stats_free(&st);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "2026-12-02T01:51:11.123Z" into Unix ms, or 0. */
static uint64_t parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    unsigned ms;
    char z;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3u%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
        z != 'Z' || strlen(s) != 24)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (uint64_t)timegm(&tm) * 1000 + ms;
}

TEST_FETCH(records_say_where_the_answer_came_from_and_when, .timeout = 30)
{
    add("%s/redirect?to=/status/201");
    add("http://127.0.0.1:1/refused");
    add("%s/delay/3000");
    uint64_t t0 = wall_ms();
    run((const char *[]){"-q", "-t", "0.5", NULL});
    uint64_t t1 = wall_ms();
    cr_assert_eq(R.status, 1, "an error and a timeout: %s", R.err);
    const cJSON *done = tool_record(&R, "1"), *refused = tool_record(&R, "2"),
                *late = tool_record(&R, "3");
    char want[256];
    snprintf(want, sizeof want, "%s/status/201", S.url);
    cr_assert_str_eq(rec_str(done, "effective_url"), want, "after the redirect");
    cr_assert_eq(rec_num(done, "http_status"), 201);
    cr_assert_str_eq(rec_str(done, "http_version"), "1.1");
    cr_assert_str_eq(rec_str(done, "content_type"), "text/plain");
    cr_assert_null(cJSON_GetObjectItem(done, "curl_code"), "no transport error");
    cr_assert_null(cJSON_GetObjectItem(done, "headers"), "no headers unless asked for");
    cr_assert_eq(rec_num(refused, "curl_code"), 7, "CURLE_COULDNT_CONNECT");
    cr_assert_null(cJSON_GetObjectItem(refused, "http_version"), "no response");
    for (const cJSON *r = done; r != NULL; r = r == done ? refused : r == refused ? late : NULL) {
        uint64_t at = parse_rfc3339(rec_str(r, "started_at"));
        cr_assert(at + 1000 >= t0 && at <= t1 + 1000, "started_at %s is in the run",
                  rec_str(r, "started_at"));
    }
}

TEST_FETCH(kept_headers_land_in_the_record, .timeout = 30)
{
    add("%s/status/200?h=ETag:%22v1%22&h=Link:%3C/p2%3E&h=link:%3C/p9%3E&h=X-Request-Id:r-17");
    run((const char *[]){"-q", "--keep-header", "etag", "--keep-header", "LINK", "--keep-header",
                         "X-Nowhere", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    const cJSON *h = cJSON_GetObjectItem(tool_record(&R, "1"), "headers");
    cr_assert_eq(cJSON_GetArraySize(h), 2, "the two named ones it has");
    cr_assert_str_eq(rec_str(h, "etag"), "\"v1\"");
    cr_assert_str_eq(rec_str(h, "link"), "</p2>, </p9>", "repeated ones joined");
    tool_run_free(&R);
    run((const char *[]){"-q", "--headers", NULL});
    h = cJSON_GetObjectItem(tool_record(&R, "1"), "headers");
    cr_assert_str_eq(rec_str(h, "x-request-id"), "r-17");
    cr_assert_str_eq(rec_str(h, "content-type"), "text/plain");
    cr_assert_str_eq(rec_str(h, "content-length"), "10", "\"status 200\"");
    tool_run_free(&R);
    run((const char *[]){"-q", "--headers", "--keep-header", "ETag", NULL});
    cr_assert_eq(R.status, 2, "--headers and --keep-header together say so");
    cr_assert(strstr(R.err, "--keep-header") != NULL, "%s", R.err);
}

TEST_FETCH(csv_for_a_spreadsheet_and_chosen_fields_for_a_script, .timeout = 30)
{
    add("%s/status/200?h=ETag:%22v,1%22");
    add("not a url");
    const char *out = tool_tmp("records.csv");
    run((const char *[]){"-q", "--format", "csv", "--fields", "line,outcome,headers.ETag,url", "-o",
                         out, NULL});
    cr_assert_eq(R.status, 1, "the bad line is an error: %s", R.err);
    char *csv = tool_slurp(out), want[512];
    const char *first = strstr(csv, "\r\n1,done,");
    cr_assert(strncmp(csv, "line,outcome,headers.etag,url\r\n", 31) == 0, "a header row: %s", csv);
    snprintf(want, sizeof want,
             "\r\n1,done,\"\"\"v,1\"\"\",\"%s/status/200?h=ETag:%%22v,1%%22\"\r\n", S.url);
    cr_assert_not_null(first, "%s", csv);
    cr_assert_eq(strncmp(first, want, strlen(want)), 0,
                 "the header kept without --keep-header, quoted (RFC 4180): %s", csv);
    cr_assert_not_null(strstr(csv, "\r\n2,error,,not a url\r\n"), "%s", csv);
    free(csv);
    tool_run_free(&R);
    run((const char *[]){"-q", "--fields", "line,http_status", NULL});
    cr_assert_eq(R.nrecs, 2, "JSON lines, one each");
    cr_assert_eq(cJSON_GetArraySize(R.recs[0]) + cJSON_GetArraySize(R.recs[1]), 3,
                 "the bad line has no status: left out");
    tool_run_free(&R);
    run((const char *[]){"--format", "csv", "--resume", out, NULL});
    cr_assert_eq(R.status, 2, "resume reads JSON records only");
    cr_assert(strstr(R.err, "--resume") != NULL, "%s", R.err);
}

/* The request /echo saw: its headers object. */
static const cJSON *echoed(const cJSON *rec, cJSON **keep)
{
    *keep = cJSON_Parse(rec_str(rec, "body"));
    cr_assert_not_null(*keep, "an /echo body: %s", rec_str(rec, "body"));
    return cJSON_GetObjectItem(*keep, "headers");
}

TEST_FETCH(curls_flags_for_what_goes_out, .timeout = 30)
{
    cJSON *e;

    add("%s/echo");
    run((const char *[]){"-q", "--body", "text", "-A", "first/1", "-A", "mybot/2", "-u",
                         "user:pass", "-u", "alice:s3cret", "-k", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    const cJSON *h = echoed(R.recs[0], &e);
    cr_assert_str_eq(rec_str(h, "User-Agent"), "mybot/2", "the last -A, as curl");
    cr_assert_str_eq(rec_str(h, "Authorization"), "Basic YWxpY2U6czNjcmV0", "the last -u");
    cr_assert_str_eq(rec_str(h, "Accept-Encoding"), "deflate, gzip, br, zstd");
    cr_assert_null(strstr(R.err, "s3cret"));
    cJSON_Delete(e);
    tool_run_free(&R);
    run((const char *[]){"-q", "--body", "text", "--no-compressed", NULL});
    h = echoed(R.recs[0], &e);
    cr_assert_null(cJSON_GetObjectItem(h, "Accept-Encoding"), "no compression asked for");
    cr_assert_str_eq(rec_str(h, "User-Agent"), "concurio/" CIO_VERSION_STRING);
    cJSON_Delete(e);
}

TEST_FETCH(redirects_as_curl_follows_them, .timeout = 30)
{
    add("%s/redirect?to=/redirect%3Fto%3D/ok");
    run((const char *[]){"-q", "--max-redirs", "1", NULL});
    cr_assert_eq(R.status, 1, "one redirect too many is an error: %s", R.err);
    cr_assert_eq(rec_num(R.recs[0], "curl_code"), 47, "CURLE_TOO_MANY_REDIRECTS");
    tool_run_free(&R);
    run((const char *[]){"-q", "--max-redirs", "2", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(rec_num(R.recs[0], "http_status"), 200);
    tool_run_free(&R);
    run((const char *[]){"-q", "--no-location", NULL});
    cr_assert_eq(rec_num(R.recs[0], "http_status"), 302, "the redirect itself is the answer");
    tool_run_free(&R);
    run((const char *[]){"-q", "--no-location", "-L", NULL});
    cr_assert_eq(rec_num(R.recs[0], "http_status"), 200, "-L after it follows again");
}

TEST_FETCH(a_proxy_carries_every_request_but_the_noproxy_hosts, .timeout = 30)
{
    char proxy[128];

    /* The test server answers a proxy's absolute-URI request as its own: a name that
     * exists nowhere (.invalid) is fetched through it, never looked up here. */
    snprintf(proxy, sizeof proxy, "%s", S.url);
    add("http://concurio.invalid/ok");
    run((const char *[]){"-q", "-x", proxy, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(rec_num(R.recs[0], "http_status"), 200);
    tool_run_free(&R);
    input[0] = '\0';
    add("%s/ok");
    run((const char *[]){"-q", "-x", "http://127.0.0.1:1", "--noproxy", "127.0.0.1", NULL});
    cr_assert_eq(R.status, 0, "not through the dead proxy: %s", R.err);
    tool_run_free(&R);
    run((const char *[]){"-q", "-x", "http://127.0.0.1:1", NULL});
    cr_assert_eq(R.status, 1, "through the dead proxy");
    cr_assert_eq(rec_num(R.recs[0], "curl_code"), 7);
}

TEST_FETCH(version_names_the_http_engine, .timeout = 30)
{
    run((const char *[]){"-V", NULL});
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "libcurl/") != NULL && strstr(R.out, "HTTP/2: ") != NULL, "%s", R.out);
}

TEST_FETCH(resolve_and_connect_to_send_a_name_where_it_is_told, .timeout = 30)
{
    unsigned port = (unsigned)atoi(strrchr(S.url, ':') + 1);
    char resolve[96], connect[96], line[128];

    snprintf(resolve, sizeof resolve, "concurio.test:%u:127.0.0.1", port);
    snprintf(line, sizeof line, "http://concurio.test:%u/ok\n", port);
    tool_run(&R, line, (const char *[]){"-q", "--resolve", resolve, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    tool_run_free(&R);
    snprintf(connect, sizeof connect, "concurio.test:80:127.0.0.1:%u", port);
    tool_run(&R, "http://concurio.test/ok\n",
             (const char *[]){"-q", "--connect-to", connect, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct server_stats st;
    cr_assert_eq(server_stats(&S, &st), 0);
    int seen = 0;
    for (size_t i = 0; i < st.nhosts; i++)
        seen += strcmp(st.hosts[i].name, "concurio.test") == 0;
    server_stats_free(&st);
    cr_assert_eq(seen, 1, "the server saw the name (Host: concurio.test)");
}

TEST_FETCH(the_meter_says_what_holds_the_run_and_the_summary_why_items_failed, .timeout = 30)
{
    for (int i = 0; i < 8; i++)
        add("%s/bytes/1000");
    add("%s/flaky/meter/2?status=503");
    add("%s/status/404");
    add("http://127.0.0.1:1/refused");
    const char *json = tool_tmp("summary.json");
    run((const char *[]){"-r", "5/s", "--rate-margin", "0", "--retries", "3", "--fail",
                         "--progress-interval", "0.3", "--summary-json", json, NULL});
    cr_assert_eq(R.status, 1, "a 404 and a refused connection: %s", R.err);
    cr_assert(strstr(R.err, "held by the rate (-r)") != NULL, "log lines say the rate holds: %s",
              R.err);
    cr_assert(strstr(R.err, "; in flight ") != NULL && strstr(R.err, "B/s") != NULL, "%s", R.err);
    cr_assert(strstr(R.err, "errors: ") != NULL && strstr(R.err, "curl 7 1") != NULL &&
                  strstr(R.err, "HTTP 404 1") != NULL,
              "errors by cause: %s", R.err);
    cr_assert(strstr(R.err, "hosts: ") != NULL, "two hosts: %s", R.err);
    char *text = tool_slurp(json);
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "one JSON object: %s", text);
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "items")), 11);
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "done")), 9);
    const cJSON *err = cJSON_GetObjectItem(o, "errors");
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(err, "curl 7")), 1, "%s", text);
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(err, "HTTP 404")), 1, "%s", text);
    cJSON_Delete(o);
    free(text);
    tool_run_free(&R);
    input[0] = '\0';
    /* Retry-After fixes each wait at a second, five ticks of the meter: the jittered backoff
     * alone can be shorter than one tick. */
    add("%s/flaky/meter2/3?status=503&delay=100&retry_after=1");
    run((const char *[]){"--retries", "4", "--progress-interval", "0.2", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, ", retrying 1") != NULL, "an item waiting to retry is said: %s", R.err);
}
