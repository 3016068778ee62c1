/* SPDX-License-Identifier: Apache-2.0 */
/* Growth of the input structs: a caller built against an older, smaller copy of them
 * (here, today's structs cut short, as an older header would have them) passes its own
 * size, and the library reads not one byte past it. Each older struct lies at the very
 * end of a page whose next page is unreadable, so a read past it crashes the test; a
 * control case shows that such a read does crash. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/server.h"

/* The older header's structs: today's, up to a field. */
struct old_http_opts {
    size_t size;
    unsigned flags;
    size_t max_body;
    unsigned max_connections;
    cio_http_version version;
};
struct old_pool_opts {
    size_t size;
    unsigned max_concurrency;
    cio_rate rate;
    unsigned timeout_ms, deadline_ms, flags;
    cio_retry retry;
    cio_limits per_key;
    const struct old_http_opts *http;
    cio_done_cb on_done;
    cio_error_cb on_error;
    cio_timeout_cb on_timeout;
    cio_drained_cb on_drained;
    cio_feed_cb on_feed;
    void *user;
};
struct old_http_req {
    size_t size;
    const char *method, *url;
    const char *const *headers;
    const void *body;
    size_t body_len;
    unsigned timeout_ms;
};
struct old_task_opts {
    size_t size;
    unsigned timeout_ms;
};

#define SAME_PREFIX(old, now, field)                                                               \
    _Static_assert(offsetof(struct old, field) == offsetof(now, field), #field)
SAME_PREFIX(old_http_opts, cio_http_opts, version);
SAME_PREFIX(old_pool_opts, cio_pool_opts, retry);
SAME_PREFIX(old_pool_opts, cio_pool_opts, http);
SAME_PREFIX(old_pool_opts, cio_pool_opts, user);
SAME_PREFIX(old_http_req, cio_http_req, timeout_ms);
SAME_PREFIX(old_task_opts, cio_task_opts, timeout_ms);
_Static_assert(sizeof(struct old_pool_opts) < sizeof(cio_pool_opts), "older is smaller");
_Static_assert(sizeof(struct old_http_opts) < sizeof(cio_http_opts), "older is smaller");
_Static_assert(sizeof(struct old_http_req) < sizeof(cio_http_req), "older is smaller");
_Static_assert(sizeof(struct old_task_opts) < sizeof(cio_task_opts), "older is smaller");

static struct server S;

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
}

static void teardown(void)
{
    server_stop_checked(&S);
}

/* `size` zeroed bytes ending where an unreadable page begins. */
static void *at_page_end(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    char *m =
        mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m + page, (size_t)page, PROT_NONE), 0);
    return memset(m + page - size, 0, size);
}

static int dones, errors;
static long status_seen;
static void *user_seen;

static void on_done(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    dones++;
    status_seen = r->http_status;
    user_seen = user;
}

static void on_error(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    (void)user;
    errors++;
    cr_log_info("%s: %s", cio_strerror(r->status), r->message);
}

Test(growth, a_caller_with_older_smaller_structs_is_never_read_past, .init = setup,
     .fini = teardown, .timeout = 30)
{
    static int mine;
    struct old_http_opts *h = at_page_end(sizeof *h);
    struct old_pool_opts *o = at_page_end(sizeof *o);
    struct old_http_req *r = at_page_end(sizeof *r);
    struct old_task_opts *t = at_page_end(sizeof *t);
    int err;

    h->size = sizeof *h;
    h->flags = CIO_FAIL_ON_HTTP_ERROR; /* read: a 404 is an error */
    h->version = CIO_HTTP_1_1;
    o->size = sizeof *o;
    o->max_concurrency = 2;
    o->http = h;
    o->on_done = on_done;
    o->on_error = on_error;
    o->user = &mine;
    cio_pool *p = cio_pool_new((const cio_pool_opts *)o, &err);
    cr_assert_not_null(p, "%s", cio_strerror(err));

    r->size = sizeof *r;
    r->url = server_url(&S, "/ok");
    cr_assert_eq(cio_submit_http(p, (const cio_http_req *)r, NULL), CIO_OK);
    r->url = server_url(&S, "/status/404");
    cr_assert_eq(cio_submit_http(p, (const cio_http_req *)r, NULL), CIO_OK);
    t->size = sizeof *t;
    t->timeout_ms = 5000;
    cr_assert_eq(cio_submit_timer(p, 10, (const cio_task_opts *)t, NULL), CIO_OK);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(dones, 2, "the 200 and the timer");
    cr_assert_eq(errors, 1, "the 404, as the older struct's flags asked");
    cr_assert_eq(user_seen, &mine, "the fields it has are read");
}

Test(growth, a_read_past_an_older_struct_would_have_crashed)
{
    struct old_pool_opts *o = at_page_end(sizeof *o);
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0) { /* what a library that read its own size would do */
        const volatile unsigned char *b = (const volatile unsigned char *)o;
        unsigned sum = 0;
        for (size_t i = 0; i < sizeof(cio_pool_opts); i++)
            sum += b[i];
        (void)sum;
        _exit(0); /* read it all: the guard did not guard */
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    /* SIGSEGV; under AddressSanitizer, which catches it, an abnormal exit. */
    cr_assert(!(WIFEXITED(st) && WEXITSTATUS(st) == 0), "the page past it is unreadable");
}

Test(growth, a_size_too_small_for_the_size_itself_is_refused)
{
    cio_pool_opts o;
    int err = 0;

    cio_pool_opts_init(&o);
    o.size = 1;
    cr_assert_null(cio_pool_new(&o, &err));
    cr_assert_eq(err, CIO_E_INVAL);
}

Test(growth, a_flag_of_the_other_struct_is_refused_not_ignored)
{
    cio_pool_opts o;
    cio_http_opts h;
    int err = 0;

    cio_pool_opts_init(&o);
    o.flags = CIO_FAIL_ON_HTTP_ERROR; /* an HTTP flag belongs in o.http->flags */
    cr_assert_null(cio_pool_new(&o, &err));
    cr_assert_eq(err, CIO_E_INVAL);
    cio_pool_opts_init(&o);
    cio_http_opts_init(&h);
    h.flags = CIO_ADAPTIVE;
    o.http = &h;
    cr_assert_null(cio_pool_new(&o, &err));
    cr_assert_eq(err, CIO_E_INVAL);
}
