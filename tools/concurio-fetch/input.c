/* SPDX-License-Identifier: Apache-2.0 */
/* The input as a source (input.h). */
#define _POSIX_C_SOURCE 200809L
#include "input.h"

#include <errno.h>

#include <event2/event.h>

#include "app.h"
#include "files.h"

static int start(struct fetch_source *s, struct event_base *base, cio_pool_opts *po)
{
    (void)po;
    ((struct fetch_input *)s)->base = base;
    return 0;
}

/* A pipe or terminal has a line again: the feed goes on. */
static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct fetch_input *in = arg;

    (void)fd;
    (void)what;
    if (in->a->pool != NULL)
        cio_pool_feed_wake(in->a->pool);
}

/* Waits for the input to be readable, without blocking the loop. */
static int watch(struct fetch_input *in)
{
    if (in->ready == NULL &&
        (in->ready = event_new(in->base, in->a->in_fd, EV_READ, on_ready, in)) == NULL)
        return -1;
    if (!event_pending(in->ready, EV_READ, NULL) && event_add(in->ready, NULL) != 0)
        return -1;
    return 0;
}

static int next(struct fetch_source *s, const char **text, size_t *len, uint64_t *line)
{
    struct fetch_input *in = (struct fetch_input *)s;
    struct app *a = in->a;
    int r = fetch_reader_next(a->rd, text, len);

    if (r == FETCH_READ_WAIT) {
        if (watch(in) == 0)
            return FETCH_SRC_WAIT;
        errno = ENOMEM;
        return FETCH_SRC_ERROR;
    }
    if (r != FETCH_READ_LINE)
        return r == FETCH_READ_END ? FETCH_SRC_END : FETCH_SRC_ERROR;
    *line = a->rd->line;
    /* Standard input is not read ahead: the resume check is made as it comes. */
    if (!a->in_regular && a->samples.n > 0 && fetch_input_mismatch(a, *line, *text, *len)) {
        a->input_changed = 1;
        cio_pool_cancel(a->pool);
        return FETCH_SRC_END;
    }
    return FETCH_SRC_LINE;
}

static void stop(struct fetch_source *s)
{
    struct fetch_input *in = (struct fetch_input *)s;

    if (in->ready != NULL)
        event_free(in->ready);
    in->ready = NULL;
}

void fetch_input_init(struct fetch_input *in, struct app *a)
{
    *in = (struct fetch_input){.source = {.start = start, .next = next, .stop = stop}, .a = a};
}
