/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP items against the real test server on loopback, checked from both sides. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include <concurio/concurio.h>

#include "support/clock.h"
#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"

static struct server S;
static struct ledger L;
static cio_pool_opts O;
static cio_http_opts H; /* O.http */

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    cio_pool_opts_init(&O);
    cio_http_opts_init(&H);
    O.http = &H;
    ledger_opts(&O, &L);
}

static void teardown(void)
{
    server_stop_checked(&S);
}

#define TEST_HTTP(name, ...) Test(http, name, .init = setup, .fini = teardown, __VA_ARGS__)

TEST_HTTP(the_cap_is_reached_and_never_exceeded_at_the_server, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 5);
    struct server_stats st;

    for (int i = 0; i < 20; i++)
        test_get(p, &S, "/delay/200", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 20);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.requests, 20);
    cr_assert_eq(st.max_in_flight, 5, "the server saw %ld at once", st.max_in_flight);
    server_stats_free(&st);
}

TEST_HTTP(the_rate_holds_at_the_server, .timeout = 30)
{
    O.rate.count = 600; /* 10/s: one start every 100 ms */
    cio_pool *p = test_pool(&O, 8);
    struct server_stats st;

    for (int i = 0; i < 12; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 12);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 12);
    /* In any window of T ms: at most burst + T/100 starts, plus one for the jitter
     * between the client's start and the server's arrival time. */
    for (size_t i = 0; i < st.nstarts; i++)
        for (size_t j = i; j < st.nstarts; j++) {
            uint64_t t = st.starts_ms[j] - st.starts_ms[i];
            cr_assert_leq(j - i + 1, 1 + t / 100 + 1, "%zu starts in %llu ms", j - i + 1,
                          (unsigned long long)t);
        }
    cr_assert_geq(st.starts_ms[11] - st.starts_ms[0], 1000, "11 gaps of 100 ms");
    server_stats_free(&st);
}

TEST_HTTP(time_queued_before_admission_is_not_timed, .timeout = 30)
{
    /* The libcurl trap: with the queue inside libcurl, the third would time out. */
    cio_pool *p = test_pool(&O, 1);

    for (int i = 0; i < 3; i++)
        test_get(p, &S, "/delay/400", 600);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 3);
    cr_assert_eq(L.timeouts, 0);
}

TEST_HTTP(a_timeout_gives_a_timeouted_task_record, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 1);
    char url[128];
    int mine;
    cio_task_id id;

    test_get(p, &S, "/delay/300", 0);
    snprintf(url, sizeof url, "%s", server_url(&S, "/delay/5000"));
    cio_http_req r = {.url = url, .timeout_ms = 200, .user = &mine};
    cr_assert_eq(cio_submit_http(p, &r, &id), CIO_OK);
    url[0] = 'X'; /* the pool kept its own copy */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    url[0] = 'h';
    cr_assert_eq(L.done, 1);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(L.last_timeout.id, id);
    cr_assert_eq(L.last_timeout.timeout_ms, 200);
    cr_assert_eq(L.last_timeout.task_user, &mine);
    cr_assert_geq(L.last_timeout.queued_ms, 250, "waited behind the first");
    cr_assert_geq(L.last_timeout.ran_ms, 180);
    cr_assert_lt(L.last_timeout.ran_ms, 5000);
    cr_assert_eq(L.last_timeout.expired_ms - L.last_timeout.started_ms, L.last_timeout.ran_ms);
}

static char seen_name[256], seen_url[256];

static void keep_names(cio_pool *p, const cio_timeouted_task *rec, void *user)
{
    (void)p;
    (void)user;
    snprintf(seen_name, sizeof seen_name, "%s", rec->name);
    snprintf(seen_url, sizeof seen_url, "%s", rec->request->url);
}

TEST_HTTP(the_timeout_record_names_method_and_url, .timeout = 30)
{
    O.on_timeout = keep_names;
    O.timeout_ms = 100; /* the pool's default */
    cio_pool *p = test_pool(&O, 1);
    char want[256];

    snprintf(want, sizeof want, "%s", server_url(&S, "/trickle/50?n=100"));
    test_get(p, &S, "/trickle/50?n=100", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_str_eq(seen_url, want);
    char name[300];
    snprintf(name, sizeof name, "GET %s", want);
    cr_assert_str_eq(seen_name, name);
}

TEST_HTTP(connection_refused_is_an_error, .timeout = 30)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    char url[64];

    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nothing listens there now */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", ntohs(a.sin_port));
    cio_pool *p = test_pool(&O, 2);
    cio_http_req r = {.url = url};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.last_status, CIO_E_TRANSPORT);
}

