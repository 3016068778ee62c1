/* SPDX-License-Identifier: Apache-2.0 */
/* Cookie stores by key: a small hash table of libcurl shares. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookies.h"
#include "mem.h"

struct store {
    struct store *next;
    CURLSH *sh;
    pthread_mutex_t mu;
    char key[];
};

struct cio_cookies {
    struct store **bucket;
    size_t nbuckets, n;
    char *file; /* NULL: none to load */
};

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct cio_cookies *cio__cookies_new(const char *file)
{
    struct cio_cookies *c = cio__calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->nbuckets = 64;
    c->bucket = cio__calloc(c->nbuckets, sizeof *c->bucket);
    size_t n = file != NULL ? strlen(file) : 0;
    if (c->bucket == NULL || (n > 0 && (c->file = cio__malloc(n + 1)) == NULL)) {
        cio__cookies_free(c);
        return NULL;
    }
    if (n > 0)
        memcpy(c->file, file, n + 1);
    return c;
}

static void lock(CURL *e, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)e;
    (void)data;
    (void)access;
    pthread_mutex_lock(&((struct store *)arg)->mu);
}

static void unlock(CURL *e, curl_lock_data data, void *arg)
{
    (void)e;
    (void)data;
    pthread_mutex_unlock(&((struct store *)arg)->mu);
}

static void store_free(struct store *s)
{
    if (s->sh != NULL)
        curl_share_cleanup(s->sh);
    pthread_mutex_destroy(&s->mu);
    cio__free(s);
}

/* A new store with the file's cookies; NULL when out of memory. */
static struct store *store_new(const char *key, const char *file)
{
    size_t n = strlen(key);
    struct store *s = cio__malloc(sizeof *s + n + 1);

    if (s == NULL)
        return NULL;
    memcpy(s->key, key, n + 1);
    s->next = NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->sh = curl_share_init();
    CURLSHcode rc = s->sh != NULL ? CURLSHE_OK : CURLSHE_NOMEM;
    if (rc == CURLSHE_OK)
        rc = curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, lock);
    if (rc == CURLSHE_OK)
        rc = curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, unlock);
    if (rc == CURLSHE_OK)
        rc = curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s);
    if (rc == CURLSHE_OK)
        rc = curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    if (rc != CURLSHE_OK) {
        store_free(s);
        return NULL;
    }
    if (file != NULL) { /* loaded now, through a handle of its own: not per request */
        CURL *e = curl_easy_init();
        if (e == NULL || curl_easy_setopt(e, CURLOPT_SHARE, s->sh) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_COOKIEFILE, file) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_COOKIELIST, "RELOAD") != CURLE_OK) {
            curl_easy_cleanup(e);
            store_free(s);
            return NULL;
        }
        curl_easy_cleanup(e);
    }
    return s;
}

static int grow(struct cio_cookies *c)
{
    size_t nb = c->nbuckets * 2;
    struct store **b = cio__calloc(nb, sizeof *b);

    if (b == NULL)
        return -1;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (struct store *s = c->bucket[i], *next; s != NULL; s = next) {
            next = s->next;
            size_t at = hash_of(s->key) & (nb - 1);
            s->next = b[at];
            b[at] = s;
        }
    cio__free(c->bucket);
    c->bucket = b;
    c->nbuckets = nb;
    return 0;
}

CURLSH *cio__cookies_of(struct cio_cookies *c, const char *key)
{
    size_t at = hash_of(key) & (c->nbuckets - 1);

    for (struct store *s = c->bucket[at]; s != NULL; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s->sh;
    if (c->n >= 2 * c->nbuckets && grow(c) == 0)
        at = hash_of(key) & (c->nbuckets - 1);
    struct store *s = store_new(key, c->file);
    if (s == NULL)
        return NULL;
    s->next = c->bucket[at];
    c->bucket[at] = s;
    c->n++;
    return s->sh;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

int cio__cookies_save(struct cio_cookies *c, const char *path)
{
    static const char head[] = "# Netscape HTTP Cookie File\n"
                               "# Written by Concurio, one store per key: a cookie may be "
                               "listed once per key that had it.\n\n";
    size_t n = strlen(path) + 32;
    char *tmp = cio__malloc(n);
    CURL *e = curl_easy_init();
    int fd = -1, rc = tmp == NULL || e == NULL ? ENOMEM : 0;

    if (rc == 0) {
        snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* secrets */
        rc = fd < 0 ? errno : write_all(fd, head, sizeof head - 1);
    }
    for (size_t i = 0; rc == 0 && i < c->nbuckets; i++)
        for (struct store *s = c->bucket[i]; rc == 0 && s != NULL; s = s->next) {
            struct curl_slist *list = NULL;
            if (curl_easy_setopt(e, CURLOPT_SHARE, s->sh) != CURLE_OK ||
                curl_easy_getinfo(e, CURLINFO_COOKIELIST, &list) != CURLE_OK)
                rc = ENOMEM;
            for (struct curl_slist *l = list; rc == 0 && l != NULL; l = l->next)
                if ((rc = write_all(fd, l->data, strlen(l->data))) == 0)
                    rc = write_all(fd, "\n", 1);
            curl_slist_free_all(list);
        }
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errno;
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    curl_easy_cleanup(e);
    cio__free(tmp);
    return rc;
}

void cio__cookies_free(struct cio_cookies *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->bucket != NULL && i < c->nbuckets; i++)
        for (struct store *s = c->bucket[i], *next; s != NULL; s = next) {
            next = s->next;
            store_free(s);
        }
    cio__free(c->bucket);
    cio__free(c->file);
    cio__free(c);
}
