/* SPDX-License-Identifier: Apache-2.0 */
/* The pool with generic delay items: caps, rate, runs, deadline, cancel, feeder, free.
 * No network. Timing bounds are loose on purpose: they must hold on a loaded machine. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include <concurio/concurio.h>

#include "support/delay.h"
#include "support/fixture.h"
#include "support/ledger.h"

static struct ledger L;
static cio_pool_opts O;

static void setup(void)
{
    cio_pool_opts_init(&O);
    ledger_opts(&O, &L);
    delay_reset();
}

static void submit_delays(cio_pool *p, int n, int ms)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(ms), NULL, NULL), CIO_OK);
}

Test(pool, never_runs_more_than_the_cap_and_reaches_it, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 4);

    submit_delays(p, 40, 10);
    cr_assert_eq(cio_pool_count(p), 40);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(cio_pool_count(p), 0);
    cio_stats st;
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(L.done, 40);
    cr_assert_eq(ledger_once(&L, 40), 40);
    cr_assert_eq(delay_max_running, 4);
    cr_assert_eq(st.max_in_flight, 4);
    cr_assert_eq(st.started, 40);
    cr_assert_eq(delay_destroyed, 40);
}

Test(pool, ten_thousand_items_end_exactly_once_each, .init = setup, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 64);

    for (int i = 0; i < 10000; i++)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(i % 3), NULL, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done + L.errors + L.timeouts, 10000);
    cr_assert_eq(ledger_once(&L, 10000), 10000);
    cr_assert_eq(delay_destroyed, 10000);
}

Test(pool, rate_limit_spaces_starts, .init = setup, .timeout = 30)
{
    O.rate = (cio_rate){.count = 1200, .burst = 2}; /* one every 50 ms */
    cio_pool *p = test_pool(&O, 10);

    submit_delays(p, 12, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 12);
    cr_assert_eq(delay_nstarts, 12);
    /* Never faster than burst + rate * T in any window (timers never fire early). */
    for (int i = 0; i < 12; i++)
        for (int j = i; j < 12; j++) {
            uint64_t window = delay_starts_ms[j] - delay_starts_ms[i];
            cr_assert_leq(j - i + 1, 2 + (int)(window / 50) + 1, "%d starts in %llu ms", j - i + 1,
                          (unsigned long long)window);
        }
    /* 10 paced starts after the burst need at least ~500 ms. */
    cr_assert_geq(delay_starts_ms[11] - delay_starts_ms[0], 450);
}

Test(pool, a_generic_item_that_never_completes_times_out, .init = setup, .timeout = 20)
{
    O.timeout_ms = 100;
    cio_pool *p = test_pool(&O, 2);
    cio_task_id id;
    int rec = 42;
    cio_task_opts to = {.user = &rec};

    cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(-1), &to, &id), CIO_OK);
    submit_delays(p, 3, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.timeouts, 1);
    cr_assert_eq(L.done, 3);
    cr_assert_eq(L.last_timeout.id, id);
    cr_assert_eq(L.last_timeout.timeout_ms, 100);
    cr_assert_eq(L.last_timeout.task_user, &rec);
    cr_assert_geq(L.last_timeout.ran_ms, 95);
    cr_assert_null(L.last_timeout.request);
    cr_assert_eq(delay_running, 0, "the work was canceled");
    cr_assert_eq(delay_destroyed, 4);
}

Test(pool, waiting_for_admission_does_not_count_against_the_timeout, .init = setup, .timeout = 20)
{
    O.timeout_ms = 300;
    cio_pool *p = test_pool(&O, 1);

    submit_delays(p, 3, 150); /* the third waits 300 ms in the queue */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 3);
    cr_assert_eq(L.timeouts, 0);
}

Test(pool, an_item_may_complete_inside_start, .init = setup, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 3);

    submit_delays(p, 20, 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(ledger_once(&L, 20), 20);
    cr_assert_eq(delay_destroyed, 20);
}

static void resubmit_twice(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id <= 10) /* the first ten each add two more */
        for (int i = 0; i < 2; i++)
            cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
}

