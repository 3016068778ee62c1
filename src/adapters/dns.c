/* SPDX-License-Identifier: Apache-2.0 */
/* DNS lookups on libevent's asynchronous resolver, one evdns base per pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core.h"
#include "mem.h"

/* libevent delivers a canceled lookup's answer on a later loop turn, reading the evdns
 * base then: the base must outlive every answer still due. A pool freed while some are
 * due leaves this behind, and the last answer frees it. */
struct cio_dns {
    struct evdns_base *base;
    size_t due;      /* lookups whose answer has not come */
    unsigned orphan; /* the pool is gone: free this with the last answer */
};

static void dns_release(struct cio_dns *d);

/* One attempt's lookup: libevent owes it one answer, which may come after the attempt
 * was canceled or the item destroyed; then it only frees. */
struct lookup {
    struct dns_work *w; /* NULL: the attempt is over (canceled, or its item gone) */
    struct cio_dns *dns;
    struct evdns_getaddrinfo_request *req; /* until the answer; NULL when it came at once */
    int answered;
};

struct dns_work {
    cio_task *task;
    struct cio_dns *dns;
    struct lookup *now; /* the running attempt's, or NULL */
    char host[];
};

static void answered(int err, struct evutil_addrinfo *ai, void *arg)
{
    struct lookup *l = arg;
    struct cio_dns *d = l->dns;
    struct dns_work *w = l->w;

    l->answered = 1;
    d->due--;
    if (w != NULL) {
        w->now = NULL;
        if (err == 0 && ai != NULL) {
            char text[INET6_ADDRSTRLEN] = "";
            const void *addr =
                ai->ai_family == AF_INET6
                    ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
                    : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
            evutil_inet_ntop(ai->ai_family, addr, text, sizeof text);
            cio_pool *p = cio__task_pool(w->task);
            cio_result res = {
                .status = CIO_OK, .value = ai, .body = text, .body_len = strlen(text)};
            cio_outcome o = {.res = &res, .retry_after_ms = -1};
            cio__pool_enter(p);
            cio__task_outcome(w->task, &o);
            cio__pool_leave(p);
        } else {
            cio_task_complete(w->task, CIO_E_TRANSPORT, evutil_gai_strerror(err), 0);
        }
    }
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
    if (l->req != NULL || w == NULL) /* it came later: nobody else frees it */
        cio__free(l);
    if (d->orphan && d->due == 0)
        dns_release(d); /* nothing of libevent's touches the base after this */
}

static int dns_start(cio_task *task, void *work, struct event_base *base)
{
    struct dns_work *w = work;
    struct evutil_addrinfo hints;
    struct lookup *l = cio__calloc(1, sizeof *l);

    (void)base;
    if (l == NULL)
        return CIO_E_NOMEM;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
    w->task = task;
    w->now = l;
    l->w = w;
    l->dns = w->dns;
    w->dns->due++;
    /* May answer at once (a numeric address, the hosts file): then it returns NULL, and
     * the lookup is freed here. */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(w->dns->base, w->host, NULL, &hints, answered, l);
    if (l->answered)
        cio__free(l);
    else
        l->req = req;
    return CIO_OK;
}

/* The attempt is over before its answer: the answer, when it comes, only frees. */
static void dns_cancel(cio_task *task, void *work)
{
    struct dns_work *w = work;
    struct lookup *l = w->now;

    (void)task;
    w->now = NULL;
    if (l == NULL)
        return;
    l->w = NULL;
    if (l->req != NULL)
        evdns_getaddrinfo_cancel(l->req); /* answers with EVUTIL_EAI_CANCEL, later */
}

static void dns_destroy(void *work)
{
    struct dns_work *w = work;

    if (w->now != NULL)
        w->now->w = NULL; /* its answer frees the lookup */
    cio__free(w);
}

static const cio_task_vtable dns_vtable = {
    .name = "dns",
    .start = dns_start,
    .cancel = dns_cancel,
    .destroy = dns_destroy,
};

static void dns_free(void *state);

static const cio_engine_ops dns_engine = {.name = "dns", .free = dns_free};

static struct cio_dns *dns_new(cio_pool *p)
{
    struct cio_dns *d = cio__calloc(1, sizeof *d);
    const char *ns = cio__pool_opts(p)->dns_nameserver;

    if (d == NULL)
        return NULL;
    d->base = evdns_base_new(cio__pool_base(p), ns == NULL ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0);
    if (d->base == NULL ||
        (ns != NULL && (evdns_base_nameserver_ip_add(d->base, ns) != 0 ||
                        evdns_base_load_hosts(d->base, NULL) != 0)) ||
        cio__engine_add(p, &dns_engine, d) == NULL) {
        dns_release(d);
        return NULL;
    }
    return d;
}

static void dns_release(struct cio_dns *d)
{
    if (d->base != NULL)
        evdns_base_free(d->base, 1);
    cio__free(d);
}

static void dns_free(void *state)
{
    struct cio_dns *d = state;

    if (d == NULL)
        return;
    if (d->due > 0) { /* answers are on their way (canceled lookups): the last frees it */
        d->orphan = 1;
        return;
    }
    dns_release(d);
}

int cio_submit_dns(cio_pool *p, const char *host, const cio_task_opts *o, cio_task_id *id)
{
    if (p == NULL || host == NULL || host[0] == '\0')
        return CIO_E_INVAL;
    int rc = cio__pool_bind(p);
    if (rc != CIO_OK)
        return rc;
    struct cio_dns *d = cio__engine_find(p, &dns_engine);
    if (d == NULL) {
        errno = 0;
        if ((d = dns_new(p)) == NULL)
            return errno == EMFILE || errno == ENFILE          ? CIO_E_NOFD
                   : cio__pool_opts(p)->dns_nameserver != NULL ? CIO_E_INVAL
                                                               : CIO_E_NOMEM;
    }
    size_t n = strlen(host);
    struct dns_work *w = cio__calloc(1, sizeof *w + n + 1);
    if (w == NULL)
        return CIO_E_NOMEM;
    memcpy(w->host, host, n + 1);
    w->dns = d;
    if ((rc = cio__submit_to(p, &dns_engine, &dns_vtable, w, o, id)) != CIO_OK)
        cio__free(w);
    return rc;
}
