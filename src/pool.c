/* SPDX-License-Identifier: Apache-2.0 */
/* The pool: queue, admission (slot + token), runs, deadline, cancel, deferred free. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "internal.h"
#include "mem.h"

#define DEFAULT_CONCURRENCY 50u
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define FEED_LOOKAHEAD_MIN 64u
#define FDS_COUNTED_BELOW 4096u

void cio_pool_opts_init(cio_pool_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* Copies what the options point to, so the caller's may go; NULL stays NULL. */
static int own_string(const char **field, char **copy)
{
    if (*field == NULL)
        return CIO_OK;
    *copy = cio__strdup(*field);
    *field = *copy;
    return *copy != NULL ? CIO_OK : CIO_E_NOMEM;
}

static int setup(cio_pool *p)
{
    cio_retry *r = &p->o.retry;
    int rc;

    if (p->o.max_concurrency == 0)
        p->o.max_concurrency = DEFAULT_CONCURRENCY;
    if (p->o.max_body == 0)
        p->o.max_body = DEFAULT_MAX_BODY;
    if ((rc = own_string(&p->o.ca_file, &p->ca_file)) != CIO_OK ||
        (rc = own_string(&p->o.dns_nameserver, &p->dns_nameserver)) != CIO_OK ||
        (rc = own_string(&p->o.progress_desc, &p->progress_desc)) != CIO_OK)
        return rc;
    if (p->o.progress_fd < 0 || p->o.progress_mode > CIO_PROGRESS_LOG)
        return CIO_E_INVAL;
    p->meter_line =
        p->o.progress_fd > 0 && cio__meter_line_mode(p->o.progress_fd, p->o.progress_mode);
    if (r->statuses != NULL && r->nstatuses > 0) {
        size_t n = r->nstatuses * sizeof *p->retry_statuses;
        if ((p->retry_statuses = cio__malloc(n)) == NULL)
            return CIO_E_NOMEM;
        memcpy(p->retry_statuses, r->statuses, n);
        r->statuses = p->retry_statuses;
    }
    /* A per-key rate that cannot be made is refused here, not at some later submit. */
    const cio_limits *k = &p->o.per_key;
    cio_rate key_rate =
        k->rate.count != 0 ? k->rate : cio__rate_per_minute(k->rate_per_minute, k->burst);
    struct cio_lim probe;
    uint64_t now = cio__now_ms();
    if ((rc = cio__lim_init(&probe, &key_rate, now)) != CIO_OK)
        return rc;
    cio__lim_free(&probe);
    if ((rc = cio__keys_init(&p->keys, k)) != CIO_OK)
        return rc;
    cio_rate rate =
        p->o.rate.count != 0 ? p->o.rate : cio__rate_per_minute(p->o.rate_per_minute, p->o.burst);
    if ((rc = cio__lim_init(&p->lim, &rate, now)) != CIO_OK)
        return rc;
    if (p->o.limiter != NULL) {
        if (p->o.limiter->reserve == NULL)
            return CIO_E_INVAL;
        if ((p->grants = cio__calloc(p->o.max_concurrency, sizeof *p->grants)) == NULL)
            return CIO_E_NOMEM;
    }
    p->rand_state = (now << 20) ^ (uint64_t)(uintptr_t)p ^ 0x9E3779B97F4A7C15ULL;
    p->next_id = 1;
    p->phase_rc = CIO_OK;
    return CIO_OK;
}

cio_pool *cio_pool_new(const cio_pool_opts *o, int *err)
{
    cio_pool *p = cio__calloc(1, sizeof *p);
    int rc = CIO_E_NOMEM;

    if (p == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cio__free(p);
        if (err != NULL)
            *err = rc;
        return NULL;
    }
    cio__pools_add(1);
    if (o != NULL)
        p->o = *o;
    rc = setup(p);
    if (rc != CIO_OK) {
        cio_pool_free(p);
        p = NULL;
    }
    if (err != NULL)
        *err = rc;
    return p;
}

