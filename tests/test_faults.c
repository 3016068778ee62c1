/* SPDX-License-Identifier: Apache-2.0 */
/* The fault matrix: one misbehaving peer per row, run alone at concurrency 1 and mixed
 * 1:10 with healthy items at concurrency 64. Every run is checked by the ledger: each
 * item ends exactly once, as the row expects; the healthy ones all end "done" with their
 * body; the caller's loop ends by itself (no event left); no descriptor stays open.
 * Each run prints one line of the table ("| row | run | what happened |"). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include <concurio/concurio.h>

#include "support/clock.h"
#include "support/fixture.h"
#include "support/nginx.h"
#include "support/server.h"

enum { DONE, ERROR, TIMEOUT };
static const char *const OUTCOME[] = {"done", "error", "timeout"};
enum { FAULT, PLAIN, TLS, TLS_WRONG_HOST };

struct row {
    const char *name;
    const char *path; /* %u: the item's number (a key of its own) */
    int server;       /* who answers */
    unsigned timeout_ms;
    int want;          /* DONE, ERROR or TIMEOUT */
    int curl;          /* the CURLcode expected; -1: any */
    int curl_alt;      /* another one allowed (0: none) */
    long http;         /* the status expected on done; 0: none */
    int truncated;     /* stopped at max_body */
    unsigned attempts; /* retries allowed (with Retry-After) */
    unsigned min_ms;   /* the item took at least this long (Retry-After obeyed) */
    unsigned c1_rate;  /* per minute, for the run at concurrency 1; 0: none */
    const char *says;  /* the error message holds this; NULL: not checked */
};

#define MAX_BODY (256u << 10)

static const struct row ROWS[] = {
    {"close mid-body with Content-Length", "/short", FAULT, 5000, ERROR, .curl = 18},
    {"close mid-chunked body", "/chunk-cut", FAULT, 5000, ERROR, .curl = 18},
    {"reset (RST) mid-body", "/rst", FAULT, 5000, ERROR, .curl = 56},
    /* On a reused connection libcurl takes an empty reply for a connection that died
     * while idle and sends the GET again on another, up to 5 times: curl 55. */
    {"empty reply", "/empty", FAULT, 5000, ERROR, .curl = 52, .curl_alt = 55},
    {"garbage instead of HTTP", "/garbage", FAULT, 5000, ERROR, .curl = 1},
    /* libcurl says "Out of memory" for it: the message names the header instead. */
    {"one header line of 200 KB", "/bigheader", FAULT, 5000, ERROR, .curl = 27,
     .says = "header line longer"},
    {"accept and never answer", "/hang", FAULT, 1000, TIMEOUT, .curl = -1},
    {"trickle one byte a second", "/trickle", FAULT, 1500, TIMEOUT, .curl = -1},
    {"429, Retry-After: 1 (seconds)", "/flaky/s%u/1?status=429&retry_after=1", PLAIN, 10000, DONE,
     .http = 200, .attempts = 3, .min_ms = 1000},
    {"503, Retry-After as an HTTP-date", "/flaky/d%u/1?status=503&retry_after_date=2", PLAIN, 10000,
     DONE, .http = 200, .attempts = 3, .min_ms = 1000},
    {"429, Retry-After as an HTTP-date", "/flaky/e%u/1?status=429&retry_after_date=2", PLAIN, 10000,
     DONE, .http = 200, .attempts = 3, .min_ms = 1000},
    {"503, Retry-After: 1 (seconds)", "/flaky/t%u/1?status=503&retry_after=1", PLAIN, 10000, DONE,
     .http = 200, .attempts = 3, .min_ms = 1000},
    {"no Content-Length, 8 MiB > cap", "/nolength", FAULT, 10000, DONE, .curl = -1, .http = 200,
     .truncated = 1},
    {"declared 10 GB body", "/huge", FAULT, 10000, DONE, .curl = -1, .http = 200, .truncated = 1},
    {"gzip bomb, 20 MiB of zeros", "/gzip/20971520", PLAIN, 10000, DONE, .curl = -1, .http = 200,
     .truncated = 1},
    {"keep-alive closed while idle, reused", "/idle-close", FAULT, 5000, DONE, .http = 200,
     .c1_rate = 300},
    {"self-signed certificate", "/", TLS, 5000, ERROR, .curl = 60},
    {"wrong-host certificate", "/", TLS_WRONG_HOST, 5000, ERROR, .curl = 60},
};

#define MAX_ITEMS 128

struct end {
    int outcome, curl, count, truncated;
    long http;
    size_t body_len;
    uint64_t bytes, at_ms, elapsed_ms;
    unsigned attempts;
    char body[8];
    char message[160];
};

static struct run {
    uint64_t t0;
    size_t n;               /* items submitted */
    int bad[MAX_ITEMS + 1]; /* by id: the row's item, not a healthy one */
    struct end e[MAX_ITEMS + 1];
    char count[64]; /* the fault server's /count after the run */
} R;

static struct server F, P;
static struct nginx N;
static int have_nginx;

