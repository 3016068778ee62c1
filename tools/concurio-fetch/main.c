/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch: fan out a URL list under a cap, a rate and timeouts; one JSON record
 * per input item. This file: the options, the choice of a source and a sink (the input
 * and the record writer, or a queue job's), what is said at the end, the exit status. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "report_main.h"
#include "files.h"
#include "input.h"
#include "queue.h"
#include "urllist.h"

/* Items left in the input from where r stands. */
static uint64_t count_rest(struct fetch_reader *r)
{
    uint64_t n = 0;
    const char *line;
    size_t len;

    while (fetch_reader_next(r, &line, &len) == FETCH_READ_LINE)
        n += (uint64_t)fetch_line_is_item(line, len);
    return n;
}

static int is_regular(const char *path)
{
    struct stat st;

    return path != NULL && strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A header whose value is a secret: shown as "***" in the resume hint. */
static int secret_header(const char *h)
{
    static const char *const names[] = {
        "authorization:", "proxy-authorization:", "cookie:", "x-api-key:",
        "api-key:",       "x-auth-token:"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncasecmp(h, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* Prints the command line that finishes the job, quoted for a POSIX shell. */
static void say_resume(const struct app *a, int argc, char **argv)
{
    if (!a->in_regular || !is_regular(a->o.output)) {
        fetch_say("to resume, run with -o FILE and a file as input, then add --resume FILE");
        return;
    }
    char cmd[4096], masked[512];
    size_t n = 0;
    int has = a->o.resume != NULL && strcmp(a->o.resume, a->o.output) == 0, hidden = 0;
    for (int i = 0; i < argc + (has ? 0 : 2) && n < sizeof cmd; i++) {
        const char *arg = i < argc ? argv[i] : i == argc ? "--resume" : a->o.output;
        /* A header's secret (-H 'Authorization: ...', --header=...) is not printed. */
        const char *h =
            i >= argc                           ? NULL
            : strncmp(arg, "--header=", 9) == 0 ? arg + 9
            : i > 0 && (strcmp(argv[i - 1], "-H") == 0 || strcmp(argv[i - 1], "--header") == 0)
                ? arg
            : strncmp(arg, "-H", 2) == 0 && arg[2] != '\0' ? arg + 2
                                                           : NULL;
        if (h != NULL && secret_header(h)) {
            snprintf(masked, sizeof masked, "%.*s%.*s: ***", (int)(h - arg), arg,
                     (int)strcspn(h, ":"), h);
            arg = masked;
            hidden = 1;
        }
        /* Nor -u's password: -u USER:PASSWORD, -uUSER:..., --user=... */
        const char *u =
            i >= argc                         ? NULL
            : strncmp(arg, "--user=", 7) == 0 ? arg + 7
            : i > 0 && (strcmp(argv[i - 1], "-u") == 0 || strcmp(argv[i - 1], "--user") == 0) ? arg
            : strncmp(arg, "-u", 2) == 0 && arg[2] != '\0' ? arg + 2
                                                           : NULL;
        if (u != NULL && strchr(u, ':') != NULL) {
            snprintf(masked, sizeof masked, "%.*s%.*s:***", (int)(u - arg), arg,
                     (int)strcspn(u, ":"), u);
            arg = masked;
            hidden = 1;
        }
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
    /* The session goes on from the jar this run writes. */
    if (a->o.cookie_jar != NULL && a->o.cookie == NULL && n < sizeof cmd &&
        strchr(a->o.cookie_jar, '\'') == NULL)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " -b '%s'", a->o.cookie_jar);
    if (n >= sizeof cmd)
        fetch_say("to resume, add --resume %s -o %s to the same command", a->o.output, a->o.output);
    else
        fetch_say("to resume: %s%s", cmd,
                  hidden ? "\n  (secret header values and passwords shown as ***: give them "
                           "again, or keep headers in -H @FILE)"
                         : "");
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
    if (a->ids.full)
        fetch_say("note: more than %u ids: ids past that were not checked for duplicates",
                  FETCH_IDS_MAX);
}

/* A soft descriptor limit below the hard one is raised as far as the run could use:
 * a connection and a name lookup per request, and room for the rest. */
static void raise_fd_limit(const struct app *a)
{
    struct rlimit rl;
    rlim_t want = (a->o.output_dir != NULL ? 3 : 2) * (rlim_t)a->o.concurrency + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --summary-json FILE; 0, or -1 with the reason said. */
static int write_summary_json(const struct app *a, uint64_t run_ms)
{
    char *json = fetch_summary_json(&a->sum, run_ms);
    int fd =
        json != NULL ? open(a->o.summary_json, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666) : -1;
    int err = json == NULL ? ENOMEM : fd < 0 ? errno : fetch_write_all(fd, json, strlen(json));

    if (fd >= 0 && close(fd) != 0 && err == 0)
        err = errno;
    free(json);
    if (err != 0)
        fetch_say("cannot write --summary-json %s: %s", a->o.summary_json, strerror(err));
    return err != 0 ? -1 : 0;
}

/* What is said at the end of a run of the input, and its exit status. */
static int close_and_report(struct app *a, int argc, char **argv, uint64_t run_ms)
{
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
        char sum[4096];
        fetch_summary_format(&a->sum, run_ms, sum, sizeof sum);
        fetch_write_all(2, sum, strlen(sum));
        if (a->has_bodies)
            fetch_say("bodies saved in %s: %llu%s", a->bodies.dir,
                      (unsigned long long)a->bodies.saved,
                      a->bodies.partial > 0 ? ", and some kept as .part" : "");
    }
    if (a->o.summary_json != NULL && write_summary_json(a, run_ms) != 0 && a->out_errno == 0)
        return FETCH_EXIT_OUTPUT;
    if (a->jar_failed)
        return FETCH_EXIT_OUTPUT;
    return a->out_errno != 0                                                   ? FETCH_EXIT_OUTPUT
           : a->signals > 0                                                    ? FETCH_EXIT_INTR
           : a->input_changed || a->read_errno != 0                            ? FETCH_EXIT_USAGE
           : a->sum.outcomes[FETCH_ERROR] + a->sum.outcomes[FETCH_TIMEOUT] > 0 ? FETCH_EXIT_FAILED
           : !a->input_done                                                    ? FETCH_EXIT_FAILED
                                                                               : FETCH_EXIT_DONE;
}

/* The input into the record writer. */
static int run_and_report(struct app *a, int argc, char **argv)
{
    uint64_t t0 = now_ms();
    struct fetch_input in;

    fetch_input_init(&in, a);
    if (fetch_run(a, &in.source, &a->writer.sink) != 0)
        return FETCH_EXIT_USAGE; /* the loop or the pool could not be made (said) */
    if (a->fd_refused)
        return FETCH_EXIT_USAGE; /* refused before anything started (said) */
    uint64_t run_ms = now_ms() - t0;
    return close_and_report(a, argc, argv, run_ms);
}

/* --worker: a queue job's stream into its results (and -o). */
static int run_worker(struct app *a)
{
    struct fetch_source *src;
    struct fetch_sink *sink;
    int rc = fetch_worker_open(a, &src, &sink);

    if (rc != 0)
        return rc;
    return fetch_run(a, src, sink) != 0 ? FETCH_EXIT_USAGE : fetch_worker_report(a);
}

int main(int argc, char **argv)
{
    static struct app app; /* large (the histogram): not on the stack */
    struct app *a = &app;
    char err[512];

    switch (fetch_parse_args(argc, argv, &a->o, err, sizeof err)) {
    case FETCH_HELP:
        for (const char *const *t = fetch_usage_text; *t != NULL; t++)
            fputs(*t, stdout);
        fetch_opts_free(&a->o);
        return FETCH_EXIT_DONE;
    case FETCH_VERSION:
        printf("concurio-fetch %s (libconcurio %s)\n%s\n", CIO_VERSION_STRING, cio_version(),
               cio_http_engine_version());
        fetch_opts_free(&a->o);
        return FETCH_EXIT_DONE;
    case FETCH_USAGE:
        fetch_say("%s (see --help)", err);
        fetch_opts_free(&a->o);
        return FETCH_EXIT_USAGE;
    case FETCH_RUN:
        break;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, handled as one */
    if (a->o.report != NULL) {
        int status = fetch_report_main(&a->o);
        fetch_opts_free(&a->o);
        return status;
    }
    raise_fd_limit(a);
    if (a->o.insecure)
        fetch_say("WARNING: --insecure: TLS certificates and host names are NOT verified");
    fetch_writer_init(&a->writer, a);
    if (a->o.output_dir != NULL) {
        if (fetch_bodies_open(&a->bodies, a->o.output_dir,
                              a->o.name_template != NULL ? a->o.name_template : "{id}",
                              a->o.keep_partial, a->o.qmode == FETCH_Q_WORKER, err,
                              sizeof err) != 0) {
            fetch_say("%s", err);
            fetch_opts_free(&a->o);
            return FETCH_EXIT_USAGE;
        }
        a->has_bodies = 1;
    }
    int rc = fetch_files_open(a);
    if (rc == 0 && a->copied > 0 && !a->o.quiet)
        fetch_say("%zu done records of %s copied to %s", a->copied, a->o.resume,
                  a->o.output != NULL && strcmp(a->o.output, "-") != 0 ? a->o.output
                                                                       : "standard output");
    if (rc == 0) {
        switch (a->o.qmode) {
        case FETCH_Q_ENQUEUE:
            rc = fetch_queue_enqueue(a);
            break;
        case FETCH_Q_COLLECT:
            rc = fetch_queue_collect(a);
            break;
        case FETCH_Q_WORKER:
            rc = run_worker(a);
            break;
        case FETCH_Q_NONE:
            rc = run_and_report(a, argc, argv);
            break;
        }
    }
    fetch_files_close(a);
    if (a->has_bodies)
        fetch_bodies_close(&a->bodies);
    fetch_buf_free(&a->out);
    fetch_opts_free(&a->o);
    return rc;
}
