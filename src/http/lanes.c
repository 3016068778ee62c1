/* SPDX-License-Identifier: Apache-2.0 */
/* Lanes: curl multi handles on libevent (curl's socket API, no polling), on the pool's
 * loop or on threads of their own. A transfer crosses between the loop thread and a lane
 * through locked lists with one pipe wake-up per batch; its state says where it is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core.h"
#include "lanes.h"
#include "mem.h"
#include "socks.h"

enum xfer_state {
    XS_IDLE,    /* the loop thread's */
    XS_INBOX,   /* waiting for its lane to start it */
    XS_RUNNING, /* the lane's (in its multi, or about to be) */
    XS_CANCEL,  /* running, and in the inbox: the loop wants it back */
    XS_OUTBOX,  /* ended, waiting for the loop thread */
    XS_BACK     /* stopped on request, in the outbox */
};

struct cio_lane {
    struct cio_lanes *ls;
    CURLM *multi;
    struct event_base *base; /* the pool's, or the lane thread's own */
    struct event *timer;
    long cap, lent; /* loop thread: its share of the transfers; lent to it now */
    /* a lane with a thread */
    pthread_t tid;
    int has_thread;
    int woken;             /* under ls->mu: a byte is on its way through the pipe */
    int quit;              /* under ls->mu */
    struct cio_node inbox; /* under ls->mu, by box */
    int pipe[2];
    struct event *wake;
    struct event *flush;     /* the lane's thread: rings the loop thread, once a turn */
    struct cio_node running; /* lane thread only, by run */
    struct cio_node doomed;  /* the lane's thread: transfers to end for want of memory */
    int recover;             /* the lane's thread: libcurl ran out of memory mid-action */
    struct cio_socks socks;  /* the lane's thread: its connections' sockets */
};

struct cio_lanes {
    cio_lanes_hooks h;
    struct event_base *base; /* the loop thread's */
    struct cio_node sentbox; /* under mu: requests gone out, from every lane, by sent */
    unsigned n;              /* lanes */
    unsigned threads;        /* 0: the one lane is on the pool's loop */
    struct cio_lane *lane;
    pthread_mutex_t mu;
    struct cio_node outbox; /* under mu, from every lane, by box */
    int out_woken;          /* under mu */
    int pipe[2];
    struct event *wake; /* added only while transfers are out: a caller's loop that runs
                           nothing else ends */
    long lent;          /* transfers out, in all lanes */
};

/* ---- lists ------------------------------------------------------------------------ */

#define XFER(n, field) cio_list_entry(n, struct cio_xfer, field)

/* The first transfer of a list by its node `box`, taken off; NULL when empty. */
static struct cio_xfer *box_pop(struct cio_node *l)
{
    struct cio_node *n = cio_list_pop(l);

    return n != NULL ? XFER(n, box) : NULL;
}

/* A wake-up that does not arrive stops the lanes for good (the flag that says one is on
 * its way stays set), so a failed write is tried again: a pipe write fails only when
 * interrupted, but an injected fault (libfiu's posix/io) showed the hang. A full pipe
 * already holds a wake-up: EAGAIN is fine. */
static void ring(int fd)
{
    char one = 1;

    for (int i = 0; i < 1000 && write(fd, &one, 1) < 0 && errno != EAGAIN; i++)
        ;
}

/* The loop thread hears of what a lane's thread handed back once a turn of the lane's
 * loop, after every event of that turn: a byte for each ended transfer would cost a
 * write, a read and a wake-up of the loop thread each. */
static void tell_loop(struct cio_lane *ln)
{
    event_active(ln->flush, EV_TIMEOUT, 1);
}

static void ev_flush(evutil_socket_t fd, short what, void *arg)
{
    struct cio_lane *ln = arg;

    (void)fd;
    (void)what;
    ring(ln->ls->pipe[1]);
}

static void drain_pipe(int fd)
{
    char buf[64];

    while (read(fd, buf, sizeof buf) > 0)
        ;
}

/* The loop thread's count of what a lane has. -1: the outbox could not be watched (no
 * memory), so nothing may be lent. */
static int lend(struct cio_lanes *ls, struct cio_lane *ln, struct cio_xfer *x)
{
    if (ls->wake != NULL && ls->lent == 0 && event_add(ls->wake, NULL) != 0)
        return -1;
    x->lane = ln;
    ln->lent++;
    ls->lent++;
    return 0;
}

