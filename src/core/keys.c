/* SPDX-License-Identifier: Apache-2.0 */
/* Per-key queues, caps and limiters, served round robin to their fair share; and the
 * default key of a URL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "mem.h"

#define FIRST_SLOTS 64u

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void key_free(struct cio_key *key)
{
    cio__lim_free(&key->lim);
    cio__free(key);
}

int cio__keys_init(struct cio_keys *k, const cio_limits *dflt)
{
    memset(k, 0, sizeof *k);
    k->slots = cio__calloc(FIRST_SLOTS, sizeof *k->slots);
    if (k->slots == NULL)
        return CIO_E_NOMEM;
    k->nslots = FIRST_SLOTS;
    k->sweep_at = FIRST_SLOTS;
    cio_list_init(&k->round);
    if (dflt != NULL)
        k->dflt = *dflt;
    return CIO_OK;
}

void cio__keys_free(struct cio_keys *k)
{
    for (size_t i = 0; i < k->nslots; i++)
        while (k->slots[i] != NULL) {
            struct cio_key *key = k->slots[i];
            k->slots[i] = key->hnext;
            key_free(key);
        }
    cio__free(k->slots);
    memset(k, 0, sizeof *k);
}

static void grow(struct cio_keys *k)
{
    size_t n = k->nslots * 2;
    struct cio_key **slots = cio__calloc(n, sizeof *slots);

    if (slots == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < k->nslots; i++)
        while (k->slots[i] != NULL) {
            struct cio_key *key = k->slots[i];
            k->slots[i] = key->hnext;
            key->hnext = slots[hash(key->name) & (n - 1)];
            slots[hash(key->name) & (n - 1)] = key;
        }
    cio__free(k->slots);
    k->slots = slots;
    k->nslots = n;
}

static void sweep(struct cio_keys *k, uint64_t now);

static int apply(struct cio_key *key, const cio_limits *l, uint64_t now)
{
    struct cio_lim fresh;
    int rc = cio__lim_init(&fresh, &l->rate, now);

    if (rc != CIO_OK)
        return rc;
    cio__lim_replace(&key->lim, &fresh);
    key->limits = *l;
    return CIO_OK;
}

struct cio_key *cio__keys_get(struct cio_keys *k, const char *name, uint64_t now)
{
    uint64_t h = hash(name);

    for (struct cio_key *key = k->slots[h & (k->nslots - 1)]; key != NULL; key = key->hnext)
        if (strcmp(key->name, name) == 0)
            return key;
    if (k->nkeys >= k->sweep_at)
        sweep(k, now);
    size_t n = strlen(name);
    struct cio_key *key = cio__calloc(1, sizeof *key + n + 1);
    if (key == NULL)
        return NULL;
    memcpy(key->name, name, n + 1);
    cio_list_init(&key->round);
    cio_list_init(&key->queue);
    /* Items without a key of their own share "", limited only by the pool's limits. */
    static const cio_limits none;
    if (apply(key, name[0] == '\0' ? &none : &k->dflt, now) != CIO_OK) {
        cio__free(key);
        return NULL;
    }
    key->hnext = k->slots[h & (k->nslots - 1)];
    k->slots[h & (k->nslots - 1)] = key;
    if (++k->nkeys > k->nslots)
        grow(k);
    return key;
}

int cio__keys_set(struct cio_keys *k, const char *name, const cio_limits *l, uint64_t now)
{
    struct cio_key *key = cio__keys_get(k, name, now);

    if (key == NULL)
        return CIO_E_NOMEM;
    int rc = apply(key, l, now);
    if (rc == CIO_OK)
        key->own_limits = 1;
    return rc;
}

void cio__keys_release(struct cio_keys *k, struct cio_key *key, uint64_t now)
{
    if (key->own_limits || key->tasks > 0 || !cio__lim_idle(&key->lim, now) ||
        key->adapt.rate != 0 || key->adapt.paused_until > now)
        return;
    struct cio_key **at = &k->slots[hash(key->name) & (k->nslots - 1)];
    while (*at != key)
        at = &(*at)->hnext;
    *at = key->hnext;
    k->nkeys--;
    key_free(key);
}

/* Keys whose bucket was still refilling when their last task ended are let go here,
 * once the table has doubled since the last sweep: memory follows the keys in use. */
