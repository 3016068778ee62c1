/* SPDX-License-Identifier: Apache-2.0 */
/* The connection sockets of one lane, by descriptor, and the event that watches each.
 * libcurl stops watching a connection's socket when a transfer ends (CURL_POLL_REMOVE)
 * and watches it again when the next transfer takes the connection over: two epoll_ctl
 * calls per request for nothing. A socket libcurl opened (CURLOPT_OPENSOCKETFUNCTION)
 * and closes through us (CURLOPT_CLOSESOCKETFUNCTION) can stay watched in between,
 * "parked": nothing else can have its descriptor until we close it. Other descriptors
 * (the resolver's socket pair, closed by libcurl itself) are not in the table. One
 * lane's thread only. */
#ifndef CIO_SOCKS_H
#define CIO_SOCKS_H

#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

struct cio_sock {
    struct event *ev; /* NULL until first watched */
    int ours;         /* opened for a connection, not closed yet */
    int parked;       /* libcurl does not watch it now; ev may still be added */
};

struct cio_socks {
    struct cio_sock *v; /* by descriptor */
    size_t n;
    size_t parked; /* parked with their events added (or taken out since) */
};

/* s was opened for a connection. Out of memory it is simply not kept: watched the
 * plain way. */
void cio__socks_opened(struct cio_socks *t, curl_socket_t s);
/* s, if opened for a connection and not yet closed; else NULL. */
struct cio_sock *cio__socks_get(struct cio_socks *t, curl_socket_t s);
/* Watches s for kind (EV_READ, EV_WRITE, EV_PERSIST) with cb through *ev (made when
 * NULL): no system call when it is already watched for that. 0, or -1 (no memory, or
 * libevent failed). For any socket, ours or not. */
int cio__socks_watch_event(struct event **ev, struct event_base *base, curl_socket_t s, short kind,
                           event_callback_fn cb, void *arg);
/* The same for one of ours, which is no longer parked. */
int cio__socks_watch(struct cio_sock *k, struct event_base *base, curl_socket_t s, short kind,
                     event_callback_fn cb, void *arg);
/* libcurl no longer watches k's socket. 1: it was watched for reading only, an idle
 * connection: it stays added, and its event firing while parked (the server closed
 * the connection) only calls cio__socks_fired. 0: anything else, which is forgotten
 * (its event freed, k no longer ours): the caller treats the socket the plain way. */
int cio__socks_park(struct cio_socks *t, struct cio_sock *k);
/* k's event fired. 1: k was parked, and its event is taken out (it is not libcurl's
 * news, and a closed peer would fire it again and again); 0: libcurl's. */
int cio__socks_fired(struct cio_sock *k);
/* Takes out the events of parked sockets: a caller's loop that runs nothing else ends,
 * and an added event would keep it going. */
void cio__socks_unwatch_parked(struct cio_socks *t);
/* s is about to be closed: its event goes. */
void cio__socks_closed(struct cio_socks *t, curl_socket_t s);
/* Every event left, and the table. */
void cio__socks_free(struct cio_socks *t);

#endif
