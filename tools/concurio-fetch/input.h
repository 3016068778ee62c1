/* SPDX-License-Identifier: Apache-2.0 */
/* The input file or pipe as a source (source.h): lines from the reader; a pipe or a
 * terminal with nothing to read is watched on the loop, which never blocks on it; a
 * standard input that cannot be read ahead is checked against --resume's records line
 * by line as it comes. */
#ifndef CIO_FETCH_INPUT_H
#define CIO_FETCH_INPUT_H

#include "source.h"

struct app;
struct event;
struct event_base;

struct fetch_input {
    struct fetch_source source;
    struct app *a; /* its reader: a->rd (on a->in_fd) */
    struct event_base *base;
    struct event *ready; /* the descriptor is readable again */
};

void fetch_input_init(struct fetch_input *in, struct app *a);

#endif
