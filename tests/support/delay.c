/* SPDX-License-Identifier: Apache-2.0 */
/* The delay work item of the tests: start, cancel, destroy, complete once. */
#define _POSIX_C_SOURCE 200809L
#include "delay.h"
#include "clock.h"

#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

struct delay {
    struct event *ev;
    cio_task *task;
    int ms;
    int fails;         /* attempts still to fail with cio_task_retry; < 0: every one */
    unsigned after_ms; /* what those ask to wait */
};

int delay_running, delay_max_running, delay_destroyed;
uint64_t delay_starts_ms[20000];
int delay_nstarts;

void delay_reset(void)
{
    delay_running = delay_max_running = delay_destroyed = delay_nstarts = 0;
}

static void fire(evutil_socket_t fd, short what, void *arg)
{
    struct delay *d = arg;

    (void)fd;
    (void)what;
    delay_running--;
    if (d->fails != 0) {
        d->fails -= d->fails > 0;
        cio_task_retry(d->task, CIO_E_ADAPTER, d->after_ms, "flaky"); /* may free it all */
        return;
    }
    cio_task_complete(d->task, CIO_OK, NULL, 0); /* may free it all */
}

static int start(cio_task *task, void *work, struct event_base *base)
{
    struct delay *d = work;

    d->task = task;
    if (delay_nstarts < 20000)
        delay_starts_ms[delay_nstarts++] = test_now_ms();
    if (++delay_running > delay_max_running)
        delay_max_running = delay_running;
    if (d->ms == 0) {
        delay_running--;
        cio_task_complete(task, CIO_OK, NULL, 0);
        return CIO_OK;
    }
    if (d->ev == NULL) /* made by the first attempt, reused by the next ones */
        d->ev = evtimer_new(base, fire, d);
    if (d->ev == NULL)
        return CIO_E_NOMEM;
    if (d->ms < 0)
        return CIO_OK;
    struct timeval tv = {d->ms / 1000, (d->ms % 1000) * 1000};
    return evtimer_add(d->ev, &tv) == 0 ? CIO_OK : CIO_E_LOOP;
}

static void cancel(cio_task *task, void *work)
{
    struct delay *d = work;

    (void)task;
    delay_running--;
    evtimer_del(d->ev);
}

static void destroy(void *work)
{
    struct delay *d = work;

    if (d->ev != NULL)
        event_free(d->ev);
    free(d);
    delay_destroyed++;
}

const cio_task_vtable delay_vtable = {
    .name = "delay",
    .start = start,
    .cancel = cancel,
    .destroy = destroy,
};

void *delay_new(int ms)
{
    return delay_new_flaky(ms, 0, 0);
}

void *delay_new_flaky(int ms, int fails, unsigned after_ms)
{
    struct delay *d = calloc(1, sizeof *d);

    if (d != NULL) {
        d->ms = ms;
        d->fails = fails;
        d->after_ms = after_ms;
    }
    return d;
}
