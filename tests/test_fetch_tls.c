/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch over TLS and HTTP/2 against nginx on loopback: verification with
 * --cacert, refusal without it, --insecure said loudly, --http1.1 and --http2. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "support/nginx.h"
#include "support/tool.h"

static struct nginx N;
static struct tool_run R;
static char input[4096];

static void setup(void)
{
    int rc = nginx_start(&N);

    if (rc == 1)
        cr_skip_test("nginx or openssl is not installed");
    cr_assert_eq(rc, 0, "nginx starts");
    input[0] = '\0';
    for (int i = 0; i < 20; i++) {
        size_t n = strlen(input);
        snprintf(input + n, sizeof input - n, "%s/\n", N.url);
    }
}

static void teardown(void)
{
    tool_run_free(&R);
    nginx_stop(&N);
}

static size_t done(void)
{
    size_t n = 0;

    for (size_t i = 0; i < R.nrecs; i++)
        n += strcmp(rec_str(R.recs[i], "outcome"), "done") == 0;
    return n;
}

Test(fetch_tls, verified_with_cacert_over_http2_and_http1, .init = setup, .fini = teardown,
     .timeout = 60)
{
    tool_run(&R, input, (const char *[]){"-q", "-c", "10", "--http2", "--cacert", N.ca, NULL});
    cr_assert_eq(R.status, 0, "%s %s", R.out, R.err);
    cr_assert_eq(done(), 20);
    tool_run_free(&R);
    tool_run(&R, input, (const char *[]){"-q", "-c", "10", "--http1.1", "--cacert", N.ca, NULL});
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(done(), 20);
}

Test(fetch_tls, an_unknown_certificate_is_an_error_unless_insecure, .init = setup, .fini = teardown,
     .timeout = 60)
{
    tool_run(&R, input, (const char *[]){"-q", NULL});
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.nrecs, 20);
    cr_assert_eq(done(), 0);
    cr_assert(strstr(rec_str(R.recs[0], "error"), "certificate") != NULL, "%s",
              rec_str(R.recs[0], "error"));
    tool_run_free(&R);
    tool_run(&R, input, (const char *[]){"-q", "--insecure", NULL});
    cr_assert_eq(R.status, 0);
    cr_assert_eq(done(), 20);
    cr_assert(strstr(R.err, "NOT verified") != NULL);
}
