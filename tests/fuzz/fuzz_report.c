/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for --report over any records file (a queue job's records come from
 * Redis; any file may be given): every line of the input into a report, then its page,
 * whose data must stay inside its <script> (two "</script>" in all). No crash, no leak,
 * no unbounded loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fetch_report report;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fetch_report_opts o = {.rate = {.count = (unsigned)size, .period_ms = 1000}};
    struct fetch_buf page = {0};
    const char *s = (const char *)data, *end = s + size;

    if (fetch_report_init(&report) != 0)
        return 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *stop = nl != NULL ? nl : end;
        fetch_report_add(&report, s, (size_t)(stop - s));
        s = stop + 1;
    }
    if (fetch_report_html(&report, &o, &page) != 0 || fetch_buf_add(&page, "", 1) != 0)
        abort(); /* only out of memory may fail */
    size_t scripts = 0;
    for (const char *p = page.p; (p = strstr(p, "</script>")) != NULL; p++)
        scripts++;
    if (scripts != 2 || memchr(page.p, '\0', page.len - 1) != NULL)
        abort();
    fetch_buf_free(&page);
    fetch_report_free(&report);
    return 0;
}
