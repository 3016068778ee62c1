/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking functions on a small fixed pool of worker threads. Results come back to the
 * loop thread through a pipe; no callback ever runs on a worker. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core.h"
#include "list.h"
#include "mem.h"

#define DEFAULT_THREADS 4u

enum job_state { JOB_NEW, JOB_WAITING, JOB_RUNNING, JOB_FINISHED };

struct job {
    struct cio_node node; /* in todo or done (under th->mu), or in none */
    struct cio_threads *th;
    cio_task *task;
    cio_blocking_fn fn;
    void *arg, *value;
    cio_cleanup_fn cleanup;
    int status;
    enum job_state state; /* under th->mu once handed to the workers */
    unsigned ended : 1;   /* the item ended (loop thread only) */
    unsigned drained : 1; /* the loop has seen it finish (loop thread only) */
    unsigned destroyed : 1;
};

struct cio_threads {
    cio_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cio_node todo; /* jobs waiting for a worker */
    struct cio_node done; /* finished, for the loop thread */
    int stop;
    unsigned n, busy; /* workers; jobs handed over and not yet drained */
    pthread_t *tids;
    int pipe[2];
    struct event *wake;
};

static void *worker(void *arg)
{
    struct cio_threads *th = arg;

    pthread_mutex_lock(&th->mu);
    for (;;) {
        while (cio_list_empty(&th->todo) && !th->stop)
            pthread_cond_wait(&th->cv, &th->mu);
        struct cio_node *n = cio_list_pop(&th->todo);
        if (n == NULL)
            break;
        struct job *j = cio_list_entry(n, struct job, node);
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&th->mu);

        void *value = NULL;
        int status = j->fn(j->arg, &value);

        pthread_mutex_lock(&th->mu);
        j->value = value;
        j->status = status;
        j->state = JOB_FINISHED;
        cio_list_push_back(&th->done, &j->node);
        pthread_mutex_unlock(&th->mu);
        char one = 1;
        /* A full pipe already holds a wake-up: EAGAIN is fine. */
        while (write(th->pipe[1], &one, 1) < 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&th->mu);
    }
    pthread_mutex_unlock(&th->mu);
    return NULL;
}

static void job_free(struct job *j)
{
    if (j->cleanup != NULL)
        j->cleanup(j->arg, j->value);
    cio__free(j);
}

/* Hands finished jobs to their items, or frees those whose items ended already. */
static void drain(struct cio_threads *th)
{
    struct cio_node list, *n;

    cio_list_init(&list);
    pthread_mutex_lock(&th->mu);
    cio_list_move_all(&th->done, &list);
    pthread_mutex_unlock(&th->mu);

    while ((n = cio_list_pop(&list)) != NULL) {
        struct job *j = cio_list_entry(n, struct job, node);
        j->drained = 1;
        th->busy--;
        cio__pool_kick(th->pool); /* a worker is free again */
        if (j->destroyed)
            job_free(j); /* its item ended and was destroyed while fn ran */
        else if (!j->ended)
            cio_task_complete(j->task, j->status, j->value, 0);
        /* else: its item ended and is not destroyed yet; destroy frees it */
    }
    if (th->busy == 0 && th->wake != NULL)
        event_del(th->wake);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct cio_threads *th = arg;
    cio_pool *p = th->pool;
    char buf[64];

    (void)what;
    while (read(fd, buf, sizeof buf) > 0)
        ;
    cio__pool_enter(p);
    drain(th);
    cio__pool_leave(p);
}

static int job_start(cio_task *task, void *work, struct event_base *base)
{
    struct job *j = work;
    struct cio_threads *th = j->th;

    (void)base;
    /* The wake-up is watched only while jobs are out, so an attached caller's loop still
     * ends by itself when the pool is idle. */
    if (th->busy == 0 && event_add(th->wake, NULL) != 0)
        return CIO_E_NOMEM;
    j->task = task;
    pthread_mutex_lock(&th->mu);
    j->state = JOB_WAITING;
    cio_list_push_back(&th->todo, &j->node);
    pthread_cond_signal(&th->cv);
    pthread_mutex_unlock(&th->mu);
    th->busy++;
    return CIO_OK;
}

static void job_cancel(cio_task *task, void *work)
{
    struct job *j = work;
    struct cio_threads *th = j->th;

    (void)task;
    j->ended = 1;
    pthread_mutex_lock(&th->mu);
    if (j->state == JOB_WAITING) { /* no worker took it yet: take it back */
        cio_list_remove(&j->node);
        j->state = JOB_NEW;
        th->busy--;
        cio__pool_kick(th->pool);
    }
    pthread_mutex_unlock(&th->mu);
    if (th->busy == 0 && th->wake != NULL)
        event_del(th->wake);
}