Test(pool, callbacks_may_submit_more, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 4);

    L.after = resubmit_twice;
    submit_delays(p, 10, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 30);
    cr_assert_eq(ledger_once(&L, 30), 30);
}

static void cancel_next(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id % 2 == 1) /* each odd item cancels the even one after it */
        cr_assert_eq(cio_cancel(p, id + 1), CIO_OK);
    cr_assert_eq(cio_cancel(p, id), CIO_E_NOTFOUND); /* it has ended */
}

Test(pool, callbacks_may_cancel_others, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 2);

    L.after = cancel_next;
    submit_delays(p, 4, 30); /* ids 1..4; completions cancel 2 and 4 */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(ledger_once(&L, 4), 4);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 2);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(delay_running, 0);
}

static void cancel_all_at_first(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id == 1)
        cr_assert_eq(cio_pool_cancel(p), 9);
}

Test(pool, cancel_all_ends_every_unfinished_item, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 3);

    L.after = cancel_all_at_first;
    cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
    submit_delays(p, 9, 5000);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_CANCELED);
    cr_assert_eq(cio_pool_count(p), 0);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 9);
    cr_assert_eq(ledger_once(&L, 10), 10);
    cr_assert_eq(delay_running, 0);
}

Test(pool, deadline_ends_the_run_and_everything_unfinished, .init = setup, .timeout = 20)
{
    O.deadline_ms = 200;
    cio_pool *p = test_pool(&O, 2);

    submit_delays(p, 2, 10);
    submit_delays(p, 6, 10000);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_eq(L.by_status[-CIO_E_DEADLINE], 6);
    cr_assert_eq(ledger_once(&L, 8), 8);
    cr_assert_eq(delay_running, 0);
}

Test(pool, reuse_after_a_run, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 5);

    for (int round = 1; round <= 3; round++) {
        submit_delays(p, 10, 1);
        cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
        cr_assert_eq(cio_pool_count(p), 0);
        cr_assert_eq(L.done, (size_t)round * 10);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK, "an empty run returns");
    cio_pool_free(p);
    cr_assert_eq(ledger_once(&L, 30), 30);
}

static void free_at_third(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id == 3)
        cio_pool_free(p);
}

Test(pool, freeing_inside_a_callback_ends_the_rest_canceled, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 1);

    L.after = free_at_third;
    submit_delays(p, 10, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK); /* p is gone now */
    cr_assert_eq(L.done, 3);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 7);
    cr_assert_eq(ledger_once(&L, 10), 10);
    cr_assert_eq(delay_destroyed, 10);
}

Test(pool, freeing_with_items_queued_and_running_cancels_them, .init = setup, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 2);

    submit_delays(p, 5, 10000);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
    cr_assert_eq(delay_running, 2);
    cio_pool_free(p);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 5);
    cr_assert_eq(ledger_once(&L, 5), 5);
    cr_assert_eq(delay_running, 0);
    cr_assert_eq(delay_destroyed, 5);
}

struct feeder {
    int left;
    size_t max_queued;
    cio_pool *pool;
};

static int feed(cio_pool *p, size_t room, void *user)
{
    struct ledger *l = user;
    struct feeder *f = l->ctx;
    cio_stats st;

    for (size_t i = 0; i < room && f->left > 0; i++, f->left--)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(f->left % 2), NULL, NULL), CIO_OK);
    cio_pool_stats(p, &st);
    if (st.queued > f->max_queued)
        f->max_queued = st.queued;
    return f->left > 0 ? CIO_FEED_MORE : CIO_FEED_END;
}

Test(pool, a_feeder_keeps_the_queue_bounded, .init = setup, .timeout = 60)
{
    struct feeder f = {.left = 20000};

    O.on_feed = feed;
    L.ctx = &f;
    cio_pool *p = test_pool(&O, 8);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 20000);
    cr_assert_eq(ledger_once(&L, 20000), 20000);
    /* Twice the concurrency, at least 64: bounded, and deep enough that the keys further
     * down an input are queued and get their share while one key holds its slots. */
    cr_assert_leq(f.max_queued, 64, "the queue held %zu", f.max_queued);
}

