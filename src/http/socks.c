/* SPDX-License-Identifier: Apache-2.0 */
/* A lane's connection sockets, kept watched between transfers (socks.h says why). */
#include <string.h>

#include "mem.h"
#include "socks.h"

void cio__socks_opened(struct cio_socks *t, curl_socket_t s)
{
    if (s < 0)
        return;
    if ((size_t)s >= t->n) {
        size_t n = t->n < 64 ? 64 : t->n;
        while (n <= (size_t)s)
            n *= 2;
        struct cio_sock *v = cio__realloc(t->v, n * sizeof *v);
        if (v == NULL)
            return;
        memset(v + t->n, 0, (n - t->n) * sizeof *v);
        t->v = v;
        t->n = n;
    }
    /* A watch still here belongs to an earlier socket closed behind our back: libevent
     * would take the new one for watched already. */
    if (t->v[s].ev != NULL)
        event_free(t->v[s].ev);
    t->v[s].ev = NULL;
    t->v[s].ours = 1;
    t->v[s].parked = 0;
}

struct cio_sock *cio__socks_get(struct cio_socks *t, curl_socket_t s)
{
    return s >= 0 && (size_t)s < t->n && t->v[s].ours ? &t->v[s] : NULL;
}

int cio__socks_watch_event(struct event **ev, struct event_base *base, curl_socket_t s, short kind,
                           event_callback_fn cb, void *arg)
{
    if (*ev == NULL) {
        if ((*ev = event_new(base, s, kind, cb, arg)) == NULL)
            return -1;
    } else if (event_get_events(*ev) == kind && event_pending(*ev, EV_READ | EV_WRITE, NULL)) {
        return 0; /* libcurl repeats itself, or a connection's next transfer: no two
                     system calls for nothing */
    } else {
        event_del(*ev);
        event_assign(*ev, base, s, kind, cb, arg);
    }
    return event_add(*ev, NULL);
}

int cio__socks_watch(struct cio_sock *k, struct event_base *base, curl_socket_t s, short kind,
                     event_callback_fn cb, void *arg)
{
    k->parked = 0;
    return cio__socks_watch_event(&k->ev, base, s, kind, cb, arg);
}

/* k's socket is not ours any more: its event goes. */
static void forget(struct cio_sock *k)
{
    if (k->ev != NULL)
        event_free(k->ev); /* before any close: epoll still knows the descriptor */
    memset(k, 0, sizeof *k);
}

int cio__socks_park(struct cio_socks *t, struct cio_sock *k)
{
    if (k->ev != NULL && event_get_events(k->ev) == (EV_READ | EV_PERSIST)) {
        k->parked = 1;
        t->parked++;
        return 1;
    }
    /* Not an idle connection. Watched for writing, it is a socket still connecting,
     * which libcurl 7.88 may already have closed without our close callback (a happy
     * eyeballs loser, a connect given up: cf-socket.c closes an inactive socket itself).
     * Writable is also what an idle socket always is: that watch would fire for ever.
     * Either way it is forgotten, and watched the plain way if libcurl asks again. */
    forget(k);
    return 0;
}

int cio__socks_fired(struct cio_sock *k)
{
    if (!k->parked)
        return 0;
    event_del(k->ev);
    return 1;
}

void cio__socks_unwatch_parked(struct cio_socks *t)
{
    for (size_t i = 0; t->parked > 0 && i < t->n; i++)
        if (t->v[i].parked && t->v[i].ev != NULL)
            event_del(t->v[i].ev); /* nothing when not added */
    t->parked = 0;
}

void cio__socks_closed(struct cio_socks *t, curl_socket_t s)
{
    struct cio_sock *k = cio__socks_get(t, s);

    if (k != NULL)
        forget(k);
}

void cio__socks_free(struct cio_socks *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].ev != NULL)
            event_free(t->v[i].ev);
    cio__free(t->v);
    t->v = NULL;
    t->n = 0;
}