static void returned(struct cio_lanes *ls, struct cio_xfer *x)
{
    struct cio_lane *ln = x->lane;

    ln->lent--;
    x->lane = NULL;
    if (!ln->has_thread && ln->lent == 0) /* the caller's loop: may end now */
        cio__socks_unwatch_parked(&ln->socks);
    if (ls->wake != NULL && --ls->lent == 0)
        event_del(ls->wake);
}

/* ---- curl on libevent ----------------------------------------------------------- */

static void ev_socket(evutil_socket_t fd, short what, void *arg);

/* A socket of x could not be watched (no memory for its event): x is ended with
 * CURLE_OUT_OF_MEMORY by the next drive, which the timer brings at once. libcurl takes
 * -1 from the callback as a reason to stop every transfer of the multi without a word,
 * so the callback says 0. */
static int cannot_watch(struct cio_lane *ln, CURL *easy)
{
    struct cio_xfer *x = NULL;
    struct timeval now = {0, 0};

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if (x != NULL && !cio_list_linked(&x->doom))
        cio_list_push_back(&ln->doomed, &x->doom);
    evtimer_add(ln->timer, &now);
    return 0;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
    struct cio_lane *ln = arg;
    struct cio_sock *k = cio__socks_get(&ln->socks, s);
    struct event *ev = sockp;

    if (what == CURL_POLL_REMOVE) {
        if (k != NULL && cio__socks_park(&ln->socks, k))
            return 0;
        if (ev != NULL)
            event_free(ev);
        curl_multi_assign(ln->multi, s, NULL);
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (k != NULL)
        return cio__socks_watch(k, ln->base, s, kind, ev_socket, ln) == 0 ? 0
                                                                          : cannot_watch(ln, easy);
    int rc = cio__socks_watch_event(&ev, ln->base, s, kind, ev_socket, ln);
    if (ev != NULL && sockp == NULL)
        curl_multi_assign(ln->multi, s, ev);
    return rc == 0 ? 0 : cannot_watch(ln, easy);
}

/* libcurl closes a connection's socket: its event goes first (socks.h). */
static int on_close(void *arg, curl_socket_t s)
{
    struct cio_lane *ln = arg;

    cio__socks_closed(&ln->socks, s);
    return close(s);
}

static int on_timer(CURLM *multi, long ms, void *arg)
{
    struct cio_lane *ln = arg;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    (void)multi;
    if (ms < 0)
        return evtimer_del(ln->timer) == 0 ? 0 : -1;
    if (evtimer_add(ln->timer, &tv) != 0)
        event_active(ln->timer, EV_TIMEOUT, 1); /* no memory to wait: a drive now, early
                                                    but harmless, never a stalled multi */
    return 0;
}

/* libcurl is about to send x's request (a connection is there, TLS done). On a lane of
 * its own the loop thread hears of it through the sentbox; on the pool's loop at once,
 * which only updates counters (no user callback runs inside libcurl's). */
static int on_prereq(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    struct cio_xfer *x = arg;
    struct cio_lane *ln = x->lane;
    struct cio_lanes *ls = ln != NULL ? ln->ls : NULL;

    (void)ip;
    (void)local_ip;
    (void)port;
    (void)local_port;
    if (ls == NULL || x->sent_said)
        return CURL_PREREQFUNC_OK;
    x->sent_said = 1;
    if (!ln->has_thread) {
        ls->h.sent(x);
        return CURL_PREREQFUNC_OK;
    }
    pthread_mutex_lock(&ls->mu);
    int wake = 0;
    if (!cio_list_linked(&x->sent) && x->state == XS_RUNNING) { /* not one asked back */
        cio_list_push_back(&ls->sentbox, &x->sent);
        wake = !ls->out_woken;
        ls->out_woken = 1;
    }
    pthread_mutex_unlock(&ls->mu);
    if (wake)
        tell_loop(ln);
    return CURL_PREREQFUNC_OK;
}

/* Takes x out of the sentbox, if there (under mu). */
static void unsentbox(struct cio_xfer *x)
{
    cio_list_remove(&x->sent);
}

/* ---- a lane's own thread ---------------------------------------------------------- */

/* The lane is done with x: it ended (rc), or (back) it was stopped on request. */
static void hand_back(struct cio_lane *ln, struct cio_xfer *x, CURLcode rc, int back)
{
    struct cio_lanes *ls = ln->ls;
    int wake;

    pthread_mutex_lock(&ls->mu);
    if (x->state == XS_CANCEL && !back) {
        cio_list_remove(&x->box); /* it ended while a request to stop it waited */
        back = 1;
    }
    x->state = back ? XS_BACK : XS_OUTBOX;
    x->rc = rc;
    cio_list_push_back(&ls->outbox, &x->box);
    wake = !ls->out_woken;
    ls->out_woken = 1;
    pthread_mutex_unlock(&ls->mu);
    if (wake)
        tell_loop(ln);
}

static void lane_messages(struct cio_lane *ln)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(ln->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        struct cio_xfer *x = NULL;

        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(ln->multi, e);
        cio_list_remove(&x->run);
        hand_back(ln, x, rc, 0);
    }
}

