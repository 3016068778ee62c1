/* SPDX-License-Identifier: Apache-2.0 */
/* Calling rate-limited REST APIs: retries with backoff and Retry-After, against the
 * test server's /flaky endpoint. Lower bounds on waits only: a machine under load makes
 * waits longer, never shorter. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"
#include "support/clock.h"

static struct server S;
static struct ledger L;
static cio_pool_opts O;
static cio_http_opts H; /* O.http */

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0);
    cio_pool_opts_init(&O);
    cio_http_opts_init(&H);
    O.http = &H;
    ledger_opts(&O, &L);
}

static void teardown(void)
{
    server_stop_checked(&S);
}

struct seen {
    long status;
    unsigned attempts;
    int code;
    char message[256];
    uint64_t at;
};
static struct seen last, last_error;

static void keep(cio_pool *p, const cio_result *r, void *user)
{
    struct ledger *l = user;

    (void)p;
    if (r->status == CIO_OK)
        l->done++;
    else
        l->errors++;
    l->ends[r->id]++;
    last.status = r->http_status;
    last.attempts = r->attempts;
    last.code = r->status;
    last.at = test_now_ms();
    snprintf(last.message, sizeof last.message, "%s", r->message);
    if (r->status != CIO_OK) {
        l->by_status[-r->status]++;
        last_error = last;
    }
}

#define TEST_REST(name, ...) Test(rest, name, .init = setup, .fini = teardown, __VA_ARGS__)

TEST_REST(a_flaky_endpoint_succeeds_within_its_attempts, .timeout = 30)
{
    struct server_stats st;

    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 3, .base_ms = 20};
    cio_pool *p = test_pool(&O, 2);
    test_get(p, &S, "/flaky/a/2", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_stats cs;
    cio_pool_stats(p, &cs);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(last.status, 200);
    cr_assert_eq(last.attempts, 3);
    cr_assert_eq(cs.retries, 2);
    cr_assert_eq(cs.started, 3);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.requests, 3);
    server_stats_free(&st);
}

TEST_REST(when_attempts_run_out_a_status_the_policy_retries_is_a_failure, .timeout = 30)
{
    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 3, .base_ms = 10};
    cio_pool *p = test_pool(&O, 2);
    test_get(p, &S, "/flaky/b/10?status=502", 0);
    test_get(p, &S, "/status/404", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1, "a 502 that outlived its retries did not succeed");
    cr_assert_eq(L.by_status[-CIO_E_HTTP], 1);
    cr_assert_eq(last_error.status, 502);
    cr_assert_eq(last_error.attempts, 3);
    cr_assert(strstr(last_error.message, "retries exhausted") != NULL, "%s", last_error.message);
    cr_assert_eq(L.done, 1, "a 404, which the policy does not retry, is a result");
}

TEST_REST(retry_after_in_seconds_is_waited_for, .timeout = 30)
{
    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 2, .base_ms = 1};
    cio_pool *p = test_pool(&O, 1);
    uint64_t t0 = test_now_ms();
    test_get(p, &S, "/flaky/c/1?status=429&retry_after=1", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(last.status, 200);
    cr_assert_eq(last.attempts, 2);
    cr_assert_geq(last.at - t0, 1000, "waited %llu ms", (unsigned long long)(last.at - t0));
}

TEST_REST(retry_after_as_an_http_date_is_waited_for, .timeout = 30)
{
    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 2, .base_ms = 1};
    cio_pool *p = test_pool(&O, 1);
    uint64_t t0 = test_now_ms();
    /* A date 2 s ahead, with one-second resolution: at least 1 s from now. */
    test_get(p, &S, "/flaky/d/1?status=503&retry_after_date=2", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(last.status, 200);
    cr_assert_eq(last.attempts, 2);
    cr_assert_geq(last.at - t0, 1000, "waited %llu ms", (unsigned long long)(last.at - t0));
}

TEST_REST(a_retry_after_beyond_the_maximum_wait_ends_the_item, .timeout = 30)
{
    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 5, .max_wait_ms = 5000};
    cio_pool *p = test_pool(&O, 1);
    test_get(p, &S, "/flaky/e/1?status=429&retry_after=120", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(last.code, CIO_E_RETRY_AFTER);
    cr_assert_eq(last.attempts, 1);
    cr_assert(strstr(last.message, "120 s") != NULL, "%s", last.message);
}

