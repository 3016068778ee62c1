/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch --output-dir end to end: the real tool as a process against the real
 * test server, its files checked on disk (names, sizes, nothing outside the directory,
 * nothing half-written under a final name, nothing left behind). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* DT_REG */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "support/server.h"
#include "support/tool.h"

static struct server S;
static struct tool_run R;
static char input[1 << 20];
static char dir[256];

static void setup(void)
{
    char cmd[PATH_MAX + 16];

    cr_assert_eq(server_start(&S), 0, "the test server starts");
    input[0] = '\0';
    snprintf(dir, sizeof dir, "%s", tool_tmp("bodies"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void teardown(void)
{
    tool_run_free(&R);
    server_stop_checked(&S);
}

#define TEST_FILES(name, ...) Test(fetch_files, name, .init = setup, .fini = teardown, __VA_ARGS__)

/* Appends a line to the input; "%s" in fmt stands for the server's base URL. */
static void add(const char *fmt)
{
    tool_input_add(input, sizeof input, fmt, S.url);
}

static long long size_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Files under d (recursively), and how many of them are temporary ones. */
static size_t count_files(const char *d, size_t *temps)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    size_t n = 0;
    char sub[PATH_MAX];

    if (dp == NULL)
        return 0;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", d, e->d_name);
        struct stat st;
        cr_assert_eq(lstat(sub, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            n += count_files(sub, temps);
        } else {
            n++;
            *temps += strncmp(e->d_name, ".concurio-", 10) == 0;
        }
    }
    closedir(dp);
    return n;
}

/* Every done record's path: a file inside dir holding its bytes. */
static void check_paths(void)
{
    char real_dir[PATH_MAX], real[PATH_MAX];

    cr_assert_not_null(realpath(dir, real_dir));
    for (size_t i = 0; i < R.nrecs; i++) {
        const cJSON *r = R.recs[i];
        if (strcmp(rec_str(r, "outcome"), "done") != 0)
            continue;
        const char *path = rec_str(r, "path");
        cr_assert_neq(path[0], '\0', "a done record says its path: %s", cJSON_PrintUnformatted(r));
        cr_assert_eq(size_of(path), (long long)rec_num(r, "bytes"), "%s", path);
        cr_assert_not_null(realpath(path, real));
        cr_assert_eq(strncmp(real, real_dir, strlen(real_dir)), 0, "%s is inside %s", real, dir);
        cr_assert_eq(real[strlen(real_dir)], '/');
    }
}

TEST_FILES(bodies_land_in_files_named_by_the_template_inside_the_directory, .timeout = 30)
{
    add("%s/bytes/1000");
    add("%s/ok");
    add("%s/ok?again=1"); /* the same name: numbered */
    add("%s/status/404");
    add("%s/echo");
    add("%s/..%2F..%2Fescape");
    add("{\"url\":\"%s/ok\",\"id\":\"../../x\"}");
    add("%s/");
    tool_run(&R, input,
             (const char *[]){"-q", "--output-dir", dir, "--name-template",
                              "{host}/{basename}.{ext}", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 8);
    check_paths();
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/127.0.0.1/1000.bin", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "1"), "path"), want);
    snprintf(want, sizeof want, "%s/127.0.0.1/ok.txt", dir);
    cr_assert_eq(size_of(want), 2);
    snprintf(want, sizeof want, "%s/127.0.0.1/ok-1.txt", dir);
    cr_assert_eq(size_of(want), 2, "a name taken is numbered, not overwritten");
    snprintf(want, sizeof want, "%s/127.0.0.1/404.txt", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "4"), "path"), want, "a 404's body is kept too");
    snprintf(want, sizeof want, "%s/127.0.0.1/echo.json", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "5"), "path"), want);
    snprintf(want, sizeof want, "%s/127.0.0.1/index.txt", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "8"), "path"), want);
    size_t temps = 0;
    cr_assert_eq(count_files(dir, &temps), 8);
    cr_assert_eq(temps, 0, "no temporary file is left");
}