static int curl_code_seen;
static char message_seen[256];

static void keep_error(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->errors++;
    curl_code_seen = r->curl_code;
    snprintf(message_seen, sizeof message_seen, "%s", r->message);
}

TEST_HTTP(an_unresolvable_host_is_an_error_with_curls_message, .timeout = 30)
{
    /* A 70-character label fails inside the local resolver: no packet leaves. */
    char url[128];

    snprintf(url, sizeof url, "http://%070d.invalid/", 0);
    O.on_error = keep_error;
    cio_pool *p = test_pool(&O, 2);
    cio_http_req r = {.url = url};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(curl_code_seen, 6, "CURLE_COULDNT_RESOLVE_HOST");
    cr_assert(strstr(message_seen, "resolve") != NULL, "message: %s", message_seen);
}

TEST_HTTP(bad_requests_are_refused_at_submit, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 2);
    const char *crlf[] = {"X-Ok: 1", "X-Evil: a\r\nInjected: yes", NULL};
    const char *nocolon[] = {"NoColon", NULL};
    const char *badname[] = {"Bad Name: v", NULL};
    const char *url = server_url(&S, "/ok");
    cio_http_req bad[] = {
        {.url = NULL},
        {.url = "ftp://127.0.0.1/"},
        {.url = "file:///etc/passwd"},
        {.url = "http://127.0.0.1/a\r\nb"},
        {.url = "http://127.0.0.1/a b"},
        {.url = url, .method = "GET\r\nX: y"},
        {.url = url, .method = "G ET"},
        {.url = url, .method = ""},
        {.url = url, .headers = crlf},
        {.url = url, .headers = nocolon},
        {.url = url, .headers = badname},
        {.url = url, .body = NULL, .body_len = 3},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cio_submit_http(p, &bad[i], NULL), CIO_E_INVAL, "case %zu", i);
    cr_assert_eq(cio_submit_http(p, NULL, NULL), CIO_E_INVAL);
    cr_assert_eq(cio_pool_count(p), 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done + L.errors + L.timeouts, 0, "refused items never call back");
}

static char body_seen[4096];
static long status_seen;
static size_t len_seen;
static int truncated_seen;
static char type_seen[64];

static void keep_body(cio_pool *p, const cio_result *r, void *user)
{
    size_t n = 0;
    const char *ct = cio_result_header(r, "content-type", &n);

    (void)p;
    ((struct ledger *)user)->done++;
    snprintf(body_seen, sizeof body_seen, "%s", r->body);
    status_seen = r->http_status;
    len_seen = r->body_len;
    truncated_seen = r->truncated;
    snprintf(type_seen, sizeof type_seen, "%.*s", (int)n, ct != NULL ? ct : "");
}

TEST_HTTP(method_headers_and_body_reach_the_server, .timeout = 30)
{
    O.on_done = keep_body;
    cio_pool *p = test_pool(&O, 1);
    const char *headers[] = {"X-Token: abc 123", "Content-Type: text/plain", NULL};
    char body[] = "hello=world";
    cio_http_req r = {.url = server_url(&S, "/echo"),
                      .method = "PUT",
                      .headers = headers,
                      .body = body,
                      .body_len = strlen(body)};

    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    memset(body, 0, sizeof body); /* copied at submit */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(status_seen, 200);
    cr_assert_str_eq(type_seen, "application/json");
    cr_assert(strstr(body_seen, "\"method\":\"PUT\"") != NULL, "%s", body_seen);
    cr_assert(strstr(body_seen, "\"X-Token\":\"abc 123\"") != NULL, "%s", body_seen);
    cr_assert(strstr(body_seen, "\"body\":\"hello=world\"") != NULL, "%s", body_seen);
    cr_assert(strstr(body_seen, "Expect") == NULL, "no 100-continue wait");
}

TEST_HTTP(http_statuses_are_results_unless_asked, .timeout = 30)
{
    O.on_done = keep_body;
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/status/404", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(status_seen, 404);

    H.flags = CIO_FAIL_ON_HTTP_ERROR;
    p = test_pool(&O, 1);
    test_get(p, &S, "/status/503?retry_after=3", 0);
    test_get(p, &S, "/status/204", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.last_status, CIO_E_HTTP);
    cr_assert_eq(status_seen, 204);
}

