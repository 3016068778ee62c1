/* SPDX-License-Identifier: Apache-2.0 */
/* Cookies per key against the real test server: a login that redirects keeps its
 * session, two keys never see each other's cookies, a cookie file is loaded into every
 * key's store and every store is saved in curl's format. The server's /echo says which
 * Cookie header each request carried. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"

static struct server S;
static struct ledger L;
static cio_pool_opts O;
static cio_http_opts H; /* O.http */

#define MAX_SEEN 8
static char cookie_seen[MAX_SEEN + 1][256]; /* the Cookie /echo saw, by user index */

static void on_done(cio_pool *p, const cio_result *r, void *user)
{
    const char *c = strstr(r->body, "\"Cookie\":\"");
    char *out = cookie_seen[(size_t)(uintptr_t)r->task_user];

    (void)p;
    ((struct ledger *)user)->done++;
    out[0] = '\0';
    if (c != NULL)
        snprintf(out, sizeof cookie_seen[0], "%.*s", (int)strcspn(c + 10, "\""), c + 10);
}

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    cio_pool_opts_init(&O);
    cio_http_opts_init(&H);
    O.http = &H;
    ledger_opts(&O, &L);
    O.on_done = on_done;
    memset(cookie_seen, 0, sizeof cookie_seen);
}

static void teardown(void)
{
    server_stop_checked(&S);
}

#define TEST_COOKIES(name, ...) Test(cookies, name, .init = setup, .fini = teardown, __VA_ARGS__)

/* One request at a time, in order (cap 1), so each sees what the last one set. */
static void get(cio_pool *p, const char *path, const char *key, uintptr_t index)
{
    cio_http_req r = {.url = server_url(&S, path), .key = key, .user = (void *)index};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK, "%s", path);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
}

TEST_COOKIES(a_login_that_redirects_keeps_its_session, .timeout = 30)
{
    H.cookie_file = "";
    cio_pool *p = test_pool(&O, 1);

    get(p, "/status/302?h=Set-Cookie:sid=abc%3B%20Path=/&h=Location:/echo", NULL, 1);
    get(p, "/echo", NULL, 2);
    cio_pool_free(p);
    cr_assert_eq(L.done, 2);
    cr_assert_str_eq(cookie_seen[1], "sid=abc", "the redirect carried the cookie");
    cr_assert_str_eq(cookie_seen[2], "sid=abc", "and the next request of the key");
}

TEST_COOKIES(without_a_cookie_file_no_cookie_is_kept, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 1);

    get(p, "/status/302?h=Set-Cookie:sid=abc%3B%20Path=/&h=Location:/echo", NULL, 1);
    cio_pool_free(p);
    cr_assert_str_eq(cookie_seen[1], "", "as curl without -b: none sent");
}

TEST_COOKIES(two_keys_on_one_host_never_see_each_others_cookies, .timeout = 30)
{
    H.cookie_file = "";
    cio_pool *p = test_pool(&O, 1);

    get(p, "/status/200?h=Set-Cookie:tok=A%3B%20Path=/", "token-a", 1);
    get(p, "/status/200?h=Set-Cookie:tok=B%3B%20Path=/", "token-b", 2);
    get(p, "/echo", "token-a", 3);
    get(p, "/echo", "token-b", 4);
    get(p, "/echo", "token-c", 5);
    cio_pool_free(p);
    cr_assert_str_eq(cookie_seen[3], "tok=A");
    cr_assert_str_eq(cookie_seen[4], "tok=B");
    cr_assert_str_eq(cookie_seen[5], "", "a key with none has none");
}