static void sweep(struct cio_keys *k, uint64_t now)
{
    for (size_t i = 0; i < k->nslots; i++) {
        struct cio_key *key = k->slots[i];
        while (key != NULL) {
            struct cio_key *next = key->hnext;
            cio__keys_release(k, key, now);
            key = next;
        }
    }
    k->sweep_at = k->nkeys * 2 > FIRST_SLOTS ? k->nkeys * 2 : FIRST_SLOTS;
}

/* The key after `key` in the round, round and round (the round's head is no key). */
static struct cio_key *round_next(const struct cio_keys *k, const struct cio_key *key)
{
    const struct cio_node *n = key->round.next;

    if (n == &k->round)
        n = n->next;
    return cio_list_entry(n, struct cio_key, round);
}

static void round_add(struct cio_keys *k, struct cio_key *key)
{
    k->waiting_keys++;
    if (k->cursor == NULL) {
        cio_list_push_back(&k->round, &key->round);
        k->cursor = key;
        return;
    }
    /* Just before the cursor: the newest key is served last in this round. */
    cio_list_insert_after(k->cursor->round.prev, &key->round);
}

static void round_remove(struct cio_keys *k, struct cio_key *key)
{
    k->waiting_keys--;
    if (k->cursor == key)
        k->cursor = k->waiting_keys > 0 ? round_next(k, key) : NULL;
    cio_list_remove(&key->round);
}

void cio__keys_push(struct cio_keys *k, cio_task *t, int front)
{
    struct cio_key *key = t->key;

    if (key->queued == 0)
        round_add(k, key);
    if (front)
        cio_list_push_front(&key->queue, &t->node);
    else
        cio_list_push_back(&key->queue, &t->node);
    key->queued++;
    k->queued++;
}

void cio__keys_remove(struct cio_keys *k, cio_task *t)
{
    struct cio_key *key = t->key;

    cio_list_remove(&t->node);
    key->queued--;
    k->queued--;
    if (key->queued == 0)
        round_remove(k, key);
}

static cio_task *head_of(const struct cio_key *key)
{
    return cio_list_entry(key->queue.next, cio_task, node);
}

/* The key's limiter follows its adaptive rate, or its own limits again once recovered.
 * A cut starts its bucket empty: the next start waits one interval at the new rate. */
static void slow_down(struct cio_key *key, uint64_t now)
{
    if (key->adapt.rate == 0) {
        apply(key, &key->limits, now);
        return;
    }
    cio_rate r = {.count = (unsigned)key->adapt.rate,
                  .period_ms = CIO_RL_MINUTE,
                  .burst = 1,
                  .mode = CIO_RATE_PACED,
                  .start_empty = 1};
    struct cio_lim fresh;
    if (cio__lim_init(&fresh, &r, now) != CIO_OK)
        return;
    cio__lim_replace(&key->lim, &fresh);
}

static uint64_t per_minute(const cio_limits *l)
{
    return cio__rate_minute(&l->rate);
}

int cio__keys_throttled(struct cio_key *key, uint64_t now, int cut, uint64_t pause_ms,
                        uint64_t pool_per_minute)
{
    uint64_t own = per_minute(&key->limits);
    uint64_t held_to = own == 0                                        ? pool_per_minute
                       : pool_per_minute != 0 && pool_per_minute < own ? pool_per_minute
                                                                       : own;
    int changed = cut && cio__adapt_throttled(&key->adapt, now, held_to);

    if (changed)
        slow_down(key, now);
    if (pause_ms > 0 && now + pause_ms > key->adapt.paused_until)
        key->adapt.paused_until = now + pause_ms;
    return changed;
}

void cio__keys_started(struct cio_key *key, uint64_t now)
{
    cio__adapt_start(&key->adapt, now);
}

cio_task *cio__keys_find(struct cio_keys *k, cio_task_id id)
{
    struct cio_node *kn, *tn;

    cio_list_each(kn, &k->round)
    {
        struct cio_key *key = cio_list_entry(kn, struct cio_key, round);
        cio_list_each(tn, &key->queue)
        {
            cio_task *t = cio_list_entry(tn, cio_task, node);
            if (t->id == id)
                return t;
        }
    }
    return NULL;
}

void cio__keys_each_head(struct cio_keys *k, void (*fn)(cio_task *t, void *arg), void *arg)
{
    struct cio_node *kn;

    cio_list_each(kn, &k->round) fn(head_of(cio_list_entry(kn, struct cio_key, round)), arg);
}

/* One round of the round: the first key that may start now, with fewer than `share` in
 * flight. *best: the shortest wait for a token seen; *held: some key was passed over
 * for its share alone. */