static void lane_inbox(evutil_socket_t fd, short what, void *arg)
{
    struct cio_lane *ln = arg;
    struct cio_lanes *ls = ln->ls;

    (void)what;
    drain_pipe(fd);
    for (;;) {
        pthread_mutex_lock(&ls->mu);
        struct cio_xfer *x = box_pop(&ln->inbox);
        if (x == NULL) {
            ln->woken = 0;
            if (ln->quit)
                event_base_loopbreak(ln->base);
            pthread_mutex_unlock(&ls->mu);
            break;
        }
        int stop = x->state == XS_CANCEL;
        if (!stop)
            x->state = XS_RUNNING;
        pthread_mutex_unlock(&ls->mu);

        if (stop) {
            curl_multi_remove_handle(ln->multi, x->easy);
            cio_list_remove(&x->run);
            cio_list_remove(&x->doom);
            hand_back(ln, x, CURLE_OK, 1);
        } else if (curl_multi_add_handle(ln->multi, x->easy) != CURLM_OK) {
            hand_back(ln, x, CURLE_OUT_OF_MEMORY, 0);
        } else {
            cio_list_push_back(&ln->running, &x->run);
        }
    }
}

/* Tells libcurl what happened. When libcurl runs out of memory inside an action it may
 * leave a transfer whose socket it never asked us to watch: nothing would wake it
 * again. So 10 ms later every transfer is run once, sockets updated. */
static void act(struct cio_lane *ln, curl_socket_t s, int flags)
{
    int running;
    CURLMcode mc;

    if (ln->recover) {
        ln->recover = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        mc = curl_multi_socket_all(ln->multi, &running); /* the one call that runs all */
#pragma GCC diagnostic pop
    } else {
        mc = curl_multi_socket_action(ln->multi, s, flags, &running);
    }
    if (mc == CURLM_OUT_OF_MEMORY) {
        struct timeval soon = {0, 10000};
        ln->recover = 1;
        if (evtimer_add(ln->timer, &soon) != 0)
            event_active(ln->timer, EV_TIMEOUT, 1);
    }
}

/* Takes the next doomed transfer out of the multi (its message, if any, goes too). */
static struct cio_xfer *next_doomed(struct cio_lane *ln)
{
    struct cio_node *n = cio_list_pop(&ln->doomed);
    struct cio_xfer *x = n != NULL ? XFER(n, doom) : NULL;

    if (x != NULL)
        curl_multi_remove_handle(ln->multi, x->easy);
    return x;
}

static void lane_drive(struct cio_lane *ln, curl_socket_t s, int flags)
{
    struct cio_xfer *x;

    act(ln, s, flags);
    while ((x = next_doomed(ln)) != NULL) {
        cio_list_remove(&x->run);
        hand_back(ln, x, CURLE_OUT_OF_MEMORY, 0);
    }
    lane_messages(ln);
}

/* ---- on the loop thread's base ------------------------------------------------------ */

