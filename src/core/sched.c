/* SPDX-License-Identifier: Apache-2.0 */
/* Admission, feeding, the run's timers and phases. Which engine an item belongs to is
 * asked through the engine's table only. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "fds.h"
#include "guard.h"
#include "keys.h"
#include "sched.h"
#include "task.h"

#define FEED_LOOKAHEAD_MIN 64u

/* ---- the meter ------------------------------------------------------------------------ */

/* Hands the meter a snapshot of this run. */
static void report(cio_pool *p, int final)
{
    cio_progress pr = {
        .total = p->o.expected,
        .done = p->st.done - p->done0,
        .errors = p->st.errors - p->errors0,
        .timeouts = p->st.timeouts - p->timeouts0,
        .in_flight = p->in_flight,
        .queued = p->keys.queued,
        .final = final,
        .held = p->keys.queued > 0 ? p->held : 0,
    };
    const struct cio_node *n;

    cio_list_each(n, &p->waiting) pr.retrying++;

    cio__meter_sample(&p->meter, cio__now_ms(), p->st.done + p->st.errors + p->st.timeouts, &pr);
    if (p->o.progress_fd > 0)
        cio__meter_draw(p->o.progress_fd, p->meter_line, &pr, p->o.progress_desc);
    if (p->o.on_progress != NULL) {
        p->depth++;
        p->o.on_progress(p, &pr, p->o.user);
        p->depth--;
    }
}

static void ev_progress(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    cio__pool_enter(p);
    if (p->phase && !p->closing)
        report(p, 0);
    cio__pool_leave(p);
}

/* The meter's timer, for a run that begins or goes on. */
static void arm_progress(cio_pool *p)
{
    unsigned ms = p->o.progress_ms != 0                    ? p->o.progress_ms
                  : p->o.progress_fd > 0 && !p->meter_line ? 10000
                                                           : 250;
    if (p->meter_line && ms < 100)
        ms = 100; /* a terminal line is redrawn at most 10 times a second */
    struct timeval every = {ms / 1000, (ms % 1000) * 1000};
    event_add(p->progress_timer, &every);
}

/* ---- bulk ends: cancel-all, the deadline, the free ------------------------------------- */

/* Sets t aside in `ending`, where cio_cancel finds it (its state says what it holds). */
static void set_aside(cio_pool *p, cio_task *t)
{
    if (t->where == CIO_AT_QUEUE)
        cio__keys_remove(&p->keys, t);
    else
        cio_list_remove(&t->node);
    cio_list_push_back(&p->ending, &t->node);
    t->where = CIO_AT_ENDING;
}

static void set_all_aside(cio_pool *p, struct cio_node *list)
{
    struct cio_node *n;

    while ((n = cio_list_first(list)) != NULL)
        set_aside(p, cio_list_entry(n, cio_task, node));
}

size_t cio__sched_end_all(cio_pool *p, int code, int running)
{
    struct cio_node *n;
    size_t ended = 0;

    if (running)
        set_all_aside(p, &p->running);
    while (p->keys.cursor != NULL)
        set_aside(p, cio_list_entry(p->keys.cursor->queue.next, cio_task, node));
    set_all_aside(p, &p->waiting);
    while ((n = cio_list_first(&p->ending)) != NULL) {
        cio__task_abort(cio_list_entry(n, cio_task, node), code);
        ended++;
    }
    return ended;
}

/* ---- timers ------------------------------------------------------------------------- */

static void ev_rate(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    cio__pool_enter(p);
    cio__guard_dispatch_soon(p);
    cio__pool_leave(p);
}

static void ev_deadline(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    if (!cio__clock_due(p->deadline_timer, p->deadline_at))
        return;
    cio__pool_enter(p);
    if (p->phase) {
        p->expired = 1;
        p->phase_rc = CIO_E_DEADLINE;
        p->feed = CIO_FEED_NONE;
        cio__sched_end_all(p, CIO_E_DEADLINE, 1);
        cio__guard_dispatch_soon(p);
    }
    cio__pool_leave(p);
}

int cio__sched_events(cio_pool *p)
{
    if (p->rate_timer == NULL)
        p->rate_timer = evtimer_new(p->base, ev_rate, p);
    if (p->deadline_timer == NULL)
        p->deadline_timer = evtimer_new(p->base, ev_deadline, p);
    int meter = p->o.on_progress != NULL || p->o.progress_fd > 0;
    if (meter && p->progress_timer == NULL)
        p->progress_timer = event_new(p->base, -1, EV_PERSIST, ev_progress, p);
    return p->rate_timer && p->deadline_timer && (!meter || p->progress_timer) ? CIO_OK
                                                                               : CIO_E_NOMEM;
}