static void destroy(cio_pool *p)
{
    cio__task_reap(p);
    cio__task_spares_free(p);
    /* The pool's own events go first: nothing of the pool may run in the turn below. */
    struct event *evs[] = {p->reaper, p->progress_timer, p->kick, p->rate_timer, p->deadline_timer};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    cio__http_free(p->http);
    cio__threads_free(p->threads);
    if (p->owns_base && p->base != NULL)
        /* One turn runs the answers libevent deferred, such as those of canceled evdns
         * lookups, which read the evdns base: it must still be there. */
        event_base_loop(p->base, EVLOOP_NONBLOCK);
    cio__dns_free(p->dns); /* on a caller's loop, the last answer due frees it */
    cio__free(p->dns_nameserver);
    cio__free(p->retry_statuses);
    cio__free(p->ca_file);
    cio__free(p->progress_desc);
    cio__keys_free(&p->keys);
    cio__lim_free(&p->lim);
    cio__free(p->grants);
    if (p->owns_base && p->base != NULL)
        event_base_free(p->base);
    curl_global_cleanup();
    cio__free(p);
    cio__pools_add(-1);
}

static void ev_kick(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    p->kicked = 0;
    cio__pool_enter(p);
    p->need_dispatch = 1;
    cio__pool_leave(p);
}

static void ev_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cio__task_reap(arg);
}

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
    };

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

static void ev_rate(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    cio__pool_enter(p);
    p->need_dispatch = 1;
    cio__pool_leave(p);
}

/* Ends every unfinished item (with running = 0: every one not in flight) with `code`.
 * Callbacks may submit (those run later) and cancel (the victims are already set aside
 * in `ending`, where cancel finds them). */
static size_t end_all(cio_pool *p, int code, int running)
{
    size_t n = 0;
    cio_task *t;

    while (running && (t = cio__list_pop(&p->running)) != NULL)
        cio__list_push(&p->ending, t);
    while (p->keys.cursor != NULL) {
        t = p->keys.cursor->queue.head;
        cio__keys_remove(&p->keys, t);
        cio__list_push(&p->ending, t);
    }
    while ((t = cio__list_pop(&p->waiting)) != NULL)
        cio__list_push(&p->ending, t);
    while ((t = p->ending.head) != NULL) {
        cio__task_abort(t, code);
        n++;
    }
    return n;
}

static void ev_deadline(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    if (!cio__timer_due(p->deadline_timer, p->deadline_at))
        return;
    cio__pool_enter(p);
    if (p->phase) {
        p->expired = 1;
        p->phase_rc = CIO_E_DEADLINE;
        p->feed = CIO_FEED_NONE;
        end_all(p, CIO_E_DEADLINE, 1);
        p->need_dispatch = 1;
    }
    cio__pool_leave(p);
}

int cio__pool_bind(cio_pool *p)
{
    if (p->base != NULL)
        return CIO_OK;
    if (p->closing)
        return CIO_E_STATE;
    /* libevent exits the process when a new loop finds no descriptor for its signal
     * pipe: an epoll, a timer, a pair and a pipe must be there first. */
    if (cio__fds_free() < CIO_FDS_PER_LOOP)
        return CIO_E_NOFD;
    /* Precise timers (timerfd where there is one): paced starts wake on time. */
    struct event_config *cfg = event_config_new();
    if (cfg != NULL) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        p->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (p->base == NULL)
        return CIO_E_LOOP;
    p->owns_base = 1;
    return CIO_OK;
}

/* The pool's own events; those a failed earlier call could not make are made now. */
static int ensure_loop(cio_pool *p)
{
    int rc = cio__pool_bind(p);

    if (rc != CIO_OK)
        return rc;
    if (p->kick == NULL)
        p->kick = event_new(p->base, -1, 0, ev_kick, p);
    if (p->rate_timer == NULL)
        p->rate_timer = evtimer_new(p->base, ev_rate, p);
    if (p->deadline_timer == NULL)
        p->deadline_timer = evtimer_new(p->base, ev_deadline, p);
    if (p->reaper == NULL)
        p->reaper = event_new(p->base, -1, 0, ev_reap, p);
    if ((p->o.on_progress != NULL || p->o.progress_fd > 0) && p->progress_timer == NULL)
        p->progress_timer = event_new(p->base, -1, EV_PERSIST, ev_progress, p);
    int progress = p->progress_timer != NULL || (p->o.on_progress == NULL && p->o.progress_fd <= 0);
    return p->kick && p->rate_timer && p->deadline_timer && p->reaper && progress ? CIO_OK
                                                                                  : CIO_E_NOMEM;
}

