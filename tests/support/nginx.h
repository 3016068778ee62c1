/* SPDX-License-Identifier: Apache-2.0 */
/* nginx on loopback with TLS and HTTP/2, with a self-signed certificate made for the
 * test by openssl: both Debian packages, run as child processes. It also listens in
 * clear text, and both servers have nginx's own limiter as the judge of a rate:
 * /limit2, /limit10, /limit20 allow 2, 10, 20 requests a second (limit_req with no
 * burst: each must come 1/rate after the one before), else 429. Every request is
 * logged with its time ("$msec $status $uri" a line). */
#ifndef CIO_TEST_NGINX_H
#define CIO_TEST_NGINX_H

#include <sys/types.h>

struct nginx {
    pid_t pid;
    char dir[64];      /* its files: config, certificate, key, logs */
    char url[64];      /* "https://127.0.0.1:PORT" */
    char http_url[64]; /* "http://127.0.0.1:PORT2" */
    char ca[128];      /* the certificate, to verify it with */
    char log[128];     /* the access log */
};

/* The times (ms, as nginx logged them) and statuses of the logged requests whose URI
 * starts with prefix, in log order, at most max. Returns how many. */
size_t nginx_arrivals(const struct nginx *n, const char *prefix, double *ms, int *status,
                      size_t max);

/* 0 when it serves; 1 when nginx or openssl is not installed; -1 on failure. */
int nginx_start(struct nginx *n);
void nginx_stop(struct nginx *n);

#endif
