/* SPDX-License-Identifier: Apache-2.0 */
/* Callbacks that re-enter the pool: a tree of items submitted from their parents' ends
 * (depth 5), siblings cancelling each other, a stop and a free from inside a callback.
 * Checked by the ledger (one end per item), the loop ending by itself, and the open
 * descriptors. Submitting from a callback while libcurl was inside one of its own would
 * fail (libcurl refuses a recursive call: CURLM_RECURSIVE_API_CALL), so "every item of
 * the tree is done" also says the pool never called libcurl from there. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"

static struct server S;
static struct ledger L;
static cio_pool_opts O;
static int fds0;

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    cio_pool_opts_init(&O);
    ledger_opts(&O, &L);
    fds0 = test_open_fds();
}

static void teardown(void)
{
    server_stop_checked(&S);
}

/* After the pool is freed: nothing of it is left open. */
static void no_descriptor_left(void)
{
    cr_assert_eq(test_open_fds(), fds0, "%d descriptors open, %d before", test_open_fds(), fds0);
}

#define TEST_RE(name, ...) Test(reentry, name, .init = setup, .fini = teardown, __VA_ARGS__)

/* ---- a tree: every item of depth < 5 submits three children when it ends ---------- */

#define FANOUT 3
#define DEPTH 5
#define TREE 364 /* 1 + 3 + 9 + 27 + 81 + 243 */

static unsigned char depth_of[LEDGER_MAX];

static void submit_child(cio_pool *p, unsigned depth)
{
    cio_task_id id;
    cio_http_req r = {.url = server_url(&S, depth % 2 ? "/delay/10" : "/ok")};

    cr_assert_eq(cio_submit_http(p, &r, &id), CIO_OK);
    cr_assert_lt(id, LEDGER_MAX);
    depth_of[id] = (unsigned char)depth;
}

static void grow(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    if (depth_of[id] < DEPTH)
        for (int i = 0; i < FANOUT; i++)
            submit_child(p, depth_of[id] + 1u);
}

TEST_RE(a_tree_five_deep_submitted_from_callbacks_ends_once_per_item, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 16);

    L.after = grow;
    submit_child(p, 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    no_descriptor_left();
    cr_assert_eq(L.done, TREE, "done %zu, errors %zu", L.done, L.errors);
    cr_assert_eq(ledger_once(&L, TREE), TREE);
    unsigned at[DEPTH + 1] = {0};
    for (size_t id = 1; id <= TREE; id++)
        at[depth_of[id]]++;
    cr_assert_eq(at[DEPTH], 243);
}

/* ---- families of four: the first to end cancels its siblings ----------------------- */

#define FAMILIES 30
#define KIDS 4

static cio_task_id kin[FAMILIES][KIDS];

static void cancel_siblings(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)l;
    size_t f = (id - 1) / KIDS;
    /* A cancelled sibling's own end runs this again, inside the cancel: nested. */
    for (int k = 0; k < KIDS; k++)
        if (kin[f][k] != id)
            cio_cancel(p, kin[f][k]); /* CIO_E_NOTFOUND once it has ended: fine */
}

TEST_RE(siblings_cancelling_each_other_leave_one_done_per_family, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 64);
    char path[32];

    L.after = cancel_siblings;
    for (int f = 0; f < FAMILIES; f++)
        for (int k = 0; k < KIDS; k++) {
            snprintf(path, sizeof path, "/delay/%d", 20 + 60 * ((f + k) % KIDS));
            kin[f][k] = test_get(p, &S, path, 0);
            cr_assert_eq(kin[f][k], (cio_task_id)(f * KIDS + k + 1));
        }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    no_descriptor_left();
    cr_assert_eq(ledger_once(&L, FAMILIES * KIDS), FAMILIES * KIDS);
    cr_assert_eq(L.done, FAMILIES, "one done per family: %zu", L.done);
    cr_assert_eq(L.by_status[-CIO_E_CANCELED], FAMILIES * (KIDS - 1));
}

/* ---- a stop and a free from inside a callback --------------------------------------- */

static void stop_at_20(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)id;
    if (l->done == 20)
        cio_pool_stop(p);
}

TEST_RE(a_stop_from_a_callback_ends_the_queue_and_lets_the_running_finish, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 8);

    L.after = stop_at_20;
    for (int i = 0; i < 200; i++)
        test_get(p, &S, "/delay/30", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_E_CANCELED);
    cio_pool_free(p);
    no_descriptor_left();
    cr_assert_eq(ledger_once(&L, 200), 200);
    cr_assert_eq(L.done + L.errors, 200);
    cr_assert_eq(L.errors, L.by_status[-CIO_E_CANCELED]);
    /* The stop came at the 20th done; the (at most 8 - 1) others running then finish. */
    cr_assert(L.done >= 20 && L.done <= 27, "%zu done", L.done);
}

static void free_at_20(cio_pool *p, cio_task_id id, struct ledger *l)
{
    (void)id;
    if (l->done + l->errors == 20)
        cio_pool_free(p);
}

TEST_RE(a_free_from_a_callback_ends_every_item_once_and_closes_everything, .timeout = 60)
{
    cio_pool *p = test_pool(&O, 8);

    L.after = free_at_20;
    for (int i = 0; i < 200; i++)
        test_get(p, &S, i % 2 ? "/delay/30" : "/ok", 0);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    no_descriptor_left();
    cr_assert_eq(ledger_once(&L, 200), 200);
    cr_assert_eq(L.done + L.errors, 200);
    cr_assert_geq(L.by_status[-CIO_E_CANCELED], 200 - 20 - 8);
}
