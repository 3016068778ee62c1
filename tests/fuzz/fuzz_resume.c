/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for --resume files, which may be anything a killed or foreign run left:
 * any bytes are junk, another record, or a done record of a line number in range that
 * the line set then holds; never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include "resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t line = 0;
    uint32_t hash;

    if (fetch_prior_parse((const char *)data, size, &line, &hash) == FETCH_PRIOR_DONE) {
        struct fetch_lines s = {0};
        if (line == 0 || line > FETCH_LINES_MAX)
            abort(); /* a done record names a line the set can hold */
        if (fetch_lines_add(&s, line) != 1 || !fetch_lines_has(&s, line) ||
            fetch_lines_has(&s, line + 1))
            abort();
        fetch_lines_free(&s);
    }
    return 0;
}
