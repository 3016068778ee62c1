/* SPDX-License-Identifier: Apache-2.0 */
/* Generic work: HTTP requests, blocking functions on worker threads, a DNS lookup and a
 * custom adapter written here, all under one concurrency cap and one rate limit.
 *
 *   generic_task [BASE-URL]   (default http://127.0.0.1:8080, the bundled test server) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include <concurio/concurio.h>

/* ---- a custom adapter: counts down on a timer, then completes with a message ---- */

struct countdown {
    struct event *tick;
    cio_task *task;
    int left;
    char message[64];
};

static void countdown_tick(evutil_socket_t fd, short what, void *arg)
{
    struct countdown *c = arg;

    (void)fd;
    (void)what;
    if (--c->left > 0)
        return; /* the event is persistent: it ticks again */
    event_del(c->tick);
    snprintf(c->message, sizeof c->message, "liftoff");
    cio_task_complete(c->task, CIO_OK, c->message, 7); /* c lives until destroy */
}

static int countdown_start(cio_task *task, void *work, struct event_base *base)
{
    struct countdown *c = work;
    struct timeval every = {0, 20000};

    c->task = task;
    c->tick = event_new(base, -1, EV_PERSIST, countdown_tick, c);
    if (c->tick == NULL)
        return CIO_E_NOMEM;
    return event_add(c->tick, &every) == 0 ? CIO_OK : CIO_E_LOOP;
}

static void countdown_cancel(cio_task *task, void *work)
{
    (void)task;
    event_del(((struct countdown *)work)->tick);
}

static void countdown_destroy(void *work)
{
    struct countdown *c = work;

    if (c->tick != NULL)
        event_free(c->tick);
    free(c);
}

static const cio_task_vtable countdown_vtable = {
    .name = "countdown",
    .start = countdown_start,
    .cancel = countdown_cancel,
    .destroy = countdown_destroy,
};

/* ---- a blocking function: runs on a worker thread, never touches Concurio ---- */

static int count_primes(void *arg, void **value)
{
    uintptr_t limit = (uintptr_t)arg, found = 0;

    for (uintptr_t n = 2; n < limit; n++) {
        int prime = 1;
        for (uintptr_t d = 2; d * d <= n && prime; d++)
            prime = n % d != 0;
        found += (uintptr_t)prime;
    }
    *value = (void *)found;
    return CIO_OK;
}

/* ---- outcomes ------------------------------------------------------------------------ */

struct tally {
    int done, errors, timeouts;
};

static const char *kind(const cio_result *r)
{
    return (const char *)r->task_user; /* each submit labels its item */
}

static void on_done(cio_pool *pool, const cio_result *r, void *user)
{
    (void)pool;
    ((struct tally *)user)->done++;
    if (r->url != NULL)
        printf("done     %-10s %s %s -> %ld\n", kind(r), r->method, r->url, r->http_status);
    else if (r->body_len > 0)
        printf("done     %-10s -> %.*s\n", kind(r), (int)r->body_len, r->body);
    else
        printf("done     %-10s -> %lu\n", kind(r), (unsigned long)(uintptr_t)r->value);
}

static void on_error(cio_pool *pool, const cio_result *r, void *user)
{
    (void)pool;
    ((struct tally *)user)->errors++;
    printf("error    %-10s %s\n", kind(r), r->message);
}

static void on_timeout(cio_pool *pool, const cio_timeouted_task *t, void *user)
{
    (void)pool;
    ((struct tally *)user)->timeouts++;
    printf("timeout  %-10s %s after %u ms\n", (const char *)t->task_user, t->name, t->timeout_ms);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    struct tally t = {0};
    cio_pool_opts o;
    int err;

    cio_pool_opts_init(&o);
    o.max_concurrency = 4; /* one cap for every kind of item */
    o.rate.count = 1200;   /* and one rate: 20 starts a second */
    o.rate.burst = 4;
    o.timeout_ms = 3000;
    o.blocking_threads = 2;
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    o.user = &t;
    cio_pool *pool = cio_pool_new(&o, &err);
    if (pool == NULL) {
        fprintf(stderr, "concurio: %s\n", cio_strerror(err));
        return 1;
    }
    int submitted = 0;
    for (int i = 0; i < 6; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/delay/50?i=%d", base, i);
        cio_http_req req = {.url = url, .user = "http"};
        submitted += cio_submit_http(pool, &req, NULL) == CIO_OK;
    }
    for (uintptr_t i = 1; i <= 4; i++) {
        cio_task_opts to = {.user = "blocking"};
        submitted +=
            cio_submit_blocking(pool, count_primes, (void *)(i * 20000), NULL, &to, NULL) == CIO_OK;
    }
    for (int i = 0; i < 4; i++) {
        struct countdown *c = calloc(1, sizeof *c);
        cio_task_opts to = {.user = "countdown"};
        if (c == NULL)
            continue;
        c->left = 3 + i;
        if (cio_submit(pool, &countdown_vtable, c, &to, NULL) == CIO_OK)
            submitted++;
        else
            free(c); /* refused: still ours */
    }
    cio_task_opts dns = {.user = "dns"};
    submitted += cio_submit_dns(pool, "localhost", &dns, NULL) == CIO_OK;

    err = cio_pool_run(pool, CIO_RUN_DEFAULT);
    cio_stats st;
    cio_pool_stats(pool, &st);
    cio_pool_free(pool);
    printf("submitted=%d done=%d errors=%d timeouts=%d, at most %zu in flight\n", submitted, t.done,
           t.errors, t.timeouts, st.max_in_flight);
    return err == CIO_OK && t.done + t.errors + t.timeouts == submitted ? 0 : 1;
}
