/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's messages on stderr, its exit statuses, and whole writes: the one
 * module every other file of the tool may use. */
#ifndef CIO_FETCH_SAY_H
#define CIO_FETCH_SAY_H

#include <stddef.h>

/* Exit statuses (the manual page's EXIT STATUS). */
enum {
    FETCH_EXIT_DONE = 0,         /* every item done */
    FETCH_EXIT_FAILED = 1,       /* some item ended in error or timeout, or input unread */
    FETCH_EXIT_USAGE = 2,        /* a usage error, or the input could not be read */
    FETCH_EXIT_UNAVAILABLE = 69, /* Redis could not be reached (queue mode) */
    FETCH_EXIT_OUTPUT = 74,      /* records could not be written */
    FETCH_EXIT_INTR = 130        /* stopped by SIGINT or SIGTERM */
};

/* A message on stderr, prefixed "concurio-fetch: " and ended with a newline; any
 * URL's userinfo in it is hidden. */
void fetch_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all of buf to fd; 0 or an errno. */
int fetch_write_all(int fd, const char *buf, size_t len);
/* The same, saying in *done how much went out (all of it, or what did before the error). */
int fetch_write_counted(int fd, const char *buf, size_t len, size_t *done);

#endif
