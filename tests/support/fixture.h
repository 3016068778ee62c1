/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every suite uses: a pool made from the suite's options, and a GET to
 * the test server. Both fail the test on error. */
#ifndef CIO_TEST_FIXTURE_H
#define CIO_TEST_FIXTURE_H

#include <concurio/concurio.h>

#include "server.h"

/* A pool from *o with max_concurrency = cap (o keeps the cap). The environment's
 * CIO_TEST_IO_THREADS, when set, gives its io_threads: the suites run again with
 * transfers on threads. */
cio_pool *test_pool(cio_pool_opts *o, unsigned cap);
/* Submits GET of `path` on the server; returns its id. */
cio_task_id test_get(cio_pool *p, const struct server *s, const char *path, unsigned timeout_ms);

/* Descriptors open in this process now (entries of /proc/self/fd). */
int test_open_fds(void);

#endif