static struct end *end_of(cio_task_id id, int outcome)
{
    cr_assert(id >= 1 && id <= R.n, "a callback for id %llu, never submitted",
              (unsigned long long)id);
    struct end *e = &R.e[id];
    e->count++;
    e->outcome = outcome;
    e->at_ms = test_now_ms() - R.t0;
    return e;
}

static void on_result(const cio_result *r, int outcome)
{
    struct end *e = end_of(r->id, outcome);

    e->curl = r->curl_code;
    e->http = r->http_status;
    e->truncated = r->truncated;
    e->body_len = r->body_len;
    e->bytes = r->bytes;
    e->attempts = r->attempts;
    e->elapsed_ms = r->timings.elapsed_ms;
    snprintf(e->body, sizeof e->body, "%s", r->body != NULL ? r->body : "");
    snprintf(e->message, sizeof e->message, "%s", r->message != NULL ? r->message : "");
}

static void on_done(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    (void)user;
    on_result(r, DONE);
}

static void on_error(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    (void)user;
    on_result(r, ERROR);
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *t, void *user)
{
    (void)p;
    (void)user;
    struct end *e = end_of(t->id, TIMEOUT);
    e->attempts = t->attempts;
    e->elapsed_ms = t->ran_ms;
}

static void url_of(char *buf, size_t size, const struct row *row, unsigned i, int bad)
{
    char path[128];

    snprintf(path, sizeof path, row->path, i);
    if (!bad && row->server == TLS_WRONG_HOST)
        snprintf(buf, size, "%s/", N.url);
    else if (!bad)
        snprintf(buf, size, "%s/ok", (row->server == FAULT ? &F : &P)->url);
    else if (row->server == FAULT || row->server == PLAIN)
        snprintf(buf, size, "%s%s", (row->server == FAULT ? &F : &P)->url, path);
    else if (row->server == TLS)
        snprintf(buf, size, "%s%s", N.url, path);
    else /* the same nginx, by an address its certificate does not name */
        snprintf(buf, size, "https://127.0.0.2%s%s", strrchr(N.url, ':'), path);
}

