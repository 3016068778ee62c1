/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for concurio-fetch's record writer over a server's response headers (the
 * "content_type" and "headers" fields): any header bytes give one line of valid JSON, an
 * object whose "headers" is an object of strings; no crash, no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct fetch_record *r)
{
    struct fetch_buf b = {0};

    if (fetch_record_append(&b, r, FETCH_BODY_NONE) != 0)
        abort(); /* only out of memory may fail */
    if (b.len == 0 || b.p[b.len - 1] != '\n' || memchr(b.p, '\n', b.len - 1) != NULL)
        abort(); /* one line */
    cJSON *o = cJSON_ParseWithLength(b.p, b.len);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers");
    if (!cJSON_IsObject(o) || !cJSON_IsObject(h))
        abort();
    for (const cJSON *v = h->child; v != NULL; v = v->next)
        if (!cJSON_IsString(v) || v->string == NULL)
            abort();
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(o, "content_type");
    if (ct != NULL && !cJSON_IsString(ct))
        abort();
    cJSON_Delete(o);
    fetch_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"etag", "Link", "content-type", "X-A"};
    struct fetch_keep some = {names, 4, 0}, all = {NULL, 0, 1};
    struct fetch_record r = {
        .line = 1,
        .url = "http://127.0.0.1/",
        .outcome = FETCH_DONE,
        .http_status = 200,
        .headers = (const char *)data,
        .headers_len = size,
        .keep = &some,
    };

    check(&r);
    r.keep = &all;
    check(&r);
    return 0;
}
