/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP transfers on two threads of their own (io_threads) under pressure: cancels that
 * race the threads, timeouts, the deadline, and a free while transfers run, checked by a
 * ledger. A plain program, so that it runs under ThreadSanitizer (Criterion does not).
 * Usage: stress_lanes BASE_URL (tests/with_server.sh gives it). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <concurio/concurio.h>

#define ITEMS 3000

static int ends[ITEMS + 1], failures, checks;
static size_t ended, canceled, free_at;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "stress_lanes: FAILED: %s\n", what);
    }
}

static void mark(cio_pool *p, cio_task_id id, int status)
{
    if (id >= 1 && id <= ITEMS)
        ends[id]++;
    ended++;
    canceled += status == CIO_E_CANCELED;
    if (id % 3 == 0)
        cio_cancel(p, id + 4); /* running on a lane, queued, or gone */
    if (free_at != 0 && ended == free_at)
        cio_pool_free(p);
}

static void on_done(cio_pool *p, const cio_result *r, void *u)
{
    (void)u;
    mark(p, r->id, r->status);
}

static void on_error(cio_pool *p, const cio_result *r, void *u)
{
    (void)u;
    mark(p, r->id, r->status);
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *r, void *u)
{
    (void)u;
    mark(p, r->id, CIO_E_TIMEOUT);
}

static int window; /* a window rate: every request says when it goes out (sentbox) */

static cio_pool *pool(unsigned cap, unsigned deadline_ms)
{
    cio_pool_opts o;
    cio_http_opts h;

    cio_pool_opts_init(&o);
    cio_http_opts_init(&h);
    o.http = &h;
    if (window)
        o.rate = (cio_rate){.count = 100000, .period_ms = 1000, .mode = CIO_RATE_WINDOW};
    o.max_concurrency = cap;
    h.io_threads = 2;
    o.deadline_ms = deadline_ms;
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    memset(ends, 0, sizeof ends);
    ended = canceled = 0;
    return cio_pool_new(&o, NULL);
}

static void submit(cio_pool *p, const char *base, int n)
{
    char url[256];

    for (int i = 0; i < n; i++) {
        snprintf(url, sizeof url, "%s/delay/%d", base, i % 5 == 0 ? 40 : 0);
        cio_http_req r = {.url = url, .timeout_ms = i % 13 == 0 ? 15 : 0};
        check(cio_submit_http(p, &r, NULL) == CIO_OK, "submit");
    }
}

static int once(int n)
{
    int k = 0;

    for (int id = 1; id <= n; id++)
        k += ends[id] == 1;
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: stress_lanes BASE_URL\n");
        return 2;
    }
    const char *base = argv[argc - 1];

    cio_pool *p = pool(48, 0);
    submit(p, base, ITEMS);
    check(cio_pool_run(p, CIO_RUN_DEFAULT) == CIO_OK, "run");
    check(once(ITEMS) == ITEMS, "every item ended exactly once");
    check(canceled > 0, "some cancels reached running transfers");
    cio_pool_free(p);

    /* The same with a window rate: each request's going out crosses from its thread, and
     * a cancel may meet it on the way. */
    window = 1;
    p = pool(48, 0);
    submit(p, base, ITEMS);
    check(cio_pool_run(p, CIO_RUN_DEFAULT) == CIO_OK, "run with a window");
    check(once(ITEMS) == ITEMS, "every item ended exactly once with a window");
    cio_pool_free(p);
    window = 0;

    /* The deadline ends what the threads still run. */
    p = pool(16, 150);
    submit(p, base, 200);
    char url[256];
    snprintf(url, sizeof url, "%s/delay/5000", base);
    for (int i = 0; i < 16; i++) {
        cio_http_req r = {.url = url};
        cio_submit_http(p, &r, NULL);
    }
    check(cio_pool_run(p, CIO_RUN_DEFAULT) == CIO_E_DEADLINE, "the deadline ends the run");
    check(once(216) == 216, "every item ended once under the deadline");
    cio_pool_free(p);

    /* Freed from a callback while the threads hold transfers. */
    p = pool(64, 0);
    free_at = 700;
    submit(p, base, 2000);
    cio_pool_run(p, CIO_RUN_DEFAULT);
    check(once(2000) == 2000, "every item ended once when freed mid-run");
    printf("stress_lanes: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