int cio_pool_attach(cio_pool *p, struct event_base *base)
{
    if (p == NULL || base == NULL)
        return CIO_E_INVAL;
    if (p->base != NULL || p->closing)
        return CIO_E_STATE;
    p->base = base;
    p->attached = 1;
    return ensure_loop(p);
}

/* A dispatch on the next loop turn (once, however often asked). */
static void kick_next_turn(cio_pool *p)
{
    if (!p->kicked && p->kick != NULL) {
        p->kicked = 1;
        event_active(p->kick, EV_TIMEOUT, 0);
    }
}

void cio__pool_kick(cio_pool *p)
{
    p->need_dispatch = 1;
    if (p->depth == 0)
        kick_next_turn(p);
}

/* Descriptors this process may still open; UINT_MAX when the limit is far away. */
unsigned cio__fds_free(void)
{
    struct rlimit rl;

    /* Counting costs a system call a descriptor: only where the limit is near enough to
     * matter (the common 1024 is; 20000 or a million is not counted). */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > FDS_COUNTED_BELOW)
        return UINT_MAX;
    rlim_t open = 0;
    for (rlim_t fd = 0; fd < rl.rlim_cur; fd++)
        open += fcntl((int)fd, F_GETFD) != -1;
    return rl.rlim_cur > open ? (unsigned)(rl.rlim_cur - open) : 0;
}

/* How many items the descriptors left to this process allow, when that could bind: a
 * transfer holds a socket, and a name lookup a socket pair meanwhile; a few stay for the
 * loop and the caller. 0: no such limit. */
static unsigned fd_cap(const cio_pool *p)
{
    const unsigned reserve = 8;
    unsigned left = cio__fds_free();

    if (left == UINT_MAX || left > 2 * p->o.max_concurrency + 64)
        return 0;
    /* The items in flight hold a socket each, which they give back. */
    left += (unsigned)p->in_flight;
    unsigned room = left > reserve ? (left - reserve) / 2 : 0;
    return room > 0 ? room : 1;
}

#define FD_STARVED_MS 3000u /* EMFILE with nothing of ours to wait for: then CIO_E_NOFD */

int64_t cio__pool_fd_short(cio_pool *p)
{
    unsigned others = p->in_flight > 0 ? (unsigned)p->in_flight - 1 : 0;
    uint64_t now = cio__now_ms();

    p->fd_cap = others > 0 ? others : 1;
    if (others > 0)
        return 0; /* again when one of them ends and gives its descriptor back */
    /* Nothing of the pool's holds one: wait, longer each time, and give up after a while
     * (the rest give up at once until a socket is had again). */
    if (p->fd_starved == 0)
        p->fd_starved = now;
    if (now - p->fd_starved >= FD_STARVED_MS)
        return -1;
    unsigned shift = p->fd_tries < 5 ? p->fd_tries : 5;
    p->fd_tries++;
    return (int64_t)100 << shift;
}

void cio__pool_fd_ok(cio_pool *p)
{
    p->fd_starved = 0;
    p->fd_tries = 0;
}

void cio__pool_fds_changed(cio_pool *p)
{
    p->fd_stale = 1;
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

static void begin_phase(cio_pool *p)
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
        cio__timer_arm(p->deadline_timer, p->deadline_at);
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
                cio__timer_arm(p->deadline_timer, p->deadline_at);
            p->need_dispatch = 1;
            return;
        }
    }
    p->phase = 0;
    if (p->in_run)
        event_base_loopbreak(p->base);
}

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
            kick_next_turn(p);
            break;
        } else if (p->st.submitted == before) {
            p->feed = CIO_FEED_PAUSED;
        }
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
            kick_next_turn(p); /* could not ask (no memory): again next turn */
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

static int admissible(const cio_task *t, void *arg)
{
    return cio__threads_ready(arg, t);
}

