/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch as a real child process: its input, its records, its exit status. */
#ifndef CIO_TEST_TOOL_H
#define CIO_TEST_TOOL_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define TOOL_MAX_RECORDS 8192

struct tool_run {
    int status;   /* exit status, or 128 + signal */
    char *out;    /* all of stdout */
    char *err;    /* all of stderr */
    cJSON **recs; /* stdout's lines, each parsed; the test fails if one does not parse */
    size_t nrecs;
};

/* Runs concurio-fetch with args (NULL-terminated, argv[0] not included), `input` on its
 * standard input (NULL: empty), and waits for it. */
void tool_run(struct tool_run *r, const char *input, const char *const *args);
void tool_run_free(struct tool_run *r);

/* Starts it with stdin from /dev/null and stdout/stderr into files; returns its pid. */
pid_t tool_spawn(const char *const *args, const char *out_path, const char *err_path);
/* Starts it on descriptors of the caller's (dup'ed to 0, 1 and 2 in the child; -1:
 * /dev/null); returns its pid. */
pid_t tool_spawn_fds(const char *const *args, int in_fd, int out_fd, int err_fd);
/* Waits for pid: its exit status, or 128 + signal. */
int tool_wait(pid_t pid);

/* The record with this id (compared as JSON text: "3", "\"a7\""), or NULL. */
cJSON *tool_record(const struct tool_run *r, const char *id);
/* Field helpers: a number (-1 when missing) and a string ("" when missing). */
double rec_num(const cJSON *rec, const char *name);
const char *rec_str(const cJSON *rec, const char *name);
/* Parses every line of text as a record into r (recs, nrecs). */
void tool_parse(struct tool_run *r, const char *text);
/* The whole of a file, malloc'ed ("" when missing). */
char *tool_slurp(const char *path);
/* Appends fmt and a newline to the NUL-terminated buf (room for cap), its "%s" (if any)
 * replaced by base: an input line with the test server's URL in it. */
void tool_input_add(char *buf, size_t cap, const char *fmt, const char *base);
/* A path in a fresh temporary directory, made once per process; the last 8 stay valid. */
const char *tool_tmp(const char *name);

#endif
