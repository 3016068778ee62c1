/* SPDX-License-Identifier: Apache-2.0 */
/* Where a run's input lines come from: the input file or pipe (input.c), or a queue
 * job's stream (worker.c). run.c drives the pool from a source into a sink (sink.h)
 * and knows neither by name. */
#ifndef CIO_FETCH_SOURCE_H
#define CIO_FETCH_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

struct event_base;

/* fetch_source.next's answers. */
enum { FETCH_SRC_ERROR = -1, FETCH_SRC_END = 0, FETCH_SRC_LINE = 1, FETCH_SRC_WAIT = 2 };

struct fetch_source {
    /* The loop is made, the pool not yet: watch what the source needs on base, and set
     * what it decides of the pool's options. 0, or -1 with a message said. */
    int (*start)(struct fetch_source *s, struct event_base *base, cio_pool_opts *po);
    /* The next line: FETCH_SRC_LINE with its text (valid until the next call; it may
     * hold NULs) and number; FETCH_SRC_END; FETCH_SRC_ERROR (errno says why); or
     * FETCH_SRC_WAIT, none yet: the source wakes the pool's feed when one comes. */
    int (*next)(struct fetch_source *s, const char **text, size_t *len, uint64_t *line);
    /* A SIGINT or SIGTERM came (NULL: nothing to do). */
    void (*signal)(struct fetch_source *s);
    /* The pool is freed: let go of the loop's events (NULL: none). */
    void (*stop)(struct fetch_source *s);
    /* 1: an item this run does not finish (its deadline, a signal) goes back to the
     * source for another run, so it gets no record here. */
    int gives_back;
};

#endif
