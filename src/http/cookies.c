/* SPDX-License-Identifier: Apache-2.0 */
/* Cookie stores by key: a hash table of libcurl shares, and the cookie file read once.
 * A file this code writes keeps each key's cookies under a "# concurio-key: KEY" line,
 * so that a key gets back only its own; lines before any such line (a file from curl)
 * go to every key. A key with no request in a run keeps its section as it was. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cookies.h"
#include "mem.h"

#define MARK "# concurio-key: "
#define MAX_FILE ((size_t)256 << 20)

struct store {
    struct store *next;
    CURLSH *sh;
    pthread_mutex_t mu;
    char key[]; /* as a section names it (escaped) */
};

/* The lines of one section of the file read, in a hash table by key. */
struct section {
    struct section *next;
    const char *key; /* into text, escaped as written */
    char **line;     /* into text */
    size_t n, cap;
    int used; /* a store of this run loaded it */
};

struct cio_cookies {
    struct store **bucket;
    size_t nbuckets, n;
    char *text; /* the file read, its lines NUL-terminated in place */
    struct section common, **sec;
    size_t nsec_buckets;
};

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* A key as a section line names it: '\\', CR and LF escaped. NULL: out of memory. */
static char *escaped(const char *key)
{
    size_t n = 0;

    for (const char *s = key; *s != '\0'; s++)
        n += *s == '\\' || *s == '\n' || *s == '\r' ? 2 : 1;
    char *out = cio__malloc(n + 1), *o = out;
    for (const char *s = key; out != NULL && *s != '\0'; s++) {
        if (*s == '\\' || *s == '\n' || *s == '\r') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s == '\r' ? 'r' : '\\';
        } else {
            *o++ = *s;
        }
    }
    if (out != NULL)
        *o = '\0';
    return out;
}

static int add_line(struct section *s, char *line)
{
    if (s->n == s->cap) {
        size_t cap = s->cap > 0 ? s->cap * 2 : 16;
        char **l = cio__realloc(s->line, cap * sizeof *l);
        if (l == NULL)
            return -1;
        s->line = l;
        s->cap = cap;
    }
    s->line[s->n++] = line;
    return 0;
}

static struct section *section_of(struct cio_cookies *c, const char *key, int make)
{
    size_t at = hash_of(key) % c->nsec_buckets;

