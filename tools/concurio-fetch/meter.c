/* SPDX-License-Identifier: Apache-2.0 */
/* The meter line, drawn from the records' counts. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "meter.h"
#include "say.h"

void fetch_meter_draw(int fd, int line_mode, const cio_progress *pr, const struct fetch_summary *s)
{
    cio_progress p = *pr;
    char buf[512];
    size_t cols = sizeof buf - 16, n = 0;
    struct winsize ws;

    p.done = s->outcomes[FETCH_DONE];
    p.errors = s->outcomes[FETCH_ERROR];
    p.timeouts = s->outcomes[FETCH_TIMEOUT];
    p.ended = p.done + p.errors + p.timeouts;
    if (line_mode && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        (size_t)ws.ws_col - 1 < cols)
        cols = (size_t)ws.ws_col - 1; /* never wrap: a wrapped line cannot be redrawn */
    if (line_mode) {
        buf[n++] = '\r';
    } else {
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm) != NULL)
            n += strftime(buf, sizeof buf, "%H:%M:%S ", &tm);
    }
    int w =
        cio_progress_format(&p, "fetch", line_mode && cols >= 100 ? 20 : 0, buf + n, cols + 1 - n);
    n += w < 0 ? 0 : (size_t)w > cols - n ? cols - n : (size_t)w;
    if (line_mode)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\033[K"); /* erase what was longer */
    if (!line_mode || p.final)
        buf[n++] = '\n';
    fetch_write_all(fd, buf, n); /* best effort: a meter is not worth an error */
}
