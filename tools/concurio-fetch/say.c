/* SPDX-License-Identifier: Apache-2.0 */
/* Messages and whole writes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "say.h"

void fetch_say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n = snprintf(buf, sizeof buf, "concurio-fetch: ");

    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0                                     ? 0
                              : (size_t)m >= sizeof buf - (size_t)n - 1 ? sizeof buf - (size_t)n - 2
                                                                        : (size_t)m);
    buf[len] = '\0';
    /* Hidden before it goes out, whatever the message: a URL may be in any of them. */
    char *clean = strstr(buf, "://") != NULL && strchr(buf, '@') != NULL ? fetch_redact(buf) : NULL;
    const char *text = clean != NULL ? clean : buf;
    size_t tlen = strlen(text);
    char *line = malloc(tlen + 1);
    if (line != NULL) {
        memcpy(line, text, tlen);
        line[tlen] = '\n';
        fetch_write_all(2, line, tlen + 1);
    } else {
        fetch_write_all(2, text, tlen);
        fetch_write_all(2, "\n", 1);
    }
    free(line);
    free(clean);
}

int fetch_write_counted(int fd, const char *buf, size_t len, size_t *done)
{
    *done = 0;
    while (*done < len) {
        ssize_t n = write(fd, buf + *done, len - *done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        *done += (size_t)n;
    }
    return 0;
}

int fetch_write_all(int fd, const char *buf, size_t len)
{
    size_t done;

    return fetch_write_counted(fd, buf, len, &done);
}