TEST_REST(transport_errors_are_retried_then_reported, .timeout = 30)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    char url[64];

    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", ntohs(a.sin_port));
    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 4, .base_ms = 5};
    cio_pool *p = test_pool(&O, 1);
    cio_http_req r = {.url = url};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(last.code, CIO_E_TRANSPORT);
    cr_assert_eq(last.attempts, 4);
}

TEST_REST(a_requests_own_policy_overrides_the_pools, .timeout = 30)
{
    static const unsigned short only_418[] = {418};
    cio_retry mine = {.max_attempts = 2, .base_ms = 1, .statuses = only_418, .nstatuses = 1};

    O.on_done = O.on_error = keep;
    O.retry = (cio_retry){.max_attempts = 5, .base_ms = 1};
    cio_pool *p = test_pool(&O, 1);
    cio_http_req r = {.url = server_url(&S, "/flaky/f/5?status=418"), .retry = &mine};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    memset(&mine, 0, sizeof mine); /* copied at submit */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(last.status, 418);
    cr_assert_eq(last.attempts, 2);
    test_get(p, &S, "/flaky/g/1?status=418", 0); /* the pool's policy does not retry 418 */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(last.attempts, 1);
}

static uint64_t ok_at;

static void note_ok(cio_pool *p, const cio_result *r, void *user)
{
    keep(p, r, user);
    if (strstr(r->url, "/ok") != NULL)
        ok_at = test_now_ms();
}

TEST_REST(an_item_waiting_to_retry_holds_no_slot, .timeout = 30)
{
    O.on_done = O.on_error = note_ok;
    O.retry = (cio_retry){.max_attempts = 2, .base_ms = 1};
    cio_pool *p = test_pool(&O, 1); /* one slot */
    uint64_t t0 = test_now_ms();
    test_get(p, &S, "/flaky/h/1?status=503&retry_after=2", 0);
    test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_lt(ok_at - t0, 1500, "/ok ran while the other waited 2 s");
    cr_assert_geq(last.at - t0, 2000, "the retry came after its Retry-After");
}

static cio_task_id waiting_id;

static void cancel_the_waiting(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id != waiting_id)
        cr_assert_eq(cio_cancel(p, waiting_id), CIO_OK);
}

TEST_REST(cancel_and_deadline_reach_items_waiting_to_retry, .timeout = 30)
{
    O.retry = (cio_retry){.max_attempts = 3};
    cio_pool *p = test_pool(&O, 2);

    L.after = cancel_the_waiting;
    waiting_id = test_get(p, &S, "/flaky/i/5?status=429&retry_after=30", 0);
    test_get(p, &S, "/delay/300", 0); /* its end cancels the waiting one */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 1);
    L.after = NULL;
    cio_pool_free(p);
    cr_assert_eq(ledger_once(&L, 2), 2);
    memset(L.ends, 0, sizeof L.ends); /* the next pool counts its ids from 1 again */

    O.deadline_ms = 300;
    p = test_pool(&O, 2);
    test_get(p, &S, "/flaky/j/5?status=429&retry_after=30", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    cio_pool_free(p);
    cr_assert_eq(L.by_status[-CIO_E_DEADLINE], 1);
    cr_assert_eq(ledger_once(&L, 1), 1);
}

static cio_timings timings_seen[16];
static int ntimings;

static void keep_timings(cio_pool *p, const cio_result *r, void *user)
{
    keep(p, r, user);
    if (ntimings < 16)
        timings_seen[ntimings++] = r->timings;
}

