/* SPDX-License-Identifier: Apache-2.0 */
/* Per-key limits: caps, buckets and round-robin fairness across keys; the default key
 * of a URL; per-host caps seen from the test server's side. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "internal.h"
#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"
#include "support/clock.h"

static struct ledger L;
static cio_pool_opts O;

static void setup(void)
{
    cio_pool_opts_init(&O);
    ledger_opts(&O, &L);
}

/* ---- the default key of a URL ----------------------------------------------------- */

static const char *key_of(const char *url)
{
    static char out[128];

    return cio__url_key(url, out, sizeof out) == 0 ? out : NULL;
}

Test(keys, a_urls_key_is_scheme_host_and_port)
{
    cr_assert_str_eq(key_of("http://Example.COM/x?y"), "http://example.com:80");
    cr_assert_str_eq(key_of("HTTPS://api.example.com"), "https://api.example.com:443");
    cr_assert_str_eq(key_of("https://a.example:8443/p#f"), "https://a.example:8443");
    cr_assert_str_eq(key_of("http://user:p@ss@host.example:81/"), "http://host.example:81");
    cr_assert_str_eq(key_of("http://[::1]:9000/x"), "http://[::1]:9000");
    cr_assert_str_eq(key_of("http://[::1]/x"), "http://[::1]:80");
    cr_assert_null(key_of("ftp://host/"));
    cr_assert_null(key_of("http:///path"));
    cr_assert_null(key_of("http://[::1/"));
    cr_assert_null(key_of("no scheme"));
    char longurl[300];
    memset(longurl, 'a', sizeof longurl);
    memcpy(longurl, "http://", 7);
    longurl[sizeof longurl - 1] = '\0';
    cr_assert_null(key_of(longurl), "longer than the buffer");
}

/* ---- a work item that records when, and under which key, it started -------------- */

struct stamp {
    struct event *ev;
    cio_task *task;
    int ms;
    char tag;
};

static char start_tags[512];
static uint64_t start_at[512];
static int nstarts, running_by_tag[128], max_by_tag[128];
static char done_tags[512];
static int ndone;

static void stamp_fire(evutil_socket_t fd, short what, void *arg)
{
    struct stamp *s = arg;

    (void)fd;
    (void)what;
    running_by_tag[(int)s->tag]--;
    done_tags[ndone++] = s->tag;
    cio_task_complete(s->task, CIO_OK, NULL, 0);
}

static int stamp_start(cio_task *task, void *work, struct event_base *base)
{
    struct stamp *s = work;
    struct timeval tv = {s->ms / 1000, (s->ms % 1000) * 1000};

    s->task = task;
    start_tags[nstarts] = s->tag;
    start_at[nstarts++] = test_now_ms();
    if (++running_by_tag[(int)s->tag] > max_by_tag[(int)s->tag])
        max_by_tag[(int)s->tag] = running_by_tag[(int)s->tag];
    s->ev = evtimer_new(base, stamp_fire, s);
    return evtimer_add(s->ev, &tv) == 0 ? CIO_OK : CIO_E_LOOP;
}

static void stamp_cancel(cio_task *task, void *work)
{
    (void)task;
    evtimer_del(((struct stamp *)work)->ev);
}

static void stamp_destroy(void *work)
{
    struct stamp *s = work;

    if (s->ev != NULL)
        event_free(s->ev);
    free(s);
}

static const cio_task_vtable stamp_vtable = {
    .name = "stamp", .start = stamp_start, .cancel = stamp_cancel, .destroy = stamp_destroy};

static void submit_stamps(cio_pool *p, const char *key, char tag, int n, int ms)
{
    for (int i = 0; i < n; i++) {
        struct stamp *s = calloc(1, sizeof *s);
        cio_task_opts to = {.key = key};
        s->ms = ms;
        s->tag = tag;
        cr_assert_eq(cio_submit(p, &stamp_vtable, s, &to, NULL), CIO_OK);
    }
}

Test(keys, each_key_has_its_own_cap_under_the_pools, .init = setup, .timeout = 20)
{
    O.max_concurrency = 10;
    O.per_key.max_concurrency = 2;
    cio_pool *p = cio_pool_new(&O, NULL);
    cio_stats st;

    submit_stamps(p, "a", 'a', 6, 30);
    submit_stamps(p, "b", 'b', 6, 30);
    submit_stamps(p, NULL, 'n', 6, 30); /* no key: only the pool's cap */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(L.done, 18);
    cr_assert_eq(max_by_tag['a'], 2);
    cr_assert_eq(max_by_tag['b'], 2);
    cr_assert_eq(max_by_tag['n'], 6, "the unkeyed items are not held to the per-key cap");
    cr_assert_eq(st.max_in_flight, 10);
}

