/* SPDX-License-Identifier: Apache-2.0 */
/* The record writer (writer.h). Records go out in one write() per loop turn: the flush
 * event has the lowest priority, so it runs after every completion of the turn. A busy
 * turn with hundreds of endings costs one system call; an idle one still writes each
 * record as it ends. */
#define _POSIX_C_SOURCE 200809L
#include "writer.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "app.h"

#define FLUSH_AT (64u << 10) /* write records out at the latest when this much is waiting */

/* Writes whole records: when the disk fills mid-batch, the torn end of a regular file is
 * cut back to its last whole line. 0 or an errno. */
static int write_records(int fd, const char *buf, size_t len)
{
    size_t done, whole;
    struct stat st;
    int err = fetch_write_counted(fd, buf, len, &done);

    if (err == 0)
        return 0;
    for (whole = done; whole > 0 && buf[whole - 1] != '\n'; whole--)
        ;
    if (done > whole && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        (void)!ftruncate(fd, st.st_size - (off_t)(done - whole));
    return err;
}

/* Records would be lost: stop everything; what ends now is not written. */
static void failed(struct app *a, int err)
{
    a->out_errno = err;
    if (a->pool != NULL)
        cio_pool_cancel(a->pool);
}

static void flush(struct fetch_sink *k)
{
    struct fetch_writer *w = (struct fetch_writer *)k;
    struct app *a = w->a;

    if (a->out.len > 0 && a->out_errno == 0) {
        if (a->out_tty && a->meter_tty)
            fetch_write_all(2, "\r\033[K", 4); /* records and the meter share the terminal */
        int rc = write_records(a->out_fd, a->out.p, a->out.len);
        if (rc != 0)
            failed(a, rc);
    }
    a->out.len = 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg);
}

/* Out at once when much waits, else at the end of the turn. */
static void added(struct fetch_writer *w)
{
    if (w->a->out.len >= FLUSH_AT || w->flusher == NULL)
        flush(&w->sink);
    else if (!event_pending(w->flusher, EV_TIMEOUT, NULL))
        event_active(w->flusher, EV_TIMEOUT, 0);
}

/* After a record was appended to buf (a->out, or w->json to be formatted; rc: the
 * append's): formats it when --fields or --format say so, then gets it written. */
static int appended(struct fetch_writer *w, struct fetch_buf *buf, int rc)
{
    struct app *a = w->a;

    if (rc == 0 && buf == &w->json)
        rc = fetch_format_record(&a->o.format, w->json.p, w->json.len, &a->out);
    if (rc != 0) {
        failed(a, ENOMEM);
        return ENOMEM;
    }
    added(w);
    return 0;
}

/* Where a record goes first: the output, or w->json (emptied) to be formatted. */
static struct fetch_buf *target(struct fetch_writer *w)
{
    w->json.len = 0;
    return fetch_format_plain(&w->a->o.format) ? &w->a->out : &w->json;
}

static int put(struct fetch_sink *k, struct fetch_record *r)
{
    struct fetch_writer *w = (struct fetch_writer *)k;

    if (w->a->out_errno != 0)
        return 0; /* said once, when it failed */
    struct fetch_buf *to = target(w);
    return appended(w, to, fetch_record_append(to, r, w->a->o.body));
}

int fetch_writer_add(struct fetch_writer *w, const char *json, size_t len)
{
    if (w->a->out_errno != 0)
        return 0;
    struct fetch_buf *to = target(w);
    return appended(w, to, fetch_buf_add(to, json, len) || fetch_buf_add(to, "\n", 1));
}

static int start(struct fetch_sink *k, struct event_base *base)
{
    struct fetch_writer *w = (struct fetch_writer *)k;

    /* Three priorities: the pool's events get the middle one (libevent's default), the
     * record flush the last. */
    if ((w->flusher = event_new(base, -1, 0, on_flush, w)) == NULL ||
        event_priority_set(w->flusher, 2) != 0)
        return -1;
    return fetch_format_header(&w->a->o.format, &w->a->out); /* CSV's and TSV's */
}

static int drained(struct fetch_sink *k)
{
    (void)k;
    return 1;
}

static void stop(struct fetch_sink *k)
{
    struct fetch_writer *w = (struct fetch_writer *)k;

    flush(k);
    if (w->flusher != NULL)
        event_free(w->flusher);
    w->flusher = NULL;
    fetch_buf_free(&w->json);
}

void fetch_writer_init(struct fetch_writer *w, struct app *a)
{
    w->sink = (struct fetch_sink){
        .start = start, .put = put, .flush = flush, .drained = drained, .stop = stop};
    w->a = a;
    w->flusher = NULL;
    w->json = (struct fetch_buf){0};
}
