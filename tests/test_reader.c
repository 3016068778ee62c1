/* SPDX-License-Identifier: Apache-2.0 */
/* Reading input lines from real file descriptors in bounded memory. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "reader.h"

static struct fetch_reader R;

/* A pipe holding `data`, read end returned (the writer is closed: end of input). */
static int input(const char *data, size_t len)
{
    FILE *f = tmpfile();

    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fflush(f);
    rewind(f);
    int fd = dup(fileno(f));
    fclose(f);
    return fd;
}

static char got[8][128];
static size_t lens[8];

static int read_all(const char *data, size_t len)
{
    int fd = input(data, len), n = 0;
    const char *line;
    size_t l;

    fetch_reader_init(&R, fd);
    while (fetch_reader_next(&R, &line, &l) == 1 && n < 8) {
        lens[n] = l;
        snprintf(got[n], sizeof got[n], "%.*s", (int)(l < 100 ? l : 100), line);
        n++;
    }
    close(fd);
    return n;
}

Test(reader, lines_with_crlf_and_no_final_newline)
{
    cr_assert_eq(read_all("a\nb\r\n\nlast", 10), 4);
    cr_assert_str_eq(got[0], "a");
    cr_assert_str_eq(got[1], "b\r", "CR is left for the parser, which trims it");
    cr_assert_str_eq(got[2], "");
    cr_assert_str_eq(got[3], "last");
    cr_assert_eq(R.line, 4);
}

Test(reader, a_byte_order_mark_at_the_start_is_skipped)
{
    cr_assert_eq(read_all("\xEF\xBB\xBFhttp://h/\n", 13), 1);
    cr_assert_str_eq(got[0], "http://h/");
    cr_assert_eq(read_all("", 0), 0, "empty input");
}

Test(reader, nul_bytes_stay_in_the_line)
{
    cr_assert_eq(read_all("a\0b\nc\n", 6), 2);
    cr_assert_eq(lens[0], 3);
}

Test(reader, an_overlong_line_comes_cut_and_the_next_line_is_whole)
{
    size_t big = FETCH_MAX_LINE * 3;
    char *data = malloc(big + 20);

    memset(data, 'x', big);
    memcpy(data + big, "\nnext\n", 6);
    cr_assert_eq(read_all(data, big + 6), 2);
    cr_assert_eq(lens[0], FETCH_MAX_LINE + 1, "cut to the limit + 1: an error record");
    cr_assert_str_eq(got[1], "next");
    cr_assert_eq(R.line, 2, "line numbers count the long line once");
    free(data);
}

Test(reader, a_line_exactly_at_the_limit_is_whole)
{
    char *data = malloc(FETCH_MAX_LINE + 1);

    memset(data, 'y', FETCH_MAX_LINE);
    data[FETCH_MAX_LINE] = '\n';
    cr_assert_eq(read_all(data, FETCH_MAX_LINE + 1), 1);
    cr_assert_eq(lens[0], FETCH_MAX_LINE);
    free(data);
}
