/* SPDX-License-Identifier: Apache-2.0 */
/* Input lines from a file descriptor in bounded memory: whatever the input's length,
 * at most one buffer is held; a line longer than the limit is handed over cut (so it
 * becomes an error record) and the rest of it skipped. */
#ifndef CIO_FETCH_READER_H
#define CIO_FETCH_READER_H

#include <stddef.h>
#include <stdint.h>

#include "urllist.h"

#define FETCH_READ_BUF (FETCH_MAX_LINE + 2)

struct fetch_reader {
    int fd;
    uint64_t line;     /* number of the line last returned, 1-based */
    size_t start, end; /* unread bytes are buf[start..end) */
    int eof, skipping, bom_checked;
    char buf[FETCH_READ_BUF];
};

void fetch_reader_init(struct fetch_reader *r, int fd);
/* The next line (without its "\n"; it may hold NULs) in *line and *len, valid until the
 * next call. A line longer than FETCH_MAX_LINE comes cut to FETCH_MAX_LINE + 1 bytes.
 * Returns 1 for a line, 0 at the end of the input, -1 on a read error (errno). */
int fetch_reader_next(struct fetch_reader *r, const char **line, size_t *len);

#endif
