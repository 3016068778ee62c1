/* SPDX-License-Identifier: Apache-2.0 */
/* An item's life: start, per-item limit, and the exactly-once terminal callback. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "internal.h"
#include "mem.h"

void cio__list_push(struct cio_list *l, cio_task *t)
{
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->len++;
    t->on = l;
}

void cio__list_push_front(struct cio_list *l, cio_task *t)
{
    t->prev = NULL;
    t->next = l->head;
    if (l->head != NULL)
        l->head->prev = t;
    else
        l->tail = t;
    l->head = t;
    l->len++;
    t->on = l;
}

void cio__list_remove(cio_task *t)
{
    struct cio_list *l = t->on;

    if (l == NULL)
        return;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    l->len--;
    t->next = t->prev = NULL;
    t->on = NULL;
}

cio_task *cio__list_pop(struct cio_list *l)
{
    cio_task *t = l->head;

    if (t != NULL)
        cio__list_remove(t);
    return t;
}

cio_task *cio__task_new(cio_pool *p, const cio_task_vtable *vt, void *work, void *user,
                        unsigned timeout_ms)
{
    cio_task *t = p->spare_tasks;

    if (t != NULL) { /* an ended task, kept for the next (no allocation when steady) */
        p->spare_tasks = t->next;
        p->nspare_tasks--;
        memset(t, 0, sizeof *t);
    } else if ((t = cio__calloc(1, sizeof *t)) == NULL) {
        return NULL;
    }
    t->pool = p;
    t->vt = vt;
    t->work = work;
    t->user = user;
    t->name = vt->name != NULL ? vt->name : "task";
    if (timeout_ms == 0)
        timeout_ms = p->o.timeout_ms;
    t->timeout_ms = timeout_ms == CIO_NO_TIMEOUT ? 0 : timeout_ms;
    return t;
}

void cio__task_free(cio_task *t)
{
    cio_pool *p = t->pool;

    if (p->nspare_tasks < 2 * (size_t)p->o.max_concurrency) {
        t->next = p->spare_tasks;
        p->spare_tasks = t;
        p->nspare_tasks++;
        return;
    }
    cio__free(t);
}

void cio__task_spares_free(cio_pool *p)
{
    cio_task *t;

    while ((t = p->spare_tasks) != NULL) {
        p->spare_tasks = t->next;
        cio__free(t);
    }
    p->nspare_tasks = 0;
}

static void release(cio_task *t)
{
    if (t->timer != NULL)
        event_free(t->timer);
    if (t->retry_timer != NULL)
        event_free(t->retry_timer);
    t->vt->destroy(t->work);
    cio__task_free(t);
}

void cio__task_reap(cio_pool *p)
{
    cio_task *t;

    while ((t = cio__list_pop(&p->zombies)) != NULL)
        release(t);
}

static void fill_timings(const cio_task *t, cio_timings *tm, uint64_t now)
{
    tm->queued_ms = t->queued_total;
    tm->rate_wait_ms = t->rate_wait_total;
    tm->total_ms = now - t->submit_ms;
    tm->elapsed_ms = t->attempts > 0 ? now - t->first_start_ms : 0;
}

static void report_timeout(cio_task *t, const cio_result *given, uint64_t start, uint64_t now)
{
    cio_timeouted_task rec = {
        .id = t->id,
        .name = t->name,
        .timeout_ms = t->timeout_ms,
        .request = t->req,
        .queued_ms = t->queued_total,
        .ran_ms = now - start,
        .started_ms = start,
        .expired_ms = now,
        .task_user = t->user,
        .attempts = t->attempts,
        .budget = t->budget,
    };

    if (given != NULL)
        rec.timings = given->timings; /* the adapter's phases: connect, TLS, first byte */
    fill_timings(t, &rec.timings, now);

    t->pool->o.on_timeout(t->pool, &rec, t->pool->o.user);
}

