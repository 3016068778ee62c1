/* SPDX-License-Identifier: Apache-2.0 */
/* The progress meter: a rate over the last few seconds, the ETA, one formatted line, and
 * the built-in meter that draws it on a descriptor. */
#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"

void cio__meter_reset(struct cio_meter *m, uint64_t now, uint64_t ended_total)
{
    m->head = m->len = 0;
    m->start_ms = now;
    m->base = ended_total;
    m->t[0] = now;
    m->ended[0] = ended_total;
    m->len = 1;
}

void cio__meter_sample(struct cio_meter *m, uint64_t now, uint64_t ended_total, cio_progress *pr)
{
    unsigned at = (m->head + m->len) % CIO_METER_SAMPLES;

    if (m->len == CIO_METER_SAMPLES)
        m->head = (m->head + 1) % CIO_METER_SAMPLES;
    else
        m->len++;
    m->t[at] = now;
    m->ended[at] = ended_total;
    /* The oldest sample within the window (or the oldest there is) anchors the rate. */
    unsigned i = m->head;
    while (i != at && m->t[i] + CIO_METER_WINDOW_MS < now)
        i = (i + 1) % CIO_METER_SAMPLES;
    uint64_t dt = now - m->t[i];
    pr->elapsed_ms = now - m->start_ms;
    pr->ended = ended_total - m->base;
    pr->rate = dt > 0 ? (double)(ended_total - m->ended[i]) * 1000.0 / (double)dt : 0.0;
    if (pr->rate <= 0.0 && pr->elapsed_ms > 0) /* nothing lately: the run's average */
        pr->rate = (double)pr->ended * 1000.0 / (double)pr->elapsed_ms;
    pr->eta_ms = pr->total > pr->ended && pr->rate > 0.0
                     ? (uint64_t)((double)(pr->total - pr->ended) * 1000.0 / pr->rate)
                     : 0;
}

static int clock_text(char *buf, size_t len, uint64_t ms)
{
    uint64_t s = ms / 1000;

    if (s >= 3600)
        return snprintf(buf, len, "%llu:%02u:%02u", (unsigned long long)(s / 3600),
                        (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    return snprintf(buf, len, "%02u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

int cio_progress_format(const cio_progress *pr, const char *desc, unsigned width, char *buf,
                        size_t len)
{
    char elapsed[32], eta[32], bar[256];
    const char *d = desc != NULL ? desc : "";
    const char *sep = d[0] != '\0' ? " " : "";

    clock_text(elapsed, sizeof elapsed, pr->elapsed_ms);
    if (pr->eta_ms > 0 || (pr->total > 0 && pr->ended >= pr->total))
        clock_text(eta, sizeof eta, pr->eta_ms);
    else
        snprintf(eta, sizeof eta, "?");
    if (pr->total == 0)
        return snprintf(buf, len, "%s%s%llu [%s, %.1f/s] done %llu, errors %llu, timeouts %llu", d,
                        sep, (unsigned long long)pr->ended, elapsed, pr->rate,
                        (unsigned long long)pr->done, (unsigned long long)pr->errors,
                        (unsigned long long)pr->timeouts);
    uint64_t ended = pr->ended < pr->total ? pr->ended : pr->total;
    unsigned pct = (unsigned)(ended * 100 / pr->total);
    if (width > sizeof bar - 3)
        width = sizeof bar - 3;
    size_t n = 0;
    if (width > 0) {
        unsigned fill = (unsigned)(ended * width / pr->total);
        bar[n++] = '|';
        for (unsigned i = 0; i < width; i++)
            bar[n++] = i < fill ? '#' : ' ';
        bar[n++] = '|';
        bar[n++] = ' ';
    }
    bar[n] = '\0';
    return snprintf(buf, len,
                    "%s%s%3u%% %s%llu/%llu [%s<%s, %.1f/s] done %llu, errors %llu, timeouts %llu",
                    d, sep, pct, bar, (unsigned long long)pr->ended, (unsigned long long)pr->total,
                    elapsed, eta, pr->rate, (unsigned long long)pr->done,
                    (unsigned long long)pr->errors, (unsigned long long)pr->timeouts);
}

/* ---- the built-in meter: drawing on a descriptor ------------------------------------ */

int cio__meter_line_mode(int fd, unsigned mode)
{
    return mode == CIO_PROGRESS_LINE || (mode == CIO_PROGRESS_AUTO && isatty(fd));
}

void cio__meter_draw(int fd, int line_mode, const cio_progress *pr, const char *desc)
{
    char buf[512];
    size_t cols = sizeof buf - 8;
    struct winsize ws;

    if (line_mode && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        (size_t)ws.ws_col - 1 < cols)
        cols = (size_t)ws.ws_col - 1; /* never wrap: a wrapped line cannot be redrawn */
    size_t n = 0;
    if (line_mode)
        buf[n++] = '\r';
    int w = cio_progress_format(pr, desc, line_mode && cols >= 100 ? 20 : 0, buf + n, cols + 1);
    n += w < 0 ? 0 : (size_t)w > cols ? cols : (size_t)w;
    if (line_mode)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\033[K"); /* erase what was longer */
    if (!line_mode || pr->final)
        buf[n++] = '\n';
    /* A meter is best effort: a failed or short write is not worth an error. */
    while (write(fd, buf, n) < 0 && errno == EINTR)
        ;
}
