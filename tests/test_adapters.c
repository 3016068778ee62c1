/* SPDX-License-Identifier: Apache-2.0 */
/* Generic work under the pool's limits: blocking functions on worker threads, timers,
 * DNS lookups, and custom adapters that misbehave. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include <concurio/concurio.h>

#include "support/delay.h"
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
    delay_reset();
}

/* ---- blocking functions ----------------------------------------------------------- */

static atomic_int running, max_running, cleanups, ran;

static int sleepy(void *arg, void **value)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    int seen = atomic_load(&max_running);

    while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now))
        ;
    long ms = (long)(intptr_t)arg;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&running, 1);
    atomic_fetch_add(&ran, 1);
    *value = malloc(16); /* the result: cleanup frees it, delivered or not */
    return CIO_OK;
}

static void cleanup(void *arg, void *value)
{
    (void)arg;
    free(value);
    atomic_fetch_add(&cleanups, 1);
}

static void reset_blocking(void)
{
    atomic_store(&running, 0);
    atomic_store(&max_running, 0);
    atomic_store(&cleanups, 0);
    atomic_store(&ran, 0);
}

static void submit_sleepy(cio_pool *p, int n, int ms, unsigned timeout_ms)
{
    cio_task_opts to = {.timeout_ms = timeout_ms};

    for (int i = 0; i < n; i++)
        cr_assert_eq(cio_submit_blocking(p, sleepy, (void *)(intptr_t)ms, cleanup, &to, NULL),
                     CIO_OK);
}

Test(adapters, a_mixed_pool_shares_one_cap, .init = setup, .timeout = 30)
{
    O.blocking_threads = 8;
    cio_pool *p = test_pool(&O, 3);
    cio_stats st;

    reset_blocking();
    for (int i = 0; i < 6; i++) {
        submit_sleepy(p, 1, 30, 0);
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(30), NULL, NULL), CIO_OK);
        cr_assert_eq(cio_submit_timer(p, 30, NULL, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(L.done, 18);
    cr_assert_eq(ledger_once(&L, 18), 18);
    cr_assert_eq(st.max_in_flight, 3);
    cr_assert_leq(atomic_load(&max_running), 3);
    cr_assert_leq(delay_max_running, 3);
    cr_assert_eq(atomic_load(&cleanups), 6);
}

Test(adapters, a_mixed_pool_shares_one_rate, .init = setup, .timeout = 30)
{
    O.rate.count = 600; /* one start every 100 ms, whatever the kind */
    cio_pool *p = test_pool(&O, 10);

    reset_blocking();
    for (int i = 0; i < 3; i++) {
        submit_sleepy(p, 1, 1, 0);
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
        cr_assert_eq(cio_submit_timer(p, 1, NULL, NULL), CIO_OK);
    }
    uint64_t t0 = test_now_ms();
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t took = test_now_ms() - t0;
    cio_pool_free(p);
    cr_assert_eq(L.done, 9);
    cr_assert_geq(took, 800, "9 starts at 10/s need 8 gaps of 100 ms; took %llu",
                  (unsigned long long)took);
    for (int i = 1; i < delay_nstarts; i++) /* two other kinds start between two delays */
        cr_assert_geq(delay_starts_ms[i] - delay_starts_ms[i - 1], 290);
}

static uint64_t timeout_at, timer_done_at;

static void note_timeout(cio_pool *p, const cio_timeouted_task *rec, void *user)
{
    (void)p;
    ((struct ledger *)user)->timeouts++;
    ((struct ledger *)user)->last_timeout = *rec;
    timeout_at = test_now_ms();
}

static void note_done(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    (void)r;
    ((struct ledger *)user)->done++;
    timer_done_at = test_now_ms();
}

Test(adapters, a_timed_out_blocking_function_neither_blocks_the_loop_nor_leaks, .init = setup,
     .timeout = 30)
{
    O.on_timeout = note_timeout;
    O.on_done = note_done;
    cio_pool *p = test_pool(&O, 4);

    reset_blocking();
    uint64_t t0 = test_now_ms();
    submit_sleepy(p, 1, 800, 100);
    cr_assert_eq(cio_submit_timer(p, 200, NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    uint64_t run_took = test_now_ms() - t0;
    cr_assert_eq(L.timeouts, 1);
    cr_assert_str_eq(L.last_timeout.name, "blocking");
    cr_assert_eq(L.last_timeout.timeout_ms, 100);
    cr_assert_eq(L.done, 1, "the timer ran while the function slept");
    cr_assert_lt(timeout_at - t0, 700, "the timeout came at once, not after the function");
    cr_assert_lt(timer_done_at - t0, 700);
    cr_assert_lt(run_took, 700, "the run did not wait for the late function");
    cr_assert_eq(atomic_load(&cleanups), 0, "still running");
    cio_pool_free(p); /* waits for the worker, then discards the late result */
    cr_assert_eq(atomic_load(&ran), 1);
    cr_assert_eq(atomic_load(&cleanups), 1);
}

Test(adapters, blocking_items_wait_for_a_worker_before_their_clock_starts, .init = setup,
     .timeout = 30)
{
    O.blocking_threads = 1;
    cio_pool *p = test_pool(&O, 4);

    reset_blocking();
    submit_sleepy(p, 3, 150, 250); /* one worker: 3 x 150 ms, each within 250 ms */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 3);
    cr_assert_eq(L.timeouts, 0);
    cr_assert_eq(atomic_load(&max_running), 1);
    cr_assert_eq(atomic_load(&cleanups), 3);
}

static cio_task_id victim;

static void cancel_victim(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id == 1)
        cr_assert_eq(cio_cancel(p, victim), CIO_OK);
}

Test(adapters, cancel_and_deadline_reach_generic_items, .init = setup, .timeout = 30)
{
    O.blocking_threads = 1;
    O.deadline_ms = 300;
    L.after = cancel_victim;
    cio_pool *p = test_pool(&O, 4);
    cio_task_opts to = {0};

    reset_blocking();
    cr_assert_eq(cio_submit_timer(p, 10, NULL, NULL), CIO_OK); /* id 1 cancels id 2 */
    cr_assert_eq(cio_submit_blocking(p, sleepy, (void *)(intptr_t)2000, cleanup, &to, &victim),
                 CIO_OK);
    submit_sleepy(p, 2, 2000, 0);                                 /* one waits for the worker */
    cr_assert_eq(cio_submit_timer(p, 10000, NULL, NULL), CIO_OK); /* ends at the deadline */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 1);
    cr_assert_eq(L.by_status[-CIO_E_DEADLINE], 3);
    cr_assert_eq(ledger_once(&L, 5), 5);
    cio_pool_free(p);
    cr_assert_eq(atomic_load(&cleanups), 3, "every arg released, run or not");
}

