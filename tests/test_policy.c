/* SPDX-License-Identifier: Apache-2.0 */
/* One retry policy for every kind of work: each case runs twice, once with HTTP requests
 * to the test server's /flaky endpoint and once with a caller's own adapter (the tests'
 * delay item, failing through cio_task_retry), and must hold the same way for both:
 * attempts, the cap and the rate over every attempt, the budget, the waits asked for,
 * and timeouts retried only when the policy says so. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/clock.h"
#include "support/delay.h"
#include "support/fixture.h"
#include "support/server.h"

#define MAX_ITEMS 32

static struct server S;
static cio_pool_opts O;

/* Each item's end, as its terminal callback saw it. */
static struct end {
    int ends; /* terminal callbacks: must be 1 */
    int timeout;
    int status;
    long http_status;
    unsigned attempts;
    cio_budget budget;
    char message[160];
    uint64_t at;
} E[MAX_ITEMS + 1];

static void on_result(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    (void)user;
    cr_assert_leq(r->id, MAX_ITEMS);
    struct end *e = &E[r->id];
    e->ends++;
    e->status = r->status;
    e->http_status = r->http_status;
    e->attempts = r->attempts;
    e->at = test_now_ms();
    snprintf(e->message, sizeof e->message, "%s", r->message != NULL ? r->message : "");
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *t, void *user)
{
    (void)p;
    (void)user;
    cr_assert_leq(t->id, MAX_ITEMS);
    struct end *e = &E[t->id];
    e->ends++;
    e->timeout = 1;
    e->status = CIO_E_TIMEOUT;
    e->attempts = t->attempts;
    e->budget = t->budget;
    e->at = test_now_ms();
}

/* ---- the two kinds of work ------------------------------------------------------------ */

struct kind {
    /* Queues an item whose first `fails` attempts fail (< 0: every one), each taking ms,
     * the failures asking to wait after_s seconds first (0: no ask). */
    void (*submit)(cio_pool *p, int fails, unsigned ms, unsigned after_s);
    /* Every attempt's start, in ms on one clock, in order; returns how many. */
    size_t (*starts)(uint64_t *out, size_t max);
    long (*max_in_flight)(void);
    int failed;         /* how an item whose attempts ran out ends */
    int unretried_done; /* 1: a failure without a policy is still a result (a 503) */
};

static unsigned flaky_keys;

static void http_submit(cio_pool *p, int fails, unsigned ms, unsigned after_s)
{
    char path[160];

    snprintf(path, sizeof path, "/flaky/k%u/%d?delay=%u&retry_after=%u", ++flaky_keys,
             fails < 0 ? 1000000 : fails, ms, after_s);
    if (after_s == 0) /* no ask at all: drop the header */
        *strstr(path, "&retry_after") = '\0';
    cio_http_req r = {.size = sizeof r, .url = server_url(&S, path)};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t http_starts(uint64_t *out, size_t max)
{
    struct server_stats st;

    cr_assert_eq(server_stats(&S, &st), 0);
    size_t n = st.nstarts < max ? st.nstarts : max;
    memcpy(out, st.starts_ms, n * sizeof *out);
    server_stats_free(&st);
    qsort(out, n, sizeof *out, cmp_u64);
    return n;
}

static long http_max_in_flight(void)
{
    struct server_stats st;

    cr_assert_eq(server_stats(&S, &st), 0);
    long m = st.max_in_flight;
    server_stats_free(&st);
    return m;
}

static void work_submit(cio_pool *p, int fails, unsigned ms, unsigned after_s)
{
    cio_task_opts o = {.size = sizeof o};
    void *w = delay_new_flaky((int)ms, fails, after_s * 1000u);

    cr_assert_not_null(w);
    cr_assert_eq(cio_submit(p, &delay_vtable, w, &o, NULL), CIO_OK);
}

static size_t work_starts(uint64_t *out, size_t max)
{
    size_t n = (size_t)delay_nstarts < max ? (size_t)delay_nstarts : max;

    memcpy(out, delay_starts_ms, n * sizeof *out);
    return n;
}

static long work_max_in_flight(void)
{
    return delay_max_running;
}

static const struct kind HTTP = {http_submit, http_starts, http_max_in_flight, CIO_E_HTTP, 1};
static const struct kind WORK = {work_submit, work_starts, work_max_in_flight, CIO_E_ADAPTER, 0};

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    cio_pool_opts_init(&O);
    O.on_done = O.on_error = on_result;
    O.on_timeout = on_timeout;
    memset(E, 0, sizeof E);
    delay_reset();
}

