/* SPDX-License-Identifier: Apache-2.0 */
/* Quickstart: 100 requests, 10 at a time, 2 s each at most, on Concurio's own loop.
 *
 *   quickstart [BASE-URL]     (default http://127.0.0.1:8080, the bundled test server)
 *
 * Each request asks the server to wait 100 ms, so the run takes about a second. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <concurio/concurio.h>

struct tally {
    int done, errors, timeouts;
};

static void on_done(cio_pool *pool, const cio_result *res, void *user)
{
    (void)pool;
    (void)res;
    ((struct tally *)user)->done++;
}

static void on_error(cio_pool *pool, const cio_result *res, void *user)
{
    (void)pool;
    fprintf(stderr, "error: %s: %s\n", res->url, res->message);
    ((struct tally *)user)->errors++;
}

static void on_timeout(cio_pool *pool, const cio_timeouted_task *rec, void *user)
{
    (void)pool;
    fprintf(stderr, "timeout: %s after %u ms\n", rec->name, rec->timeout_ms);
    ((struct tally *)user)->timeouts++;
}

/* Python's tqdm_config: a meter on stderr, redrawn in place, when it is a terminal. */
static void on_progress(cio_pool *pool, const cio_progress *pr, void *user)
{
    char line[160];

    (void)pool;
    (void)user;
    cio_progress_format(pr, "Fetching", 20, line, sizeof line);
    fprintf(stderr, "\r%s%s", line, pr->final ? "\n" : "");
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    struct tally t = {0};
    cio_pool_opts o;
    int err;

    cio_pool_opts_init(&o);
    o.max_concurrency = 10;
    o.timeout_ms = 2000; /* Python's wait_timeout=2.0 */
    o.on_done = on_done;
    o.on_error = on_error;
    o.on_timeout = on_timeout;
    o.user = &t;
    if (isatty(STDERR_FILENO)) {
        o.on_progress = on_progress;
        o.expected = 100;
    }
    cio_pool *pool = cio_pool_new(&o, &err);
    if (pool == NULL) {
        fprintf(stderr, "concurio: %s\n", cio_strerror(err));
        return 1;
    }
    for (int i = 0; i < 100; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/delay/100?i=%d", base, i);
        cio_http_req req = {.url = url}; /* copied: url may change right away */
        if ((err = cio_submit_http(pool, &req, NULL)) != CIO_OK) {
            fprintf(stderr, "submit %s: %s\n", url, cio_strerror(err));
            t.errors++;
        }
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    err = cio_pool_run(pool, CIO_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    cio_pool_free(pool);
    printf("100 requests of 100 ms, 10 at a time, in %.2f s: done=%d errors=%d timeouts=%d\n",
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, t.done, t.errors,
           t.timeouts);
    return err == CIO_OK && t.done + t.errors + t.timeouts == 100 ? 0 : 1;
}