static void report_result(cio_task *t, int code, cio_result *given, uint64_t now)
{
    cio_pool *p = t->pool;
    cio_result local = {0};
    cio_result *res = given != NULL ? given : &local;

    res->id = t->id;
    res->status = code;
    res->task_user = t->user;
    res->attempts = t->attempts;
    fill_timings(t, &res->timings, now);
    if (res->message == NULL)
        res->message = code == CIO_OK ? "" : cio_strerror(code);
    if (t->req != NULL && res->url == NULL) {
        res->url = t->req->url;
        res->method = t->req->method;
    }
    if (code == CIO_OK) {
        if (p->o.on_done != NULL)
            p->o.on_done(p, res, p->o.user);
    } else if (p->o.on_error != NULL) {
        p->o.on_error(p, res, p->o.user);
    }
}

/* Calls the one terminal callback. A timeout goes to on_error when no on_timeout is
 * set, so that nothing ends unseen; the counters still count it as a timeout. */
static void deliver(cio_task *t, int code, cio_result *given)
{
    cio_pool *p = t->pool;
    uint64_t now = cio__now_ms();
    uint64_t start = t->attempts > 0 ? t->start_ms : now;

    if (t->state == CIO_TS_ENDED && t->on == NULL && t->enqueued_ms != 0) {
        t->queued_total += now - t->enqueued_ms; /* it ended while queued */
        t->enqueued_ms = 0;
    }

    if (code == CIO_OK)
        p->st.done++;
    else if (code == CIO_E_TIMEOUT)
        p->st.timeouts++;
    else
        p->st.errors++;
    p->depth++;
    if (code == CIO_E_TIMEOUT && p->o.on_timeout != NULL)
        report_timeout(t, given, start, now);
    else
        report_result(t, code, given, now);
    p->depth--;
}

void cio__task_sent(cio_task *t, uint64_t when)
{
    cio_pool *p = t->pool;

    if (!t->held_pool && !t->held_key)
        return;
    if (t->held_pool)
        cio__lim_sent(&p->lim, when);
    if (t->held_key)
        cio__lim_sent(&t->key->lim, when);
    t->held_pool = t->held_key = 0;
    cio__pool_kick(p); /* a window slot may have come free */
}

/* The one way out: unlink, stop the work if asked, call back once, release. */
static void end(cio_task *t, int code, cio_result *res, int stop_work)
{
    cio_pool *p = t->pool;
    int was_running = t->state == CIO_TS_RUNNING;

    if (t->on == &t->key->queue)
        cio__keys_remove(&p->keys, t);
    else
        cio__list_remove(t);
    if (t->state == CIO_TS_WAITING && t->retry_timer != NULL)
        evtimer_del(t->retry_timer);
    if (was_running) /* no request went out: it counts from its end */
        cio__task_sent(t, cio__now_ms());
    t->state = CIO_TS_ENDED;
    t->key->tasks--;
    if (was_running) {
        p->in_flight--;
        t->key->in_flight--;
        if (t->timer != NULL)
            evtimer_del(t->timer);
        if (stop_work)
            t->vt->cancel(t, t->work);
    }
    p->count--;
    if (p->feed == CIO_FEED_PAUSED)
        p->feed = CIO_FEED_ACTIVE;
    p->need_dispatch = 1;
    cio__keys_release(&p->keys, t->key, cio__now_ms());
    deliver(t, code, res);
    /* The task outlives its callback until the reaper's own turn of the loop, so a
     * completion called twice, or after cancel, in the same turn is caught, and the
     * work is never destroyed while its own code (start, a callback) is on the stack. */
    cio__list_push(&p->zombies, t);
    if (p->reaper != NULL)
        event_active(p->reaper, EV_TIMEOUT, 0);
}

void cio__task_finish(cio_task *t, cio_result *res)
{
    if (t->state == CIO_TS_RUNNING)
        end(t, res->status, res, 0);
}

static void retry_due(evutil_socket_t fd, short what, void *arg)
{
    cio_task *t = arg;
    cio_pool *p = t->pool;

    (void)fd;
    (void)what;
    if (t->state != CIO_TS_WAITING || !cio__timer_due(t->retry_timer, t->retry_at))
        return;
    cio__pool_enter(p);
    cio__list_remove(t);
    t->state = CIO_TS_QUEUED;
    t->enqueued_ms = cio__now_ms();
    cio__keys_push(&p->keys, t, 1); /* it waited its turn already */
    p->need_dispatch = 1;
    cio__pool_leave(p);
}

/* The attempt is over and the task waits wait_ms, holding neither slot nor token, then
 * queues again at the front. */