/* Attach mode: the caller's loop, the caller's own timer ticking in between. */
struct app {
    struct event_base *base;
    struct event *tick;
    int ticks, ticks_at_drain, drained;
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    struct timeval tv = {0, 5000};

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

Test(pool, attached_to_a_callers_loop_beside_its_own_timer, .init = setup, .timeout = 20)
{
    struct app a = {0};
    struct timeval tv = {0, 5000};

    a.base = event_base_new();
    a.tick = evtimer_new(a.base, on_tick, &a);
    evtimer_add(a.tick, &tv);
    O.on_drained = on_drained;
    L.ctx = &a;
    cio_pool *p = test_pool(&O, 2);
    cr_assert_eq(cio_pool_attach(p, a.base), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_STATE);
    submit_delays(p, 6, 40);
    cr_assert_eq(cio_pool_attach(p, a.base), CIO_E_STATE);
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    cr_assert_eq(L.done, 0, "start returns before any callback");
    event_base_dispatch(a.base); /* ends when nothing is pending: the tick stops at drain */
    cr_assert_eq(a.drained, 1);
    cr_assert_eq(L.done, 6);
    cr_assert_geq(a.ticks_at_drain, 3, "the caller's timer ran during the run");
    /* Reuse on the caller's loop. */
    submit_delays(p, 2, 1);
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    event_base_dispatch(a.base);
    cr_assert_eq(a.drained, 2);
    cio_pool_free(p);
    event_free(a.tick);
    event_base_free(a.base);
    cr_assert_eq(ledger_once(&L, 8), 8);
}

Test(pool, bad_arguments_are_errors_not_crashes, .init = setup)
{
    cio_pool *p = test_pool(&O, 1);
    cio_task_vtable no_cancel = {
        .name = "x", .start = delay_vtable.start, .destroy = delay_vtable.destroy};

    cr_assert_eq(cio_submit(NULL, &delay_vtable, NULL, NULL, NULL), CIO_E_INVAL);
    cr_assert_eq(cio_submit(p, NULL, NULL, NULL, NULL), CIO_E_INVAL);
    cr_assert_eq(cio_submit(p, &no_cancel, NULL, NULL, NULL), CIO_E_INVAL);
    cr_assert_eq(cio_cancel(p, 12345), CIO_E_NOTFOUND);
    cr_assert_eq(cio_pool_start(p), CIO_E_STATE, "not attached");
    cr_assert_eq(cio_pool_attach(p, NULL), CIO_E_INVAL);
    cio_pool_free(p);
    cio_pool_free(NULL);
    cr_assert_eq(L.done + L.errors + L.timeouts, 0);
}

static int run_inside;

static void run_from_callback(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)id;
    (void)l;
    run_inside = cio_pool_run(p, CIO_RUN_DEFAULT);
}

Test(pool, run_inside_a_callback_is_refused, .init = setup, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 1);

    L.after = run_from_callback;
    submit_delays(p, 1, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(run_inside, CIO_E_STATE);
}

static int submit_after_deadline;

static void submit_late(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)id;
    if (l->errors == 1) {
        void *d = delay_new(1);
        submit_after_deadline = cio_submit(p, &delay_vtable, d, NULL, NULL);
        if (submit_after_deadline != CIO_OK)
            free(d); /* refused: still ours */
    }
}

Test(pool, nothing_new_starts_after_the_deadline, .init = setup, .timeout = 10)
{
    O.deadline_ms = 50;
    cio_pool *p = test_pool(&O, 1);

    L.after = submit_late;
    submit_delays(p, 3, 10000);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    cio_pool_free(p);
    cr_assert_eq(submit_after_deadline, CIO_E_DEADLINE);
    cr_assert_eq(L.by_status[-CIO_E_DEADLINE], 3);
    cr_assert_eq(delay_nstarts, 1);
}

static void free_when_drained(cio_pool *p, void *user)
{
    ((struct ledger *)user)->ctx = p;
    cio_pool_free(p);
}