TEST_HTTP(the_body_stops_at_the_cap_and_says_so, .timeout = 30)
{
    O.on_done = keep_body;
    H.max_body = 1000;
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/bytes/5000000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(len_seen, 1000);
    cr_assert_eq(truncated_seen, 1);
    test_get(p, &S, "/bytes/999", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(len_seen, 999);
    cr_assert_eq(truncated_seen, 0);
}

TEST_HTTP(the_cap_applies_to_decoded_bytes_of_a_gzip_bomb, .timeout = 60)
{
    O.on_done = keep_body;
    H.max_body = 1 << 20;
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/gzip/20971520", 0); /* 20 MiB of zeros in 130 KB */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(len_seen, (size_t)1 << 20);
    cr_assert_eq(truncated_seen, 1);
    test_get(p, &S, "/gzip/3000", 0); /* decoded, whole, under the cap */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(len_seen, 3000);
    cr_assert_eq(truncated_seen, 0);
}

TEST_HTTP(connections_are_reused_and_capped, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 4);
    cio_stats st;

    for (int i = 0; i < 200; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(L.done, 200);
    cr_assert_geq(st.connects, 1);
    cr_assert_leq(st.connects, 4, "%llu connections for 200 requests",
                  (unsigned long long)st.connects);
}

TEST_HTTP(a_connection_dropped_mid_body_is_an_error, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 2);

    signal(SIGPIPE, SIG_DFL); /* a peer that goes away must not kill the process */
    test_get(p, &S, "/drop", 0);
    test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.last_status, CIO_E_TRANSPORT);
    cr_assert_eq(L.done, 1);
}

TEST_HTTP(ten_thousand_requests_end_exactly_once_each, .timeout = 120)
{
    cio_pool *p = test_pool(&O, 32);
    struct server_stats st;

    for (int i = 0; i < 10000; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done + L.errors + L.timeouts, 10000);
    cr_assert_eq(ledger_once(&L, 10000), 10000);
    cr_assert_eq(L.done, 10000);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.requests, 10000);
    cr_assert_leq(st.max_in_flight, 32);
    server_stats_free(&st);
}

static cio_task_id slow_ids[4];

static void first_cancels_slow_and_submits(cio_pool *p, cio_task_id id, struct ledger *l)
{
    if (id != 1)
        return;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_cancel(p, slow_ids[i]), CIO_OK);
    cio_http_req r = {.url = server_url(&S, "/ok")};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(l->by_status[-CIO_E_CANCELED], 4, "cancel calls back before it returns");
}

TEST_HTTP(callbacks_may_cancel_running_requests_and_submit_new_ones, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 3);

    L.after = first_cancels_slow_and_submits;
    test_get(p, &S, "/delay/50", 0);
    for (int i = 0; i < 4; i++)
        slow_ids[i] = test_get(p, &S, "/delay/10000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 4);
    cr_assert_eq(ledger_once(&L, 6), 6);
}

TEST_HTTP(the_deadline_ends_requests_in_flight_and_queued, .timeout = 30)
{
    O.deadline_ms = 300;
    cio_pool *p = test_pool(&O, 2);

    test_get(p, &S, "/ok", 0);
    for (int i = 0; i < 5; i++)
        test_get(p, &S, "/delay/10000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(L.by_status[-CIO_E_DEADLINE], 5);
    /* Reuse: the next run has a deadline of its own. */
    test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(ledger_once(&L, 7), 7);
}

struct app {
    struct event *tick;
    int ticks, drained, ticks_at_drain;
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    struct timeval tv = {0, 10000};

    (void)fd;
    (void)what;
    a->ticks++;
    if (!a->drained)
        evtimer_add(a->tick, &tv);
}

static void on_drained(cio_pool *p, void *user)
{
    struct app *a = ((struct ledger *)user)->ctx;

    (void)p;
    a->drained++;
    a->ticks_at_drain = a->ticks;
}

TEST_HTTP(attached_to_a_callers_event_base, .timeout = 30)
{
    struct event_base *base = event_base_new();
    struct app a = {0};
    struct timeval tv = {0, 10000};

    a.tick = evtimer_new(base, on_tick, &a);
    evtimer_add(a.tick, &tv);
    O.on_drained = on_drained;
    L.ctx = &a;
    cio_pool *p = test_pool(&O, 4);
    cr_assert_eq(cio_pool_attach(p, base), CIO_OK);
    for (int i = 0; i < 8; i++)
        test_get(p, &S, "/delay/100", 0);
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    cr_assert_eq(cio_pool_start(p), CIO_E_STATE, "already running");
    cr_assert_eq(event_base_dispatch(base), 1, "returns when nothing is left");
    cr_assert_eq(a.drained, 1);
    cr_assert_eq(L.done, 8);
    cr_assert_geq(a.ticks_at_drain, 5, "the caller's timer kept firing");
    cio_pool_free(p);
    event_free(a.tick);
    event_base_free(base);
}

TEST_HTTP(freeing_the_pool_mid_run_cancels_requests_in_flight, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 2);

    for (int i = 0; i < 4; i++)
        test_get(p, &S, "/delay/10000", 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 4);
    cr_assert_eq(ledger_once(&L, 4), 4);
}