static void wait_then_queue(cio_task *t, uint64_t wait_ms)
{
    cio_pool *p = t->pool;

    if (p->stopping) { /* cio_pool_stop: no new attempt */
        end(t, CIO_E_CANCELED, NULL, 0);
        return;
    }
    cio__task_sent(t, cio__now_ms()); /* an attempt whose request never went out */
    cio__list_remove(t);
    p->in_flight--;
    t->key->in_flight--;
    p->need_dispatch = 1; /* its slot is free */
    t->state = CIO_TS_WAITING;
    t->retry_at = cio__now_ms() + wait_ms;
    cio__list_push(&p->waiting, t);
    if (t->retry_timer == NULL)
        t->retry_timer = evtimer_new(p->base, retry_due, t);
    if (t->retry_timer == NULL)
        end(t, CIO_E_NOMEM, NULL, 0);
    else if (cio__timer_arm(t->retry_timer, t->retry_at) != CIO_OK)
        end(t, CIO_E_LOOP, NULL, 0);
}

void cio__task_retry(cio_task *t, uint64_t wait_ms)
{
    if (!t->pool->stopping)
        t->pool->st.retries++;
    wait_then_queue(t, wait_ms);
}

void cio__task_requeue(cio_task *t, uint64_t wait_ms)
{
    if (--t->attempts == 0) /* it never began: not an attempt */
        t->first_start_ms = 0;
    if (t->held_pool) /* nor a start of a window's */
        cio__lim_unhold(&t->pool->lim);
    if (t->held_key)
        cio__lim_unhold(&t->key->lim);
    t->held_pool = t->held_key = 0;
    wait_then_queue(t, wait_ms);
}

void cio__task_abort(cio_task *t, int code)
{
    if (t->state != CIO_TS_ENDED)
        end(t, code, NULL, 1);
}

void cio_task_complete(cio_task *t, int status, const void *data, size_t len)
{
    if (t == NULL)
        return;
    cio_pool *p = t->pool;
    if (t->state != CIO_TS_RUNNING) {
        p->st.ignored_completions++; /* twice, or after cancel: a bug in the work */
        return;
    }
    cio_result res = {.status = status > 0 ? CIO_E_ADAPTER : status};

    if (res.status == CIO_OK) {
        res.value = (void *)(uintptr_t)data;
        res.body = data != NULL ? data : "";
        res.body_len = data != NULL ? len : 0;
    } else {
        res.message = data;
    }
    cio__pool_enter(p);
    cio__task_finish(t, &res);
    cio__pool_leave(p);
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
    cio_task *t = arg;
    cio_pool *p = t->pool;

    (void)fd;
    (void)what;
    if (!cio__timer_due(t->timer, t->start_ms + t->timeout_ms))
        return;
    cio__pool_enter(p);
    cio__task_abort(t, CIO_E_TIMEOUT);
    cio__pool_leave(p);
}

void cio__task_start(cio_task *t, uint64_t now)
{
    cio_pool *p = t->pool;

    t->state = CIO_TS_RUNNING;
    t->start_ms = now;
    if (t->attempts++ == 0)
        t->first_start_ms = now;
    t->queued_total += now - t->enqueued_ms;
    t->enqueued_ms = 0;
    if (t->rate_wait_from != 0) {
        t->rate_wait_total += now - t->rate_wait_from;
        t->rate_wait_from = 0;
    }
    cio__list_push(&p->running, t);
    p->in_flight++;
    t->key->in_flight++;
    if (p->o.flags & CIO_ADAPTIVE)
        cio__keys_started(t->key, now);
    p->st.started++;
    if (p->in_flight > p->st.max_in_flight)
        p->st.max_in_flight = p->in_flight;

    int rc = t->vt->start(t, t->work, p->base);
    if (t->state == CIO_TS_ENDED) /* it completed inside start */
        return;
    if (rc < 0) {
        end(t, rc, NULL, 0);
        return;
    }
    if (t->timeout_ms > 0 && !t->self_timed) {
        t->timer = evtimer_new(p->base, timer_fired, t);
        if (t->timer == NULL || cio__timer_arm(t->timer, now + t->timeout_ms) != CIO_OK)
            cio__task_abort(t, CIO_E_LOOP);
    }
}