    for (struct section *s = c->sec[at]; s != NULL; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s;
    if (!make)
        return NULL;
    struct section *s = cio__calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->key = key;
    s->next = c->sec[at];
    c->sec[at] = s;
    return s;
}

/* Reads the file into sections; 0, or -1 when out of memory. A file that cannot be
 * read holds no cookie (libcurl's way; the tool checks the file itself). */
static int read_file(struct cio_cookies *c, const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE) {
        close(fd);
        return 0;
    }
    size_t len = (size_t)st.st_size, got = 0;
    c->text = cio__malloc(len + 1);
    while (c->text != NULL && got < len) {
        ssize_t k = read(fd, c->text + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (c->text == NULL)
        return -1;
    c->text[got] = '\0';
    struct section *cur = &c->common;
    for (char *line = c->text, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (strncmp(line, MARK, sizeof MARK - 1) == 0) {
            if ((cur = section_of(c, line + sizeof MARK - 1, 1)) == NULL)
                return -1;
        } else if (n > 0 && (line[0] != '#' || strncmp(line, "#HttpOnly_", 10) == 0)) {
            if (add_line(cur, line) != 0)
                return -1;
        }
    }
    return 0;
}

struct cio_cookies *cio__cookies_new(const char *file)
{
    struct cio_cookies *c = cio__calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->nbuckets = 64;
    c->nsec_buckets = 256;
    c->bucket = cio__calloc(c->nbuckets, sizeof *c->bucket);
    c->sec = cio__calloc(c->nsec_buckets, sizeof *c->sec);
    if (c->bucket == NULL || c->sec == NULL ||
        (file != NULL && file[0] != '\0' && read_file(c, file) != 0)) {
        cio__cookies_free(c);
        return NULL;
    }
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

/* Puts a section's cookies into the store (through a handle of its own). 0 or -1. */
static int load(CURLSH *sh, const struct section *sec)
{
    if (sec == NULL || sec->n == 0)
        return 0;
    CURL *e = curl_easy_init();
    int rc = e != NULL && curl_easy_setopt(e, CURLOPT_SHARE, sh) == CURLE_OK ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < sec->n; i++)
        curl_easy_setopt(e, CURLOPT_COOKIELIST, sec->line[i]); /* a bad line is passed over */
    curl_easy_cleanup(e);
    return rc;
}

/* A new store with the file's cookies for it; NULL when out of memory. */
static struct store *store_new(struct cio_cookies *c, const char *key)
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
    struct section *own = section_of(c, key, 0);
    if (rc != CURLSHE_OK || load(s->sh, &c->common) != 0 || load(s->sh, own) != 0) {
        store_free(s);
        return NULL;
    }
    if (own != NULL)
        own->used = 1; /* written from the store at the end, not from the file */
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

CURLSH *cio__cookies_of(struct cio_cookies *c, const char *raw_key)
{
    char *key = escaped(raw_key);

    if (key == NULL)
        return NULL;
    size_t at = hash_of(key) & (c->nbuckets - 1);
    for (struct store *s = c->bucket[at]; s != NULL; s = s->next)
        if (strcmp(s->key, key) == 0) {
            cio__free(key);
            return s->sh;
        }
    if (c->n >= 2 * c->nbuckets && grow(c) == 0)
        at = hash_of(key) & (c->nbuckets - 1);
    struct store *s = store_new(c, key);
    cio__free(key);
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

static int write_line(int fd, const char *a, const char *b)
{
    int rc = write_all(fd, a, strlen(a));

    if (rc == 0 && b != NULL)
        rc = write_all(fd, b, strlen(b));
    return rc != 0 ? rc : write_all(fd, "\n", 1);
}

static int write_section(int fd, const struct section *s)
{
    int rc = s->key != NULL ? write_line(fd, MARK, s->key) : 0;

    for (size_t i = 0; rc == 0 && i < s->n; i++)
        rc = write_line(fd, s->line[i], NULL);
    return rc;
}

int cio__cookies_save(struct cio_cookies *c, const char *path)
{
    static const char head[] = "# Netscape HTTP Cookie File\n"
                               "# Written by Concurio: each key's cookies follow its \"" MARK
                               "\" line;\n# those before any such line are every key's.\n\n";
    size_t n = strlen(path) + 32;
    char *tmp = cio__malloc(n);
    CURL *e = curl_easy_init();
    int fd = -1, rc = tmp == NULL || e == NULL ? ENOMEM : 0;

    if (rc == 0) {
        snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
        unlink(tmp); /* not one left by a killed run, nor a link someone put there */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600); /* secrets */
        rc = fd < 0 ? errno : write_all(fd, head, sizeof head - 1);
    }
    if (rc == 0)
        rc = write_section(fd, &c->common);
    for (size_t i = 0; rc == 0 && i < c->nsec_buckets; i++)
        for (const struct section *s = c->sec[i]; rc == 0 && s != NULL; s = s->next)
            if (!s->used)
                rc = write_section(fd, s); /* a key without a request this run */
    for (size_t i = 0; rc == 0 && i < c->nbuckets; i++)
        for (struct store *s = c->bucket[i]; rc == 0 && s != NULL; s = s->next) {
            struct curl_slist *list = NULL;
            if (curl_easy_setopt(e, CURLOPT_SHARE, s->sh) != CURLE_OK ||
                curl_easy_getinfo(e, CURLINFO_COOKIELIST, &list) != CURLE_OK)
                rc = ENOMEM;
            if (rc == 0 && list != NULL)
                rc = write_line(fd, MARK, s->key);
            for (struct curl_slist *l = list; rc == 0 && l != NULL; l = l->next)
                rc = write_line(fd, l->data, NULL);
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

static void section_free(struct section *s)
{
    cio__free(s->line);
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
    for (size_t i = 0; c->sec != NULL && i < c->nsec_buckets; i++)
        for (struct section *s = c->sec[i], *next; s != NULL; s = next) {
            next = s->next;
            section_free(s);
            cio__free(s);
        }
    section_free(&c->common);
    cio__free(c->bucket);
    cio__free(c->sec);
    cio__free(c->text);
    cio__free(c);
}