/* ---- custom adapters that misbehave --------------------------------------------------- */

struct twice {
    struct event *ev;
    cio_task *task;
};

static void twice_fire(evutil_socket_t fd, short what, void *arg)
{
    struct twice *w = arg;

    (void)fd;
    (void)what;
    cio_task_complete(w->task, CIO_OK, "first", 5);
    cio_task_complete(w->task, CIO_OK, "second", 6); /* a bug: caught, ignored */
}

static int twice_start(cio_task *task, void *work, struct event_base *base)
{
    struct twice *w = work;
    struct timeval tv = {0, 1000};

    w->task = task;
    w->ev = evtimer_new(base, twice_fire, w);
    return evtimer_add(w->ev, &tv) == 0 ? CIO_OK : CIO_E_LOOP;
}

static void twice_cancel(cio_task *task, void *work)
{
    struct twice *w = work;

    evtimer_del(w->ev);
    cio_task_complete(task, CIO_OK, NULL, 0); /* a bug too: after cancel */
}

static void twice_destroy(void *work)
{
    struct twice *w = work;

    if (w->ev != NULL)
        event_free(w->ev);
    free(w);
}

static const cio_task_vtable twice_vtable = {
    .name = "twice", .start = twice_start, .cancel = twice_cancel, .destroy = twice_destroy};

static char first_body[16];

static void keep_first(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->done++;
    ((struct ledger *)user)->ends[r->id]++;
    snprintf(first_body, sizeof first_body, "%.*s", (int)r->body_len, r->body);
}