TEST_FILES(an_id_names_a_file_and_cannot_leave_the_directory, .timeout = 30)
{
    add("{\"url\":\"%s/bytes/5\",\"id\":\"report-2026\"}");
    add("{\"url\":\"%s/bytes/6\",\"id\":\"../../../../tmp/evil\"}");
    add("{\"url\":\"%s/bytes/7\",\"id\":\"..\"}");
    add("{\"url\":\"%s/bytes/8\",\"id\":42}");
    tool_run(&R, input, (const char *[]){"-q", "--output-dir", dir, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    check_paths();
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/report-2026", dir);
    cr_assert_eq(size_of(want), 5);
    snprintf(want, sizeof want, "%s/42", dir);
    cr_assert_eq(size_of(want), 8);
    size_t temps = 0;
    cr_assert_eq(count_files(dir, &temps), 4, "all four inside");
}

TEST_FILES(a_failed_body_leaves_no_file_unless_kept_as_part, .timeout = 30)
{
    add("%s/drop");             /* cut mid-body */
    add("%s/trickle/100?n=50"); /* times out after some bytes */
    add("%s/bytes/3");
    tool_run(&R, input, (const char *[]){"-q", "-t", "1", "--output-dir", dir, NULL});
    cr_assert_eq(R.status, 1, "%s", R.err);
    size_t temps = 0;
    cr_assert_eq(count_files(dir, &temps), 1, "only the complete body");
    cr_assert_eq(temps, 0);
    cr_assert_str_eq(rec_str(tool_record(&R, "1"), "path"), "");
    tool_run_free(&R);

    tool_run(&R, input,
             (const char *[]){"-q", "-t", "1", "--output-dir", dir, "--keep-partial", NULL});
    cr_assert_eq(R.status, 1, "%s", R.err);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/1.part", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "1"), "path"), want);
    cr_assert_eq(size_of(want), (long long)rec_num(tool_record(&R, "1"), "bytes"));
    snprintf(want, sizeof want, "%s/2.part", dir);
    cr_assert_str_eq(rec_str(tool_record(&R, "2"), "path"), want);
    cr_assert_str_eq(rec_str(tool_record(&R, "2"), "outcome"), "timeout");
    cr_assert_gt(size_of(want), 0, "the bytes that came before the timeout");
    cr_assert_lt(size_of(want), 50);
    snprintf(want, sizeof want, "%s/3-1", dir);
    cr_assert_eq(size_of(want), 3, "the first run's 3 is not overwritten");
    temps = 0;
    count_files(dir, &temps);
    cr_assert_eq(temps, 0);
}

TEST_FILES(a_big_body_streams_to_disk_in_bounded_memory, .timeout = 60)
{
    struct rusage ru;

    add("%s/bytes/48000000");
    tool_run(&R, input, (const char *[]){"-q", "--output-dir", dir, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/1", dir);
    cr_assert_eq(size_of(want), 48000000, "whole: --max-body does not apply to files");
    /* The tool is the only child waited for so far in this test's process. */
    cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    cr_assert_lt(ru.ru_maxrss, 40 * 1024, "peak RSS %ld KiB for a 48 MB body", ru.ru_maxrss);
}

TEST_FILES(resume_fetches_again_only_the_items_whose_file_is_gone, .timeout = 30)
{
    char out[PATH_MAX], want[PATH_MAX];
    struct server_stats st;

    snprintf(out, sizeof out, "%s", tool_tmp("files.jsonl"));
    for (int i = 0; i < 10; i++)
        add("%s/bytes/100");
    unlink(out);
    tool_run(&R, input, (const char *[]){"-q", "--output-dir", dir, "-o", out, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(want, sizeof want, "%s/3", dir);
    cr_assert_eq(unlink(want), 0);
    snprintf(want, sizeof want, "%s/7", dir);
    FILE *f = fopen(want, "w"); /* cut short */
    fputs("x", f);
    fclose(f);
    free(server_get(&S, "/stats/reset"));
    tool_run_free(&R);
    tool_run(&R, input,
             (const char *[]){"-q", "--output-dir", dir, "--resume", out, "-o", out, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.requests, 2, "only lines 3 and 7 again");
    server_stats_free(&st);
    snprintf(want, sizeof want, "%s/3", dir);
    cr_assert_eq(size_of(want), 100);
    snprintf(want, sizeof want, "%s/7-1", dir);
    cr_assert_eq(size_of(want), 100, "the short one is left, the new one numbered");
}

TEST_FILES(a_name_never_overwrites_the_input_or_the_records, .timeout = 30)
{
    char list[PATH_MAX], out[PATH_MAX];

    cr_assert_eq(mkdir(dir, 0777), 0);
    snprintf(list, sizeof list, "%s/1", dir); /* named as item 1's body would be */
    snprintf(out, sizeof out, "%s/2", dir);
    add("%s/bytes/10");
    add("%s/bytes/20");
    FILE *f = fopen(list, "w");
    fputs(input, f);
    fclose(f);
    long long list_size = size_of(list);
    tool_run(&R, NULL, (const char *[]){"-q", "--output-dir", dir, "-o", out, list, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(size_of(list), list_size, "the input is untouched");
    tool_run_free(&R);
    char *records = tool_slurp(out);
    tool_parse(&R, records);
    free(records);
    cr_assert_eq(R.nrecs, 2, "the records are untouched");
    check_paths();
}

TEST_FILES(with_32_descriptors_and_c_64_every_body_is_saved, .timeout = 60)
{
    struct rlimit rl = {32, 32}; /* ulimit -n 32, inherited by the tool */

    for (int i = 0; i < 200; i++)
        add("%s/bytes/1000");
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    tool_run(&R, input, (const char *[]){"-q", "-c", "64", "--output-dir", dir, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.nrecs, 200);
    check_paths();
    size_t temps = 0;
    cr_assert_eq(count_files(dir, &temps), 200);
    cr_assert_eq(temps, 0);
}

TEST_FILES(sigint_leaves_whole_files_and_no_temporary_ones, .timeout = 60)
{
    char list[PATH_MAX], out[PATH_MAX], err[PATH_MAX], junk[PATH_MAX];

    snprintf(list, sizeof list, "%s", tool_tmp("slow.txt"));
    snprintf(out, sizeof out, "%s", tool_tmp("slow.jsonl"));
    snprintf(err, sizeof err, "%s", tool_tmp("slow.err"));
    snprintf(junk, sizeof junk, "%s", tool_tmp("slow.out"));
    for (int i = 0; i < 300; i++)
        add(i % 2 ? "%s/trickle/20?n=40" : "%s/bytes/2000");
    FILE *f = fopen(list, "w");
    fputs(input, f);
    fclose(f);
    unlink(out);
    pid_t pid = tool_spawn(
        (const char *[]){"-c", "20", "--grace", "0.2", "--output-dir", dir, "-o", out, list, NULL},
        junk, err);
    nanosleep(&(struct timespec){1, 0}, NULL);
    kill(pid, SIGINT);
    cr_assert_eq(tool_wait(pid), 130);
    char *records = tool_slurp(out);
    tool_parse(&R, records);
    free(records);
    cr_assert_gt(R.nrecs, 0);
    cr_assert_lt(R.nrecs, 300, "interrupted before the end");
    check_paths();
    size_t temps = 0, files = count_files(dir, &temps);
    cr_assert_eq(temps, 0, "no temporary file is left");
    size_t done = 0;
    for (size_t i = 0; i < R.nrecs; i++)
        done += strcmp(rec_str(R.recs[i], "outcome"), "done") == 0;
    cr_assert_eq(files, done, "a file for every done record, none for the others");
}

TEST_FILES(bad_values_are_usage_errors_naming_the_form, .timeout = 30)
{
    static const struct {
        const char *args[6], *says;
    } cases[] = {
        {{"--output-dir", "", NULL}, "a directory name"},
        {{"--output-dir", "/proc/nope/x", NULL}, "cannot make --output-dir"},
        {{"--output-dir", "/etc/hostname", NULL}, "not a directory"},
        {{"--output-dir", "D", "--name-template", "{nope}", NULL}, "{basename}"},
        {{"--output-dir", "D", "--name-template", "/abs/{id}", NULL}, "relative"},
        {{"--output-dir", "D", "--name-template", "{id", NULL}, "unknown field"},
        {{"--output-dir", "D", "--name-template", "a}b", NULL}, "}}"},
        {{"--name-template", "{id}", NULL}, "go with --output-dir"},
        {{"--keep-partial", NULL}, "go with --output-dir"},
        {{"--output-dir", "D", "--body", "text", NULL}, "not with --body"},
        {{"--cookie-jar", "", NULL}, "a file name"},
        {{"--report", "", NULL}, "a records file"},
        {{"--report", "D", "--output-dir", "D", NULL}, "no input FILE"},
        {{"--report", "/nonexistent/records", NULL}, "cannot read --report"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[8] = {"-q"};
        size_t n = 1;
        for (size_t k = 0; cases[i].args[k] != NULL; k++)
            args[n++] = strcmp(cases[i].args[k], "D") == 0 ? dir : cases[i].args[k];
        args[n] = NULL;
        tool_run(&R, "", args);
        cr_assert_eq(R.status, 2, "case %zu: %s", i, R.err);
        cr_assert(strstr(R.err, cases[i].says) != NULL, "case %zu: %s", i, R.err);
        cr_assert_eq(strchr(R.err, '\n'), R.err + strlen(R.err) - 1, "one line: %s", R.err);
        tool_run_free(&R);
    }
}

/* ---- cookies ---------------------------------------------------------------------- */

/* The Cookie header /echo saw, from a record kept with --body text ("" when none). */
static const char *cookie_of(const cJSON *rec)
{
    static char out[256];
    cJSON *echo = cJSON_Parse(rec_str(rec, "body"));
    const cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(echo, "headers"), "Cookie");

    snprintf(out, sizeof out, "%s", cJSON_IsString(h) ? h->valuestring : "");
    cJSON_Delete(echo);
    return out;
}

#define LOGIN "%s/status/302?h=Set-Cookie:sid=abc%3B%20Path=/&h=Location:/echo"

TEST_FILES(a_login_that_redirects_keeps_its_session_and_the_jar_keeps_it, .timeout = 30)
{
    char jar[PATH_MAX];
    struct stat st;

    snprintf(jar, sizeof jar, "%s", tool_tmp("jar.txt"));
    unlink(jar);
    add(LOGIN);
    tool_run(&R, input, (const char *[]){"-q", "--body", "text", NULL});
    cr_assert_str_eq(cookie_of(tool_record(&R, "1")), "", "no cookie kept by default");
    tool_run_free(&R);
    tool_run(&R, input,
             (const char *[]){"-q", "--body", "text", "-b", jar, "--cookie-jar", jar, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_str_eq(cookie_of(tool_record(&R, "1")), "sid=abc", "the redirect carried it");
    char *text = tool_slurp(jar);
    cr_assert(strstr(text, "# Netscape HTTP Cookie File") == text, "%s", text);
    cr_assert(strstr(text, "\tsid\tabc\n") != NULL, "%s", text);
    free(text);
    cr_assert_eq(stat(jar, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "a jar is its owner's only");
    tool_run_free(&R);
    input[0] = '\0';
    add("%s/echo");
    tool_run(&R, input, (const char *[]){"-q", "--body", "text", "-b", jar, NULL});
    cr_assert_str_eq(cookie_of(tool_record(&R, "1")), "sid=abc", "read back from the jar");
    tool_run_free(&R);
    tool_run(&R, input, (const char *[]){"-q", "--body", "text", "-b", "a=1; b=2", NULL});
    cr_assert_str_eq(cookie_of(tool_record(&R, "1")), "a=1; b=2", "-b NAME=VALUE");
}

TEST_FILES(two_keys_keep_two_sessions_on_one_host, .timeout = 30)
{
    add("{\"url\":\"%s/status/200?h=Set-Cookie:tok=A%3B%20Path=/\",\"key\":\"alice\"}");
    add("{\"url\":\"%s/status/200?h=Set-Cookie:tok=B%3B%20Path=/\",\"key\":\"bob\"}");
    add("{\"url\":\"%s/echo\",\"key\":\"alice\"}");
    add("{\"url\":\"%s/echo\",\"key\":\"bob\"}");
    add("{\"url\":\"%s/echo\",\"key\":\"carol\"}");
    tool_run(&R, input, (const char *[]){"-q", "-c", "1", "--body", "text", "-b", "", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_str_eq(cookie_of(tool_record(&R, "3")), "tok=A");
    cr_assert_str_eq(cookie_of(tool_record(&R, "4")), "tok=B");
    cr_assert_str_eq(cookie_of(tool_record(&R, "5")), "");
}

TEST_FILES(cookie_files_that_cannot_be_used_are_said, .timeout = 30)
{
    char list[PATH_MAX];

    snprintf(list, sizeof list, "%s", tool_tmp("cookie-list.txt"));
    add("%s/ok");
    FILE *f = fopen(list, "w");
    fputs(input, f);
    fclose(f);
    tool_run(&R, NULL, (const char *[]){"-q", "-b", "/nonexistent/jar", list, NULL});
    cr_assert_eq(R.status, 2);
    cr_assert(strstr(R.err, "cannot read -b/--cookie file") != NULL, "%s", R.err);
    tool_run_free(&R);
    tool_run(&R, NULL, (const char *[]){"-q", "--cookie-jar", list, list, NULL});
    cr_assert_eq(R.status, 2, "the jar would overwrite the input");
    cr_assert(strstr(R.err, "the input FILE") != NULL, "%s", R.err);
    tool_run_free(&R);
    tool_run(&R, NULL, (const char *[]){"-q", "--cookie-jar", "/proc/nope/jar", list, NULL});
    cr_assert_eq(R.status, 2, "found before the run: %s", R.err);
    cr_assert(strstr(R.err, "cannot write --cookie-jar") != NULL, "%s", R.err);
    tool_run_free(&R);
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s", tool_tmp("not-yet.jsonl"));
    unlink(out);
    tool_run(&R, NULL, (const char *[]){"-q", "--cookie-jar", out, "-o", out, list, NULL});
    cr_assert_eq(R.status, 2, "the jar would replace the records: %s", R.err);
    cr_assert(strstr(R.err, "name one file") != NULL, "%s", R.err);
    cr_assert_eq(access(out, F_OK), -1, "nothing written");
}

TEST_FILES(a_symbolic_link_inside_the_directory_leads_no_body_out, .timeout = 30)
{
    char link[PATH_MAX], away[PATH_MAX];
    size_t temps = 0;

    snprintf(away, sizeof away, "%s", tool_tmp("away"));
    mkdir(away, 0777);
    cr_assert_eq(mkdir(dir, 0777), 0);
    snprintf(link, sizeof link, "%s/127.0.0.1", dir);
    cr_assert_eq(symlink(away, link), 0);
    add("%s/ok");
    tool_run(&R, input,
             (const char *[]){"-q", "--output-dir", dir, "--name-template", "{host}/{id}", NULL});
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert(strstr(rec_str(tool_record(&R, "1"), "error"), "cannot save the body") != NULL, "%s",
              rec_str(tool_record(&R, "1"), "error"));
    cr_assert_eq(count_files(away, &temps), 0, "nothing written through the link");
    cr_assert_eq(temps, 0);
}

TEST_FILES(many_bodies_of_one_name_are_numbered_in_turn, .timeout = 60)
{
    char want[PATH_MAX];
    size_t temps = 0;

    for (int i = 0; i < 500; i++)
        add("%s/ok");
    tool_run(&R, input,
             (const char *[]){"-q", "--output-dir", dir, "--name-template", "index.html", NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_files(dir, &temps), 500);
    snprintf(want, sizeof want, "%s/index-499.html", dir);
    cr_assert_eq(size_of(want), 2, "index.html, index-1.html ... index-499.html");
    check_paths();
}
