/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking items on worker threads under pressure: timeouts, cancels and a free while
 * functions run, checked by a ledger. A plain program, not a Criterion suite, so that
 * it also runs under ThreadSanitizer (Criterion's runner does not, Criterion #274). */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <concurio/concurio.h>

#define ITEMS 2000

static atomic_int cleanups, running, max_running;
static int ends[ITEMS + 64], failures, checks;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "stress_threads: FAILED: %s\n", what);
    }
}

static int work(void *arg, void **value)
{
    long us = (long)(intptr_t)arg;
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    int now = atomic_fetch_add(&running, 1) + 1, seen = atomic_load(&max_running);

    while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now))
        ;
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&running, 1);
    *value = malloc(8);
    return us % 7 == 0 ? CIO_E_ADAPTER : CIO_OK;
}

static void cleanup(void *arg, void *value)
{
    (void)arg;
    free(value);
    atomic_fetch_add(&cleanups, 1);
}

static void mark(cio_pool *p, cio_task_id id)
{
    if (id < ITEMS + 64)
        ends[id]++;
    if (id % 10 == 0)
        cio_cancel(p, id + 3); /* may be running, queued, or gone */
}

static void on_done(cio_pool *p, const cio_result *r, void *u)
{
    (void)u;
    mark(p, r->id);
}

static void on_error(cio_pool *p, const cio_result *r, void *u)
{
    (void)u;
    mark(p, r->id);
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *r, void *u)
{
    (void)u;
    mark(p, r->id);
}

int main(void)
{
    cio_pool_opts o;

    cio_pool_opts_init(&o);
    o.max_concurrency = 8;
    o.blocking_threads = 4;
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    cio_pool *p = cio_pool_new(&o, NULL);
    for (long i = 0; i < ITEMS; i++) {
        cio_task_opts to = {.timeout_ms = i % 5 == 0 ? 1 : 0};
        check(cio_submit_blocking(p, work, (void *)(intptr_t)(i % 3000), cleanup, &to, NULL) ==
                  CIO_OK,
              "submit");
    }
    check(cio_pool_run(p, CIO_RUN_DEFAULT) == CIO_OK, "run");
    int once = 0;
    for (int id = 1; id <= ITEMS; id++)
        once += ends[id] == 1;
    check(once == ITEMS, "every item ended exactly once");
    cio_stats st;
    cio_pool_stats(p, &st);
    check(st.done + st.errors + st.timeouts == ITEMS, "the counters add up");

    /* Free while functions run and more wait. */
    for (long i = 0; i < 40; i++)
        cio_submit_blocking(p, work, (void *)(intptr_t)20000, cleanup, NULL, NULL);
    cio_pool_run(p, CIO_RUN_NOWAIT);
    cio_pool_free(p);
    check(atomic_load(&cleanups) == ITEMS + 40, "every arg released once");
    check(atomic_load(&max_running) <= 4, "never more functions at once than workers");

    /* One cap over blocking items and timers; then the deadline reaches them all. */
    atomic_store(&max_running, 0);
    atomic_store(&cleanups, 0);
    o.max_concurrency = 3;
    o.blocking_threads = 8;
    o.deadline_ms = 300;
    p = cio_pool_new(&o, NULL);
    for (long i = 0; i < 30; i++) {
        cio_submit_blocking(p, work, (void *)(intptr_t)(i < 20 ? 2000 : 1000000), cleanup, NULL,
                            NULL);
        cio_submit_timer(p, 2, NULL, NULL);
    }
    check(cio_pool_run(p, CIO_RUN_DEFAULT) == CIO_E_DEADLINE, "the deadline ends the run");
    cio_pool_stats(p, &st);
    check(st.max_in_flight == 3, "the cap is reached and holds across kinds");
    check(atomic_load(&max_running) <= 3, "blocking functions stay under the cap");
    check(st.errors >= 1 && st.done + st.errors + st.timeouts == 60, "every item ended");
    cio_pool_free(p); /* waits for the 1 s sleepers that the deadline abandoned */
    check(atomic_load(&cleanups) == 30, "late results are released, not delivered");
    printf("stress_threads: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