Test(adapters, a_completion_called_twice_or_after_cancel_is_caught, .init = setup, .timeout = 10)
{
    O.on_done = keep_first;
    cio_pool *p = test_pool(&O, 2);
    cio_stats st;
    cio_task_id slow;

    cr_assert_eq(cio_submit(p, &twice_vtable, calloc(1, sizeof(struct twice)), NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.done, 1);
    cr_assert_str_eq(first_body, "first");
    cr_assert_eq(cio_submit(p, &twice_vtable, calloc(1, sizeof(struct twice)), NULL, &slow),
                 CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
    cr_assert_eq(cio_cancel(p, slow), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(st.ignored_completions, 2);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 1);
    cr_assert_eq(ledger_once(&L, 2), 2);
}

static int fail_start(cio_task *task, void *work, struct event_base *base)
{
    (void)task;
    (void)work;
    (void)base;
    return CIO_E_ADAPTER;
}

static void nothing(cio_task *task, void *work)
{
    (void)task;
    (void)work;
    cr_assert_fail("cancel is not called when start fails");
}

static int destroyed;

static void count_destroy(void *work)
{
    free(work);
    destroyed++;
}

static const cio_task_vtable failing_vtable = {
    .name = "failing", .start = fail_start, .cancel = nothing, .destroy = count_destroy};

Test(adapters, a_start_that_fails_ends_the_item_with_its_code, .init = setup, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 2);

    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_submit(p, &failing_vtable, malloc(1), NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.by_status[-CIO_E_ADAPTER], 3);
    cr_assert_eq(destroyed, 3);
}

/* ---- DNS ---------------------------------------------------------------------------- */

static char address[64];

static void keep_address(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->done++;
    cr_assert_not_null(r->value, "the addrinfo list");
    snprintf(address, sizeof address, "%s", r->body);
}

/* A name server on loopback that never answers: no query ever leaves the machine. */
static int silent_nameserver(char *out, size_t len)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;

    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &sl);
    snprintf(out, len, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

Test(adapters, dns_resolves_from_the_hosts_file_and_numeric_names, .init = setup, .timeout = 10)
{
    char ns[64];
    int fd = silent_nameserver(ns, sizeof ns);

    O.dns_nameserver = ns;
    O.on_done = keep_address;
    cio_pool *p = test_pool(&O, 2);
    cr_assert_eq(cio_submit_dns(p, "localhost", NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert(strcmp(address, "127.0.0.1") == 0 || strcmp(address, "::1") == 0, "%s", address);
    cr_assert_eq(cio_submit_dns(p, "127.0.0.2", NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_str_eq(address, "127.0.0.2");
    cr_assert_eq(cio_submit_dns(p, "", NULL, NULL), CIO_E_INVAL);
    cio_pool_free(p);
    close(fd);
    cr_assert_eq(L.done, 2);
}

Test(adapters, a_dns_lookup_that_gets_no_answer_times_out_or_is_canceled, .init = setup,
     .timeout = 20)
{
    char ns[64];
    int fd = silent_nameserver(ns, sizeof ns);
    cio_task_opts to = {.timeout_ms = 200};
    cio_task_id id;

    O.dns_nameserver = ns;
    cio_pool *p = test_pool(&O, 2);
    cr_assert_eq(cio_submit_dns(p, "nowhere.example", &to, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_str_eq(L.last_timeout.name, "dns");
    cr_assert_eq(cio_submit_dns(p, "nowhere.example", NULL, &id), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
    cr_assert_eq(cio_cancel(p, id), CIO_OK);
    cr_assert_eq(cio_submit_dns(p, "nowhere.example", NULL, NULL), CIO_OK); /* at free */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
    cio_pool_free(p);
    close(fd);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 2);
    cr_assert_eq(ledger_once(&L, 3), 3);
}

/* A pool on the caller's loop freed with a lookup still out: libevent delivers the
 * canceled lookup's answer on the caller's next turn and reads the evdns base then, so
 * the base outlives the pool until that answer. Run under valgrind by CTest
 * (valgrind_dns), which sees what ASan cannot in an uninstrumented libevent. */
Test(adapters, a_pool_freed_with_a_dns_lookup_out_on_the_callers_loop_reads_no_freed_memory,
     .init = setup, .timeout = 20)
{
    char ns[64];
    int fd = silent_nameserver(ns, sizeof ns);
    struct event_base *base = event_base_new();

    cr_assert_not_null(base);
    O.dns_nameserver = ns;
    cio_pool *p = cio_pool_new(&O, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(cio_pool_attach(p, base), CIO_OK);
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    cr_assert_eq(cio_submit_dns(p, "nowhere.example", NULL, NULL), CIO_OK);
    for (int i = 0; i < 3; i++)
        event_base_loop(base, EVLOOP_NONBLOCK); /* the query goes out */
    cio_pool_free(p);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 1, "the lookup ended canceled at the free");
    event_base_loop(base, EVLOOP_NONBLOCK); /* the answer of the cancel, then the base */
    event_base_free(base);
    close(fd);
}
