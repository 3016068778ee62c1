/* SPDX-License-Identifier: Apache-2.0 */
/* An item's life: start, the outcome of each attempt, retries and budget, the attempt's
 * limit when the engine does not enforce it, and the exactly-once terminal callback. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "fds.h"
#include "guard.h"
#include "keys.h"
#include "mem.h"
#include "retry.h"
#include "task.h"

/* ---- made and freed ----------------------------------------------------------------- */

/* The item's policy: its own (copied, statuses too), or the pool's (shared). */
static int own_policy(cio_task *t, const cio_retry *r)
{
    cio_pool *p = t->pool;

    if (r == NULL) {
        t->retry = p->o.retry; /* its statuses are the pool's copy */
        return CIO_OK;
    }
    t->retry = *r;
    if (r->statuses == NULL || r->nstatuses == 0) {
        t->retry.statuses = NULL;
        t->retry.nstatuses = 0;
        return CIO_OK;
    }
    t->retry_statuses = cio__malloc(r->nstatuses * sizeof *t->retry_statuses);
    if (t->retry_statuses == NULL)
        return CIO_E_NOMEM;
    memcpy(t->retry_statuses, r->statuses, r->nstatuses * sizeof *t->retry_statuses);
    t->retry.statuses = t->retry_statuses;
    return CIO_OK;
}

cio_task *cio__task_new(cio_pool *p, const cio_item *item)
{
    struct cio_node *n = cio_list_pop(&p->spares);
    cio_task *t;

    if (n != NULL) { /* an ended task, kept for the next (no allocation when steady) */
        t = cio_list_entry(n, cio_task, node);
        p->nspares--;
        memset(t, 0, sizeof *t);
    } else if ((t = cio__calloc(1, sizeof *t)) == NULL) {
        return NULL;
    }
    cio_list_init(&t->node);
    t->pool = p;
    t->engine = item->engine;
    t->vt = item->vt;
    t->work = item->work;
    t->user = item->user;
    t->name = item->label != NULL ? item->label : item->vt->name != NULL ? item->vt->name : "task";
    t->req = item->req;
    t->self_timed = item->self_timed;
    t->reports_sent = item->reports_sent;
    unsigned timeout_ms = item->timeout_ms != 0 ? item->timeout_ms : p->o.timeout_ms;
    t->timeout_ms = timeout_ms == CIO_NO_TIMEOUT ? 0 : timeout_ms;
    if (own_policy(t, item->retry) != CIO_OK) {
        cio__task_free(t);
        return NULL;
    }
    return t;
}

void cio__task_free(cio_task *t)
{
    cio_pool *p = t->pool;

    cio__free(t->retry_statuses);
    t->retry_statuses = NULL;
    if (p->nspares < 2 * (size_t)p->o.max_concurrency) {
        cio_list_push_front(&p->spares, &t->node);
        p->nspares++;
        return;
    }
    cio__free(t);
}

void cio__task_spares_free(cio_pool *p)
{
    struct cio_node *n;

    while ((n = cio_list_pop(&p->spares)) != NULL)
        cio__free(cio_list_entry(n, cio_task, node));
    p->nspares = 0;
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
    struct cio_node *n;

    while ((n = cio_list_pop(&p->zombies)) != NULL)
        release(cio_list_entry(n, cio_task, node));
}