static void teardown(void)
{
    server_stop_checked(&S);
}

/* A case, run for both kinds. */
#define BOTH(name, ...)                                                                            \
    static void name(const struct kind *k);                                                        \
    Test(policy, name##__http, .init = setup, .fini = teardown, __VA_ARGS__)                       \
    {                                                                                              \
        name(&HTTP);                                                                               \
    }                                                                                              \
    Test(policy, name##__work, .init = setup, .fini = teardown, __VA_ARGS__)                       \
    {                                                                                              \
        name(&WORK);                                                                               \
    }                                                                                              \
    static void name(const struct kind *k)

static void run(cio_pool *p)
{
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
}

/* ---- the cases ------------------------------------------------------------------------ */

BOTH(an_item_failing_twice_then_succeeding_ends_done_after_three_attempts, .timeout = 60)
{
    enum { N = 12, CAP = 3, GAP_MS = 50 };
    uint64_t starts[64];
    cio_stats st;

    O.rate = (cio_rate){.count = 60000 / GAP_MS}; /* evenly paced: one start every 50 ms */
    O.retry = (cio_retry){.max_attempts = 5, .base_ms = 20, .max_wait_ms = 100};
    cio_pool *p = test_pool(&O, CAP);
    for (int i = 0; i < N; i++)
        k->submit(p, 2, 30, 0);
    run(p);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    for (int id = 1; id <= N; id++) {
        cr_assert_eq(E[id].ends, 1, "item %d ended once", id);
        cr_assert_eq(E[id].status, CIO_OK, "item %d: %s", id, E[id].message);
        cr_assert_eq(E[id].attempts, 3, "item %d", id);
    }
    cr_assert_eq(st.retries, 2 * N);
    cr_assert_leq(st.max_in_flight, CAP);
    cr_assert_leq(k->max_in_flight(), CAP, "the cap holds over every attempt");
    size_t n = k->starts(starts, 64);
    cr_assert_eq(n, 3 * N, "every attempt started once");
    /* Burst 1: any j - i + 1 starts span at least (j - i) gaps, with 30 ms of slack for
     * the way to the server on a loaded machine. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_geq(starts[j] - starts[i] + 30, (j - i) * GAP_MS,
                          "starts %zu and %zu are %llu ms apart", i, j,
                          (unsigned long long)(starts[j] - starts[i]));
}

BOTH(an_item_whose_attempts_run_out_fails_with_its_last_outcome, .timeout = 30)
{
    O.retry = (cio_retry){.max_attempts = 3, .base_ms = 10, .max_wait_ms = 20};
    cio_pool *p = test_pool(&O, 4);
    for (int i = 0; i < 4; i++)
        k->submit(p, -1, 10, 0);
    run(p);
    cio_pool_free(p);
    for (int id = 1; id <= 4; id++) {
        cr_assert_eq(E[id].ends, 1);
        cr_assert_eq(E[id].status, k->failed, "item %d: %d %s", id, E[id].status, E[id].message);
        cr_assert_eq(E[id].attempts, 3);
        cr_assert_neq(E[id].message[0], '\0', "it says why");
    }
    cr_assert_eq(k->starts((uint64_t[16]){0}, 16), 12);
}

BOTH(without_a_policy_an_item_is_tried_once, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 2);
    k->submit(p, -1, 10, 0);
    run(p);
    cio_pool_free(p);
    cr_assert_eq(E[1].ends, 1);
    cr_assert_eq(E[1].attempts, 1);
    if (k->unretried_done) /* a 503 that nobody asked to retry is a response */
        cr_assert(E[1].status == CIO_OK && E[1].http_status == 503);
    else
        cr_assert_eq(E[1].status, CIO_E_ADAPTER);
}

BOTH(the_budget_ends_an_item_that_keeps_failing, .timeout = 30)
{
    enum { BUDGET_MS = 600, ATTEMPT_MS = 100 };

    O.retry =
        (cio_retry){.max_attempts = 50, .base_ms = 50, .max_wait_ms = 50, .budget_ms = BUDGET_MS};
    cio_pool *p = test_pool(&O, 1);
    uint64_t t0 = test_now_ms();
    k->submit(p, -1, ATTEMPT_MS, 0);
    run(p);
    cio_pool_free(p);
    cr_assert_eq(E[1].ends, 1);
    cr_assert_neq(E[1].status, CIO_OK);
    if (E[1].timeout) /* an attempt was cut short by what was left of the budget */
        cr_assert_eq(E[1].budget, CIO_BUDGET_ITEM);
    else
        cr_assert_eq(E[1].status, k->failed, "%d %s", E[1].status, E[1].message);
    /* Attempts of 100 ms and waits of at most 50: four to six fit in 600 ms. */
    cr_assert(E[1].attempts >= 3 && E[1].attempts <= BUDGET_MS / ATTEMPT_MS, "%u attempts",
              E[1].attempts);
    cr_assert_leq(E[1].at - t0, BUDGET_MS + 300, "it ended %llu ms after its start",
                  (unsigned long long)(E[1].at - t0));
}

BOTH(a_wait_asked_for_is_a_floor_and_one_past_the_cap_ends_the_item, .timeout = 30)
{
    uint64_t starts[4];

    O.retry = (cio_retry){.max_attempts = 3, .base_ms = 1, .max_wait_ms = 5000};
    cio_pool *p = test_pool(&O, 2);
    k->submit(p, 1, 10, 1); /* fails once, asking for a second */
    run(p);
    cio_pool_free(p);
    cr_assert_eq(E[1].status, CIO_OK, "%s", E[1].message);
    cr_assert_eq(E[1].attempts, 2);
    cr_assert_eq(k->starts(starts, 4), 2);
    cr_assert_geq(starts[1] - starts[0], 1000, "the second attempt waited %llu ms",
                  (unsigned long long)(starts[1] - starts[0]));

    memset(E, 0, sizeof E);
    O.retry.max_wait_ms = 500;
    p = test_pool(&O, 2);
    k->submit(p, 1, 10, 1);
    run(p);
    cio_pool_free(p);
    cr_assert_eq(E[1].ends, 1);
    cr_assert_eq(E[1].status, CIO_E_RETRY_AFTER, "%d %s", E[1].status, E[1].message);
    cr_assert_eq(E[1].attempts, 1);
}

BOTH(timeouts_are_retried_only_when_the_policy_says_so, .timeout = 30)
{
    O.timeout_ms = 150;
    O.retry = (cio_retry){.max_attempts = 3, .base_ms = 10, .max_wait_ms = 10};
    cio_pool *p = test_pool(&O, 2);
    k->submit(p, -1, 3000, 0); /* every attempt hangs past its limit */
    run(p);
    cio_pool_free(p);
    cr_assert(E[1].ends == 1 && E[1].timeout);
    cr_assert_eq(E[1].attempts, 1, "CIO_RETRY_TIMEOUT is not in the default");
    cr_assert_eq(E[1].budget, CIO_BUDGET_ATTEMPT);

    memset(E, 0, sizeof E);
    O.retry.on = CIO_RETRY_DEFAULT | CIO_RETRY_TIMEOUT;
    p = test_pool(&O, 2);
    k->submit(p, -1, 3000, 0);
    run(p);
    cio_pool_free(p);
    cr_assert(E[1].ends == 1 && E[1].timeout);
    cr_assert_eq(E[1].attempts, 3);
}