Test(keys, a_key_with_limits_of_its_own, .init = setup, .timeout = 20)
{
    O.max_concurrency = 10;
    O.per_key.max_concurrency = 1;
    cio_pool *p = cio_pool_new(&O, NULL);
    cio_limits vip = {.max_concurrency = 3};

    cr_assert_eq(cio_pool_set_key_limits(p, "vip", &vip), CIO_OK);
    cr_assert_eq(cio_pool_set_key_limits(p, NULL, &vip), CIO_E_INVAL);
    submit_stamps(p, "vip", 'v', 6, 30);
    submit_stamps(p, "plain", 'p', 6, 30);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(max_by_tag['v'], 3);
    cr_assert_eq(max_by_tag['p'], 1);
}

Test(keys, each_key_has_its_own_bucket, .init = setup, .timeout = 20)
{
    O.max_concurrency = 10;
    O.per_key.rate.count = 1200; /* one start every 50 ms per key */
    cio_pool *p = cio_pool_new(&O, NULL);

    submit_stamps(p, "a", 'a', 5, 1);
    submit_stamps(p, "b", 'b', 5, 1);
    uint64_t t0 = test_now_ms();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t took = test_now_ms() - t0;
    cio_pool_free(p);
    cr_assert_eq(L.done, 10);
    for (char tag = 'a'; tag <= 'b'; tag++) {
        uint64_t prev = 0;
        for (int i = 0; i < nstarts; i++)
            if (start_tags[i] == tag) {
                if (prev != 0)
                    cr_assert_geq(start_at[i] - prev, 49, "key %c started again after %llu ms", tag,
                                  (unsigned long long)(start_at[i] - prev));
                prev = start_at[i];
            }
    }
    cr_assert_geq(took, 195, "4 gaps of 50 ms per key");
}

Test(keys, keys_are_served_round_robin, .init = setup, .timeout = 30)
{
    O.max_concurrency = 2;
    cio_pool *p = cio_pool_new(&O, NULL);

    submit_stamps(p, "slow", 's', 40, 20); /* queued first, and many */
    submit_stamps(p, "fast", 'f', 4, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 44);
    int last_fast = 0;
    for (int i = 0; i < nstarts; i++)
        if (start_tags[i] == 'f')
            last_fast = i;
    /* Alternating: the fourth fast item starts by the eighth start or so, not the 44th. */
    cr_assert_leq(last_fast, 10, "the last fast item was start number %d", last_fast + 1);
}

Test(keys, a_slow_key_never_takes_every_slot, .init = setup, .timeout = 30)
{
    O.max_concurrency = 4;
    cio_pool *p = cio_pool_new(&O, NULL);

    submit_stamps(p, "slow", 's', 8, 1000); /* first in the queue, and slow */
    submit_stamps(p, "quick", 'q', 40, 5);
    uint64_t t0 = test_now_ms();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 48);
    int first_slow_end = -1;
    for (int i = 0; i < ndone && first_slow_end < 0; i++)
        if (done_tags[i] == 's')
            first_slow_end = i;
    cr_assert_eq(first_slow_end, 40, "every quick item ended before the first slow one");
    int quick_running = 0;
    for (int i = 0; i < nstarts; i++)
        if (start_tags[i] == 'q' && start_at[i] - t0 >= 1000)
            quick_running++;
    cr_assert_eq(quick_running, 0, "no quick item waited for a slow one to end");
}

Test(keys, keys_in_use_only_are_kept, .init = setup, .timeout = 30)
{
    O.max_concurrency = 8;
    O.per_key.max_concurrency = 1;
    cio_pool *p = cio_pool_new(&O, NULL);

    for (int i = 0; i < 300; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        submit_stamps(p, key, 'k', 1, 1);
    }
    cr_assert_eq(p->keys.nkeys, 300);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(p->keys.nkeys, 0, "no bucket to remember: every key let go");
    cio_pool_free(p);
    cr_assert_eq(L.done, 300);
}

/* ---- per host, from the server's side ------------------------------------------- */

Test(keys, http_requests_are_capped_per_host, .init = setup, .timeout = 30)
{
    struct server s;
    struct server_stats st;
    char url[128], host[64];
    unsigned port;

    cr_assert_eq(server_start(&s), 0);
    sscanf(s.url, "http://127.0.0.1:%u", &port);
    O.per_key.max_concurrency = 2;
    cio_pool *p = test_pool(&O, 8);
    for (int i = 0; i < 6; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%u/delay/150", port);
        cio_http_req a = {.url = url};
        cr_assert_eq(cio_submit_http(p, &a, NULL), CIO_OK);
        snprintf(url, sizeof url, "http://localhost:%u/delay/150", port);
        cio_http_req b = {.url = url};
        cr_assert_eq(cio_submit_http(p, &b, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 12);
    cr_assert_eq(server_stats(&s, &st), 0);
    snprintf(host, sizeof host, "127.0.0.1:%u", port);
    cr_assert_eq(server_host_max(&st, host), 2);
    snprintf(host, sizeof host, "localhost:%u", port);
    cr_assert_eq(server_host_max(&st, host), 2);
    cr_assert_eq(st.max_in_flight, 4, "both hosts at their cap at once");
    server_stats_free(&st);
    cr_assert_eq(server_stop(&s), 0);
}
