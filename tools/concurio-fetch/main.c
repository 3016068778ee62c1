/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch: fan out a URL list under a cap, a rate and timeouts; one JSON record
 * per input item. This file: files, messages and the exit status. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "queue.h"
#include "urllist.h"

enum { EXIT_DONE = 0, EXIT_SOME_FAILED = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 74, EXIT_INTR = 130 };

void fetch_say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n = snprintf(buf, sizeof buf, "concurio-fetch: ");

    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0                                     ? 0
                              : (size_t)m >= sizeof buf - (size_t)n - 1 ? sizeof buf - (size_t)n - 2
                                                                        : (size_t)m);
    buf[len++] = '\n';
    fetch_write_all(2, buf, len);
}

int fetch_write_counted(int fd, const char *buf, size_t len, size_t *done)
{
    *done = 0;
    while (*done < len) {
        ssize_t n = write(fd, buf + *done, len - *done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        *done += (size_t)n;
    }
    return 0;
}

int fetch_write_all(int fd, const char *buf, size_t len)
{
    size_t done;

    return fetch_write_counted(fd, buf, len, &done);
}

/* Items left in the input from where r stands. */
static uint64_t count_rest(struct fetch_reader *r)
{
    uint64_t n = 0;
    const char *line;
    size_t len;

    while (fetch_reader_next(r, &line, &len) > 0)
        n += (uint64_t)fetch_line_is_item(line, len);
    return n;
}

/* Items in a regular file, counted ahead for the meter's total; 0 when unknown. */
static uint64_t count_items(int fd)
{
    struct fetch_reader *r = malloc(sizeof *r);

    if (r == NULL)
        return 0;
    fetch_reader_init(r, fd);
    uint64_t n = count_rest(r);
    free(r);
    return lseek(fd, 0, SEEK_SET) == 0 ? n : 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    if (f == NULL || buf == NULL) {
        free(buf);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *b = realloc(buf, cap *= 2);
        if (b == NULL) {
            free(buf);
            fclose(f);
            errno = ENOMEM;
            return -1;
        }
        buf = b;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Loads --resume FILE (missing: empty). When FILE is also the output, the truncated
 * last line a killed run left is cut off here, before records are appended. */
static int load_resume(struct app *a)
{
    FILE *f = fopen(a->o.resume, "r");
    size_t bad = 0;
    long long good_end = 0;

    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        fetch_say("cannot read --resume file %s: %s", a->o.resume, strerror(errno));
        return -1;
    }
    int rc = fetch_resume_load(&a->done_ids, f, &bad, &good_end);
    fclose(f);
    if (rc != 0) {
        fetch_say("cannot read --resume file %s: %s", a->o.resume, strerror(errno));
        return -1;
    }
    if (bad > 0)
        fetch_say("warning: %zu lines of %s are not records; skipped", bad, a->o.resume);
    if (a->o.output != NULL && strcmp(a->o.output, a->o.resume) == 0 &&
        truncate(a->o.resume, good_end) != 0) {
        fetch_say("cannot cut the truncated last line of %s: %s", a->o.resume, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_output(struct app *a)
{
    if (a->o.output == NULL || strcmp(a->o.output, "-") == 0) {
        a->out_fd = 1;
    } else {
        int append = a->o.resume != NULL && strcmp(a->o.output, a->o.resume) == 0;
        a->out_fd =
            open(a->o.output, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
        if (a->out_fd < 0) {
            fetch_say("cannot open %s: %s", a->o.output, strerror(errno));
            return -1;
        }
    }
    a->out_tty = isatty(a->out_fd);
    return 0;
}

static int is_regular(const char *path)
{
    struct stat st;

    return path != NULL && strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Prints the command line that finishes the job, quoted for a POSIX shell. */
static void say_resume(const struct app *a, int argc, char **argv)
{
    if (!a->in_regular || !is_regular(a->o.output)) {
        fetch_say("to resume, run with -o FILE and a file as input, then add --resume FILE");
        return;
    }
    char cmd[4096];
    size_t n = 0;
    int has = a->o.resume != NULL && strcmp(a->o.resume, a->o.output) == 0;
    for (int i = 0; i < argc + (has ? 0 : 2) && n < sizeof cmd; i++) {
        const char *arg = i < argc ? argv[i] : i == argc ? "--resume" : a->o.output;
        int plain =
            arg[0] != '\0' && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_./:=@%+,-") == strlen(arg);
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, i > 0 ? " " : "");
        if (plain) {
            n += (size_t)snprintf(cmd + n, n < sizeof cmd ? sizeof cmd - n : 0, "%s", arg);
            continue;
        }
        n += (size_t)snprintf(cmd + n, n < sizeof cmd ? sizeof cmd - n : 0, "'");
        for (const char *c = arg; *c != '\0' && n < sizeof cmd; c++)
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, *c == '\'' ? "'\\''" : "%c", *c);
        n += (size_t)snprintf(cmd + n, n < sizeof cmd ? sizeof cmd - n : 0, "'");
    }
    if (n >= sizeof cmd)
        fetch_say("to resume, add --resume %s -o %s to the same command", a->o.output, a->o.output);
    else
        fetch_say("to resume: %s", cmd);
}

static int prepare(struct app *a, int *in_fd)
{
    const char *in = a->o.input;

    if (in == NULL || strcmp(in, "-") == 0) {
        *in_fd = 0;
    } else if ((*in_fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
        fetch_say("cannot read %s: %s", in, strerror(errno));
        return -1;
    }
    a->in_regular = is_regular(in);
    if (a->o.data != NULL && a->o.data[0] == '@') {
        if (read_file(a->o.data + 1, &a->data, &a->data_len) != 0) {
            fetch_say("cannot read --data file %s: %s", a->o.data + 1, strerror(errno));
            return -1;
        }
    } else if (a->o.data != NULL && (a->data = strdup(a->o.data)) != NULL) {
        a->data_len = strlen(a->data);
    }
    a->method = a->o.method != NULL ? a->o.method : a->o.data != NULL ? "POST" : "GET";
    if (a->o.resume != NULL && load_resume(a) != 0)
        return -1;
    if ((a->rd = malloc(sizeof *a->rd)) == NULL) {
        fetch_say("out of memory");
        return -1;
    }
    fetch_reader_init(a->rd, *in_fd);
    a->meter_tty = a->o.progress == FETCH_PROGRESS_ON || isatty(2);
    if (a->in_regular && !a->o.quiet && a->o.progress != FETCH_PROGRESS_OFF)
        a->expected = count_items(*in_fd);
    return 0;
}

static void report_end(struct app *a, int argc, char **argv)
{
    if (a->signals > 0) {
        if (a->in_regular)
            fetch_say("%llu inputs were not started",
                      (unsigned long long)(a->not_started + count_rest(a->rd)));
        else
            fetch_say("%llu queued inputs were not started, and standard input was not read "
                      "to the end",
                      (unsigned long long)a->not_started);
        say_resume(a, argc, argv);
    } else if (!a->input_done && a->out_errno == 0 && a->read_errno == 0) {
        fetch_say("deadline reached: input from line %llu on was not read",
                  (unsigned long long)a->rd->line + 1);
        say_resume(a, argc, argv);
    }
    if (a->resumed > 0 && !a->o.quiet)
        fetch_say("%llu inputs skipped: done already in %s", (unsigned long long)a->resumed,
                  a->o.resume);
}

int main(int argc, char **argv)
{
    static struct app app; /* large (the histogram): not on the stack */
    struct app *a = &app;
    char err[512];
    int in_fd = 0;

    switch (fetch_parse_args(argc, argv, &a->o, err, sizeof err)) {
    case FETCH_HELP:
        fputs(fetch_usage_text, stdout);
        fetch_opts_free(&a->o);
        return EXIT_DONE;
    case FETCH_VERSION:
        printf("concurio-fetch %s (libconcurio %s)\n", CIO_VERSION_STRING, cio_version());
        fetch_opts_free(&a->o);
        return EXIT_DONE;
    case FETCH_USAGE:
        fetch_say("%s (see --help)", err);
        fetch_opts_free(&a->o);
        return EXIT_USAGE;
    case FETCH_RUN:
        break;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, handled as one */
    if (a->o.insecure)
        fetch_say("WARNING: --insecure: TLS certificates and host names are NOT verified");
    int rc = EXIT_USAGE;
    uint64_t t0 = 0;
    if (prepare(a, &in_fd) != 0)
        goto out;
    rc = EXIT_OUTPUT;
    if (open_output(a) != 0)
        goto out;
    switch (a->o.qmode) {
    case FETCH_Q_ENQUEUE:
        rc = fetch_queue_enqueue(a);
        goto out;
    case FETCH_Q_COLLECT:
        rc = fetch_queue_collect(a);
        goto out;
    case FETCH_Q_WORKER:
        rc = fetch_worker_main(a);
        goto out;
    case FETCH_Q_NONE:
        break;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    rc = EXIT_USAGE;
    if (fetch_run(a) != 0)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t run_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - t0;

    if (a->out_errno == 0 && a->out_fd > 2 && close(a->out_fd) != 0)
        a->out_errno = errno; /* NFS and full disks may say so only now */
    a->out_fd = -1;
    if (a->out_errno != 0 && a->out_errno != EPIPE)
        fetch_say("cannot write records to %s: %s", a->o.output != NULL ? a->o.output : "stdout",
                  strerror(a->out_errno));
    if (a->read_errno != 0)
        fetch_say("cannot read %s: %s", a->o.input != NULL ? a->o.input : "standard input",
                  strerror(a->read_errno));
    report_end(a, argc, argv);
    if (!a->o.quiet) {
        char sum[1024];
        fetch_summary_format(&a->sum, run_ms, sum, sizeof sum);
        fetch_write_all(2, sum, strlen(sum));
    }
    rc = a->out_errno != 0                                                   ? EXIT_OUTPUT
         : a->signals > 0                                                    ? EXIT_INTR
         : a->read_errno != 0                                                ? EXIT_USAGE
         : a->sum.outcomes[FETCH_ERROR] + a->sum.outcomes[FETCH_TIMEOUT] > 0 ? EXIT_SOME_FAILED
         : !a->input_done                                                    ? EXIT_SOME_FAILED
                                                                             : EXIT_DONE;
out:
    if (a->out_fd > 2)
        close(a->out_fd);
    if (in_fd > 0)
        close(in_fd);
    free(a->rd);
    free(a->data);
    fetch_buf_free(&a->out);
    fetch_idset_free(&a->done_ids);
    fetch_opts_free(&a->o);
    return rc;
}
