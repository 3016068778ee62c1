/* SPDX-License-Identifier: Apache-2.0 */
/* One run of concurio-fetch: main.c sets it up, picks its source and sink and reports;
 * run.c drives the pool from the source into the sink. */
#ifndef CIO_FETCH_APP_H
#define CIO_FETCH_APP_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

#include <sys/types.h>

#include "bodies.h"
#include "live.h"
#include "options.h"
#include "output.h"
#include "prior.h"
#include "reader.h"
#include "resume.h"
#include "say.h"
#include "sink.h"
#include "source.h"
#include "summary.h"
#include "writer.h"

struct event_base;
struct event;

struct app {
    struct fetch_opts o;
    struct event_base *base;
    cio_pool *pool;
    struct event *sigint, *sigterm, *grace;
    struct event *trim;       /* malloc_trim while transfer threads run (run.c), or NULL */
    struct fetch_source *src; /* the run's (fetch_run) */
    struct fetch_sink *sink;
    struct fetch_live live;     /* the requests not ended */
    struct fetch_writer writer; /* records to out_fd */
    struct fetch_buf out;       /* records not yet written */
    struct fetch_reader *rd;
    struct fetch_bodies bodies; /* --output-dir */
    int has_bodies;
    int jar_failed; /* --cookie-jar could not be written (said) */
    int in_fd;
    int in_regular; /* the input is a regular file: counts are exact */
    int input_done; /* read to its end */
    int read_errno; /* reading the input failed */
    char *data;     /* -d, read from @FILE if so */
    size_t data_len;
    const char **headers; /* -H lines, those of -H @FILE included; NULL-terminated */
    size_t nheaders;
    char **header_files; /* the text of each -H @FILE, which headers point into */
    size_t nheader_files;
    const char *method; /* of plain-URL lines: -X, else POST with -d, else GET */
    /* --resume: the lines done already, a sample of their URLs, the file itself */
    struct fetch_lines done;
    struct fetch_samples samples;
    struct fetch_prior_info prior;
    int has_prior;
    dev_t prior_dev;
    ino_t prior_ino;
    size_t copied;        /* done records copied from --resume into another output */
    struct fetch_ids ids; /* explicit ids seen, to report one used twice */
    uint64_t dup_ids;
    int input_changed; /* the input is not the one --resume's records are of: stopped */
    int fd_refused;    /* the descriptor limit leaves no room for a request: refused */
    int fds_checked;
    int out_fd, out_tty, meter_tty;
    int out_errno;        /* writing a record failed: nothing more is written */
    uint64_t expected;    /* the meter's total */
    uint64_t not_started; /* submitted, then stopped by a signal before starting */
    uint64_t resumed;     /* skipped: done in the --resume file */
    uint64_t deadline_errors;
    int signals; /* SIGINT/SIGTERM seen */
    struct fetch_summary sum;
};

/* Runs the whole source through the pool into the sink; returns when every item has
 * ended. 0, or -1 when the loop could not be set up (a message was printed). */
int fetch_run(struct app *a, struct fetch_source *src, struct fetch_sink *sink);

#endif
