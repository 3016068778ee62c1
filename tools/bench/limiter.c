/* SPDX-License-Identifier: Apache-2.0 */
/* The shared limiter's cost: N GETs of BASE_URL/ok, C at a time, with no limiter, with
 * the Redis limiter asking for one slot at a time (one EVALSHA round trip per start), and
 * with it asking for as many as could start (pipelined). The quota is far above what the
 * loop can do, so what is measured is the reservation's cost, not the quota. Prints one
 * line per mode: items/s and the limiter's counts.
 * Usage: bench-limiter REDIS_HOST REDIS_PORT BASE_URL [N] [C] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <concurio/redis.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long done;

static void on_done(cio_pool *p, const cio_result *r, void *u)
{
    (void)p;
    (void)r;
    (void)u;
    done++;
}

static void run(const char *name, const char *host, unsigned port, const char *url, int n,
                unsigned c, unsigned ahead, int limited)
{
    char key[64];
    snprintf(key, sizeof key, "bench:%s:%ld", name, (long)time(NULL));
    cio_redis_limiter_opts lo = {.host = host,
                                 .port = port,
                                 .key = key,
                                 .rate = {.count = 10000000, .period_ms = 1000},
                                 .ahead = ahead};
    cio_redis_limiter *lim = limited ? cio_redis_limiter_new(&lo, NULL) : NULL;
    cio_pool_opts o;

    cio_pool_opts_init(&o);
    o.max_concurrency = c;
    o.on_done = on_done;
    if (lim != NULL) {
        o.limiter = cio_redis_limiter_vtable();
        o.limiter_arg = lim;
    }
    cio_pool *p = cio_pool_new(&o, NULL);
    done = 0;
    for (int i = 0; i < n; i++) {
        cio_http_req r = {.url = url};
        cio_submit_http(p, &r, NULL);
    }
    double t0 = now_s();
    cio_pool_run(p, CIO_RUN_DEFAULT);
    double s = now_s() - t0;
    cio_pool_free(p);
    cio_limiter_stats st = {0};
    cio_redis_limiter_stats(lim, &st);
    cio_redis_limiter_free(lim);
    printf("%-32s %9.0f items/s  done %lu  slots asked %llu, granted %llu, dropped %llu\n", name,
           (double)done / s, done, (unsigned long long)st.asked, (unsigned long long)st.granted,
           (unsigned long long)st.dropped);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench-limiter REDIS_HOST REDIS_PORT BASE_URL [N] [C]\n");
        return 2;
    }
    char url[512];
    unsigned port = (unsigned)strtoul(argv[2], NULL, 10);
    int n = argc > 4 ? atoi(argv[4]) : 20000;
    unsigned c = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 50;

    snprintf(url, sizeof url, "%s/ok", argv[3]);
    for (int round = 0; round < 3; round++) {
        run("no limiter", argv[1], port, url, n, c, 0, 0);
        run("Redis, one EVALSHA per start", argv[1], port, url, n, c, 1, 1);
        run("Redis, pipelined reservations", argv[1], port, url, n, c, 0, 1);
    }
    return 0;
}
