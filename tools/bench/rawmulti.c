/* SPDX-License-Identifier: Apache-2.0 */
/* The reference the benchmarks measure Concurio against: a plain libcurl multi loop on
 * libevent in the shape of curl's hiperfifo example, one thread, bodies discarded, no
 * limits beyond "C at a time", written as a careful hand-roller would: easy handles are
 * kept and reused (their options set once, the URL per request), and a socket's event
 * is reassigned, not made anew, when libcurl changes what it waits for. --new-handles
 * makes and frees an easy handle per request instead (the second, weaker reference).
 * --floor is the least a libcurl 7.88 client can pay: handles reused, and a connection's
 * socket stays watched between its transfers (libcurl stops watching it at each end and
 * starts again at the next start: two epoll_ctl per request that the raw loop pays).
 * Reads URLs, one per line, from standard input; prints "done=N failed=N" at the end.
 * Usage: bench-rawmulti [--new-handles | --floor] C < urls */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h> /* struct event in place: event_assign */

struct sock {
    struct event ev; /* assigned in place (event_assign): no allocation per change */
    int added;       /* --floor: ev is set up */
    int parked;      /* --floor: libcurl does not watch it now, ev may still be added */
};

static struct event_base *base;
static CURLM *multi;
static struct event *timer;
static long running_handles, in_flight, cap, done, failed;
static char line[65536];
static int input_end, new_handles, floor_mode;
static struct sock *by_fd; /* --floor: a connection's socket by descriptor, open to close */
static size_t nby_fd;
static CURL **spare; /* ended handles kept for the next requests */
static long nspare;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* --floor: the sockets of connections, kept watched while idle. */
static curl_socket_t open_cb(void *u, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_socket_t s = socket(a->family, a->socktype, a->protocol);

    (void)u;
    (void)purpose;
    if (s >= 0 && (size_t)s < nby_fd)
        memset(&by_fd[s], 0, sizeof by_fd[s]);
    return s;
}

static int close_cb(void *u, curl_socket_t s)
{
    (void)u;
    if (s >= 0 && (size_t)s < nby_fd && by_fd[s].added) {
        event_del(&by_fd[s].ev); /* before the close: epoll still knows the descriptor */
        memset(&by_fd[s], 0, sizeof by_fd[s]);
    }
    return close(s);
}

static void add_more(void)
{
    while (!input_end && in_flight < cap) {
        if (fgets(line, sizeof line, stdin) == NULL) {
            input_end = 1;
            return;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        CURL *e = !new_handles && nspare > 0 ? spare[--nspare] : NULL;
        if (e == NULL) {
            e = curl_easy_init();
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            if (floor_mode) {
                curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
                curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
            }
        }
        curl_easy_setopt(e, CURLOPT_URL, line);
        curl_multi_add_handle(multi, e);
        in_flight++;
    }
}

static void drain(void)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        long status = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (m->data.result == CURLE_OK && status == 200)
            done++;
        else
            failed++;
        CURL *e = m->easy_handle;
        curl_multi_remove_handle(multi, e);
        if (new_handles)
            curl_easy_cleanup(e);
        else
            spare[nspare++] = e;
        in_flight--;
    }
    add_more();
    if (floor_mode && input_end && in_flight == 0)
        event_base_loopbreak(base); /* idle connections are still watched */
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int n;
    struct sock *k = arg;

    if (k != NULL && k->parked) { /* an idle connection closed or spoke: libcurl sees it */
        event_del(&k->ev);        /* when it next takes the connection */
        return;
    }
    curl_multi_socket_action(multi, fd, action, &n);
    running_handles = n;
    drain();
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    int n;

    (void)fd;
    (void)what;
    (void)arg;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &n);
    running_handles = n;
    drain();
}

static int floor_sock_cb(curl_socket_t s, int what)
{
    if ((size_t)s >= nby_fd)
        return -1;
    struct sock *k = &by_fd[s];
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (what == CURL_POLL_REMOVE) { /* an idle connection is watched for reading */
        if (k->added && event_get_events(&k->ev) == (EV_READ | EV_PERSIST))
            k->parked = 1;
        else if (k->added)
            event_del(&k->ev);
        return 0;
    }
    k->parked = 0;
    if (k->added && event_get_events(&k->ev) == kind &&
        event_pending(&k->ev, EV_READ | EV_WRITE, NULL))
        return 0; /* the next transfer on the same connection: no system call */
    if (k->added)
        event_del(&k->ev);
    event_assign(&k->ev, base, s, kind, on_event, k);
    k->added = 1;
    return event_add(&k->ev, NULL);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *u, void *sockp)
{
    struct sock *k = sockp;

    (void)e;
    (void)u;
    if (floor_mode)
        return floor_sock_cb(s, what);
    if (what == CURL_POLL_REMOVE) {
        if (k != NULL) {
            event_del(&k->ev);
            free(k);
        }
        curl_multi_assign(multi, s, NULL);
        return 0;
    }
    if (k == NULL) {
        k = calloc(1, sizeof *k);
        curl_multi_assign(multi, s, k);
    } else {
        event_del(&k->ev);
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    event_assign(&k->ev, base, s, kind, on_event, NULL);
    event_add(&k->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *m, long ms, void *u)
{
    (void)m;
    (void)u;
    if (ms < 0) {
        evtimer_del(timer);
        return 0;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(timer, &tv);
    return 0;
}

int main(int argc, char **argv)
{
    new_handles = argc == 3 && strcmp(argv[1], "--new-handles") == 0;
    floor_mode = argc == 3 && strcmp(argv[1], "--floor") == 0;
    if (argc != 2 + new_handles + floor_mode || (cap = strtol(argv[argc - 1], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: %s [--new-handles | --floor] C < urls\n", argv[0]);
        return 2;
    }
    if (floor_mode) {
        nby_fd = (size_t)cap * 4 + 1024; /* descriptors stay below this: C connections */
        by_fd = calloc(nby_fd, sizeof *by_fd);
    }
    spare = calloc((size_t)cap, sizeof *spare);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    base = event_base_new();
    multi = curl_multi_init();
    timer = evtimer_new(base, on_timer, NULL);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, cap);
    add_more();
    event_base_dispatch(base);
    printf("done=%ld failed=%ld\n", done, failed);
    event_free(timer);
    for (long i = 0; i < nspare; i++)
        curl_easy_cleanup(spare[i]);
    free(spare);
    curl_multi_cleanup(multi);
    free(by_fd);
    event_base_free(base);
    curl_global_cleanup();
    return failed > 0;
}
