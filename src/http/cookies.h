/* SPDX-License-Identifier: Apache-2.0 */
/* Cookies, one store per key: a libcurl share (CURL_LOCK_DATA_COOKIE) for each key that
 * had a request, so two keys (two hosts, two API tokens on one host) never see each
 * other's cookies, while a key's requests, redirects included, share theirs. Transfers
 * on several lanes use a store at once: each share has its own lock. */
#ifndef CIO_COOKIES_H
#define CIO_COOKIES_H

#include <stddef.h>

#include <curl/curl.h>

struct cio_cookies;

/* The stores of a pool; file ("" or NULL: none) is loaded into each new one (curl's
 * cookie file format, or Set-Cookie lines). NULL when out of memory. */
struct cio_cookies *cio__cookies_new(const char *file);
/* The store of key, made (and loaded) at its first request; NULL when out of memory. */
CURLSH *cio__cookies_of(struct cio_cookies *c, const char *key);
/* Every store's cookies in curl's cookie file format into path (through a temporary
 * file renamed over it). 0, or an errno. Loop thread. */
int cio__cookies_save(struct cio_cookies *c, const char *path);
/* Frees the stores: no easy handle may use one any more. NULL is fine. */
void cio__cookies_free(struct cio_cookies *c);

#endif
