/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-faultserver: a raw HTTP/1.1 server on loopback that misbehaves on purpose,
 * one fault per path, for the fault suite. It speaks bytes on the socket itself, so it
 * can do what a well-behaved server library cannot: lie about lengths, reset, go mute.
 *
 *   /ok          200 "ok", keep-alive (the healthy items of a mixed run)
 *   /short       Content-Length 1000, sends 100 bytes, closes (FIN)
 *   /chunk-cut   chunked, one chunk, closes before the last chunk
 *   /rst         Content-Length 1000, sends 100 bytes, 50 ms later resets (RST)
 *   /empty       closes without a byte
 *   /garbage     bytes that are not HTTP, then closes
 *   /hang        reads the request and never answers
 *   /trickle     Content-Length 100, one byte per second
 *   /nolength    no Content-Length, 8 MiB, then closes (the body ends at the close)
 *   /huge        declares Content-Length 10737418240, sends at most 8 MiB, then waits
 *   /idle-close  200 "ok", keep-alive, then closes the idle connection 100 ms later
 *   /bigheader   200 "ok" with one header line of 200 KB (libcurl allows 100 KB)
 *   /count       {"requests":N,"connections":M}: what this server saw before this one
 *
 * Usage: concurio-faultserver [--port N] [--quiet]. Binds 127.0.0.1 only and prints
 * "listening on http://127.0.0.1:PORT" once ready. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#define STREAM_MAX (8u << 20) /* the most a streaming fault sends */

static struct event_base *base;
static long requests, connections;

struct conn {
    struct conn *next, *prev; /* every open connection, freed at exit */
    int fd;
    struct event *rd, *wr, *tm;
    char in[8192];
    size_t n;
    size_t left;     /* streaming: bytes still to send */
    int close_after; /* streaming: close once sent */
    int trickle;     /* trickle: bytes still due, one per second */
    void (*at_timer)(struct conn *c);
};

static struct conn *open_conns;

static void conn_free(struct conn *c, int reset)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        open_conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (reset) {
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    event_free(c->rd);
    event_free(c->wr);
    event_free(c->tm);
    close(c->fd);
    free(c);
}

/* Small answers fit the socket's send buffer: written at once. */
static void say(struct conn *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* A string literal or char array, its terminating NUL left out. */
#define SAY(c, text) say(c, text, sizeof text - 1)

static void later(struct conn *c, long ms, void (*fn)(struct conn *c))
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    c->at_timer = fn;
    evtimer_add(c->tm, &tv);
}

static void do_reset(struct conn *c)
{
    conn_free(c, 1);
}

static void do_close(struct conn *c)
{
    conn_free(c, 0);
}

static void trickle_one(struct conn *c)
{
    say(c, "x", 1);
    if (--c->trickle > 0)
        later(c, 1000, trickle_one);
}

static void stream(struct conn *c, size_t total, int close_after)
{
    c->left = total;
    c->close_after = close_after;
    event_add(c->wr, NULL);
}

