/* SPDX-License-Identifier: Apache-2.0 */
/* One run of concurio-fetch: main.c sets it up and reports, run.c drives the pool. */
#ifndef CIO_FETCH_APP_H
#define CIO_FETCH_APP_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

#include "options.h"
#include "output.h"
#include "reader.h"
#include "resume.h"
#include "summary.h"

struct event_base;
struct event;
struct item;
struct fetch_worker;

struct app {
    struct fetch_opts o;
    struct event_base *base;
    cio_pool *pool;
    struct event *sigint, *sigterm, *grace, *flusher;
    struct fetch_buf out;     /* records not yet written */
    struct item *spare_items; /* run.c's per-item state, kept for reuse */
    struct fetch_reader *rd;
    int in_regular; /* the input is a regular file: counts are exact */
    int input_done; /* read to its end */
    int read_errno; /* reading the input failed */
    char *data;     /* -d, read from @FILE if so */
    size_t data_len;
    const char *method;          /* of plain-URL lines: -X, else POST with -d, else GET */
    struct fetch_idset done_ids; /* --resume */
    int out_fd, out_tty, meter_tty;
    int out_errno;        /* writing a record failed: nothing more is written */
    uint64_t expected;    /* the meter's total */
    uint64_t not_started; /* submitted, then stopped by a signal before starting */
    uint64_t resumed;     /* skipped: done in the --resume file */
    uint64_t deadline_errors;
    int signals; /* SIGINT/SIGTERM seen */
    struct fetch_summary sum;
    struct fetch_worker *worker; /* --queue ... --worker: items come from Redis */
    struct item *live;           /* items submitted and not ended */
};

/* Runs the whole input through the pool; returns when every item has ended. 0, or -1
 * when the loop could not be set up (a message was printed). */
int fetch_run(struct app *a);

/* Queue mode: cancels the item of input line `line` without a record (another worker
 * took it over); the lines of the items in flight, at most max. */
void fetch_run_abandon(struct app *a, uint64_t line);
size_t fetch_run_live_lines(struct app *a, uint64_t *out, size_t max);
/* Writes the records waiting in a->out. */
void fetch_run_flush(struct app *a);

/* Writes all of buf to fd; 0 or an errno. */
int fetch_write_all(int fd, const char *buf, size_t len);
/* The same, saying in *done how much went out (all of it, or what did before the error). */
int fetch_write_counted(int fd, const char *buf, size_t len, size_t *done);
/* A message on stderr, prefixed "concurio-fetch: " and ended with a newline. */
void fetch_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
