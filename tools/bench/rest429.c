/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark driver: N requests to URL, C at a time, retried up to 10 attempts, with
 * Concurio paced at a fixed rate or adapting to 429s. Prints one line:
 *   MODE seconds=S ok=N failed=N retries=N
 * Usage: rest429 (fixed RATE_PER_MIN | adaptive) URL N C */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <concurio/concurio.h>

static long ok, failed;

static void on_done(cio_pool *p, const cio_result *r, void *u)
{
    (void)p;
    (void)u;
    if (r->http_status == 200)
        ok++;
    else
        failed++;
}

static void on_error(cio_pool *p, const cio_result *r, void *u)
{
    (void)p;
    (void)u;
    (void)r;
    failed++;
}

int main(int argc, char **argv)
{
    int fixed = argc == 6 && strcmp(argv[1], "fixed") == 0;
    int adaptive = argc == 5 && strcmp(argv[1], "adaptive") == 0;
    if (!fixed && !adaptive) {
        fprintf(stderr, "usage: %s (fixed RATE_PER_MIN | adaptive) URL N C\n", argv[0]);
        return 2;
    }
    const char *url = argv[fixed ? 3 : 2];
    long n = strtol(argv[fixed ? 4 : 3], NULL, 10);
    cio_pool_opts o;
    cio_pool_opts_init(&o);
    o.max_concurrency = (unsigned)strtoul(argv[fixed ? 5 : 4], NULL, 10);
    o.rate_per_minute = fixed ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
    o.flags = adaptive ? CIO_ADAPTIVE : 0;
    o.retry = (cio_retry){.max_attempts = 10};
    o.on_done = on_done;
    o.on_error = on_error;
    cio_pool *p = cio_pool_new(&o, NULL);
    if (p == NULL)
        return 1;
    for (long i = 0; i < n; i++) {
        cio_http_req r = {.url = url};
        if (cio_submit_http(p, &r, NULL) != CIO_OK)
            failed++;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cio_pool_run(p, CIO_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    cio_stats st;
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    printf("%s seconds=%.2f ok=%ld failed=%ld retries=%llu\n", argv[1],
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, ok, failed,
           (unsigned long long)st.retries);
    return 0;
}