TEST_REST(timings_split_queue_time_from_rate_waits, .timeout = 30)
{
    O.on_done = O.on_error = keep_timings;
    O.rate.count = 600; /* one start every 100 ms */
    cio_pool *p = test_pool(&O, 10);

    for (int i = 0; i < 3; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(ntimings, 3);
    const cio_timings *third = &timings_seen[2];
    /* Queued ~200 ms; its turn came when the second started, ~100 ms in. */
    cr_assert_geq(third->queued_ms, 180);
    cr_assert_geq(third->rate_wait_ms, 80);
    cr_assert_leq(third->rate_wait_ms, third->queued_ms);
    cr_assert_geq(third->total_ms, third->queued_ms);
    cr_assert_leq(timings_seen[0].rate_wait_ms, 5, "the first had a token at once");
}

TEST_REST(total_time_spans_every_attempt_and_wait, .timeout = 30)
{
    O.on_done = O.on_error = keep_timings;
    O.retry = (cio_retry){.max_attempts = 2, .base_ms = 1};
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/flaky/t/1?status=503&retry_after=1", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(last.attempts, 2);
    cr_assert_geq(timings_seen[0].total_ms, 1000);
    cr_assert_lt(timings_seen[0].queued_ms, 500, "the Retry-After wait is not queue time");
}

static cio_timeouted_task timeout_seen;

static void keep_timeout(cio_pool *p, const cio_timeouted_task *rec, void *user)
{
    (void)p;
    ((struct ledger *)user)->timeouts++;
    timeout_seen = *rec;
}

TEST_REST(an_item_budget_bounds_all_attempts_together, .timeout = 30)
{
    O.on_timeout = keep_timeout;
    O.timeout_ms = 300; /* each attempt */
    O.retry = (cio_retry){.max_attempts = 10,
                          .on = CIO_RETRY_DEFAULT | CIO_RETRY_TIMEOUT,
                          .base_ms = 1,
                          .budget_ms = 700};
    cio_pool *p = test_pool(&O, 1);
    uint64_t t0 = test_now_ms();

    test_get(p, &S, "/delay/5000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t took = test_now_ms() - t0;
    cio_pool_free(p);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(timeout_seen.budget, CIO_BUDGET_ITEM);
    cr_assert_eq(timeout_seen.timeout_ms, 700);
    cr_assert_geq(timeout_seen.attempts, 3, "300 + 300 + the rest");
    cr_assert_geq(took, 690);
    cr_assert_lt(took, 3000, "not ten attempts of 300 ms");
}

TEST_REST(an_attempts_own_timeout_says_so, .timeout = 30)
{
    O.on_timeout = keep_timeout;
    O.timeout_ms = 200;
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/delay/3000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(timeout_seen.budget, CIO_BUDGET_ATTEMPT);
    cr_assert_eq(timeout_seen.attempts, 1);
    cr_assert_eq(timeout_seen.timeout_ms, 200);
    cr_assert_geq(timeout_seen.timings.total_ms, 200);
    cr_assert_leq(timeout_seen.timings.connect_ms, timeout_seen.timings.total_ms);
}

static int oks;

static void count_ok(cio_pool *p, const cio_result *r, void *user)
{
    keep(p, r, user);
    oks += r->http_status == 200;
}

/* 30 requests, 10 at a time, against an endpoint that answers 429 above 10 a second
 * (and counts the rejected ones too, as many APIs do). Returns the retries drawn. */
static uint64_t retries_with(unsigned flags)
{
    cio_stats st;

    oks = 0;
    O.flags = flags;
    O.retry = (cio_retry){.max_attempts = 8, .base_ms = 50, .max_wait_ms = 1000};
    cio_pool *p = test_pool(&O, 10);
    for (int i = 0; i < 30; i++)
        test_get(p, &S, "/limited/10", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    return st.retries;
}

TEST_REST(adaptive_slowdown_draws_fewer_429s_than_retrying_blindly, .timeout = 120)
{
    O.on_done = O.on_error = count_ok;
    uint64_t blind = retries_with(0);
    int blind_oks = oks;
    uint64_t adaptive = retries_with(CIO_ADAPTIVE);

    cr_log_info("429s drawn: %llu blind (%d of 30 got through), %llu adaptive (%d)",
                (unsigned long long)blind, blind_oks, (unsigned long long)adaptive, oks);
    cr_assert_eq(oks, 30, "adaptive: every request got through within its attempts");
    cr_assert_lt(adaptive * 2, blind);
}

TEST_REST(a_used_up_quota_pauses_its_key_until_the_reset, .timeout = 30)
{
    struct server_stats st;

    O.flags = CIO_ADAPTIVE;
    cio_pool *p = test_pool(&O, 1);
    test_get(p, &S, "/status/200?ratelimit_remaining=0&ratelimit_reset=1", 0);
    test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 2);
    cr_assert_geq(st.starts_ms[1] - st.starts_ms[0], 990, "paused %llu ms",
                  (unsigned long long)(st.starts_ms[1] - st.starts_ms[0]));
    server_stats_free(&st);
}
