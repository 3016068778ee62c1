/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch over TLS and HTTP/2 against nginx on loopback: verification with
 * --cacert, refusal without it, --insecure said loudly, --http1.1 and --http2, names
 * given by --resolve and --connect-to. */
#include <stdio.h>
#include <stdlib.h>
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

Test(fetch_tls, a_name_given_by_resolve_is_verified_as_that_name, .init = setup, .fini = teardown,
     .timeout = 60)
{
    /* api.concurio.test exists nowhere but in the certificate's names: --resolve gives
     * its address, and TLS verifies the name of the URL, not the address. */
    unsigned port = (unsigned)atoi(strrchr(N.url, ':') + 1);
    char line[128], resolve[96], connect[96];
    snprintf(line, sizeof line, "https://api.concurio.test:%u/\n", port);
    snprintf(resolve, sizeof resolve, "api.concurio.test:%u:127.0.0.1", port);
    tool_run(&R, line, (const char *[]){"-q", "--cacert", N.ca, "--resolve", resolve, NULL});
    cr_assert_eq(R.status, 0, "%s %s", R.out, R.err);
    cr_assert_str_eq(rec_str(R.recs[0], "http_version"), "2", "over HTTP/2, verified");
    tool_run_free(&R);
    snprintf(line, sizeof line, "https://api.concurio.test/\n");
    snprintf(connect, sizeof connect, "api.concurio.test:443:127.0.0.1:%u", port);
    tool_run(&R, line, (const char *[]){"-q", "--cacert", N.ca, "--connect-to", connect, NULL});
    cr_assert_eq(R.status, 0, "--connect-to: %s %s", R.out, R.err);
    tool_run_free(&R);
    snprintf(resolve, sizeof resolve, "localhost:%u:127.0.0.1", port);
    snprintf(line, sizeof line, "https://api.concurio.test:%u/\n", port);
    tool_run(&R, line,
             (const char *[]){"-q", "--cacert", N.ca, "--connect-to",
                              "api.concurio.test::localhost:", "--resolve", resolve, NULL});
    cr_assert_eq(R.status, 0, "empty parts of --connect-to keep the port: %s %s", R.out, R.err);
}
