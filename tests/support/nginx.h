/* SPDX-License-Identifier: Apache-2.0 */
/* nginx on loopback with TLS and HTTP/2, with a self-signed certificate made for the
 * test by openssl: both Debian packages, run as child processes. */
#ifndef CIO_TEST_NGINX_H
#define CIO_TEST_NGINX_H

#include <sys/types.h>

struct nginx {
    pid_t pid;
    char dir[64]; /* its files: config, certificate, key, logs */
    char url[64]; /* "https://127.0.0.1:PORT" */
    char ca[128]; /* the certificate, to verify it with */
};

/* 0 when it serves; 1 when nginx or openssl is not installed; -1 on failure. */
int nginx_start(struct nginx *n);
void nginx_stop(struct nginx *n);

#endif
