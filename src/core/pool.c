/* SPDX-License-Identifier: Apache-2.0 */
/* The pool's API: options, making and freeing (engines included), attaching, runs,
 * submitting, cancel and stop, counters. Admission and runs are sched.c's, an item's
 * life task.c's. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fds.h"
#include "guard.h"
#include "keys.h"
#include "mem.h"
#include "sched.h"
#include "task.h"

#define DEFAULT_CONCURRENCY 50u
#define TASK_OPTS_0_2 CIO_SIZE_0_2(cio_task_opts, retry)

/* ---- options ------------------------------------------------------------------------- */

void cio_pool_opts_init(cio_pool_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

void cio_http_opts_init(cio_http_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

int cio__copy_sized(void *dst, size_t ours, const void *src, size_t first)
{
    size_t size = *(const size_t *)src, n = size == 0 ? first : size < ours ? size : ours;

    memset(dst, 0, ours);
    if (n < sizeof(size_t))
        return CIO_E_INVAL;
    memcpy(dst, src, n);
    return CIO_OK;
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

/* The same for a NULL-terminated array of strings: one allocation, the pointers first. */
static int own_strings(const char *const **field, char **copy)
{
    size_t n = 0, bytes = 0;

    if (*field == NULL)
        return CIO_OK;
    for (; (*field)[n] != NULL; n++)
        bytes += strlen((*field)[n]) + 1;
    char **ptrs = cio__malloc((n + 1) * sizeof *ptrs + bytes);
    if (ptrs == NULL)
        return CIO_E_NOMEM;
    char *text = (char *)(ptrs + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen((*field)[i]) + 1;
        ptrs[i] = memcpy(text, (*field)[i], len);
        text += len;
    }
    ptrs[n] = NULL;
    *copy = (char *)ptrs;
    *field = (const char *const *)ptrs;
    return CIO_OK;
}

static int setup(cio_pool *p, const cio_pool_opts *o)
{
    cio_retry *r = &p->o.retry;
    int rc;

    if (o != NULL && (rc = cio__copy_sized(&p->o, sizeof p->o, o,
                                           CIO_SIZE_0_2(cio_pool_opts, limiter_arg))) != CIO_OK)
        return rc;
    if (p->o.http != NULL &&
        (rc = cio__copy_sized(&p->http, sizeof p->http, p->o.http,
                              CIO_SIZE_0_2(cio_http_opts, connect_to))) != CIO_OK)
        return rc;
    p->o.size = p->http.size = 0;
    p->o.http = &p->http;
    if (p->o.max_concurrency == 0)
        p->o.max_concurrency = DEFAULT_CONCURRENCY;
    if ((rc = own_string(&p->http.ca_file, &p->ca_file)) != CIO_OK ||
        (rc = own_string(&p->http.proxy, &p->proxy)) != CIO_OK ||
        (rc = own_string(&p->http.noproxy, &p->noproxy)) != CIO_OK ||
        (rc = own_strings(&p->http.resolve, &p->resolve)) != CIO_OK ||
        (rc = own_strings(&p->http.connect_to, &p->connect_to)) != CIO_OK ||
        (rc = own_string(&p->http.cookie_file, &p->cookie_file)) != CIO_OK ||
        (rc = own_string(&p->o.dns_nameserver, &p->dns_nameserver)) != CIO_OK ||
        (rc = own_string(&p->o.progress_desc, &p->progress_desc)) != CIO_OK)
        return rc;
    /* Flags of another struct (an HTTP flag in o->flags) would be ignored: refused. */
    if ((p->o.flags & ~(unsigned)CIO_ADAPTIVE) != 0 || p->http.version > CIO_HTTP_2 ||
        (p->http.flags & CIO_ADAPTIVE) != 0)
        return CIO_E_INVAL;
    if (p->o.progress_fd < 0 || p->o.progress_mode > CIO_PROGRESS_LOG ||
        p->o.rate.mode > CIO_RATE_WINDOW || p->o.per_key.rate.mode > CIO_RATE_WINDOW)
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
    struct cio_lim probe;
    uint64_t now = cio__now_ms();
    if ((rc = cio__lim_init(&probe, &p->o.per_key.rate, now)) != CIO_OK)
        return rc;
    cio__lim_free(&probe);
    if ((rc = cio__keys_init(&p->keys, &p->o.per_key)) != CIO_OK ||
        (rc = cio__lim_init(&p->lim, &p->o.rate, now)) != CIO_OK)
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

/* ---- making and freeing -------------------------------------------------------------- */

static void destroy(cio_pool *p)
{
    struct cio_node *n;

    cio__task_reap(p);
    cio__task_spares_free(p);
    /* The pool's own events go first: nothing of the pool may run in the turn below. */
    if (p->reaper != NULL)
        event_free(p->reaper);
    if (p->kick != NULL)
        event_free(p->kick);
    p->reaper = p->kick = NULL; /* an engine's last kick, below, finds no event to arm */
    cio__sched_events_free(p);
    /* Every item has ended: the engines go. One that libevent still owes an answer
     * (a canceled lookup) frees itself with that answer. */
    while ((n = cio_list_pop(&p->engines)) != NULL) {
        struct cio_engine *e = cio_list_entry(n, struct cio_engine, node);
        e->ops->free(e->state);
        cio__free(e);
    }
    if (p->owns_base && p->base != NULL) {
        /* One turn runs the answers libevent deferred, such as those an engine's
         * canceled work still gets, which read what their engine left for them. */
        event_base_loop(p->base, EVLOOP_NONBLOCK);
        event_base_free(p->base);
    }
    cio__free(p->dns_nameserver);
    cio__free(p->retry_statuses);
    cio__free(p->ca_file);
    cio__free(p->proxy);
    cio__free(p->noproxy);
    cio__free(p->resolve);
    cio__free(p->connect_to);
    cio__free(p->cookie_file);
    cio__free(p->progress_desc);
    cio__keys_free(&p->keys);
    cio__lim_free(&p->lim);
    cio__free(p->grants);
    cio__free(p);
    cio__pools_add(-1);
}

cio_pool *cio_pool_new(const cio_pool_opts *o, int *err)
{
    cio_pool *p = cio__calloc(1, sizeof *p);
    int rc = CIO_E_NOMEM;

    if (p != NULL) {
        cio__pools_add(1);
        cio_list_init(&p->running);
        cio_list_init(&p->ending);
        cio_list_init(&p->waiting);
        cio_list_init(&p->zombies);
        cio_list_init(&p->spares);
        cio_list_init(&p->engines);
        cio_list_init(&p->keys.round);
        p->dispatch = cio__sched_dispatch;
        p->destroy = destroy;
        rc = setup(p, o);
        if (rc != CIO_OK) {
            cio_pool_free(p);
            p = NULL;
        }
    }
    if (err != NULL)
        *err = rc;
    return p;
}

void cio_pool_free(cio_pool *p)
{
    if (p == NULL || p->closing)
        return;
    cio__pool_enter(p);
    p->closing = 1;
    if (p->o.limiter != NULL && p->o.limiter->forget != NULL)
        p->o.limiter->forget(p->o.limiter_arg, p);
    cio__sched_end_all(p, CIO_E_CANCELED, 1);
    cio__pool_leave(p);
}

/* ---- engines ------------------------------------------------------------------------- */

struct cio_engine *cio__engine_add(cio_pool *p, const cio_engine_ops *ops, void *state)
{
    struct cio_engine *e = cio__calloc(1, sizeof *e);

    if (e == NULL)
        return NULL;
    e->ops = ops;
    e->state = state;
    cio_list_push_back(&p->engines, &e->node);
    cio__pool_fds_changed(p); /* it may have opened some */
    return e;
}

void *cio__engine_find(const cio_pool *p, const cio_engine_ops *ops)
{
    struct cio_node *n;

    cio_list_each(n, &p->engines)
    {
        struct cio_engine *e = cio_list_entry(n, struct cio_engine, node);
        if (e->ops == ops)
            return e->state;
    }
    return NULL;
}

static struct cio_engine *engine_of(const cio_pool *p, const cio_engine_ops *ops)
{
    struct cio_node *n;

    cio_list_each(n, &p->engines)
    {
        struct cio_engine *e = cio_list_entry(n, struct cio_engine, node);
        if (e->ops == ops)
            return e;
    }
    return NULL;
}

/* ---- the loop ------------------------------------------------------------------------ */

static void ev_kick(evutil_socket_t fd, short what, void *arg)
{
    cio_pool *p = arg;

    (void)fd;
    (void)what;
    p->kicked = 0;
    cio__pool_enter(p);
    cio__guard_dispatch_soon(p);
    cio__pool_leave(p);
}

static void ev_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cio__task_reap(arg);
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
    if (p->reaper == NULL)
        p->reaper = event_new(p->base, -1, 0, ev_reap, p);
    rc = cio__sched_events(p);
    return p->kick && p->reaper && rc == CIO_OK ? CIO_OK : CIO_E_NOMEM;
}

struct event_base *cio__pool_base(const cio_pool *p)
{
    return p->base;
}

const cio_pool_opts *cio__pool_opts(const cio_pool *p)
{
    return &p->o;
}

const cio_http_opts *cio__pool_http(const cio_pool *p)
{
    return &p->http;
}

int cio__pool_closing(const cio_pool *p)
{
    return p->closing;
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
    cio__sched_begin(p);
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
        cio__sched_begin(p);
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

/* ---- submitting ---------------------------------------------------------------------- */

int cio__submit(cio_pool *p, const cio_item *item, cio_task_id *id)
{
    if (p->closing || p->stopping)
        return CIO_E_STATE;
    if (p->phase && p->expired)
        return CIO_E_DEADLINE;
    int rc = ensure_loop(p);
    if (rc != CIO_OK)
        return rc;
    uint64_t now = cio__now_ms();
    struct cio_key *key = cio__keys_get(&p->keys, item->key != NULL ? item->key : "", now);
    if (key == NULL)
        return CIO_E_NOMEM;
    cio_task *t = cio__task_new(p, item);
    if (t == NULL) {
        cio__keys_release(&p->keys, key, now);
        return CIO_E_NOMEM;
    }
    t->key = key;
    key->tasks++;
    t->id = p->next_id++;
    t->submit_ms = now;
    t->enqueued_ms = now;
    t->state = CIO_TS_QUEUED;
    cio__keys_push(&p->keys, t, 0);
    t->where = CIO_AT_QUEUE;
    p->count++;
    p->st.submitted++;
    if (id != NULL)
        *id = t->id;
    if (p->phase)
        cio__pool_kick(p);
    return CIO_OK;
}

/* A generic item of engine e (NULL: the caller's own adapter), its options read as far
 * as their size says. */
static int submit_work(cio_pool *p, struct cio_engine *e, const cio_task_vtable *vt, void *work,
                       const cio_task_opts *o, cio_task_id *id)
{
    cio_task_opts to;

    if (o == NULL)
        memset(&to, 0, sizeof to);
    else if (cio__copy_sized(&to, sizeof to, o, TASK_OPTS_0_2) != CIO_OK)
        return CIO_E_INVAL;
    cio_item item = {.engine = e,
                     .vt = vt,
                     .work = work,
                     .user = to.user,
                     .timeout_ms = to.timeout_ms,
                     .key = to.key,
                     .retry = to.retry};
    return cio__submit(p, &item, id);
}

int cio_submit(cio_pool *p, const cio_task_vtable *vt, void *work, const cio_task_opts *o,
               cio_task_id *id)
{
    if (p == NULL || vt == NULL || vt->start == NULL || vt->cancel == NULL || vt->destroy == NULL)
        return CIO_E_INVAL;
    return submit_work(p, NULL, vt, work, o, id);
}

/* Used by the built-in adapters: an item of the engine registered with ops. */
int cio__submit_to(cio_pool *p, const cio_engine_ops *ops, const cio_task_vtable *vt, void *work,
                   const cio_task_opts *o, cio_task_id *id)
{
    return submit_work(p, engine_of(p, ops), vt, work, o, id);
}

/* ---- ending items -------------------------------------------------------------------- */

static cio_task *find(const struct cio_node *list, cio_task_id id)
{
    struct cio_node *n;

    cio_list_each(n, list)
    {
        cio_task *t = cio_list_entry(n, cio_task, node);
        if (t->id == id)
            return t;
    }
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
    size_t n = cio__sched_end_all(p, CIO_E_CANCELED, 1);
    cio__guard_dispatch_soon(p);
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
    size_t n = cio__sched_end_all(p, CIO_E_CANCELED, 0);
    cio__guard_dispatch_soon(p);
    cio__pool_leave(p);
    return n;
}

/* ---- counters and settings ----------------------------------------------------------- */

size_t cio_pool_count(const cio_pool *p)
{
    return p != NULL ? p->count : 0;
}

void cio_pool_set_expected(cio_pool *p, uint64_t expected)
{
    if (p != NULL)
        p->o.expected = expected;
}

int cio_pool_set_key_limits(cio_pool *p, const char *key, const cio_limits *limits)
{
    if (p == NULL || key == NULL || limits == NULL || limits->rate.mode > CIO_RATE_WINDOW)
        return CIO_E_INVAL;
    return cio__keys_set(&p->keys, key, limits, cio__now_ms());
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
