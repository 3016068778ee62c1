/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch --report: the records file into the HTML page. */
#ifndef CIO_FETCH_REPORT_MAIN_H
#define CIO_FETCH_REPORT_MAIN_H

#include "options.h"

/* Reads o->report, writes the page to o->output (default standard output); the exit
 * status (messages said). */
int fetch_report_main(const struct fetch_opts *o);

#endif