/* Runs on the loop thread after the terminal callback. A job a worker still holds, or
 * one finished but not yet drained, is freed by drain instead. */
static void job_destroy(void *work)
{
    struct job *j = work;

    pthread_mutex_lock(&j->th->mu);
    enum job_state state = j->state;
    pthread_mutex_unlock(&j->th->mu);
    if (state == JOB_NEW || (state == JOB_FINISHED && j->drained))
        job_free(j);
    else
        j->destroyed = 1;
}

static const cio_task_vtable blocking_vtable = {
    .name = "blocking",
    .start = job_start,
    .cancel = job_cancel,
    .destroy = job_destroy,
};

static void threads_free(void *state);

/* An item may start only when a worker is free: admission waits, and the item's timeout
 * never counts time spent waiting for one. */
static int threads_ready(void *state, const cio_task *t)
{
    const struct cio_threads *th = state;

    (void)t;
    return th->busy < th->n;
}

static const cio_engine_ops threads_engine = {
    .name = "blocking", .ready = threads_ready, .free = threads_free};

static struct cio_threads *threads_new(cio_pool *p)
{
    struct cio_threads *th = cio__calloc(1, sizeof *th);
    unsigned n = cio__pool_opts(p)->blocking_threads;

    if (th == NULL)
        return NULL;
    th->pool = p;
    th->n = n != 0 ? n : DEFAULT_THREADS;
    th->pipe[0] = th->pipe[1] = -1;
    cio_list_init(&th->todo);
    cio_list_init(&th->done);
    th->tids = cio__calloc(th->n, sizeof *th->tids);
    pthread_mutex_init(&th->mu, NULL);
    pthread_cond_init(&th->cv, NULL);
    if (th->tids == NULL || pipe2(th->pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
        (th->wake = event_new(cio__pool_base(p), th->pipe[0], EV_READ | EV_PERSIST, on_wake, th)) ==
            NULL) {
        th->n = 0;
        threads_free(th);
        return NULL;
    }
    for (unsigned i = 0; i < th->n; i++)
        if (pthread_create(&th->tids[i], NULL, worker, th) != 0) {
            th->n = i;
            threads_free(th);
            return NULL;
        }
    if (cio__engine_add(p, &threads_engine, th) == NULL) {
        threads_free(th);
        return NULL;
    }
    return th;
}

static void threads_free(void *state)
{
    struct cio_threads *th = state;

    if (th == NULL)
        return;
    pthread_mutex_lock(&th->mu);
    th->stop = 1;
    pthread_cond_broadcast(&th->cv);
    pthread_mutex_unlock(&th->mu);
    for (unsigned i = 0; i < th->n; i++)
        pthread_join(th->tids[i], NULL); /* functions still running are waited for */
    drain(th);                           /* every item has ended by now: this frees the jobs */
    if (th->wake != NULL)
        event_free(th->wake);
    for (int i = 0; i < 2; i++)
        if (th->pipe[i] >= 0)
            close(th->pipe[i]);
    pthread_cond_destroy(&th->cv);
    pthread_mutex_destroy(&th->mu);
    cio__free(th->tids);
    cio__free(th);
}

int cio_submit_blocking(cio_pool *p, cio_blocking_fn fn, void *arg, cio_cleanup_fn cleanup,
                        const cio_task_opts *o, cio_task_id *id)
{
    if (p == NULL || fn == NULL)
        return CIO_E_INVAL;
    int rc = cio__pool_bind(p);
    if (rc != CIO_OK)
        return rc;
    struct cio_threads *th = cio__engine_find(p, &threads_engine);
    if (th == NULL) {
        errno = 0;
        if ((th = threads_new(p)) == NULL)
            return errno == EMFILE || errno == ENFILE ? CIO_E_NOFD : CIO_E_NOMEM;
    }
    struct job *j = cio__calloc(1, sizeof *j);
    if (j == NULL)
        return CIO_E_NOMEM;
    cio_list_init(&j->node);
    j->th = th;
    j->fn = fn;
    j->arg = arg;
    rc = cio__submit_to(p, &threads_engine, &blocking_vtable, j, o, id);
    if (rc != CIO_OK)
        cio__free(j); /* not job_free: arg stays the caller's */
    else
        j->cleanup = cleanup;
    return rc;
}