/* One request read: answer it by its path. Returns 0 when the connection is gone. */
static int answer(struct conn *c, const char *path)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 2\r\n\r\nok";
    char body[100];

    memset(body, 'x', sizeof body);
    requests++;
    if (strcmp(path, "/ok") == 0) {
        SAY(c, ok);
    } else if (strcmp(path, "/short") == 0) {
        SAY(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        say(c, body, sizeof body);
        conn_free(c, 0);
        return 0;
    } else if (strcmp(path, "/chunk-cut") == 0) {
        static const char h[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n";
        SAY(c, h);
        conn_free(c, 0);
        return 0;
    } else if (strcmp(path, "/rst") == 0) {
        SAY(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        say(c, body, sizeof body);
        event_del(c->rd);
        later(c, 50, do_reset);
    } else if (strcmp(path, "/empty") == 0) {
        conn_free(c, 0);
        return 0;
    } else if (strcmp(path, "/garbage") == 0) {
        static const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                   "SSH-2.0-nothing-like-http\r\n\r\n";
        SAY(c, junk);
        conn_free(c, 0);
        return 0;
    } else if (strcmp(path, "/hang") == 0) {
        /* Mute: the read event stays on, so a client that gives up frees us. */
    } else if (strcmp(path, "/trickle") == 0) {
        SAY(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        c->trickle = 100;
        trickle_one(c);
    } else if (strcmp(path, "/nolength") == 0) {
        static const char h[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        SAY(c, h);
        stream(c, STREAM_MAX, 1);
    } else if (strcmp(path, "/huge") == 0) {
        static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n";
        SAY(c, h);
        stream(c, STREAM_MAX, 0);
    } else if (strcmp(path, "/bigheader") == 0) {
        static char big[200 * 1024];
        memset(big, 'a', sizeof big);
        SAY(c, "HTTP/1.1 200 OK\r\nX-Big: ");
        say(c, big, sizeof big);
        SAY(c, "\r\nContent-Length: 2\r\n\r\nok");
    } else if (strcmp(path, "/idle-close") == 0) {
        SAY(c, ok);
        later(c, 100, do_close);
    } else if (strcmp(path, "/count") == 0) {
        char b[160], h[64];
        int bn = snprintf(b, sizeof b, "{\"requests\":%ld,\"connections\":%ld}", requests - 1,
                          connections - 1);
        int hn = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", bn);
        say(c, h, (size_t)hn);
        say(c, b, (size_t)bn);
    } else {
        static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        SAY(c, nf);
    }
    return 1;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    ssize_t r = recv(fd, c->in + c->n, sizeof c->in - 1 - c->n, 0);

    (void)what;
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
        c->n + (size_t)r >= sizeof c->in - 1) {
        conn_free(c, 0);
        return;
    }
    if (r < 0)
        return;
    c->n += (size_t)r;
    c->in[c->n] = '\0';
    char *end;
    while ((end = strstr(c->in, "\r\n\r\n")) != NULL) {
        char path[256] = "";
        size_t used = (size_t)(end + 4 - c->in);
        sscanf(c->in, "%*s %255s", path);
        char *q = strchr(path, '?');
        if (q != NULL)
            *q = '\0';
        memmove(c->in, c->in + used, c->n - used + 1);
        c->n -= used;
        if (!answer(c, path))
            return;
    }
}

static char chunk[65536]; /* what streaming faults send: 'x's, filled once in main */

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)what;
    while (c->left > 0) {
        size_t n = c->left < sizeof chunk ? c->left : sizeof chunk;
        ssize_t w = send(fd, chunk, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (w <= 0) {
            conn_free(c, 0);
            return;
        }
        c->left -= (size_t)w;
    }
    event_del(c->wr);
    if (c->close_after)
        conn_free(c, 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    c->at_timer(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    struct conn *c = calloc(1, sizeof *c);

    (void)l;
    (void)sa;
    (void)len;
    (void)arg;
    if (c == NULL) {
        close(fd);
        return;
    }
    connections++;
    c->fd = fd;
    c->next = open_conns;
    if (open_conns != NULL)
        open_conns->prev = c;
    open_conns = c;
    evutil_make_socket_nonblocking(fd);
    c->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wr = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->tm = evtimer_new(base, on_timer, c);
    event_add(c->rd, NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            sin.sin_port = htons((uint16_t)atoi(argv[++i]));
        else if (strcmp(argv[i], "--quiet") != 0) { /* quiet it is, always */
            fprintf(stderr, "usage: %s [--port N] [--quiet]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    memset(chunk, 'x', sizeof chunk);
    base = event_base_new();
    struct evconnlistener *l = evconnlistener_new_bind(
        base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, (struct sockaddr *)&sin, sizeof sin);
    if (l == NULL) {
        fprintf(stderr, "concurio-faultserver: cannot bind 127.0.0.1\n");
        return 1;
    }
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    struct sockaddr_in got;
    socklen_t gl = sizeof got;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&got, &gl);
    printf("listening on http://127.0.0.1:%u\n", ntohs(got.sin_port));
    fflush(stdout);
    event_base_dispatch(base);
    while (open_conns != NULL)
        conn_free(open_conns, 0);
    event_free(sigint);
    event_free(sigterm);
    evconnlistener_free(l);
    event_base_free(base);
    return 0;
}
