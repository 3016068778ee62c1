/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/2 against nginx with TLS on loopback: many requests over one connection, the
 * request cap and the connection cap apart, and TLS verification. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/ledger.h"
#include "support/nginx.h"

static struct nginx N;
static struct ledger L;
static cio_pool_opts O;
static cio_http_opts H; /* O.http */
static long versions[4];
static int curl_code;

static void setup(void)
{
    int rc = nginx_start(&N);

    if (rc == 1)
        cr_skip_test("nginx or openssl is not installed");
    cr_assert_eq(rc, 0, "nginx starts");
    cio_pool_opts_init(&O);
    cio_http_opts_init(&H);
    O.http = &H;
    ledger_opts(&O, &L);
    memset(versions, 0, sizeof versions);
}

static void teardown(void)
{
    nginx_stop(&N);
}

static void count_version(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->done++;
    versions[r->http_version == 20 ? 2 : r->http_version == 11 ? 1 : 0]++;
}

static void keep_error(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->errors++;
    ((struct ledger *)user)->last_status = r->status;
    curl_code = r->curl_code;
}

static cio_stats run_many(int n)
{
    cio_stats st;
    cio_pool *p = cio_pool_new(&O, NULL);
    char url[128];

    cr_assert_not_null(p);
    snprintf(url, sizeof url, "%s/ok", N.url);
    for (int i = 0; i < n; i++) {
        cio_http_req r = {.url = url};
        cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_stats(p, &st);
    cio_pool_free(p);
    return st;
}

Test(http2, many_requests_share_one_connection, .init = setup, .fini = teardown, .timeout = 60)
{
    O.on_done = count_version;
    H.ca_file = N.ca;
    O.max_concurrency = 20;
    H.max_connections = 1;
    cio_stats st = run_many(200);

    cr_assert_eq(L.done, 200);
    cr_assert_eq(versions[2], 200, "every response came over HTTP/2");
    cr_assert_eq(st.connects, 1, "%llu connections", (unsigned long long)st.connects);
    cr_assert_leq(st.max_in_flight, 20);
}

Test(http2, http_1_1_when_asked, .init = setup, .fini = teardown, .timeout = 60)
{
    O.on_done = count_version;
    H.ca_file = N.ca;
    O.max_concurrency = 4;
    H.version = CIO_HTTP_1_1;
    cio_stats st = run_many(50);

    cr_assert_eq(versions[1], 50);
    cr_assert_leq(st.connects, 4, "one connection per request in flight, reused");
}

Test(http2, an_unknown_certificate_is_refused, .init = setup, .fini = teardown, .timeout = 60)
{
    O.on_error = keep_error;
    run_many(1);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.last_status, CIO_E_TRANSPORT);
    cr_assert_eq(curl_code, 60, "CURLE_PEER_FAILED_VERIFICATION");

    H.flags = CIO_INSECURE; /* asked for: no verification */
    O.on_done = count_version;
    run_many(1);
    cr_assert_eq(L.done, 1);
}