/* Starts what may start: a global slot and token, and its key's slot and token, all at
 * once. Otherwise the rate timer is armed for the first token that could unblock it;
 * with only caps (or busy workers) in the way, the next end dispatches again. */
static void admit(cio_pool *p)
{
    if (p->fd_stale) {
        p->fd_stale = 0;
        p->fd_cap = fd_cap(p);
    }
    size_t cap =
        p->fd_cap != 0 && p->fd_cap < p->o.max_concurrency ? p->fd_cap : p->o.max_concurrency;

    while (p->keys.queued > 0 && p->in_flight < cap && !p->closing) {
        uint64_t now = cio__now_ms();
        uint64_t wait = cio__lim_wait(&p->lim, now);

        if (wait == 0 && p->o.limiter != NULL) {
            ask_shared(p, cap);
            if ((wait = shared_wait(p, now)) == UINT64_MAX)
                return; /* the next slot kicks a dispatch */
        }
        if (wait == 0) {
            cio_task *t = cio__keys_next(&p->keys, now, admissible, p, cap, &wait);
            if (t != NULL) {
                if (t->reports_sent)
                    t->held_pool = (unsigned)cio__lim_hold(&p->lim, now);
                else
                    cio__lim_take(&p->lim, now);
                if (p->o.limiter != NULL)
                    pop_grant(p);
                cio__task_start(t, now);
                continue;
            }
            if (wait == 0)
                return;
        } else {
            cio__keys_mark_rate_wait(&p->keys, now); /* every head waits for our token */
        }
        if (cio__timer_arm(p->rate_timer, now + wait) != CIO_OK)
            kick_next_turn(p); /* no memory for the timer: look again, never stall */
        return;
    }
}

static void dispatch(cio_pool *p)
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

void cio__pool_enter(cio_pool *p)
{
    p->depth++;
}

int cio__pool_leave(cio_pool *p)
{
    /* Admission runs here, at the bottom of the stack, so no callback ever runs inside
     * a submit and starts are never nested inside another item's callback. */
    while (p->depth == 1 && p->need_dispatch && !p->closing) {
        p->need_dispatch = 0;
        dispatch(p);
    }
    if (--p->depth > 0 || !p->closing)
        return 0;
    if (p->in_run) {
        event_base_loopbreak(p->base);
        return 0;
    }
    destroy(p);
    return 1;
}

int cio__pool_enqueue(cio_pool *p, cio_task *t, const char *key, cio_task_id *id)
{
    if (p->closing || p->stopping)
        return CIO_E_STATE;
    if (p->phase && p->expired)
        return CIO_E_DEADLINE;
    int rc = ensure_loop(p);
    if (rc != CIO_OK)
        return rc;
    uint64_t now = cio__now_ms();
    t->key = cio__keys_get(&p->keys, key, now);
    if (t->key == NULL)
        return CIO_E_NOMEM;
    t->key->tasks++;
    t->id = p->next_id++;
    t->submit_ms = now;
    t->enqueued_ms = now;
    t->state = CIO_TS_QUEUED;
    cio__keys_push(&p->keys, t, 0);
    p->count++;
    p->st.submitted++;
    if (id != NULL)
        *id = t->id;
    if (p->phase)
        cio__pool_kick(p);
    return CIO_OK;
}

int cio_pool_set_key_limits(cio_pool *p, const char *key, const cio_limits *limits)
{
    if (p == NULL || key == NULL || limits == NULL)
        return CIO_E_INVAL;
    return cio__keys_set(&p->keys, key, limits, cio__now_ms());
}

int cio_submit(cio_pool *p, const cio_task_vtable *vt, void *work, const cio_task_opts *o,
               cio_task_id *id)
{
    if (p == NULL || vt == NULL || vt->start == NULL || vt->cancel == NULL || vt->destroy == NULL)
        return CIO_E_INVAL;
    cio_task *t =
        cio__task_new(p, vt, work, o != NULL ? o->user : NULL, o != NULL ? o->timeout_ms : 0);
    if (t == NULL)
        return CIO_E_NOMEM;
    int rc = cio__pool_enqueue(p, t, o != NULL && o->key != NULL ? o->key : "", id);
    if (rc != CIO_OK)
        cio__task_free(t);
    return rc;
}