void cio__sched_events_free(cio_pool *p)
{
    struct event *evs[] = {p->rate_timer, p->deadline_timer, p->progress_timer};

    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    p->rate_timer = p->deadline_timer = p->progress_timer = NULL;
}

/* ---- phases --------------------------------------------------------------------------- */

void cio__sched_begin(cio_pool *p)
{
    if (p->progress_timer != NULL) {
        p->done0 = p->st.done;
        p->errors0 = p->st.errors;
        p->timeouts0 = p->st.timeouts;
        cio__meter_reset(&p->meter, cio__now_ms(), p->done0 + p->errors0 + p->timeouts0);
        arm_progress(p);
    }
    p->phase = 1;
    p->fd_stale = 1; /* counted at the first admission, when the engines are there */
    p->expired = 0;
    p->phase_rc = CIO_OK;
    p->feed = p->o.on_feed != NULL ? CIO_FEED_ACTIVE : CIO_FEED_NONE;
    if (p->o.deadline_ms > 0) {
        p->deadline_at = cio__now_ms() + p->o.deadline_ms;
        cio__clock_arm(p->deadline_timer, p->deadline_at);
    }
    cio__pool_kick(p);
}

/* Every item has ended: the final snapshot, then on_drained. Items that on_drained
 * submits belong to this run, which goes on (and drains again); otherwise it ends. */
static void end_phase(cio_pool *p)
{
    p->stopping = 0;
    evtimer_del(p->deadline_timer);
    evtimer_del(p->rate_timer);
    if (p->progress_timer != NULL) {
        event_del(p->progress_timer);
        report(p, 1);
    }
    if (p->o.on_drained != NULL && !p->closing) {
        p->depth++;
        p->o.on_drained(p, p->o.user);
        p->depth--;
        if (!p->closing && p->count > 0) {
            if (p->progress_timer != NULL)
                arm_progress(p);
            if (p->o.deadline_ms > 0 && !p->expired)
                cio__clock_arm(p->deadline_timer, p->deadline_at);
            cio__guard_dispatch_soon(p);
            return;
        }
    }
    p->phase = 0;
    if (p->in_run)
        event_base_loopbreak(p->base);
}

/* ---- feeding ------------------------------------------------------------------------- */

/* How many items a feeder keeps queued: more than a run of slots, so that the keys
 * further down the input are in the queue and get their share while a slow key holds
 * its slots; still bounded by the concurrency. */
static size_t feed_target(const cio_pool *p)
{
    size_t c = p->o.max_concurrency;

    return 2 * c > FEED_LOOKAHEAD_MIN ? 2 * c : FEED_LOOKAHEAD_MIN;
}

static void feed(cio_pool *p)
{
    size_t target = feed_target(p);

    while (p->feed == CIO_FEED_ACTIVE && p->keys.queued < target && !p->closing) {
        uint64_t before = p->st.submitted;

        p->depth++;
        p->feeding = 1;
        p->feed_again = 0;
        int r = p->o.on_feed(p, target - p->keys.queued, p->o.user);
        p->feeding = 0;
        p->depth--;
        if (r != CIO_FEED_MORE) {
            p->feed = p->feed == CIO_FEED_ACTIVE ? CIO_FEED_NONE : p->feed;
        } else if (p->st.submitted == before && p->feed_again) {
            /* Nothing yet, but more soon (a feeder that skipped lines): the next turn,
             * even with nothing in flight whose end would call it again. */
            cio__guard_next_turn(p);
            break;
        } else if (p->st.submitted == before) {
            p->feed = CIO_FEED_PAUSED;
        }
    }
}

void cio_pool_feed_wake(cio_pool *p)
{
    if (p != NULL && p->feed == CIO_FEED_PAUSED) {
        p->feed = CIO_FEED_ACTIVE;
        cio__pool_kick(p);
    } else if (p != NULL && p->feeding) {
        p->feed_again = 1; /* from inside on_feed: it is not paused yet */
    }
}

/* ---- a shared limiter's slots -------------------------------------------------------- */

/* Asks the limiter for what could start and is not asked for yet. */
static void ask_shared(cio_pool *p, size_t cap)
{
    size_t room = cap > p->in_flight ? cap - p->in_flight : 0;
    size_t want = p->keys.queued < room ? p->keys.queued : room;
    size_t have = (size_t)p->g_n + p->g_asked;

    if (want > have && p->base != NULL) {
        unsigned n = (unsigned)(want - have);
        p->g_asked += n;
        if (p->o.limiter->reserve(p->o.limiter_arg, p, p->base, n) != CIO_OK) {
            p->g_asked -= n;
            cio__guard_next_turn(p); /* could not ask (no memory): again next turn */
        }
    }
}

