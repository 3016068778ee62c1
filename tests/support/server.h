/* SPDX-License-Identifier: Apache-2.0 */
/* Runs concurio-testserver as a child process on a free loopback port, and reads its
 * statistics over HTTP. */
#ifndef CIO_TEST_SERVER_H
#define CIO_TEST_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server {
    pid_t pid;
    char url[64]; /* "http://127.0.0.1:PORT" */
};

struct server_stats {
    long requests, max_in_flight;
    uint64_t *starts_ms; /* malloc'ed, ms since the server started or was reset */
    size_t nstarts;
    struct {
        char name[64];
        long requests, max_in_flight;
    } hosts[16]; /* by Host header */
    size_t nhosts;
};

int server_start(struct server *s);
/* The same for concurio-faultserver, one misbehaviour per path (see faultserver.c). */
int server_start_faults(struct server *s);
/* Stops it; its exit status (0: clean, LeakSanitizer makes it non-zero on a leak). */
int server_stop(struct server *s);
/* As a .fini: stops it and crashes the test if it did not exit cleanly. */
void server_stop_checked(struct server *s);
/* URL of `path` on the server, in a static buffer (one at a time). */
const char *server_url(const struct server *s, const char *path);
/* GET of `path` with a plain libcurl: the body, malloc'ed, or NULL on failure. */
char *server_get(const struct server *s, const char *path);
int server_stats(const struct server *s, struct server_stats *st);
void server_stats_free(struct server_stats *st);
/* The most requests the server saw at once with that Host header ("localhost:PORT"). */
long server_host_max(const struct server_stats *st, const char *host);

/* A loopback listener whose accept queue is full, so the kernel drops further SYNs: a
 * connection to it never completes (a connect timeout without leaving loopback). */
struct blackhole {
    int listener, fill[2];
    char url[64]; /* "http://127.0.0.1:PORT/" */
};
int blackhole_open(struct blackhole *b);
void blackhole_close(struct blackhole *b);

#endif
