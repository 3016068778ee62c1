/* SPDX-License-Identifier: Apache-2.0 */
/* The record writer, a sink (sink.h): records to the output descriptor, gathered into
 * one write() per loop turn; a write error stops the run and nothing more is written. */
#ifndef CIO_FETCH_WRITER_H
#define CIO_FETCH_WRITER_H

#include <stddef.h>

#include "output.h"
#include "sink.h"

struct app;
struct event;

struct fetch_writer {
    struct fetch_sink sink;
    struct app *a; /* its output: a->out_fd, a->out (the records waiting), a->out_errno */
    struct event *flusher;
    struct fetch_buf json; /* with --fields or --format: a record before it is formatted */
};

void fetch_writer_init(struct fetch_writer *w, struct app *a);
/* One record's JSON text as it stands (without its newline), e.g. queue mode's. 0, or
 * an errno (the run is then canceled). */
int fetch_writer_add(struct fetch_writer *w, const char *json, size_t len);

#endif
