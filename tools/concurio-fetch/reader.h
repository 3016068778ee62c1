/* SPDX-License-Identifier: Apache-2.0 */
/* Input lines from a file descriptor in bounded memory: whatever the input's length,
 * at most one buffer is held; a line longer than the limit is handed over cut (so it
 * becomes an error record) and the rest of it skipped. A pipe, a terminal or a socket
 * is never read unless it has data, so the caller's loop never blocks on a slow
 * producer: the reader says FETCH_READ_WAIT and the caller watches the descriptor. */
#ifndef CIO_FETCH_READER_H
#define CIO_FETCH_READER_H

#include <stddef.h>
#include <stdint.h>

#include "urllist.h"

#define FETCH_READ_BUF (FETCH_MAX_LINE + 2)

enum { FETCH_READ_ERROR = -1, FETCH_READ_END = 0, FETCH_READ_LINE = 1, FETCH_READ_WAIT = 2 };

struct fetch_reader {
    int fd;
    int may_wait;      /* not a regular file: read only what is there */
    uint64_t line;     /* number of the line last returned, 1-based */
    size_t start, end; /* unread bytes are buf[start..end) */
    int eof, skipping, bom_checked;
    char buf[FETCH_READ_BUF];
};

/* Reads fd; a descriptor that is not a regular file is polled before each read. */
void fetch_reader_init(struct fetch_reader *r, int fd);
/* The next line (without its "\n"; it may hold NULs) in *line and *len, valid until the
 * next call. A line longer than FETCH_MAX_LINE comes cut to FETCH_MAX_LINE + 1 bytes.
 * Returns FETCH_READ_LINE, FETCH_READ_END at the end of the input, FETCH_READ_ERROR on
 * a read error (errno), or FETCH_READ_WAIT when no whole line is there yet and the
 * descriptor has nothing to read now (call again once it is readable). */
int fetch_reader_next(struct fetch_reader *r, const char **line, size_t *len);

#endif
