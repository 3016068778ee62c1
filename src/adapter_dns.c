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

#include "internal.h"
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

struct dns_work {
    cio_task *task;
    struct cio_dns *dns;
    struct evdns_getaddrinfo_request *req; /* pending lookup, or NULL */
    unsigned pending : 1;                  /* the resolver still owes us a callback */
    unsigned ended : 1;                    /* the item ended: ignore the answer */
    unsigned destroyed : 1;                /* destroy came first: the callback frees */
    char host[];
};

static void answered(int err, struct evutil_addrinfo *ai, void *arg)
{
    struct dns_work *w = arg;
    struct cio_dns *d = w->dns;

    w->pending = 0;
    w->req = NULL;
    d->due--;
    if (w->destroyed) {
        if (ai != NULL)
            evutil_freeaddrinfo(ai);
        cio__free(w);
        if (d->orphan && d->due == 0)
            dns_release(d); /* nothing of libevent's touches the base after this */
        return;
    }
    if (!w->ended) {
        if (err == 0 && ai != NULL) {
            char text[INET6_ADDRSTRLEN] = "";
            const void *addr =
                ai->ai_family == AF_INET6
                    ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
                    : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
            evutil_inet_ntop(ai->ai_family, addr, text, sizeof text);
            cio_pool *p = w->task->pool;
            cio_result res = {
                .status = CIO_OK, .value = ai, .body = text, .body_len = strlen(text)};
            cio__pool_enter(p);
            cio__task_finish(w->task, &res);
            cio__pool_leave(p);
        } else {
            cio_task_complete(w->task, CIO_E_TRANSPORT, evutil_gai_strerror(err), 0);
        }
    }
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
}

static int dns_start(cio_task *task, void *work, struct event_base *base)
{
    struct dns_work *w = work;
    struct evutil_addrinfo hints;

    (void)base;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
    w->task = task;
    w->dns = task->pool->dns;
    w->pending = 1;
    w->dns->due++;
    /* May answer at once (a numeric address, the hosts file): then req is NULL. */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(w->dns->base, w->host, NULL, &hints, answered, w);
    if (w->pending)
        w->req = req;
    return CIO_OK;
}

static void dns_cancel(cio_task *task, void *work)
{
    struct dns_work *w = work;

    (void)task;
    w->ended = 1;
    if (w->req != NULL)
        evdns_getaddrinfo_cancel(w->req); /* answers with EVUTIL_EAI_CANCEL */
}

static void dns_destroy(void *work)
{
    struct dns_work *w = work;

    if (w->pending)
        w->destroyed = 1; /* the resolver still holds it: answered() frees it */
    else
        cio__free(w);
}

static const cio_task_vtable dns_vtable = {
    .name = "dns",
    .start = dns_start,
    .cancel = dns_cancel,
    .destroy = dns_destroy,
};

static struct cio_dns *dns_new(cio_pool *p)
{
    struct cio_dns *d = cio__calloc(1, sizeof *d);
    const char *ns = p->o.dns_nameserver;

    if (d == NULL)
        return NULL;
    d->base = evdns_base_new(p->base, ns == NULL ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0);
    if (d->base == NULL || (ns != NULL && (evdns_base_nameserver_ip_add(d->base, ns) != 0 ||
                                           evdns_base_load_hosts(d->base, NULL) != 0))) {
        cio__dns_free(d);
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

void cio__dns_free(struct cio_dns *d)
{
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
    if (p->dns == NULL) {
        errno = 0;
        if ((p->dns = dns_new(p)) == NULL)
            return errno == EMFILE || errno == ENFILE ? CIO_E_NOFD
                   : p->o.dns_nameserver != NULL      ? CIO_E_INVAL
                                                      : CIO_E_NOMEM;
        cio__pool_fds_changed(p);
    }
    size_t n = strlen(host);
    struct dns_work *w = cio__calloc(1, sizeof *w + n + 1);
    if (w == NULL)
        return CIO_E_NOMEM;
    memcpy(w->host, host, n + 1);
    if ((rc = cio_submit(p, &dns_vtable, w, o, id)) != CIO_OK)
        cio__free(w);
    return rc;
}
