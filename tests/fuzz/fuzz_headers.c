/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for what Concurio parses from untrusted peers and inputs: response header
 * blocks (cio_result_header), rate-limit header values (RateLimit-Remaining/-Reset) and
 * URLs turned into limit keys. Input: the bytes as a header block; its first two lines
 * also as header values, and the whole as a URL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <concurio/concurio.h>

#include "adapt.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    static const char *const names[] = {"content-type", "retry-after", "ratelimit-reset", "x", ""};
    char key[256];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    cio_result res = {.headers = text, .headers_len = size};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len = 0;
        const char *v = cio_result_header(&res, names[i], &len);
        if (v != NULL && (v < text || v + len > text + size))
            abort(); /* a value must lie inside the block */
    }

    char *nl = strchr(text, '\n');
    const char *second = "";
    if (nl != NULL) {
        *nl = '\0';
        second = nl + 1;
    }
    uint64_t pause = cio__adapt_pause_ms(text, second, 1700000000u);
    if (pause > 86400000u)
        abort(); /* never more than a day */
    if (nl != NULL)
        *nl = '\n';

    if (cio__url_key(text, key, sizeof key) == 0 && strlen(key) >= sizeof key)
        abort();
    free(text);
    return 0;
}
