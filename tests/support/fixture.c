/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the suites. */
#include "fixture.h"

#include <dirent.h>
#include <stdlib.h>

#include <criterion/criterion.h>

cio_pool *test_pool(cio_pool_opts *o, unsigned cap)
{
    const char *threads = getenv("CIO_TEST_IO_THREADS");
    const cio_http_opts *given = o->http;
    cio_http_opts h;

    o->max_concurrency = cap;
    if (threads != NULL && (given == NULL || given->io_threads == 0)) {
        if (given != NULL)
            h = *given;
        else
            cio_http_opts_init(&h);
        h.io_threads = (unsigned)atoi(threads);
        o->http = &h;
    }
    cio_pool *p = cio_pool_new(o, NULL);
    o->http = given; /* h goes with this frame; the pool has its copy */
    cr_assert_not_null(p);
    return p;
}

cio_task_id test_get(cio_pool *p, const struct server *s, const char *path, unsigned timeout_ms)
{
    cio_http_req r = {.url = server_url(s, path), .timeout_ms = timeout_ms};
    cio_task_id id = 0;

    cr_assert_eq(cio_submit_http(p, &r, &id), CIO_OK, "submit %s", path);
    return id;
}

int test_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    while (d != NULL && readdir(d) != NULL)
        n++;
    if (d != NULL)
        closedir(d);
    return n;
}
