/* SPDX-License-Identifier: Apache-2.0 */
/* Calling a rate-limited REST API: 60 requests to an endpoint that allows 10 a second,
 * plus a flaky one, with retries (Retry-After honoured), a per-host limit and adaptive
 * slowdown, printing each failure and a summary.
 *
 *   rest_api [BASE-URL]        (default http://127.0.0.1:8080, the bundled test server) */
#include <stdio.h>

#include <concurio/concurio.h>

struct tally {
    int ok, other, failed, timeouts;
    unsigned most_attempts;
};

static void on_done(cio_pool *pool, const cio_result *r, void *user)
{
    struct tally *t = user;

    (void)pool;
    if (r->http_status == 200)
        t->ok++;
    else {
        t->other++;
        printf("HTTP %ld after %u attempts: %s\n", r->http_status, r->attempts, r->url);
    }
    if (r->attempts > t->most_attempts)
        t->most_attempts = r->attempts;
}

static void on_error(cio_pool *pool, const cio_result *r, void *user)
{
    (void)pool;
    ((struct tally *)user)->failed++;
    printf("error after %u attempts: %s: %s\n", r->attempts, r->url, r->message);
}

static void on_timeout(cio_pool *pool, const cio_timeouted_task *t, void *user)
{
    (void)pool;
    ((struct tally *)user)->timeouts++;
    printf("timeout (%s budget) after %u attempts: %s\n",
           t->budget == CIO_BUDGET_ITEM ? "item" : "attempt", t->attempts, t->name);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    struct tally t = {0};
    cio_pool_opts o;
    int err;

    cio_pool_opts_init(&o);
    o.max_concurrency = 10;
    o.per_key = (cio_limits){.max_concurrency = 8}; /* at most 8 at once to one host */
    o.flags = CIO_ADAPTIVE;                         /* 429 or 503: slow that host down */
    o.timeout_ms = 5000;                            /* each attempt */
    o.retry = (cio_retry){
        .max_attempts = 6,    /* retried: transport errors, 429, 5xx */
        .max_wait_ms = 10000, /* a longer Retry-After ends the item instead */
        .budget_ms = 60000,   /* the whole item, attempts and waits together */
    };
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    o.user = &t;
    cio_pool *pool = cio_pool_new(&o, &err);
    if (pool == NULL) {
        fprintf(stderr, "concurio: %s\n", cio_strerror(err));
        return 1;
    }
    char url[512];
    int submitted = 0;
    for (int i = 0; i < 60; i++) {
        snprintf(url, sizeof url, "%s/limited/10?item=%d", base, i);
        cio_http_req req = {.url = url};
        submitted += cio_submit_http(pool, &req, NULL) == CIO_OK;
    }
    /* Fails twice with 503 and "Retry-After: 1", then answers. */
    snprintf(url, sizeof url, "%s/flaky/example/2?status=503&retry_after=1", base);
    cio_http_req flaky = {.url = url};
    submitted += cio_submit_http(pool, &flaky, NULL) == CIO_OK;

    err = cio_pool_run(pool, CIO_RUN_DEFAULT);
    cio_stats st;
    cio_pool_stats(pool, &st);
    cio_pool_free(pool);
    printf("submitted=%d ok=%d other=%d errors=%d timeouts=%d; retries=%llu, rate cuts=%llu, "
           "most attempts=%u\n",
           submitted, t.ok, t.other, t.failed, t.timeouts, (unsigned long long)st.retries,
           (unsigned long long)st.throttles, t.most_attempts);
    return err == CIO_OK && t.ok + t.other + t.failed + t.timeouts == submitted ? 0 : 1;
}