static char effective_seen[256];

static void keep_effective(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->done++;
    status_seen = r->http_status;
    snprintf(effective_seen, sizeof effective_seen, "%s", r->effective_url);
}

TEST_HTTP(redirects_are_followed_to_http_only, .timeout = 30)
{
    char path[256];

    O.on_done = keep_effective;
    O.on_error = keep_error;
    cio_pool *p = test_pool(&O, 1);
    snprintf(path, sizeof path, "/redirect?to=%s/ok", S.url);
    test_get(p, &S, path, 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(status_seen, 200);
    cr_assert_str_eq(effective_seen, server_url(&S, "/ok"));
    test_get(p, &S, "/redirect?to=ftp://127.0.0.1/x", 0);
    test_get(p, &S, "/redirect?to=file:///etc/passwd", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 2);
    cr_assert_eq(curl_code_seen, 1, "CURLE_UNSUPPORTED_PROTOCOL");
}

TEST_HTTP(a_requests_own_timeout_overrides_the_pools, .timeout = 30)
{
    O.timeout_ms = 100;
    cio_pool *p = test_pool(&O, 2);

    test_get(p, &S, "/delay/400", CIO_NO_TIMEOUT); /* no limit at all */
    test_get(p, &S, "/delay/400", 2000);           /* a longer one */
    test_get(p, &S, "/delay/400", 0);              /* the pool's 100 ms */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(L.last_timeout.id, 3);
}

TEST_HTTP(head_and_delete_requests, .timeout = 30)
{
    O.on_done = keep_body;
    cio_pool *p = test_pool(&O, 1);
    cio_http_req head = {.url = server_url(&S, "/bytes/100"), .method = "HEAD"};

    cr_assert_eq(cio_submit_http(p, &head, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(status_seen, 200);
    cr_assert_eq(len_seen, 0, "HEAD has no body");
    cio_http_req del = {.url = server_url(&S, "/echo"), .method = "DELETE"};
    cr_assert_eq(cio_submit_http(p, &del, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert(strstr(body_seen, "\"method\":\"DELETE\"") != NULL, "%s", body_seen);
}

static uint64_t bytes_seen;

static void keep_bytes(cio_pool *p, const cio_result *r, void *user)
{
    keep_body(p, r, user);
    bytes_seen = r->bytes;
}

TEST_HTTP(a_discarded_body_is_counted_and_still_capped, .timeout = 30)
{
    O.on_done = keep_bytes;
    H.max_body = 1000;
    H.flags = CIO_DISCARD_BODY;
    cio_pool *p = test_pool(&O, 1);

    test_get(p, &S, "/bytes/5000000", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(len_seen, 0, "nothing kept");
    cr_assert_eq(truncated_seen, 1);
    cr_assert_gt(bytes_seen, 1000);
    cr_assert_leq(bytes_seen, 1000 + 65536, "at most one network read past the cap");
    test_get(p, &S, "/bytes/999", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(bytes_seen, 999);
    cr_assert_eq(truncated_seen, 0);
}

TEST_HTTP(a_connection_that_never_completes_is_a_connect_timeout, .timeout = 30)
{
    struct blackhole bh;
    cr_assert_eq(blackhole_open(&bh), 0);

    H.connect_timeout_ms = 300;
    O.timeout_ms = 10000;
    cio_pool *p = test_pool(&O, 1);
    cio_http_req r = {.url = bh.url};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    blackhole_close(&bh);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(L.last_timeout.budget, CIO_BUDGET_CONNECT);
    cr_assert_eq(L.last_timeout.timeout_ms, 300, "the limit that expired is the connect one");
    cr_assert_geq(L.last_timeout.ran_ms, 250);
    cr_assert_lt(L.last_timeout.ran_ms, 9000);
}

TEST_HTTP(cleartext_requests_do_not_wait_for_each_other_to_multiplex, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 5);

    for (int i = 0; i < 5; i++)
        test_get(p, &S, "/delay/500", 0);
    uint64_t t0 = test_now_ms();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t took = test_now_ms() - t0;
    cio_pool_free(p);
    cr_assert_eq(L.done, 5);
    /* Together: about 500 ms. One after the first (curl's PIPEWAIT on http://): 1000. */
    cr_assert_lt(took, 900, "five 500 ms requests at a cap of 5 took %llu ms",
                 (unsigned long long)took);
}

TEST_HTTP(a_reused_handle_forgets_the_last_requests_method_and_body, .timeout = 30)
{
    O.on_done = keep_body;
    cio_pool *p = test_pool(&O, 1); /* one slot: every request reuses one easy handle */
    const char *methods[] = {"POST", "GET", "HEAD", "GET", "PUT", "DELETE", "GET"};
    const char *body[] = {"x=1", NULL, NULL, NULL, "y", NULL, NULL};

    for (int i = 0; i < 7; i++) {
        cio_http_req r = {.url = server_url(&S, "/echo"),
                          .method = methods[i],
                          .body = body[i],
                          .body_len = body[i] != NULL ? strlen(body[i]) : 0};
        cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
        cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
        if (strcmp(methods[i], "HEAD") == 0) {
            cr_assert_eq(len_seen, 0, "HEAD has no body");
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "\"method\":\"%s\"", methods[i]);
        cr_assert(strstr(body_seen, want) != NULL, "request %d: %s", i, body_seen);
        if (body[i] == NULL)
            cr_assert(strstr(body_seen, "\"body\":\"\"") != NULL,
                      "request %d sends no old body: %s", i, body_seen);
    }
    cio_pool_free(p);
    cr_assert_eq(L.done, 7);
}

TEST_HTTP(a_proxy_in_the_environment_is_used, .timeout = 30)
{
    /* libcurl's variables, read when the pool is made: the test server answers as the
     * proxy for a host that does not exist. */
    cr_assert_eq(setenv("http_proxy", S.url, 1), 0);
    cio_pool *p = test_pool(&O, 2);
    cio_http_req r = {.url = "http://proxied.invalid/ok"};

    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1, "through the proxy (errors: %zu)", L.errors);
}

/* Descriptors run out mid-run: a callback takes every free one, and a timer item gives
 * them back 300 ms later. Meanwhile new connections fail with EMFILE, which must hold
 * items back (fewer at once), not fail them. */
static int hog[1024], nhog;
static cio_task_id give_back_id;

static void take_all_descriptors(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id == 1) {
        cr_assert_eq(cio_submit_timer(p, 300, NULL, &give_back_id), CIO_OK);
        while (nhog < 1024 && (hog[nhog] = dup(2)) >= 0)
            nhog++;
    } else if (id == give_back_id) {
        while (nhog > 0)
            close(hog[--nhog]);
    }
}

TEST_HTTP(running_out_of_descriptors_holds_items_back_and_loses_none, .timeout = 60)
{
    struct rlimit rl = {64, 64};

    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    L.after = take_all_descriptors;
    cio_pool *p = test_pool(&O, 64);
    test_get(p, &S, "/ok", 0);
    for (int i = 0; i < 300; i++)
        test_get(p, &S, "/delay/5", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(nhog, 0, "the timer gave them back");
    cr_assert_eq(L.errors, 0, "no item failed for want of a descriptor");
    cr_assert_eq(L.done, 302);
    cr_assert_eq(ledger_once(&L, 302), 302);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Descriptors held by someone else, with nothing of the pool's to wait for: the item
 * waits (100 ms, 200, ... without spinning), then ends with CIO_E_NOFD, and the others
 * at once; once descriptors are free again, items run. */
TEST_HTTP(descriptors_held_elsewhere_end_items_with_nofd_after_a_wait_not_a_spin, .timeout = 60)
{
    struct rlimit rl = {64, 64};

    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    cio_pool *p = test_pool(&O, 8);
    for (int i = 0; i < 3; i++)
        test_get(p, &S, "/ok", 0); /* the loop and the HTTP engine are made here */
    while (nhog < 1024 && (hog[nhog] = dup(2)) >= 0)
        nhog++;
    uint64_t t0 = test_now_ms();
    double cpu0 = cpu_seconds();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t took = test_now_ms() - t0;
    double cpu = cpu_seconds() - cpu0;
    while (nhog > 0)
        close(hog[--nhog]);
    cr_assert_eq(L.by_status[-CIO_E_NOFD], 3, "errors: %zu, done %zu", L.errors, L.done);
    cr_assert_geq(took, 2500, "it waited for a descriptor first: %llu ms",
                  (unsigned long long)took);
    cr_assert_lt(took, 15000);
    fprintf(stderr, "starved: %.3f s of CPU in %llu ms\n", cpu, (unsigned long long)took);
    cr_assert_lt(cpu, 1.0, "waiting, not spinning: %.2f s of CPU in %llu ms", cpu,
                 (unsigned long long)took);
    test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1, "with descriptors back, items run");
}
