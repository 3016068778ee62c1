/* SPDX-License-Identifier: Apache-2.0 */
/* Runs concurio-fetch as a child process and reads what it wrote. */
#define _POSIX_C_SOURCE 200809L
#include "tool.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *tool_tmp(const char *name)
{
    static char dir[64], paths[8][256];
    static unsigned next;

    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/concurio-fetch-test-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
    }
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

char *tool_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);

    cr_assert_not_null(buf);
    if (f != NULL) {
        size_t k;
        while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
            n += k;
            if (n == cap) {
                buf = realloc(buf, (cap *= 2) + 1);
                cr_assert_not_null(buf);
            }
        }
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static pid_t spawn(const char *in_path, const char *const *args, const char *out_path,
                   const char *err_path)
{
    const char *argv[64] = {CONCURIO_FETCH};
    size_t n = 1;
    posix_spawn_file_actions_t fa;
    pid_t pid;

    for (; args[n - 1] != NULL && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid, CONCURIO_FETCH, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "concurio-fetch starts");
    return pid;
}

pid_t tool_spawn_fds(const char *const *args, int in_fd, int out_fd, int err_fd)
{
    const char *argv[64] = {CONCURIO_FETCH};
    size_t n = 1;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int fds[3] = {in_fd, out_fd, err_fd};

    for (; args[n - 1] != NULL && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, fds[i], i);
        else
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    int rc = posix_spawn(&pid, CONCURIO_FETCH, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "concurio-fetch starts");
    return pid;
}

pid_t tool_spawn(const char *const *args, const char *out_path, const char *err_path)
{
    return spawn("/dev/null", args, out_path, err_path);
}

int tool_wait(pid_t pid)
{
    int st = 0;

    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tool_parse(struct tool_run *r, const char *text)
{
    r->recs = calloc(TOOL_MAX_RECORDS, sizeof *r->recs);
    r->nrecs = 0;
    cr_assert_not_null(r->recs);
    for (const char *s = text; *s != '\0';) {
        const char *nl = strchr(s, '\n');
        cr_assert_not_null(nl, "every record ends in a newline: %s", s);
        cJSON *rec = cJSON_ParseWithLength(s, (size_t)(nl - s));
        cr_assert(cJSON_IsObject(rec), "a record parses: %.*s", (int)(nl - s), s);
        cr_assert_lt(r->nrecs, TOOL_MAX_RECORDS);
        r->recs[r->nrecs++] = rec;
        s = nl + 1;
    }
}

void tool_run(struct tool_run *r, const char *input, const char *const *args)
{
    const char *in = tool_tmp("stdin");
    char out[256], err[256];
    FILE *f = fopen(in, "wb");

    cr_assert_not_null(f);
    if (input != NULL)
        fwrite(input, 1, strlen(input), f);
    fclose(f);
    snprintf(out, sizeof out, "%s", tool_tmp("stdout"));
    snprintf(err, sizeof err, "%s", tool_tmp("stderr"));

    pid_t pid = spawn(in, args, out, err);
    r->status = tool_wait(pid);
    r->out = tool_slurp(out);
    r->err = tool_slurp(err);
    /* --help and --version print text; everything else on stdout is records. */
    tool_parse(r, strncmp(r->out, "Usage:", 6) == 0 || strncmp(r->out, "concurio-fetch ", 15) == 0
                      ? ""
                      : r->out);
}

void tool_run_free(struct tool_run *r)
{
    for (size_t i = 0; i < r->nrecs; i++)
        cJSON_Delete(r->recs[i]);
    free(r->recs);
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

cJSON *tool_record(const struct tool_run *r, const char *id)
{
    for (size_t i = 0; i < r->nrecs; i++) {
        char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r->recs[i], "id"));
        int same = text != NULL && strcmp(text, id) == 0;
        free(text);
        if (same)
            return r->recs[i];
    }
    return NULL;
}

double rec_num(const cJSON *rec, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

const char *rec_str(const cJSON *rec, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void tool_input_add(char *buf, size_t cap, const char *fmt, const char *base)
{
    size_t n = strlen(buf);
    const char *mark = strstr(fmt, "%s");

    if (mark == NULL)
        snprintf(buf + n, cap - n, "%s\n", fmt);
    else
        snprintf(buf + n, cap - n, "%.*s%s%s\n", (int)(mark - fmt), fmt, base, mark + 2);
}