static struct cio_key *pick(struct cio_keys *k, uint64_t now,
                            int (*ready)(const cio_task *t, void *arg), void *arg, size_t share,
                            uint64_t *best, int *held)
{
    struct cio_key *key = k->cursor;

    for (size_t n = 0; key != NULL && n < k->waiting_keys; n++, key = round_next(k, key)) {
        if (key->limits.max_concurrency != 0 && key->in_flight >= key->limits.max_concurrency)
            continue;
        cio_task *head = head_of(key);
        if (ready != NULL && !ready(head, arg))
            continue;
        if (cio__adapt_tick(&key->adapt, now))
            slow_down(key, now);
        uint64_t wait = key->adapt.paused_until > now ? key->adapt.paused_until - now
                                                      : cio__lim_wait(&key->lim, now);
        if (wait > 0) {
            if (head->rate_wait_from == 0)
                head->rate_wait_from = now;
            *best = *best == 0 || wait < *best ? wait : *best;
            continue;
        }
        if (key->in_flight >= share) {
            *held = 1;
            continue;
        }
        return key;
    }
    return NULL;
}

cio_task *cio__keys_next(struct cio_keys *k, uint64_t now,
                         int (*ready)(const cio_task *t, void *arg), void *arg, size_t cap,
                         uint64_t *wait_ms)
{
    uint64_t best = 0;
    int held = 0;
    /* While other keys wait too, a key gets no slot past its share of the pool: one
     * slow key never takes every slot. When the others cannot start now (a token, a
     * cap), it may: a slot never idles for fairness alone. */
    size_t share = k->waiting_keys > 1 ? (cap + k->waiting_keys - 1) / k->waiting_keys : SIZE_MAX;
    struct cio_key *key = pick(k, now, ready, arg, share, &best, &held);

    if (key == NULL && held)
        key = pick(k, now, ready, arg, SIZE_MAX, &best, &held);
    if (key == NULL) {
        *wait_ms = best;
        return NULL;
    }
    cio_task *t = head_of(key);
    if (t->reports_sent) /* a limit counts it when its request goes out */
        t->held_key = (unsigned)cio__lim_hold(&key->lim, now);
    else
        cio__lim_take(&key->lim, now);
    k->cursor = round_next(k, key); /* round robin: the next key goes first next time */
    cio__keys_remove(k, t);
    return t;
}

int cio__url_key(const char *url, char *out, size_t len)
{
    const char *scheme_end = strstr(url, "://");
    const char *scheme = url;
    const char *dflt;

    if (scheme_end == NULL)
        return -1;
    size_t slen = (size_t)(scheme_end - scheme);
    if (slen == 4 && strncasecmp(scheme, "http", 4) == 0)
        dflt = "80";
    else if (slen == 5 && strncasecmp(scheme, "https", 5) == 0)
        dflt = "443";
    else
        return -1;
    const char *auth = scheme_end + 3;
    size_t alen = strcspn(auth, "/?#");
    /* Drop user:password@; an '@' may appear in the userinfo only before the host. */
    for (size_t i = alen; i > 0; i--)
        if (auth[i - 1] == '@') {
            auth += i;
            alen -= i;
            break;
        }
    const char *host = auth, *port = NULL;
    size_t hlen = alen;
    if (alen > 0 && auth[0] == '[') { /* [IPv6]:port */
        const char *close = memchr(auth, ']', alen);
        if (close == NULL)
            return -1;
        hlen = (size_t)(close - auth) + 1;
        if (hlen < alen && auth[hlen] == ':')
            port = auth + hlen + 1;
    } else {
        const char *colon = memchr(auth, ':', alen);
        if (colon != NULL) {
            hlen = (size_t)(colon - auth);
            port = colon + 1;
        }
    }
    size_t plen = port != NULL ? (size_t)(auth + alen - port) : 0;
    if (hlen == 0)
        return -1;
    if (plen == 0) {
        port = dflt;
        plen = strlen(dflt);
    }
    /* Built by hand: this runs for every request, and snprintf cost a third of it. */
    size_t n = slen + 3 + hlen + 1 + plen;
    if (n >= len)
        return -1;
    memcpy(out, scheme, slen);
    memcpy(out + slen, "://", 3);
    memcpy(out + slen + 3, host, hlen);
    out[slen + 3 + hlen] = ':';
    memcpy(out + slen + 4 + hlen, port, plen);
    out[n] = '\0';
    for (char *c = out; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return 0;
}
