/* SPDX-License-Identifier: Apache-2.0 */
/* Bodies written to files (cio_http_req.body_file) against the real test server: what a
 * file holds after a response, an empty one, a redirect, a cut transfer, a path that
 * cannot be written, and many at once on the transfer threads. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
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
static char dir[] = "/tmp/cio-bodyfile-XXXXXX";

#define MAX_SEEN 64
static struct seen {
    int status, curl_code;
    unsigned attempts;
    long http_status;
    size_t body_len;
    uint64_t bytes;
    char message[256];
} seen[MAX_SEEN + 1]; /* by the request's user index */

static void keep(const cio_result *r)
{
    struct seen *s = &seen[(size_t)(uintptr_t)r->task_user];

    s->status = r->status;
    s->curl_code = r->curl_code;
    s->attempts = r->attempts;
    s->http_status = r->http_status;
    s->body_len = r->body_len;
    s->bytes = r->bytes;
    snprintf(s->message, sizeof s->message, "%s", r->message != NULL ? r->message : "");
}

static void on_done(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->done++;
    keep(r);
}

static void on_error(cio_pool *p, const cio_result *r, void *user)
{
    (void)p;
    ((struct ledger *)user)->errors++;
    keep(r);
}

static void setup(void)
{
    cr_assert_eq(server_start(&S), 0, "the test server starts");
    cr_assert_not_null(mkdtemp(dir));
    cio_pool_opts_init(&O);
    cio_http_opts_init(&H);
    O.http = &H;
    ledger_opts(&O, &L);
    O.on_done = on_done;
    O.on_error = on_error;
    memset(seen, 0, sizeof seen);
}

static void teardown(void)
{
    char cmd[64];

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
    server_stop_checked(&S);
}

#define TEST_FILE(name, ...) Test(bodyfile, name, .init = setup, .fini = teardown, __VA_ARGS__)

static const char *path_of(const char *name)
{
    static char buf[8][256];
    static unsigned next;
    char *p = buf[next++ % 8];

    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static void get_to(cio_pool *p, const char *url_path, const char *file, uintptr_t index)
{
    cio_http_req r = {.size = sizeof r, /* body_file is newer than 0.2.0 */
                      .url = server_url(&S, url_path),
                      .body_file = file,
                      .user = (void *)index};
    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_OK, "%s", url_path);
}

/* The file's size, or -1 when there is none. */
static long long size_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

TEST_FILE(a_body_goes_to_its_file_and_not_to_memory, .timeout = 30)
{
    H.max_body = 1000; /* not for files: a 3 MB body is written whole */
    cio_pool *p = test_pool(&O, 4);

    get_to(p, "/bytes/3000000", path_of("big"), 1);
    get_to(p, "/ok", path_of("ok"), 2);
    get_to(p, "/status/204", path_of("empty"), 3);
    get_to(p, "/status/404", path_of("missing"), 4);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 4);
    cr_assert_eq(size_of(path_of("big")), 3000000);
    cr_assert_eq(seen[1].bytes, 3000000);
    cr_assert_eq(seen[1].body_len, 0, "nothing kept in memory");
    FILE *f = fopen(path_of("ok"), "r");
    char text[16] = "";
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(text, sizeof text, f));
    fclose(f);
    cr_assert_str_eq(text, "ok");
    cr_assert_eq(size_of(path_of("empty")), 0, "a response without a body leaves an empty file");
    cr_assert_eq(seen[3].http_status, 204);
    cr_assert_eq(seen[4].http_status, 404);
    cr_assert_gt(size_of(path_of("missing")), 0, "an error status's body is written too");
}