Test(pool, the_pool_may_be_freed_in_on_drained, .init = setup, .timeout = 10)
{
    O.on_drained = free_when_drained;
    cio_pool *p = test_pool(&O, 2);

    submit_delays(p, 3, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(L.ctx, p);
    cr_assert_eq(L.done, 3);
}

static int feed_calls;

static int feed_every_other_call(cio_pool *p, size_t room, void *user)
{
    (void)room;
    (void)user;
    if (++feed_calls % 2 == 0 || feed_calls > 40)
        return feed_calls > 40 ? CIO_FEED_END : CIO_FEED_MORE; /* nothing this time */
    cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
    return CIO_FEED_MORE;
}

Test(pool, a_paused_feeder_is_asked_again_when_an_item_ends, .init = setup, .timeout = 10)
{
    O.on_feed = feed_every_other_call;
    cio_pool *p = test_pool(&O, 4);

    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 20);
    cr_assert_eq(ledger_once(&L, 20), 20);
}

/* A feeder that skips: the first calls submit nothing, with nothing in flight, and ask
 * for the next turn from inside (concurio-fetch resuming past thousands of done lines). */
static int feed_after_skipping(cio_pool *p, size_t room, void *user)
{
    (void)room;
    (void)user;
    if (++feed_calls <= 5) {
        cio_pool_feed_wake(p);
        return CIO_FEED_MORE;
    }
    if (feed_calls > 8)
        return CIO_FEED_END;
    cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
    return CIO_FEED_MORE;
}

Test(pool, a_feeder_that_wakes_itself_from_inside_is_called_again, .init = setup, .timeout = 10)
{
    O.on_feed = feed_after_skipping;
    cio_pool *p = test_pool(&O, 4);

    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 3);
    cr_assert_eq(feed_calls, 9);
}

Test(pool, without_on_timeout_a_timeout_reaches_on_error, .init = setup, .timeout = 10)
{
    O.on_timeout = NULL;
    O.timeout_ms = 20;
    cio_pool *p = test_pool(&O, 1);
    cio_stats st;

    submit_delays(p, 1, -1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.last_status, CIO_E_TIMEOUT);
    cr_assert_eq(st.timeouts, 1);
    cr_assert_eq(st.errors, 0);
}

Test(pool, a_window_rate_lets_the_quota_go_then_holds, .init = setup, .timeout = 30)
{
    O.rate = (cio_rate){.count = 5, .period_ms = 400, .mode = CIO_RATE_WINDOW};
    cio_pool *p = test_pool(&O, 20);

    submit_delays(p, 12, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 12);
    /* Starts are recorded a moment after admission: allow 2 ms of that. */
    for (int i = 0, j = 0; i < 12; i++) {
        while (j < 12 && delay_starts_ms[j] < delay_starts_ms[i] + 398)
            j++;
        cr_assert_leq(j - i, 5, "%d starts within 400 ms", j - i);
    }
    cr_assert_geq(delay_starts_ms[11] - delay_starts_ms[0], 798, "three windows for 12");
}

Test(pool, an_impossible_rate_is_refused_at_creation, .init = setup)
{
    int err = 0;

    O.rate = (cio_rate){.count = 2000000, .mode = CIO_RATE_WINDOW};
    cr_assert_null(cio_pool_new(&O, &err));
    cr_assert_eq(err, CIO_E_INVAL);
    O.rate = (cio_rate){0};
    O.per_key.rate = (cio_rate){.count = 2000000, .mode = CIO_RATE_WINDOW};
    cr_assert_null(cio_pool_new(&O, &err), "a per-key rate too");
    cr_assert_eq(err, CIO_E_INVAL);
}

static void stop_at_first(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (id != 1)
        return;
    cr_assert_eq(cio_pool_stop(p), 5, "the five queued items end now");
    void *work = delay_new(1);
    cr_assert_eq(cio_submit(p, &delay_vtable, work, NULL, NULL), CIO_E_STATE);
    delay_vtable.destroy(work); /* refused: the caller keeps it */
    cr_assert_eq(cio_pool_stop(p), 0, "a second stop is a no-op");
}

Test(pool, a_stop_lets_running_items_finish_and_starts_nothing_new, .init = setup, .timeout = 20)
{
    cio_pool *p = test_pool(&O, 3);

    L.after = stop_at_first;
    cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(1), NULL, NULL), CIO_OK);
    submit_delays(p, 2, 200);
    submit_delays(p, 5, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_CANCELED);
    cio_stats st;
    cio_pool_stats(p, &st);
    cr_assert_eq(L.done, 3, "the items in flight ran to their end");
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], 5);
    cr_assert_eq(st.started, 3);
    /* The next run is a normal one again. */
    submit_delays(p, 2, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 5);
    cr_assert_eq(ledger_once(&L, 10), 10);
}

