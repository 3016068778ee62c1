/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch --report FILE [-r R] [-o PAGE]: a records file (or standard input) read
 * once into a report, written as one HTML page. The page is written only after the
 * records are read whole, and never over them. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "report_html.h"
#include "report_main.h"
#include "say.h"

/* Reads every line of fd into r, or with a table (--format, --fields) into it; 0 or an
 * errno. */
static int read_all(int fd, struct fetch_report *r, const struct fetch_format *table,
                    struct fetch_buf *out)
{
    struct fetch_reader *rd = malloc(sizeof *rd);
    const char *line;
    size_t len;
    int rc = rd == NULL ? ENOMEM : 0;

    if (rd != NULL)
        fetch_reader_init(rd, fd);
    while (rc == 0) {
        int k = fetch_reader_next(rd, &line, &len);
        if (k == FETCH_READ_LINE) {
            uint64_t before = r->records;
            fetch_report_add(r, line, len); /* a table has the lines that are records only */
            if (table != NULL && r->records > before)
                rc = fetch_format_record(table, line, len, out) != 0 ? ENOMEM : 0;
        } else if (k == FETCH_READ_WAIT)
            poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, -1);
        else if (k == FETCH_READ_ERROR)
            rc = errno != 0 ? errno : EIO;
        else
            break;
    }
    free(rd);
    return rc;
}

int fetch_report_main(const struct fetch_opts *o)
{
    const char *in = o->report, *out = o->output;
    int use_stdin = strcmp(in, "-") == 0;
    int fd = use_stdin ? 0 : open(in, O_RDONLY | O_CLOEXEC);
    struct stat ist, ost;

    if (fd < 0 || fstat(fd, &ist) != 0 || S_ISDIR(ist.st_mode)) {
        fetch_say("cannot read --report %s: %s", in,
                  fd >= 0 && S_ISDIR(ist.st_mode) ? "it is a directory" : strerror(errno));
        if (fd > 0)
            close(fd);
        return FETCH_EXIT_USAGE;
    }
    int to_stdout = out == NULL || strcmp(out, "-") == 0;
    if ((to_stdout ? fstat(1, &ost) : stat(out, &ost)) == 0 && S_ISREG(ist.st_mode) &&
        ost.st_dev == ist.st_dev && ost.st_ino == ist.st_ino) {
        fetch_say("the page would overwrite the records it is made of (%s): give -o another file",
                  in);
        if (fd > 0)
            close(fd);
        return FETCH_EXIT_USAGE;
    }
    struct fetch_report *r = malloc(sizeof *r);
    struct fetch_report_opts ro = {.rate = o->rate};
    struct fetch_buf page = {0};
    const struct fetch_format *table = fetch_format_plain(&o->format) ? NULL : &o->format;
    int rc = r == NULL || fetch_report_init(r) != 0 ? ENOMEM
             : table != NULL && fetch_format_header(table, &page) != 0
                 ? ENOMEM
                 : read_all(fd, r, table, &page);
    if (fd > 0)
        close(fd);
    if (rc != 0) {
        fetch_say("cannot read --report %s: %s", in, strerror(rc));
    } else if (table == NULL && fetch_report_html(r, &ro, &page) != 0) {
        rc = ENOMEM;
        fetch_say("out of memory");
    } else {
        int ofd = to_stdout ? 1 : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        int werr = ofd < 0 ? errno : fetch_write_all(ofd, page.p, page.len);
        if (ofd > 1 && close(ofd) != 0 && werr == 0)
            werr = errno;
        if (werr != 0) {
            fetch_say("cannot write the report to %s: %s", to_stdout ? "standard output" : out,
                      strerror(werr));
            rc = -1;
        } else if (!o->quiet) {
            char what[64] = "records as a table";
            if (table == NULL)
                snprintf(what, sizeof what, "report of %llu records",
                         (unsigned long long)r->records);
            fetch_say("%s written to %s", what, to_stdout ? "standard output" : out);
            if (r->junk + r->too_long > 0)
                fetch_say("%llu lines of %s skipped: %llu not records, %llu longer than %u bytes",
                          (unsigned long long)(r->junk + r->too_long), in,
                          (unsigned long long)r->junk, (unsigned long long)r->too_long,
                          FETCH_MAX_LINE);
        }
    }
    int status = rc == 0 ? FETCH_EXIT_DONE : rc == -1 ? FETCH_EXIT_OUTPUT : FETCH_EXIT_USAGE;
    if (r != NULL)
        fetch_report_free(r);
    free(r);
    fetch_buf_free(&page);
    return status;
}