TEST_COOKIES(a_cookie_file_is_loaded_for_every_key_and_stores_are_saved, .timeout = 30)
{
    char in[] = "/tmp/cio-cookies-in-XXXXXX", out[64];
    int fd = mkstemp(in);
    FILE *f = fdopen(fd, "w");

    cr_assert_not_null(f);
    fprintf(f, "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tpre\tloaded\n");
    fclose(f);
    snprintf(out, sizeof out, "%s.jar", in);
    H.cookie_file = in;
    cio_pool *p = test_pool(&O, 1);
    get(p, "/echo", "k1", 1);
    get(p, "/status/200?h=Set-Cookie:sid=xyz%3B%20Path=/", "k2", 2);
    get(p, "/echo", "k2", 3);
    int why = -1;
    cr_assert_eq(cio_http_save_cookies(p, out, &why), CIO_OK);
    cr_assert_eq(why, 0);
    cr_assert_eq(cio_http_save_cookies(p, "/proc/nope/jar", &why), CIO_E_FILE);
    cr_assert_neq(why, 0, "errno says why");
    cio_pool_free(p);
    cr_assert_str_eq(cookie_seen[1], "pre=loaded");
    cr_assert(strstr(cookie_seen[3], "pre=loaded") != NULL, "%s", cookie_seen[3]);
    cr_assert(strstr(cookie_seen[3], "sid=xyz") != NULL, "%s", cookie_seen[3]);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "a jar holds secrets: its owner's only");
    FILE *j = fopen(out, "r");
    char line[512];
    int sid = 0, pre = 0;
    cr_assert_not_null(j);
    cr_assert_not_null(fgets(line, sizeof line, j));
    cr_assert_str_eq(line, "# Netscape HTTP Cookie File\n", "curl's format");
    while (fgets(line, sizeof line, j) != NULL) {
        sid += strstr(line, "\tsid\txyz") != NULL;
        pre += strstr(line, "\tpre\tloaded") != NULL;
    }
    fclose(j);
    cr_assert_eq(sid, 1, "k2's cookie, once");
    cr_assert_eq(pre, 3, "the file's own line, then once in each key's section");
    unlink(in);
    unlink(out);
}

/* A pool with cookie_file = in that runs the given requests (path, key, index) and saves
 * its stores to out. */
static void session(const char *in, const char *out, const char *const *reqs)
{
    H.cookie_file = in;
    cio_pool *p = test_pool(&O, 1);
    for (size_t i = 0; reqs[i] != NULL; i += 3)
        get(p, reqs[i], reqs[i + 1], (uintptr_t)(reqs[i + 2][0] - '0'));
    cr_assert_eq(cio_http_save_cookies(p, out, NULL), CIO_OK);
    cio_pool_free(p);
}

TEST_COOKIES(a_saved_jar_gives_each_key_its_own_session_back, .timeout = 30)
{
    char jar[] = "/tmp/cio-cookies-jar-XXXXXX";
    int fd = mkstemp(jar);

    close(fd);
    session("", jar,
            (const char *[]){"/status/200?h=Set-Cookie:tok=A%3B%20Path=/", "alice", "1",
                             "/status/200?h=Set-Cookie:tok=B%3B%20Path=/", "bob", "2", NULL});
    session(jar, jar, (const char *[]){"/echo", "alice", "3", NULL}); /* bob: no request */
    session(jar, jar, (const char *[]){"/echo", "alice", "4", "/echo", "bob", "5", NULL});
    cr_assert_str_eq(cookie_seen[3], "tok=A", "not bob's");
    cr_assert_str_eq(cookie_seen[4], "tok=A");
    cr_assert_str_eq(cookie_seen[5], "tok=B", "kept while bob had no request");
    char *text = NULL;
    size_t cap = 0, lines = 0;
    FILE *f = fopen(jar, "r");
    while (getline(&text, &cap, f) > 0)
        lines += strchr(text, '\t') != NULL;
    free(text);
    fclose(f);
    cr_assert_eq(lines, 2, "the jar does not grow from run to run: %zu cookie lines", lines);
    unlink(jar);
}

TEST_COOKIES(saving_without_cookies_kept_is_refused, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 1);

    cr_assert_eq(cio_http_save_cookies(p, "/tmp/x", NULL), CIO_E_STATE);
    cr_assert_eq(cio_http_save_cookies(NULL, "/tmp/x", NULL), CIO_E_INVAL);
    cio_pool_free(p);
}