static void inline_drive(struct cio_lane *ln, curl_socket_t s, int flags)
{
    struct cio_lanes *ls = ln->ls;
    void *ctx = ls->h.ctx;
    CURLMsg *m;
    int left;

    ls->h.enter(ctx);
    act(ln, s, flags);
    /* user callbacks run here, after curl has returned */
    struct cio_xfer *x;
    while (!ls->h.closing(ctx) && (x = next_doomed(ln)) != NULL) {
        returned(ls, x);
        ls->h.ended(x, CURLE_OUT_OF_MEMORY);
    }
    while (!ls->h.closing(ctx) && (m = curl_multi_info_read(ln->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = m->data.result;

        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(ln->multi, x->easy);
        returned(ls, x);
        ls->h.ended(x, rc);
    }
    ls->h.leave(ctx);
}

static void drive(struct cio_lane *ln, curl_socket_t s, int flags)
{
    if (ln->has_thread)
        lane_drive(ln, s, flags);
    else
        inline_drive(ln, s, flags);
}

static void ev_socket(evutil_socket_t fd, short what, void *arg)
{
    struct cio_lane *ln = arg;
    struct cio_sock *k = cio__socks_get(&ln->socks, fd);
    int flags =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

    if (k != NULL && cio__socks_fired(k))
        return; /* an idle connection: libcurl finds out when it next uses it */
    drive(ln, fd, flags);
}

static void ev_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* The lanes' outbox, on the loop thread. */
static void loop_outbox(evutil_socket_t fd, short what, void *arg)
{
    struct cio_lanes *ls = arg;
    void *ctx = ls->h.ctx;

    (void)what;
    drain_pipe(fd);
    ls->h.enter(ctx);
    while (!ls->h.closing(ctx)) { /* requests that went out, before any end of theirs */
        pthread_mutex_lock(&ls->mu);
        struct cio_node *n = cio_list_pop(&ls->sentbox);
        pthread_mutex_unlock(&ls->mu);
        if (n == NULL)
            break;
        ls->h.sent(XFER(n, sent));
    }
    while (!ls->h.closing(ctx)) {
        pthread_mutex_lock(&ls->mu);
        struct cio_xfer *x = box_pop(&ls->outbox);
        int back = 0;
        if (x == NULL) {
            ls->out_woken = 0;
        } else {
            back = x->state == XS_BACK;
            x->state = XS_IDLE;
            unsentbox(x); /* a send told after its end is no news: its end counted it */
        }
        pthread_mutex_unlock(&ls->mu);
        if (x == NULL)
            break;
        returned(ls, x);
        if (back)
            ls->h.back(x);
        else
            ls->h.ended(x, x->rc);
    }
    ls->h.leave(ctx);
}

/* ---- the loop thread's calls ------------------------------------------------------ */

int cio__lanes_add(struct cio_lanes *ls, struct cio_xfer *x)
{
    struct cio_lane *ln = &ls->lane[0];

    for (unsigned i = 1; i < ls->n; i++)
        if (ls->lane[i].cap - ls->lane[i].lent > ln->cap - ln->lent)
            ln = &ls->lane[i];
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
    /* A connection made now closes through its lane (it never leaves that multi). */
    curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETDATA, ln);
    cio_list_init(&x->box); /* idle: in no list */
    cio_list_init(&x->run);
    cio_list_init(&x->doom);
    cio_list_init(&x->sent);
    /* The callback costs a call per request (and a message from a lane's thread): only
     * for transfers whose sending time a limit counts. */
    x->sent_said = 0;
    curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION, x->want_sent ? on_prereq : NULL);
    curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
    if (!ln->has_thread) {
        if (curl_multi_add_handle(ln->multi, x->easy) != CURLM_OK)
            return CIO_E_NOMEM;
    } else if (lend(ls, ln, x) != 0) {
        return CIO_E_NOMEM;
    } else {
        pthread_mutex_lock(&ls->mu);
        x->state = XS_INBOX;
        cio_list_push_back(&ln->inbox, &x->box);
        int wake = !ln->woken;
        ln->woken = 1;
        pthread_mutex_unlock(&ls->mu);
        if (wake)
            ring(ln->pipe[1]);
        return CIO_OK;
    }
    return lend(ls, ln, x) == 0 ? CIO_OK : CIO_E_NOMEM; /* inline: never fails */
}

void cio__lanes_opened(struct cio_xfer *x, curl_socket_t s)
{
    if (x->lane != NULL)
        cio__socks_opened(&x->lane->socks, s);
}

