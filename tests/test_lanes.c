/* SPDX-License-Identifier: Apache-2.0 */
/* Transfers on threads of their own (io_threads): the limits stay global and every item
 * still ends exactly once while its transfer crosses threads. The other HTTP suites run
 * again with CIO_TEST_IO_THREADS=2 (tests/CMakeLists.txt); these are the cases only
 * threads can get wrong. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

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
    H.io_threads = 2;
}

static void teardown(void)
{
    server_stop_checked(&S);
}

#define TEST_LANES(name, ...) Test(lanes, name, .init = setup, .fini = teardown, __VA_ARGS__)

TEST_LANES(the_cap_and_the_connections_are_shared_out_not_multiplied, .timeout = 60)
{
    /* An odd cap: one thread gets 2 connections, the other 3, never 3 + 3. */
    cio_pool *p = test_pool(&O, 5);
    struct server_stats st;
    cio_stats cs;

    for (int i = 0; i < 30; i++)
        test_get(p, &S, "/delay/100", 0);
    for (int i = 0; i < 300; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &cs);
    cio_pool_free(p);
    cr_assert_eq(L.done, 330);
    cr_assert_eq(ledger_once(&L, 330), 330);
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.max_in_flight, 5, "the server saw %ld at once", st.max_in_flight);
    cr_assert_geq(cs.connects, 2, "both threads ran transfers");
    cr_assert_leq(cs.connects, 5, "%llu connections opened", (unsigned long long)cs.connects);
    server_stats_free(&st);
}

TEST_LANES(more_threads_than_connections_makes_no_more_connections, .timeout = 60)
{
    H.io_threads = 8;
    cio_pool *p = test_pool(&O, 3);
    cio_stats cs;

    for (int i = 0; i < 200; i++)
        test_get(p, &S, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &cs);
    cio_pool_free(p);
    cr_assert_eq(L.done, 200);
    cr_assert_leq(cs.connects, 3, "%llu connections opened", (unsigned long long)cs.connects);
}

/* Every end cancels a later item: running (its thread must give the transfer back),
 * queued, or already ended. */
static void cancel_later(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    cio_cancel(p, id + 5);
}

TEST_LANES(cancels_racing_the_threads_end_each_item_once, .timeout = 120)
{
    cio_pool *p = test_pool(&O, 48);
    char path[32];

    L.after = cancel_later;
    for (int i = 0; i < 3000; i++) {
        snprintf(path, sizeof path, "/delay/%d", i % 7 == 0 ? 30 : 0);
        test_get(p, &S, path, i % 11 == 0 ? 20 : 0);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done + L.errors + L.timeouts, 3000);
    cr_assert_eq(ledger_once(&L, 3000), 3000);
    cr_assert_gt(L.by_status[-CIO_E_CANCELED], 0);
    cr_assert_gt(L.done, 0);
}

/* The pool is freed from a callback while the threads hold transfers. */
static void free_at_500(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)id;
    if (l->done + l->errors + l->timeouts == 500)
        cio_pool_free(p);
}

TEST_LANES(freeing_the_pool_from_a_callback_ends_everything_once, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 64);

    L.after = free_at_500;
    for (int i = 0; i < 2000; i++)
        test_get(p, &S, i % 3 == 0 ? "/delay/50" : "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done + L.errors + L.timeouts, 2000);
    cr_assert_eq(ledger_once(&L, 2000), 2000);
    cr_assert_geq(L.by_status[-CIO_E_CANCELED], 1500 - 64);
}

/* A connection's socket stays watched between its transfers (src/http/socks.h). These
 * are the ways that could go wrong, on the loop's own lane (0) and on threads (2). */

/* "Connection: close" on every request: each connection's socket is closed after one
 * transfer (through the lane's close callback, which must close it), and the next one's
 * socket mostly gets the same descriptor, whose watch must be its own. */
