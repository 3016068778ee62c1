/* SPDX-License-Identifier: Apache-2.0 */
/* Rate limits judged where they are counted: at the server. concurio-fetch as a process
 * against nginx, whose limit_req (no burst) answers 429 to any request that comes
 * sooner than 1/rate after the one before, and whose log gives every arrival's time;
 * and against the test server's own limiter with RateLimit headers. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "support/nginx.h"
#include "support/server.h"
#include "support/tool.h"

#define MAX_ARRIVALS 4096

static struct nginx N;
static struct tool_run R;
static double at[MAX_ARRIVALS];
static int status[MAX_ARRIVALS];

static void setup(void)
{
    int rc = nginx_start(&N);
    if (rc == 1)
        cr_skip_test("nginx or openssl is not installed");
    cr_assert_eq(rc, 0, "nginx starts");
}

static void teardown(void)
{
    tool_run_free(&R);
    nginx_stop(&N);
}

#define TEST_LIMITS(name, ...) Test(limits, name, .init = setup, .fini = teardown, __VA_ARGS__)

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* n lines of base + path. */
static char *lines(const char *base, const char *path, int n)
{
    size_t cap = (size_t)n * (strlen(base) + strlen(path) + 2) + 1, len = 0;
    char *text = malloc(cap);

    cr_assert_not_null(text);
    text[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s%s\n", base, path);
    return text;
}

static int by_time(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The most arrivals in any window [t, t + ms) of the logged ones. */
static size_t busiest(double *t, size_t n, double ms)
{
    size_t most = 0;

    qsort(t, n, sizeof t[0], by_time);
    for (size_t i = 0, j = 0; i < n; i++) {
        while (j < n && t[j] < t[i] + ms)
            j++;
        most = j - i > most ? j - i : most;
    }
    return most;
}

static size_t count_status(size_t n, int want)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += status[i] == want;
    return k;
}

/* -r 10/s against nginx's 10 a second with no burst. The first request connects (and
 * over TLS shakes hands) before it goes out, the second reuses its connection: paced
 * from their starts they reached the server 99 ms apart, and the second drew a 429. */
static void documented_rate(const char *base, const char *ca)
{
    char *text = lines(base, "/limit10", 60);
    const char *plain[] = {"-q", "-r", "10/s", "-c", "8", NULL};
    const char *tls[] = {"-q", "-r", "10/s", "-c", "8", "--cacert", ca, NULL};
    tool_run(&R, text, ca != NULL ? tls : plain);
    free(text);
    size_t n = nginx_arrivals(&N, "/limit10", at, status, MAX_ARRIVALS);
    cr_assert_eq(n, 60, "one request per line");
    double least = 1e9;
    for (size_t i = 1; i < n; i++) {
        double gap = at[i] - at[i - 1];
        least = gap < least ? gap : least;
        if (status[i] == 429)
            fprintf(stderr, "429 at arrival %zu, %.0f ms after the one before\n", i, gap);
    }
    fprintf(stderr, "-r 10/s, -c 8%s: the closest two arrivals %.0f ms apart\n",
            ca != NULL ? ", TLS" : "", least);
    cr_assert_eq(count_status(n, 429), 0, "%zu of 60 drew 429", count_status(n, 429));
    cr_assert_eq(R.status, 0, "%s", R.err);
}

TEST_LIMITS(the_documented_rate_draws_no_429_from_a_server_enforcing_it, .timeout = 60)
{
    documented_rate(N.http_url, NULL);
}

TEST_LIMITS(the_documented_rate_holds_over_tls_from_a_cold_connection, .timeout = 60)
{
    documented_rate(N.url, N.ca);
}

/* Window mode over TLS: the first window's requests wait for their handshakes and
 * reach the server late; the next window's, on warm connections, must not land in the
 * same second. */
static void window_at_the_server(const char *concurrency)
{
    char *text = lines(N.url, "/", 60);
    tool_run(&R, text,
             (const char *[]){"-q", "-r", "20/s", "--rate-mode", "window", "-c", concurrency,
                              "--cacert", N.ca, NULL});
    free(text);
    cr_assert_eq(R.status, 0, "%s", R.err);
    size_t n = nginx_arrivals(&N, "/", at, status, MAX_ARRIVALS);
    cr_assert_eq(n, 60);
    size_t most = busiest(at, n, 1000.0);
    fprintf(stderr, "window mode, -c %s, TLS: at most %zu arrivals in any second (quota 20)\n",
            concurrency, most);
    cr_assert_leq(most, 20, "%zu arrivals in one second at the server", most);
}

TEST_LIMITS(window_mode_holds_at_the_server_with_cold_tls_connections_c64, .timeout = 60)
{
    window_at_the_server("64");
}

TEST_LIMITS(window_mode_holds_at_the_server_with_cold_tls_connections_c8, .timeout = 60)
{
    window_at_the_server("8");
}

TEST_LIMITS(window_mode_at_200_a_second_holds_at_the_server, .timeout = 60)
{
    char *text = lines(N.http_url, "/", 600);
    tool_run(&R, text,
             (const char *[]){"-q", "-r", "200/s", "--rate-mode", "window", "-c", "64", NULL});
    free(text);
    cr_assert_eq(R.status, 0, "%s", R.err);
    size_t n = nginx_arrivals(&N, "/", at, status, MAX_ARRIVALS);
    cr_assert_eq(n, 600);
    size_t most = busiest(at, n, 1000.0);
    fprintf(stderr, "window mode at 200/s, -c 64: at most %zu arrivals in any second\n", most);
    cr_assert_leq(most, 200);
}

TEST_LIMITS(adaptive_mode_settles_near_a_servers_limit_below_the_rate_given, .timeout = 90)
{
    /* -r 30/s against an API that allows 20 a second: the cut must start from 30/s, not
     * from the few starts of the first 100 ms, and settle near 20/s. */
    char *text = lines(N.http_url, "/limit20", 100);
    uint64_t t0 = now_ms();
    tool_run(&R, text,
             (const char *[]){"-q", "-r", "30/s", "--adaptive", "--retries", "8",
                              "--retry-max-wait", "2", "-c", "8", NULL});
    uint64_t took = now_ms() - t0;
    free(text);
    size_t n = nginx_arrivals(&N, "/limit20", at, status, MAX_ARRIVALS);
    fprintf(stderr, "adaptive at -r 30/s against 20/s: %zu requests, %zu 429s, %llu ms\n", n,
            count_status(n, 429), (unsigned long long)took);
    cr_assert_eq(R.status, 0, "every item done: %s", R.err);
    cr_assert_eq(R.nrecs, 100);
    cr_assert_eq(count_status(n, 200), 100);
    /* 100 at 20/s is 5 s; within a factor of two of the server's limit is 10 s. */
    cr_assert_leq(took, 11000, "took %llu ms", (unsigned long long)took);
}

Test(limits, a_pause_the_server_imposed_is_not_quiet_time, .timeout = 60)
{
    /* 8 URLs at a server allowing 2 a second, saying so in RateLimit headers. Its reset is
     * in whole seconds, so a client that waits it out after "Remaining: 0" takes 4.5 s;
     * recovery that counted the pause as quiet overshot after it, drew 429s and took 5.1 s. */
    struct server s;
    cr_assert_eq(server_start(&s), 0);
    char *text = lines(s.url, "/limited/2?headers=1", 8);
    uint64_t t0 = now_ms();
    tool_run(&R, text,
             (const char *[]){"-q", "--adaptive", "--retries", "20", "--retry-max-wait", "5", "-c",
                              "4", NULL});
    uint64_t took = now_ms() - t0;
    free(text);
    struct server_stats st;
    cr_assert_eq(server_stats(&s, &st), 0);
    fprintf(stderr, "8 items at a 2/s server: %ld requests, %llu ms\n", st.requests,
            (unsigned long long)took);
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_leq(took, 5000, "4.5 s would do; took %llu ms", (unsigned long long)took);
    server_stats_free(&st);
    tool_run_free(&R);
    cr_assert_eq(server_stop(&s), 0);
}