int cio_pool_start(cio_pool *p)
{
    if (p == NULL || !p->attached || p->closing)
        return CIO_E_STATE;
    if (p->phase)
        return CIO_E_STATE;
    /* An attach that ran out of memory left some events unmade: without the kick, the
     * run would wait for ever. */
    int rc = ensure_loop(p);
    if (rc != CIO_OK)
        return rc;
    begin_phase(p);
    return CIO_OK;
}

int cio_pool_run(cio_pool *p, cio_run_mode mode)
{
    if (p == NULL || p->attached || p->in_run || p->depth > 0 || p->closing)
        return CIO_E_STATE;
    int rc = ensure_loop(p);
    if (rc != CIO_OK)
        return rc;
    if (!p->phase)
        begin_phase(p);
    p->in_run = 1;
    int flags = mode == CIO_RUN_ONCE ? EVLOOP_ONCE : mode == CIO_RUN_NOWAIT ? EVLOOP_NONBLOCK : 0;
    int lr = event_base_loop(p->base, flags);
    p->in_run = 0;
    cio__task_reap(p); /* the reaper's turn may not have come before the loop broke */
    if (p->closing) {
        destroy(p);
        return CIO_OK;
    }
    if (lr < 0)
        return CIO_E_LOOP;
    if (mode != CIO_RUN_DEFAULT)
        return CIO_OK;
    if (p->phase) /* the loop ran dry: a paused feeder with nothing else to do */
        return CIO_E_STATE;
    rc = p->phase_rc;
    p->phase_rc = CIO_OK;
    return rc;
}

static cio_task *find(struct cio_list *l, cio_task_id id)
{
    for (cio_task *t = l->head; t != NULL; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

int cio_cancel(cio_pool *p, cio_task_id id)
{
    if (p == NULL)
        return CIO_E_INVAL;
    /* One that a cancel-all, the deadline or the free has set aside to end is ended
     * now, canceled: the callback fires before this returns, as everywhere else. */
    cio_task *t = find(&p->ending, id);
    if (t == NULL)
        t = find(&p->running, id);
    if (t == NULL)
        t = cio__keys_find(&p->keys, id);
    if (t == NULL)
        t = find(&p->waiting, id);
    if (t == NULL)
        return CIO_E_NOTFOUND;
    cio__pool_enter(p);
    cio__task_abort(t, CIO_E_CANCELED);
    cio__pool_leave(p);
    return CIO_OK;
}

size_t cio_pool_cancel(cio_pool *p)
{
    if (p == NULL)
        return 0;
    cio__pool_enter(p);
    if (p->phase) {
        p->phase_rc = CIO_E_CANCELED;
        p->feed = CIO_FEED_NONE;
    }
    size_t n = end_all(p, CIO_E_CANCELED, 1);
    p->need_dispatch = 1;
    cio__pool_leave(p);
    return n;
}

size_t cio_pool_stop(cio_pool *p)
{
    if (p == NULL || !p->phase || p->closing || p->stopping)
        return 0;
    cio__pool_enter(p);
    p->stopping = 1;
    p->phase_rc = CIO_E_CANCELED;
    p->feed = CIO_FEED_NONE;
    evtimer_del(p->rate_timer);
    size_t n = end_all(p, CIO_E_CANCELED, 0);
    p->need_dispatch = 1;
    cio__pool_leave(p);
    return n;
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

size_t cio_pool_count(const cio_pool *p)
{
    return p != NULL ? p->count : 0;
}

void cio_pool_set_expected(cio_pool *p, uint64_t expected)
{
    if (p != NULL)
        p->o.expected = expected;
}

void cio_pool_stats(const cio_pool *p, cio_stats *out)
{
    if (p == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = p->st;
    out->queued = p->keys.queued;
    out->in_flight = p->in_flight;
}

void cio_pool_free(cio_pool *p)
{
    if (p == NULL || p->closing)
        return;
    cio__pool_enter(p);
    p->closing = 1;
    if (p->o.limiter != NULL && p->o.limiter->forget != NULL)
        p->o.limiter->forget(p->o.limiter_arg, p);
    end_all(p, CIO_E_CANCELED, 1);
    cio__pool_leave(p);
}