int cio__lanes_remove(struct cio_lanes *ls, struct cio_xfer *x)
{
    struct cio_lane *ln = x->lane;
    int now = 1;

    if (ln == NULL)
        return 1;
    if (!ln->has_thread) {
        curl_multi_remove_handle(ln->multi, x->easy);
        cio_list_remove(&x->doom);
    } else {
        int wake = 0;
        pthread_mutex_lock(&ls->mu);
        unsentbox(x); /* the loop thread stops it: its sending is no news */
        switch (x->state) {
        case XS_INBOX:
        case XS_OUTBOX:
        case XS_BACK:
            cio_list_remove(&x->box); /* never started, or ended: the end is dropped */
            break;
        case XS_RUNNING:
            x->state = XS_CANCEL;
            cio_list_push_back(&ln->inbox, &x->box);
            wake = !ln->woken;
            ln->woken = 1;
            now = 0;
            break;
        default:
            now = 0; /* already asked */
        }
        if (now)
            x->state = XS_IDLE;
        pthread_mutex_unlock(&ls->mu);
        if (wake)
            ring(ln->pipe[1]);
    }
    if (now)
        returned(ls, x);
    return now;
}

/* ---- making and freeing ----------------------------------------------------------- */

static void *lane_main(void *arg)
{
    struct cio_lane *ln = arg;

    event_base_dispatch(ln->base);
    return NULL;
}

