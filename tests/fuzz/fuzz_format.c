/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for --fields and --format over any record text (a queue job's records come
 * from Redis, which anyone with access may write): JSON lines out are one valid JSON
 * object; a CSV row has balanced quotes and ends in CRLF once; a TSV row has one tab
 * between each two cells and no other tab or line end. No crash, no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct fetch_format *f, const uint8_t *data, size_t size)
{
    struct fetch_buf b = {0};

    if (fetch_format_record(f, (const char *)data, size, &b) != 0)
        abort(); /* only out of memory may fail */
    if (f->kind == FETCH_FORMAT_JSONL) {
        if (b.len == 0 || b.p[b.len - 1] != '\n' || memchr(b.p, '\n', b.len - 1) != NULL)
            abort();
        cJSON *o = cJSON_ParseWithLength(b.p, b.len);
        if (!cJSON_IsObject(o))
            abort();
        cJSON_Delete(o);
    } else if (f->kind == FETCH_FORMAT_CSV) {
        size_t quotes = 0;
        for (size_t i = 0; i < b.len; i++)
            quotes += b.p[i] == '"';
        if (quotes % 2 != 0 || b.len < 2 || memcmp(b.p + b.len - 2, "\r\n", 2) != 0)
            abort();
    } else {
        size_t tabs = 0;
        for (size_t i = 0; i + 1 < b.len; i++) {
            tabs += b.p[i] == '\t';
            if (b.p[i] == '\n' || b.p[i] == '\r')
                abort();
        }
        if (tabs != f->n - 1 || b.p[b.len - 1] != '\n')
            abort();
    }
    fetch_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fetch_format f = {0};
    char err[512];

    if (fetch_format_fields("id,url,error,headers.etag,timings.total_ms,headers,timings,body", &f,
                            err, sizeof err) != 0)
        abort();
    for (int k = FETCH_FORMAT_JSONL; k <= FETCH_FORMAT_TSV; k++) {
        f.kind = (enum fetch_format_kind)k;
        check(&f, data, size);
    }
    fetch_format_free(&f);
    return 0;
}
