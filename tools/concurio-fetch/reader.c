/* SPDX-License-Identifier: Apache-2.0 */
/* Reading input lines with one fixed buffer. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"

void fetch_reader_init(struct fetch_reader *r, int fd)
{
    struct stat st;

    memset(r, 0, offsetof(struct fetch_reader, buf));
    r->fd = fd;
    r->may_wait = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
}

/* 1 when a read of r->fd would not wait: a regular file, or one that poll says has data
 * (or an end, or an error, which the read then reports). */
static int readable(const struct fetch_reader *r)
{
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    int n;

    if (!r->may_wait)
        return 1;
    do
        n = poll(&pfd, 1, 0);
    while (n < 0 && errno == EINTR);
    return n != 0;
}

/* Reads more after what is unread, moving it to the front first: 1 when it read some, 0
 * when there is no room or the input has ended, -1 on an error, FETCH_READ_WAIT when
 * nothing is there to read now. */
static int fill(struct fetch_reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == sizeof r->buf || r->eof)
        return 0;
    if (!readable(r))
        return FETCH_READ_WAIT;
    ssize_t n;
    do
        n = read(r->fd, r->buf + r->end, sizeof r->buf - r->end);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return FETCH_READ_WAIT; /* someone else's O_NONBLOCK, or the data went elsewhere */
    if (n < 0)
        return -1;
    if (n == 0)
        r->eof = 1;
    r->end += (size_t)n;
    return n > 0;
}

int fetch_reader_next(struct fetch_reader *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (!r->bom_checked && (r->end - r->start >= 3 || r->eof || nl != NULL)) {
            r->bom_checked = 1; /* a UTF-8 byte-order mark at the very start is skipped */
            if (r->end - r->start >= 3 && memcmp(r->buf + r->start, "\xEF\xBB\xBF", 3) == 0) {
                r->start += 3;
                continue;
            }
        }
        if (r->skipping) { /* the rest of an overlong line */
            if (nl == NULL) {
                r->start = r->end;
            } else {
                r->start = (size_t)(nl - r->buf) + 1;
                r->skipping = 0;
                continue;
            }
        } else if (nl != NULL) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start = (size_t)(nl - r->buf) + 1;
            r->line++;
            return FETCH_READ_LINE;
        } else if (r->end - r->start > FETCH_MAX_LINE) {
            *line = r->buf + r->start; /* cut: it becomes an error record */
            *len = FETCH_MAX_LINE + 1;
            r->start = r->end;
            r->skipping = 1;
            r->line++;
            return FETCH_READ_LINE;
        } else if (r->eof && r->end > r->start) { /* the last line, without "\n" */
            *line = r->buf + r->start;
            *len = r->end - r->start;
            r->start = r->end;
            r->line++;
            return FETCH_READ_LINE;
        }
        int got = fill(r);
        if (got < 0 || got == FETCH_READ_WAIT)
            return got;
        if (got == 0 && r->eof && r->start == r->end)
            return FETCH_READ_END;
    }
}