Test(pool, the_built_in_meter_writes_log_lines_and_a_final_one, .init = setup, .timeout = 20)
{
    int fds[2];
    char buf[8192];

    cr_assert_eq(pipe(fds), 0);
    O.progress_fd = fds[1];
    O.progress_mode = CIO_PROGRESS_LOG;
    O.progress_ms = 50;
    O.progress_desc = "meter";
    O.expected = 8;
    cio_pool *p = test_pool(&O, 2);
    submit_delays(p, 8, 100); /* four rounds of 100 ms: several log lines */
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    close(fds[1]);
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    int lines = 0;
    for (char *s = buf; (s = strchr(s, '\n')) != NULL; s++)
        lines++;
    cr_assert_geq(lines, 3, "%s", buf);
    cr_assert(strstr(buf, "\r") == NULL, "log lines are not redrawn");
    cr_assert(strstr(buf, "meter 100% 8/8") != NULL, "the last line is complete: %s", buf);
}

/* cio_cancel from inside a bulk end (cancel-all, the deadline): the item it names ends
 * canceled before cio_cancel returns, as the header says of every cio_cancel. */
static cio_task_id victim;
static int victim_code, victim_seen_during_cancel;

static void cancel_the_victim(cio_pool *p, cio_task_id id, struct ledger *l)
{
    if (id == victim || victim == 0)
        return;
    cio_task_id v = victim;
    victim = 0;
    size_t before = l->errors;
    cr_assert_eq(cio_cancel(p, v), CIO_OK);
    victim_seen_during_cancel = l->errors == before + 1 && l->ends[v] == 1;
    victim_code = l->last_status;
}

static void cancel_during_a_bulk_end(int deadline)
{
    cio_task_id ids[5];
    L.after = cancel_the_victim;
    O.deadline_ms = deadline ? 50 : 0;
    cio_pool *p = test_pool(&O, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(-1), NULL, &ids[i]), CIO_OK);
    victim = ids[4];
    if (deadline) {
        cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_DEADLINE);
    } else {
        cr_assert_eq(cio_pool_run(p, CIO_RUN_NOWAIT), CIO_OK);
        cr_assert_eq(cio_pool_cancel(p), 4, "the fifth was ended by the cio_cancel inside");
    }
    cio_pool_free(p);
    cr_assert(victim_seen_during_cancel, "its callback fired inside cio_cancel");
    cr_assert_eq(victim_code, CIO_E_CANCELED, "canceled, not %s", cio_err_name(victim_code));
    cr_assert_eq(ledger_once(&L, 5), 5);
}

Test(pool, cancel_inside_a_cancel_all_ends_the_item_at_once, .init = setup, .timeout = 10)
{
    cancel_during_a_bulk_end(0);
}

Test(pool, cancel_inside_the_deadline_ends_the_item_at_once_canceled, .init = setup, .timeout = 10)
{
    cancel_during_a_bulk_end(1);
}

/* Items submitted inside on_drained run in the same run: cio_pool_run returns with an
 * empty pool, and on_drained fires again once they have ended. */
static int drained_calls;

static void submit_once_when_drained(cio_pool *p, void *user)
{
    (void)user;
    if (drained_calls++ == 0)
        cr_assert_eq(cio_submit(p, &delay_vtable, delay_new(5), NULL, NULL), CIO_OK);
}

Test(pool, an_item_submitted_in_on_drained_runs_in_the_same_run, .init = setup, .timeout = 10)
{
    O.on_drained = submit_once_when_drained;
    cio_pool *p = test_pool(&O, 2);

    drained_calls = 0;
    submit_delays(p, 2, 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cr_assert_eq(cio_pool_count(p), 0, "nothing is left for a next run");
    cr_assert_eq(L.done, 3);
    cr_assert_eq(drained_calls, 2);
    cio_pool_free(p);
}