/* ---- the terminal callback ---------------------------------------------------------- */

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
        rec.timings = given->timings; /* the engine's phases: connect, TLS, first byte */
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

    if (t->enqueued_ms != 0) {
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

/* Takes t off the list it is on. */
static void unlink_task(cio_task *t)
{
    if (t->where == CIO_AT_QUEUE)
        cio__keys_remove(&t->pool->keys, t);
    else
        cio_list_remove(&t->node);
    t->where = CIO_AT_NONE;
}

/* The slot and key share of an attempt that is over. */
static void free_slot(cio_task *t)
{
    cio_pool *p = t->pool;

    p->in_flight--;
    t->key->in_flight--;
    if (t->timer != NULL)
        evtimer_del(t->timer);
    cio__guard_dispatch_soon(p); /* its slot is free */
}

/* The one way out: unlink, stop the work if asked, call back once, release. */
static void end(cio_task *t, int code, cio_result *res, int stop_work)
{
    cio_pool *p = t->pool;
    int was_running = t->state == CIO_TS_RUNNING;

    unlink_task(t);
    if (t->state == CIO_TS_WAITING && t->retry_timer != NULL)
        evtimer_del(t->retry_timer);
    if (was_running) /* no request went out: it counts from its end */
        cio__task_sent(t, cio__now_ms());
    t->state = CIO_TS_ENDED;
    t->key->tasks--;
    if (was_running) {
        free_slot(t);
        if (stop_work)
            t->vt->cancel(t, t->work);
    }
    p->count--;
    if (p->feed == CIO_FEED_PAUSED)
        p->feed = CIO_FEED_ACTIVE;
    cio__guard_dispatch_soon(p);
    cio__keys_release(&p->keys, t->key, cio__now_ms());
    deliver(t, code, res);
    /* The task outlives its callback until the reaper's own turn of the loop, so a
     * report made twice, or after cancel, in the same turn is caught, and the work is
     * never destroyed while its own code (start, a callback) is on the stack. */
    cio_list_push_back(&p->zombies, &t->node);
    t->where = CIO_AT_ZOMBIES;
    if (p->reaper != NULL)
        event_active(p->reaper, EV_TIMEOUT, 0);
}

void cio__task_abort(cio_task *t, int code)
{
    if (t->state != CIO_TS_ENDED)
        end(t, code, NULL, 1);
}

/* ---- between attempts ------------------------------------------------------------- */

static void retry_due(evutil_socket_t fd, short what, void *arg)
{
    cio_task *t = arg;
    cio_pool *p = t->pool;

    (void)fd;
    (void)what;
    if (t->state != CIO_TS_WAITING || !cio__clock_due(t->retry_timer, t->retry_at))
        return;
    cio__pool_enter(p);
    unlink_task(t);
    t->state = CIO_TS_QUEUED;
    t->enqueued_ms = cio__now_ms();
    cio__keys_push(&p->keys, t, 1); /* it waited its turn already */
    t->where = CIO_AT_QUEUE;
    cio__guard_dispatch_soon(p);
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
    unlink_task(t);
    free_slot(t);
    t->state = CIO_TS_WAITING;
    t->retry_at = cio__now_ms() + wait_ms;
    cio_list_push_back(&p->waiting, &t->node);
    t->where = CIO_AT_WAITING;
    if (t->retry_timer == NULL)
        t->retry_timer = evtimer_new(p->base, retry_due, t);
    if (t->retry_timer == NULL)
        end(t, CIO_E_NOMEM, NULL, 0);
    else if (cio__clock_arm(t->retry_timer, t->retry_at) != CIO_OK)
        end(t, CIO_E_LOOP, NULL, 0);
}

/* The attempt could not begin for want of a descriptor: not an attempt, nor a start of
 * a window's. */
static void requeue(cio_task *t, uint64_t wait_ms)
{
    if (--t->attempts == 0)
        t->first_start_ms = 0;
    if (t->held_pool)
        cio__lim_unhold(&t->pool->lim);
    if (t->held_key)
        cio__lim_unhold(&t->key->lim);
    t->held_pool = t->held_key = 0;
    wait_then_queue(t, wait_ms);
}

/* ---- outcomes ----------------------------------------------------------------------- */

/* Decides what follows an attempt: another, a requeue, or the end. */
static void attempt_over(cio_task *t, const cio_outcome *o, cio_result *res)
{
    cio_pool *p = t->pool;
    uint64_t now = cio__now_ms();
    char why[160];

    p->st.connects += o->connects;
    if (o->no_fd) { /* back-pressure, not a failure: fewer at once, and this one later */
        int64_t wait = cio__fds_short(p);
        if (wait >= 0) {
            requeue(t, (uint64_t)wait);
            return;
        }
        res->status = CIO_E_NOFD;
        res->message = "no file descriptor for a socket: RLIMIT_NOFILE is used up by "
                       "descriptors the pool has no transfer of its own to wait for";
        end(t, res->status, res, 0);
        return;
    }
    if (o->fd_ok)
        cio__fds_ok(p);
    if ((p->o.flags & CIO_ADAPTIVE) && (o->throttled || o->pause_ms > 0) &&
        cio__keys_throttled(t->key, now, o->throttled, o->pause_ms, cio__rate_minute(&p->o.rate)))
        p->st.throttles++;
    const cio_retry *policy = &t->retry;
    int64_t wait = cio__retry_wait(policy, t->attempts, res->status, res->http_status, o->retryable,
                                   o->retry_after_ms, cio__retry_rand(&p->rand_state));
    if (wait >= 0 && policy->budget_ms != 0 &&
        now + (uint64_t)wait >= t->first_start_ms + policy->budget_ms)
        wait = CIO_RETRY_STOP; /* the next attempt could not start within the budget */
    if (wait >= 0) {
        if (!p->stopping)
            p->st.retries++;
        wait_then_queue(t, (uint64_t)wait);
        return;
    }
    /* Which limit expired: the engine's own (connect), the item's budget, or the
     * attempt's own. */
    if (res->status == CIO_E_TIMEOUT) {
        if (o->budget == CIO_BUDGET_CONNECT) {
            t->budget = CIO_BUDGET_CONNECT;
            t->timeout_ms = o->budget_ms;
        } else if (t->item_limited) {
            t->budget = CIO_BUDGET_ITEM;
            t->timeout_ms = policy->budget_ms;
        } else {
            t->budget = CIO_BUDGET_ATTEMPT;
        }
    }
    if (wait == CIO_RETRY_TOO_LATE) {
        unsigned max = policy->max_wait_ms != 0 ? policy->max_wait_ms : CIO_RETRY_MAX_WAIT_MS;
        if (res->http_status != 0)
            snprintf(why, sizeof why,
                     "HTTP %ld with Retry-After of %lld s, more than the %u ms "
                     "allowed to wait",
                     res->http_status, (long long)(o->retry_after_ms / 1000), max);
        else
            snprintf(why, sizeof why,
                     "asked to retry after %lld ms, more than the %u ms allowed "
                     "to wait",
                     (long long)o->retry_after_ms, max);
        res->status = CIO_E_RETRY_AFTER;
        res->message = why;
    } else if (o->exhausted_status != 0 &&
               (res->status == CIO_OK || res->status == o->exhausted_status) &&
               cio__retry_retries(policy, res->status, res->http_status, o->retryable)) {
        /* A result the policy retries, still the answer as the attempts ran out: the item
         * failed, it did not get a result. */
        snprintf(why, sizeof why, "status %ld after %u attempts: retries exhausted",
                 res->http_status, t->attempts);
        res->status = o->exhausted_status;
        res->message = why;
    }
    end(t, res->status, res, 0);
}

void cio__task_outcome(cio_task *t, const cio_outcome *o)
{
    cio_result local = {0};

    if (t->state != CIO_TS_RUNNING) {
        t->pool->st.ignored_completions++; /* twice, or after cancel: a bug in the work */
        return;
    }
    attempt_over(t, o, o->res != NULL ? o->res : &local);
}

void cio_task_complete(cio_task *t, int status, const void *data, size_t len)
{
    if (t == NULL)
        return;
    cio_pool *p = t->pool;
    cio_result res = {.status = status > 0 ? CIO_E_ADAPTER : status};

    if (res.status == CIO_OK) {
        res.value = (void *)(uintptr_t)data;
        res.body = data != NULL ? data : "";
        res.body_len = data != NULL ? len : 0;
    } else {
        res.message = data;
    }
    cio_outcome o = {.res = &res, .retry_after_ms = -1};
    cio__pool_enter(p);
    cio__task_outcome(t, &o);
    cio__pool_leave(p);
}

void cio_task_retry(cio_task *t, int status, unsigned after_ms, const char *message)
{
    if (t == NULL)
        return;
    cio_pool *p = t->pool;
    cio_result res = {.status = status < 0 ? status : CIO_E_ADAPTER, .message = message};
    cio_outcome o = {
        .res = &res, .retryable = 1, .retry_after_ms = after_ms > 0 ? (int64_t)after_ms : -1};

    cio__pool_enter(p);
    cio__task_outcome(t, &o);
    cio__pool_leave(p);
}

/* ---- an attempt --------------------------------------------------------------------- */

/* The attempt's own limit, which the core enforces for engines that do not. */
static void limit_fired(evutil_socket_t fd, short what, void *arg)
{
    cio_task *t = arg;
    cio_pool *p = t->pool;

    (void)fd;
    (void)what;
    if (t->state != CIO_TS_RUNNING || !cio__clock_due(t->timer, t->start_ms + t->limit_ms))
        return;
    cio__pool_enter(p);
    t->vt->cancel(t, t->work); /* stopped here: a retry starts it again */
    cio_result res = {.status = CIO_E_TIMEOUT};
    cio_outcome o = {.res = &res, .retry_after_ms = -1};
    attempt_over(t, &o, &res);
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
    cio_list_push_back(&p->running, &t->node);
    t->where = CIO_AT_RUNNING;
    p->in_flight++;
    t->key->in_flight++;
    if (p->o.flags & CIO_ADAPTIVE)
        cio__keys_started(t->key, now);
    p->st.started++;
    if (p->in_flight > p->st.max_in_flight)
        p->st.max_in_flight = p->in_flight;
    /* The attempt's limit: its timeout, or what is left of the item's budget if sooner. */
    unsigned limit = t->timeout_ms, budget = t->retry.budget_ms;
    t->item_limited = 0;
    if (budget != 0) {
        uint64_t used = now - t->first_start_ms;
        unsigned left = used < budget ? (unsigned)(budget - used) : 1;
        if (limit == 0 || left < limit) {
            limit = left;
            t->item_limited = 1;
        }
    }
    t->limit_ms = limit;

    int rc = t->vt->start(t, t->work, p->base);
    if (t->state != CIO_TS_RUNNING)
        return; /* it ended, or asked for another attempt, inside start */
    if (rc < 0) {
        end(t, rc, NULL, 0);
        return;
    }
    if (limit > 0 && !t->self_timed) {
        if (t->timer == NULL)
            t->timer = evtimer_new(p->base, limit_fired, t);
        if (t->timer == NULL || cio__clock_arm(t->timer, now + limit) != CIO_OK)
            cio__task_abort(t, CIO_E_LOOP);
    }
}

/* ---- what engines learn of an attempt ----------------------------------------------- */

unsigned cio__task_limit_ms(const cio_task *t)
{
    return t->limit_ms;
}

int cio__task_wants_sent(const cio_task *t)
{
    return t->held_pool || t->held_key;
}

int cio__task_running(const cio_task *t)
{
    return t->state == CIO_TS_RUNNING;
}

cio_pool *cio__task_pool(const cio_task *t)
{
    return t->pool;
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