/* Runs nbad items of the row and nok healthy ones, spread evenly, at concurrency cap. */
static void run_row(const struct row *row, unsigned nbad, unsigned nok, unsigned cap)
{
    cio_pool_opts o;
    cio_http_opts h;

    if ((row->server == TLS || row->server == TLS_WRONG_HOST) && !have_nginx)
        cr_skip_test("nginx or openssl is not installed: no TLS rows");
    memset(&R, 0, sizeof R);
    cio_pool_opts_init(&o);
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    cio_http_opts_init(&h);
    o.http = &h;
    h.max_body = MAX_BODY;
    o.retry.max_attempts = row->attempts;
    if (cap == 1)
        o.rate.count = row->c1_rate;
    if (row->server == TLS_WRONG_HOST)
        h.ca_file = N.ca;
    int fds0 = test_open_fds();
    struct event_base *base = event_base_new();
    cio_pool *p = test_pool(&o, cap);
    cr_assert_eq(cio_pool_attach(p, base), CIO_OK);
    /* A bad item first, then one after every ten healthy ones. */
    unsigned every = nok / (nbad > 0 ? nbad : 1) + 1;
    for (unsigned i = 0; i < nbad + nok; i++) {
        char url[256];
        int bad = i % every == 0 && i / every < nbad;
        url_of(url, sizeof url, row, i, bad);
        cio_http_req r = {.url = url, .timeout_ms = bad ? row->timeout_ms : 10000};
        cio_task_id id;
        cr_assert_eq(cio_submit_http(p, &r, &id), CIO_OK);
        cr_assert_eq(id, ++R.n);
        R.bad[id] = bad;
    }
    R.t0 = test_now_ms();
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    event_base_dispatch(base); /* returns only when no event of the pool is left */
    uint64_t took = test_now_ms() - R.t0;
    cio_pool_free(p);
    event_base_free(base);
    cr_assert_eq(test_open_fds(), fds0, "no descriptor left open: %d, %d before", test_open_fds(),
                 fds0);

    /* The ledger. */
    unsigned seen[3] = {0}, ok_done = 0, bad_as_wanted = 0;
    uint64_t last_ok = 0, first_bad = UINT64_MAX, min_ms = UINT64_MAX;
    const struct end *sample = NULL;
    for (size_t id = 1; id <= R.n; id++) {
        const struct end *e = &R.e[id];
        cr_assert_eq(e->count, 1, "item %zu ended %d times", id, e->count);
        seen[e->outcome]++;
        if (!R.bad[id]) {
            cr_assert_eq(e->outcome, DONE, "healthy item %zu: %s %d %s", id, OUTCOME[e->outcome],
                         e->curl, e->message);
            cr_assert_eq(strncmp(e->body, "ok", 2), 0);
            ok_done++;
            last_ok = e->at_ms > last_ok ? e->at_ms : last_ok;
            continue;
        }
        sample = sample != NULL ? sample : e;
        first_bad = e->at_ms < first_bad ? e->at_ms : first_bad;
        min_ms = e->elapsed_ms < min_ms ? e->elapsed_ms : min_ms;
        cr_assert_eq(e->outcome, row->want, "%s: item %zu ended %s (curl %d, %s)", row->name, id,
                     OUTCOME[e->outcome], e->curl, e->message);
        if (row->curl >= 0)
            cr_assert(e->curl == row->curl || (row->curl_alt != 0 && e->curl == row->curl_alt),
                      "%s: curl code %d (%s)", row->name, e->curl, e->message);
        if (row->want == DONE)
            cr_assert_eq(e->http, row->http, "%s: status %ld", row->name, e->http);
        if (row->says != NULL)
            cr_assert(strstr(e->message, row->says) != NULL, "%s: %s", row->name, e->message);
        cr_assert_eq(e->truncated, row->truncated);
        if (row->truncated) { /* stopped at the cap, memory bounded by it */
            cr_assert_eq(e->body_len, MAX_BODY);
            cr_assert_lt(e->bytes, (uint64_t)MAX_BODY + (1u << 20));
        }
        if (row->want == ERROR) /* no body accepted from a failed transfer */
            cr_assert(e->http == 0 || row->curl != 60, "a certificate error with a response");
        cr_assert_geq(e->elapsed_ms, row->min_ms, "waited %llu ms",
                      (unsigned long long)e->elapsed_ms);
        bad_as_wanted++;
    }
    cr_assert_eq(bad_as_wanted, nbad);
    cr_assert_eq(ok_done, nok);
    cr_assert_eq(seen[0] + seen[1] + seen[2], nbad + nok);
    if (row->want == TIMEOUT && nok > 0)
        cr_assert_lt(last_ok, first_bad, "healthy items kept flowing past the stuck ones");
    char what[160] = "";
    if (row->want == TIMEOUT)
        snprintf(what, sizeof what, "%u/%u timeout after %llu ms", seen[TIMEOUT], nbad,
                 (unsigned long long)min_ms);
    else if (row->want == ERROR)
        snprintf(what, sizeof what, "%u/%u error, curl %d \"%.60s\"", seen[ERROR], nbad,
                 sample->curl, sample->message);
    else
        snprintf(what, sizeof what, "%u/%u done %ld%s, %u attempts, %llu ms%s", nbad, nbad,
                 sample->http, row->truncated ? " truncated" : "", sample->attempts,
                 (unsigned long long)sample->elapsed_ms, row->truncated ? ", body = cap" : "");
    char seen_at[80] = "";
    char *count = row->server == FAULT ? server_get(&F, "/count") : NULL;
    if (count != NULL) {
        snprintf(R.count, sizeof R.count, "%s", count);
        snprintf(seen_at, sizeof seen_at, "; server saw %s", count);
    }
    free(count);
    fprintf(stderr, "| %s | C=%u, %u bad + %u ok | %s; %u/%u ok done; %llu ms in all%s |\n",
            row->name, cap, nbad, nok, what, ok_done, nok, (unsigned long long)took, seen_at);
}

static void setup(void)
{
    cr_assert_eq(server_start_faults(&F), 0, "the fault server starts");
    cr_assert_eq(server_start(&P), 0, "the test server starts");
    have_nginx = nginx_start(&N) == 0;
}

static void teardown(void)
{
    if (have_nginx)
        nginx_stop(&N);
    server_stop_checked(&P);
    server_stop_checked(&F);
}

#define ROW(i)                                                                                     \
    Test(faults, row##i##_alone, .init = setup, .fini = teardown, .timeout = 120)                  \
    {                                                                                              \
        run_row(&ROWS[i], 3, 0, 1);                                                                \
    }                                                                                              \
    Test(faults, row##i##_mixed, .init = setup, .fini = teardown, .timeout = 120)                  \
    {                                                                                              \
        run_row(&ROWS[i], 10, 100, 64);                                                            \
    }

ROW(0)
ROW(1)
ROW(2)
ROW(3)
ROW(4)
ROW(5)
ROW(6)
ROW(7)
ROW(8)
ROW(9)
ROW(10)
ROW(11)
ROW(12)
ROW(13)
ROW(14)
ROW(15)
ROW(16)
ROW(17)

Test(faults, every_row_is_in_the_suite)
{
    cr_assert_eq(sizeof ROWS / sizeof ROWS[0], 18, "add a ROW(i) line for the new row");
}

/* The connection the server closed while idle is not reused for a request: each item at
 * concurrency 1 (200 ms apart, the server closes after 100 ms) took a connection of its
 * own, and the server saw each request once. */
Test(faults, an_idle_connection_closed_by_the_server_is_not_reused, .init = setup, .fini = teardown,
     .timeout = 60)
{
    size_t i = 0;
    while (strcmp(ROWS[i].path, "/idle-close") != 0)
        i++;
    run_row(&ROWS[i], 3, 0, 1);
    cr_assert_str_eq(R.count, "{\"requests\":3,\"connections\":3}");
}
