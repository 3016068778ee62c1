/* SPDX-License-Identifier: Apache-2.0 */
/* Embedding: 500 requests, 25 at a time, inside an application's own libevent loop,
 * beside the application's own timer. Concurio never dispatches the loop itself.
 *
 *   embed [BASE-URL]          (default http://127.0.0.1:8080, the bundled test server) */
#include <stdio.h>

#include <event2/event.h>

#include <concurio/concurio.h>

struct app {
    struct event_base *base;
    struct event *heartbeat;
    int results, failures, beats;
};

static void on_done(cio_pool *pool, const cio_result *res, void *user)
{
    (void)pool;
    (void)res;
    ((struct app *)user)->results++;
}

static void on_error(cio_pool *pool, const cio_result *res, void *user)
{
    (void)pool;
    fprintf(stderr, "error: %s: %s\n", res->url, res->message);
    ((struct app *)user)->failures++;
}

static void on_timeout(cio_pool *pool, const cio_timeouted_task *rec, void *user)
{
    (void)pool;
    fprintf(stderr, "timeout: %s\n", rec->name);
    ((struct app *)user)->failures++;
}

/* The pool is done: stop the application's own timer so the loop can end. */
static void on_drained(cio_pool *pool, void *user)
{
    struct app *a = user;

    printf("results: %d (pool count now %zu)\n", a->results, cio_pool_count(pool));
    event_del(a->heartbeat);
}

static void beat(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;

    (void)fd;
    (void)what;
    a->beats++;
    printf("heartbeat %d: %d results so far\n", a->beats, a->results);
}

int main(int argc, char **argv)
{
    const char *base_url = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    struct app a = {0};
    struct timeval every = {0, 250000};
    cio_pool_opts o;
    int err;

    a.base = event_base_new();
    a.heartbeat = event_new(a.base, -1, EV_PERSIST, beat, &a);
    if (a.base == NULL || a.heartbeat == NULL)
        return 1;
    event_add(a.heartbeat, &every);

    cio_pool_opts_init(&o);
    o.max_concurrency = 25;
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    o.on_drained = on_drained;
    o.user = &a;
    cio_pool *pool = cio_pool_new(&o, &err);
    if (pool == NULL || (err = cio_pool_attach(pool, a.base)) != CIO_OK) {
        fprintf(stderr, "concurio: %s\n", cio_strerror(err));
        return 1;
    }
    for (int i = 0; i < 500; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/delay/50?i=%d", base_url, i);
        cio_http_req req = {.url = url};
        if (cio_submit_http(pool, &req, NULL) != CIO_OK)
            a.failures++;
    }
    cio_pool_start(pool);        /* returns at once */
    event_base_dispatch(a.base); /* the application's loop runs everything */
    cio_pool_free(pool);         /* before the base it borrows */
    event_free(a.heartbeat);
    event_base_free(a.base);
    printf("results=%d failures=%d heartbeats=%d\n", a.results, a.failures, a.beats);
    return a.results + a.failures == 500 ? 0 : 1;
}
