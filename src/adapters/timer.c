/* SPDX-License-Identifier: Apache-2.0 */
/* A work item that completes a number of milliseconds after it is admitted. */
#include <stdlib.h>

#include <event2/event.h>

#include "core.h"
#include "mem.h"

struct timer_work {
    struct event *ev;
    cio_task *task;
    unsigned ms;
};

static void fire(evutil_socket_t fd, short what, void *arg)
{
    struct timer_work *w = arg;

    (void)fd;
    (void)what;
    cio_task_complete(w->task, CIO_OK, NULL, 0);
}

static int timer_start(cio_task *task, void *work, struct event_base *base)
{
    struct timer_work *w = work;
    struct timeval tv = {w->ms / 1000, (w->ms % 1000) * 1000};

    w->task = task;
    w->ev = evtimer_new(base, fire, w);
    if (w->ev == NULL)
        return CIO_E_NOMEM;
    return evtimer_add(w->ev, &tv) == 0 ? CIO_OK : CIO_E_LOOP;
}

static void timer_cancel(cio_task *task, void *work)
{
    (void)task;
    evtimer_del(((struct timer_work *)work)->ev);
}

static void timer_destroy(void *work)
{
    struct timer_work *w = work;

    if (w->ev != NULL)
        event_free(w->ev);
    cio__free(w);
}

static const cio_task_vtable timer_vtable = {
    .name = "timer",
    .start = timer_start,
    .cancel = timer_cancel,
    .destroy = timer_destroy,
};

int cio_submit_timer(cio_pool *p, unsigned ms, const cio_task_opts *o, cio_task_id *id)
{
    struct timer_work *w = cio__calloc(1, sizeof *w);

    if (w == NULL)
        return CIO_E_NOMEM;
    w->ms = ms;
    int rc = cio_submit(p, &timer_vtable, w, o, id);
    if (rc != CIO_OK)
        cio__free(w);
    return rc;
}
