/* SPDX-License-Identifier: Apache-2.0 */
/* The meter line, drawn from the records' counts. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "meter.h"
#include "say.h"

/* Bytes a second as "512 B/s", "1.2 MB/s". */
static void human_rate(char *out, size_t len, uint64_t bps)
{
    static const char *const units[] = {"B/s", "kB/s", "MB/s", "GB/s"};
    double v = (double)bps;
    int u = 0;

    while (v >= 1000.0 && u < 3) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

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
    if (!p.final && n < cols) { /* how the run goes: is it the server or a limit? */
        char more[160], rate[32];
        human_rate(rate, sizeof rate, p.elapsed_ms > 0 ? s->bytes * 1000 / p.elapsed_ms : 0);
        /* "%.0llu" of 0 is nothing: "retrying N" only when some are */
        int m = snprintf(more, sizeof more, "; in flight %llu, queued %llu%s%.0llu, %s%s",
                         (unsigned long long)p.in_flight, (unsigned long long)p.queued,
                         p.retrying > 0 ? ", retrying " : "", (unsigned long long)p.retrying, rate,
                         (p.held & CIO_HELD_RATE)  ? ", held by the rate (-r)"
                         : (p.held & CIO_HELD_KEY) ? ", held by a host's rate or an adaptive cut"
                                                   : "");
        size_t fit = m < 0 ? 0 : (size_t)m < cols - n ? (size_t)m : cols - n;
        memcpy(buf + n, more, fit);
        n += fit;
    }
    if (line_mode)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\033[K"); /* erase what was longer */
    if (!line_mode || p.final)
        buf[n++] = '\n';
    fetch_write_all(fd, buf, n); /* best effort: a meter is not worth an error */
}