static int open_pipe(int fds[2])
{
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

static int lane_init(struct cio_lanes *ls, struct cio_lane *ln, long conns)
{
    ln->ls = ls;
    if (ls->threads > 0) {
        if (cio__fds_free() < CIO_FDS_PER_LOOP) { /* libevent would exit the process */
            errno = EMFILE;
            return CIO_E_NOMEM;
        }
        struct event_config *cfg = event_config_new();
        if (cfg == NULL)
            return CIO_E_NOMEM;
        /* Not EVENT_BASE_FLAG_PRECISE_TIMER: libcurl's timers are in milliseconds, which
         * epoll_wait's timeout gives, and a precise one costs a timerfd_settime call on
         * every turn of the loop. Pacing, which needs the precision, is the pool's. */
        event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
        ln->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (ln->base == NULL || open_pipe(ln->pipe) != 0 ||
            (ln->wake = event_new(ln->base, ln->pipe[0], EV_READ | EV_PERSIST, lane_inbox, ln)) ==
                NULL ||
            event_add(ln->wake, NULL) != 0 ||
            (ln->flush = event_new(ln->base, -1, 0, ev_flush, ln)) == NULL)
            return CIO_E_NOMEM;
    } else {
        ln->base = ls->base;
    }
    ln->multi = curl_multi_init();
    ln->timer = evtimer_new(ln->base, ev_timer, ln);
    struct timeval later = {3600, 0};
    /* Armed once now, so that libevent has the room for it: arming it for curl later
     * then needs no memory, and cannot fail. */
    if (ln->multi == NULL || ln->timer == NULL || evtimer_add(ln->timer, &later) != 0)
        return CIO_E_NOMEM;
    evtimer_del(ln->timer);
    curl_multi_setopt(ln->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(ln->multi, CURLMOPT_SOCKETDATA, ln);
    curl_multi_setopt(ln->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(ln->multi, CURLMOPT_TIMERDATA, ln);
    /* The connection-level cap, shared out: the pool admits at most max_reqs transfers
     * and gives each lane no more than its share, so with one request per connection
     * none ever queues inside libcurl, where CURLOPT_TIMEOUT_MS would already run. */
    curl_multi_setopt(ln->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
    curl_multi_setopt(ln->multi, CURLMOPT_MAXCONNECTS, conns);
    curl_multi_setopt(ln->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return CIO_OK;
}

/* Lane threads take no signals: the caller's loop thread handles them. */
static int start_threads(struct cio_lanes *ls)
{
    sigset_t all, old;
    int rc = CIO_OK;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (unsigned i = 0; i < ls->n && rc == CIO_OK; i++) {
        if (pthread_create(&ls->lane[i].tid, NULL, lane_main, &ls->lane[i]) != 0)
            rc = CIO_E_NOMEM;
        else
            ls->lane[i].has_thread = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

struct cio_lanes *cio__lanes_new(struct event_base *base, unsigned threads, long max_conns,
                                 long max_reqs, const cio_lanes_hooks *hooks, int *err)
{
    struct cio_lanes *ls = cio__calloc(1, sizeof *ls);
    unsigned n = threads == 0 ? 1 : threads;

    *err = CIO_E_NOMEM;
    errno = 0;
    if (ls == NULL)
        return NULL;
    if ((long)n > max_conns)
        n = (unsigned)max_conns; /* every lane needs a connection of its own */
    ls->h = *hooks;
    ls->base = base;
    cio_list_init(&ls->sentbox);
    cio_list_init(&ls->outbox);
    ls->threads = threads;
    ls->n = n;
    ls->pipe[0] = ls->pipe[1] = -1;
    pthread_mutex_init(&ls->mu, NULL);
    if ((ls->lane = cio__calloc(n, sizeof *ls->lane)) == NULL) {
        cio__lanes_free(ls);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) { /* a lane never made must not close descriptor 0 */
        ls->lane[i].pipe[0] = ls->lane[i].pipe[1] = -1;
        cio_list_init(&ls->lane[i].inbox);
        cio_list_init(&ls->lane[i].running);
        cio_list_init(&ls->lane[i].doomed);
    }
    int rc = CIO_OK;
    for (unsigned i = 0; i < n && rc == CIO_OK; i++) {
        ls->lane[i].cap = max_reqs / n + ((long)i < max_reqs % (long)n);
        rc = lane_init(ls, &ls->lane[i], max_conns / n + ((long)i < max_conns % (long)n));
    }
    if (rc == CIO_OK && threads > 0 &&
        (open_pipe(ls->pipe) != 0 ||
         (ls->wake = event_new(base, ls->pipe[0], EV_READ | EV_PERSIST, loop_outbox, ls)) == NULL))
        rc = CIO_E_NOMEM;
    if (rc == CIO_OK && threads > 0)
        rc = start_threads(ls);
    if (rc != CIO_OK) {
        /* A pipe or a loop that found no descriptor says EMFILE: not memory. */
        *err = rc == CIO_E_NOMEM && (errno == EMFILE || errno == ENFILE) ? CIO_E_NOFD : rc;
        cio__lanes_free(ls);
        return NULL;
    }
    return ls;
}

static void give_back(struct cio_lanes *ls, struct cio_xfer *x)
{
    unsentbox(x);
    x->state = XS_IDLE;
    returned(ls, x);
    if (ls->h.back != NULL)
        ls->h.back(x);
}

void cio__lanes_free(struct cio_lanes *ls)
{
    if (ls == NULL)
        return;
    for (unsigned i = 0; ls->lane != NULL && i < ls->n; i++) {
        struct cio_lane *ln = &ls->lane[i];
        if (!ln->has_thread)
            continue;
        pthread_mutex_lock(&ls->mu);
        ln->quit = 1;
        ln->woken = 1;
        pthread_mutex_unlock(&ls->mu);
        ring(ln->pipe[1]);
        pthread_join(ln->tid, NULL);
    }
    /* The threads are gone: everything is the loop thread's. Transfers still out go
     * back; the pool ended their items already. */
    for (unsigned i = 0; ls->lane != NULL && i < ls->n; i++) {
        struct cio_lane *ln = &ls->lane[i];
        struct cio_node *n;
        while ((n = cio_list_pop(&ln->running)) != NULL) {
            struct cio_xfer *x = XFER(n, run);
            curl_multi_remove_handle(ln->multi, x->easy);
            if (x->state == XS_RUNNING)
                give_back(ls, x);
        }
        struct cio_xfer *x;
        while ((x = box_pop(&ln->inbox)) != NULL)
            give_back(ls, x);
    }
    struct cio_xfer *x;
    while ((x = box_pop(&ls->outbox)) != NULL)
        give_back(ls, x);
    for (unsigned i = 0; ls->lane != NULL && i < ls->n; i++) {
        struct cio_lane *ln = &ls->lane[i];
        if (ln->multi != NULL)
            curl_multi_cleanup(ln->multi); /* closes connections; sockets leave via on_close */
        cio__socks_free(&ln->socks);
        if (ln->timer != NULL)
            event_free(ln->timer);
        if (ln->wake != NULL)
            event_free(ln->wake);
        if (ln->flush != NULL)
            event_free(ln->flush);
        if (ln->base != NULL && ls->threads > 0)
            event_base_free(ln->base);
        for (int k = 0; k < 2; k++)
            if (ln->pipe[k] >= 0)
                close(ln->pipe[k]);
    }
    if (ls->wake != NULL)
        event_free(ls->wake);
    for (int k = 0; k < 2; k++)
        if (ls->pipe[k] >= 0)
            close(ls->pipe[k]);
    pthread_mutex_destroy(&ls->mu);
    cio__free(ls->lane);
    cio__free(ls);
}