TEST_FILE(a_redirects_body_is_not_written, .timeout = 30)
{
    char to[256];
    cio_pool *p = test_pool(&O, 1);

    snprintf(to, sizeof to, "/redirect?to=%s", server_url(&S, "/bytes/10"));
    get_to(p, to, path_of("r"), 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(seen[1].http_status, 200);
    cr_assert_eq(size_of(path_of("r")), 10);
}

TEST_FILE(a_path_that_cannot_be_written_ends_the_item_with_cio_e_file, .timeout = 30)
{
    cio_retry retry = {.max_attempts = 3}; /* not retried: the disk will not get better */
    O.retry = retry;
    cio_pool *p = test_pool(&O, 2);

    get_to(p, "/ok", path_of("no/such/dir"), 1);
    get_to(p, "/ok", path_of("ok"), 2);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(seen[1].status, CIO_E_FILE);
    cr_assert_eq(seen[1].curl_code, 23, "CURLE_WRITE_ERROR");
    cr_assert_eq(seen[1].attempts, 1, "not retried");
    cr_assert(strstr(seen[1].message, "no/such/dir") != NULL, "%s", seen[1].message);
    cr_assert(strstr(seen[1].message, strerror(ENOENT)) != NULL, "%s", seen[1].message);
    cr_assert_eq(size_of(path_of("ok")), 2);
    cr_assert_str_eq(cio_err_name(CIO_E_FILE), "CIO_E_FILE");
}

TEST_FILE(a_full_disk_is_cio_e_file, .timeout = 30)
{
    if (access("/dev/full", W_OK) != 0)
        cr_skip_test("no /dev/full");
    cio_pool *p = test_pool(&O, 1);

    get_to(p, "/bytes/100000", "/dev/full", 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(seen[1].status, CIO_E_FILE);
    cr_assert(strstr(seen[1].message, strerror(ENOSPC)) != NULL, "%s", seen[1].message);
}

TEST_FILE(a_cut_transfer_leaves_what_it_wrote_for_the_caller, .timeout = 30)
{
    cio_pool *p = test_pool(&O, 1);

    get_to(p, "/drop", path_of("cut"), 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.errors, 1);
    cr_assert_eq(seen[1].status, CIO_E_TRANSPORT);
    cr_assert_geq(size_of(path_of("cut")), 0, "the file is there, the caller decides");
}

TEST_FILE(a_retried_item_writes_its_last_attempt_only, .timeout = 30)
{
    cio_retry retry = {.max_attempts = 3, .base_ms = 10};
    O.retry = retry;
    cio_pool *p = test_pool(&O, 1);

    get_to(p, "/flaky/bf/2?status=500", path_of("flaky"), 1);
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, 1);
    cr_assert_eq(seen[1].http_status, 200);
    cr_assert_eq(seen[1].attempts, 3);
    cr_assert_eq(size_of(path_of("flaky")), 2, "\"ok\", not the 500s' bodies before it");
}

TEST_FILE(an_empty_path_is_refused_at_submit, .timeout = 10)
{
    cio_pool *p = test_pool(&O, 1);
    cio_http_req r = {.size = sizeof r, .url = server_url(&S, "/ok"), .body_file = ""};

    cr_assert_eq(cio_submit_http(p, &r, NULL), CIO_E_INVAL);
    cio_pool_free(p);
}

TEST_FILE(many_files_at_once_each_get_their_own_body, .timeout = 60)
{
    H.io_threads = 2;
    cio_pool *p = test_pool(&O, 16);
    char name[32], url[32];

    for (uintptr_t i = 1; i <= MAX_SEEN; i++) {
        snprintf(name, sizeof name, "f%u", (unsigned)i);
        snprintf(url, sizeof url, "/bytes/%u", (unsigned)(i * 1000));
        get_to(p, url, path_of(name), i);
    }
    cr_assert_eq(cio_pool_run(p, CIO_RUN_DEFAULT), CIO_OK);
    cio_pool_free(p);
    cr_assert_eq(L.done, MAX_SEEN);
    for (unsigned i = 1; i <= MAX_SEEN; i++) {
        snprintf(name, sizeof name, "f%u", i);
        cr_assert_eq(size_of(path_of(name)), (long long)i * 1000, "%s", name);
    }
}
