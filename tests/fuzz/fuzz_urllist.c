/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for concurio-fetch's input lines: any bytes must give SKIP, an item with
 * an http(s) URL, or an error with a message; nothing else, no crash, no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "urllist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fetch_item it;
    enum fetch_line rc = fetch_parse_line((const char *)data, size, &it);

    if (rc == FETCH_ITEM && (it.url == NULL || (strncasecmp(it.url, "http://", 7) != 0 &&
                                                strncasecmp(it.url, "https://", 8) != 0)))
        abort(); /* only http and https are ever fetched */
    if (rc == FETCH_BAD && it.error[0] == '\0')
        abort(); /* a bad line always says why */
    for (size_t i = 0; i < it.nheaders; i++)
        if (strpbrk(it.headers[i], "\r\n") != NULL)
            abort(); /* no header injection */
    fetch_item_clear(&it);
    return 0;
}