static void closes_each_connection(unsigned threads)
{
    const char *close_hdr[] = {"Connection: close", NULL};
    int fds = test_open_fds();
    cio_stats cs;

    H.io_threads = threads;
    cio_pool *p = test_pool(&O, 4);
    for (int i = 0; i < 300; i++) {
        cio_http_req r = {.url = server_url(&S, "/ok"), .headers = close_hdr};
        cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &cs);
    cio_pool_free(p);
    cr_assert_eq(L.done, 300, "%zu done, %zu errors", L.done, L.errors);
    cr_assert_eq(ledger_once(&L, 300), 300);
    cr_assert_eq(cs.connects, 300, "%llu connections", (unsigned long long)cs.connects);
    cr_assert_eq(test_open_fds(), fds, "every socket closed");
}

TEST_LANES(a_socket_closed_after_each_request_leaves_no_watch_inline, .timeout = 60)
{
    closes_each_connection(0);
}

TEST_LANES(a_socket_closed_after_each_request_leaves_no_watch_on_threads, .timeout = 60)
{
    closes_each_connection(2);
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Two connections go idle and the server closes them 100 ms later, while a third item
 * waits 1.5 s for its timeout. The closed sockets are readable for good: watched on,
 * they would spin a thread for the 1.4 s (the CPU bound), and they must not be reused. */
static void idle_connections_closed(unsigned threads)
{
    struct server F;
    cio_stats cs;

    cr_assert_eq(server_start_faults(&F), 0, "the fault server starts");
    H.io_threads = threads;
    cio_pool *p = test_pool(&O, 3);
    test_get(p, &F, "/idle-close", 0);
    test_get(p, &F, "/idle-close", 0);
    test_get(p, &F, "/hang", 1500);
    double cpu0 = cpu_seconds();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    double cpu = cpu_seconds() - cpu0;
    test_get(p, &F, "/ok", 0); /* on a new connection: the idle ones are gone */
    test_get(p, &F, "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &cs);
    cio_pool_free(p);
    server_stop_checked(&F);
    cr_assert_eq(L.done, 4, "%zu done, %zu errors", L.done, L.errors);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(ledger_once(&L, 5), 5);
    cr_assert_lt(cpu, 0.5, "%.3f s of CPU while waiting 1.5 s", cpu);
    cr_assert_geq(cs.connects, 4, "%llu connections", (unsigned long long)cs.connects);
}

TEST_LANES(an_idle_connection_the_server_closes_costs_no_cpu_inline, .timeout = 60)
{
    idle_connections_closed(0);
}

TEST_LANES(an_idle_connection_the_server_closes_costs_no_cpu_on_threads, .timeout = 60)
{
    idle_connections_closed(2);
}

/* Connects given up (a listener that never accepts, a 200 ms limit) between answered
 * requests: libcurl 7.88 closes a socket that never connected itself, without the close
 * callback, so the lane must not keep a watch for its descriptor (socks.c). */
static void connects_given_up(unsigned threads)
{
    struct blackhole bh;
    int fds = test_open_fds();

    cr_assert_eq(blackhole_open(&bh), 0);
    fds += 3; /* the listener and the two sockets that fill its queue */
    H.io_threads = threads;
    cio_pool *p = test_pool(&O, 4);
    for (int i = 0; i < 240; i++) {
        if (i % 20 == 0) {
            cio_http_req r = {.url = bh.url, .timeout_ms = 200};
            cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
        } else {
            test_get(p, &S, "/ok", 0);
        }
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(test_open_fds(), fds, "every socket closed");
    blackhole_close(&bh);
    cr_assert_eq(L.timeouts, 12, "%zu timeouts, %zu errors", L.timeouts, L.errors);
    cr_assert_eq(L.done, 228);
    cr_assert_eq(ledger_once(&L, 240), 240);
}

TEST_LANES(connects_given_up_leave_no_watch_inline, .timeout = 60)
{
    connects_given_up(0);
}

TEST_LANES(connects_given_up_leave_no_watch_on_threads, .timeout = 60)
{
    connects_given_up(2);
}
