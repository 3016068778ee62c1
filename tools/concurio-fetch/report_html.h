/* SPDX-License-Identifier: Apache-2.0 */
/* --report's HTML page from a report (report.h). Pure: text into a buffer. */
#ifndef CIO_FETCH_REPORT_HTML_H
#define CIO_FETCH_REPORT_HTML_H

#include <concurio/concurio.h>

#include "output.h"
#include "report.h"

struct fetch_report_opts {
    cio_rate rate; /* the run's -r, drawn as its limit; count 0: none */
};

/* Appends the whole page to out. 0, or -1 when out of memory. */
int fetch_report_html(const struct fetch_report *r, const struct fetch_report_opts *o,
                      struct fetch_buf *out);

#endif