/* The first slot held is used or dropped. */
static void pop_grant(cio_pool *p)
{
    p->g_head = (p->g_head + 1) % p->o.max_concurrency;
    p->g_n--;
}

/* How long until the next slot, dropping those too late to use; UINT64_MAX: none held. */
static uint64_t shared_wait(cio_pool *p, uint64_t now)
{
    while (p->g_n > 0 && p->grants[p->g_head].latest < now) {
        pop_grant(p);
        p->st.slots_dropped++;
    }
    if (p->g_n == 0)
        return UINT64_MAX;
    uint64_t at = p->grants[p->g_head].at;
    return at > now ? at - now : 0;
}

void cio_pool_grant(cio_pool *p, uint64_t wait_ms, unsigned late_ms)
{
    if (p == NULL || p->closing || p->o.limiter == NULL)
        return;
    if (p->g_asked > 0)
        p->g_asked--;
    if (p->g_n == p->o.max_concurrency)
        return; /* more than asked for: not kept */
    uint64_t at = cio__now_ms() + wait_ms;
    struct cio_grant *g = &p->grants[(p->g_head + p->g_n) % p->o.max_concurrency];
    g->at = at;
    g->latest = at + late_ms;
    p->g_n++;
    cio__pool_kick(p);
}

/* ---- admission -------------------------------------------------------------------------- */

/* Whether an item's engine lets it start now (a free worker thread). */
static int engine_ready(const cio_task *t, void *arg)
{
    (void)arg;
    return t->engine == NULL || t->engine->ops->ready == NULL ||
           t->engine->ops->ready(t->engine->state, t);
}

static void mark_rate_wait(cio_task *t, void *arg)
{
    uint64_t now = *(const uint64_t *)arg;

    if (t->rate_wait_from == 0)
        t->rate_wait_from = now;
}

/* Starts what may start: a global slot and token, and its key's slot and token, all at
 * once. Otherwise the rate timer is armed for the first token that could unblock it;
 * with only caps (or busy workers) in the way, the next end dispatches again. */
static void admit(cio_pool *p)
{
    if (p->fd_stale) {
        p->fd_stale = 0;
        p->fd_cap = cio__fds_cap(p);
    }
    size_t cap =
        p->fd_cap != 0 && p->fd_cap < p->o.max_concurrency ? p->fd_cap : p->o.max_concurrency;

    p->held = 0; /* the caps, or nothing */
    while (p->keys.queued > 0 && p->in_flight < cap && !p->closing) {
        uint64_t now = cio__now_ms();
        uint64_t wait = cio__lim_wait(&p->lim, now);

        p->held = wait > 0 ? CIO_HELD_RATE : 0;
        if (wait == 0 && p->o.limiter != NULL) {
            ask_shared(p, cap);
            if ((wait = shared_wait(p, now)) == UINT64_MAX) {
                p->held = CIO_HELD_RATE;
                return; /* the next slot kicks a dispatch */
            }
            p->held = wait > 0 ? CIO_HELD_RATE : 0;
        }
        if (wait == 0) {
            cio_task *t = cio__keys_next(&p->keys, now, engine_ready, NULL, cap, &wait);
            if (t != NULL) {
                t->where = CIO_AT_NONE;
                if (t->reports_sent) /* a limit counts it when its request goes out */
                    t->held_pool = (unsigned)cio__lim_hold(&p->lim, now);
                else
                    cio__lim_take(&p->lim, now);
                if (p->o.limiter != NULL)
                    pop_grant(p);
                cio__task_start(t, now);
                continue;
            }
            if (wait == 0)
                return; /* engines not ready: caps */
            p->held = CIO_HELD_KEY;
        } else {
            cio__keys_each_head(&p->keys, mark_rate_wait, &now); /* all wait for our token */
        }
        if (cio__clock_arm(p->rate_timer, now + wait) != CIO_OK)
            cio__guard_next_turn(p); /* no memory for the timer: look again, never stall */
        return;
    }
}

void cio__sched_dispatch(cio_pool *p)
{
    if (!p->phase || p->closing)
        return;
    if (p->stopping) {
        if (p->count == 0)
            end_phase(p);
        return;
    }
    feed(p);
    if (p->closing)
        return;
    admit(p);
    if (!p->closing && p->phase && p->count == 0 && p->feed == CIO_FEED_NONE)
        end_phase(p);
}
