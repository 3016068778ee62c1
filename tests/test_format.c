/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's --fields and --format: chosen fields of records as JSON lines, CSV and
 * TSV. CSV is read back with an RFC 4180 reader of the test's own; JSON with cJSON.
 * Pure: no I/O. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "format.h"

static struct fetch_format F;
static struct fetch_buf B;

static void fini(void)
{
    fetch_format_free(&F);
    fetch_buf_free(&B);
}

TestSuite(format, .fini = fini);

static void fields(const char *list)
{
    char err[512];

    cr_assert_eq(fetch_format_fields(list, &F, err, sizeof err), 0, "%s", err);
}

/* The record as F says, NUL-terminated in B. */
static const char *formatted(const char *json)
{
    B.len = 0;
    cr_assert_eq(fetch_format_record(&F, json, strlen(json), &B), 0);
    cr_assert_eq(fetch_buf_add(&B, "", 1), 0);
    return B.p;
}

/* The cells of one RFC 4180 row ending in CRLF: quoted cells may hold commas, CR, LF
 * and doubled quotes. Returns how many cells; each malloc'ed into cells[]. */
static size_t csv_row(const char *s, char **cells, size_t max)
{
    size_t n = 0;

    for (;;) {
        char *c = malloc(strlen(s) + 1);
        size_t len = 0;
        cr_assert_not_null(c);
        if (*s == '"') {
            for (s++;; s++) {
                cr_assert_neq(*s, '\0', "a quoted cell is closed");
                if (*s == '"' && s[1] == '"')
                    c[len++] = *s++;
                else if (*s == '"')
                    break;
                else
                    c[len++] = *s;
            }
            s++;
        } else {
            while (*s != ',' && *s != '\r' && *s != '\0') {
                cr_assert_neq(*s, '"', "a quote only in a quoted cell");
                cr_assert_neq(*s, '\n', "a line end only in a quoted cell");
                c[len++] = *s++;
            }
        }
        c[len] = '\0';
        cr_assert_lt(n, max);
        cells[n++] = c;
        if (*s == ',') {
            s++;
            continue;
        }
        cr_assert_str_eq(s, "\r\n", "the row ends in CRLF, once");
        return n;
    }
}

static const char rec[] =
    "{\"id\":\"a,\\\"b\\\"\",\"line\":3,\"url\":\"http://h/x?q=1,2\",\"outcome\":\"error\","
    "\"http_status\":422,\"error\":\"two\\r\\nlines\\tand \\u00e9 \\ud83d\\ude00\","
    "\"headers\":{\"etag\":\"\\\"v1\\\"\",\"link\":\"</a>, </b>\"},"
    "\"timings\":{\"queued_ms\":4,\"total_ms\":17},\"truncated\":false}\n";

Test(format, csv_cells_read_back_as_they_were)
{
    char *cells[8];

    fields("id,line,url,error,headers.etag,timings.total_ms,truncated,effective_url");
    F.kind = FETCH_FORMAT_CSV;
    cr_assert_eq(fetch_format_header(&F, &B), 0);
    cr_assert_eq(fetch_buf_add(&B, "", 1), 0);
    cr_assert_str_eq(B.p,
                     "id,line,url,error,headers.etag,timings.total_ms,truncated,effective_url\r\n");
    size_t n = csv_row(formatted(rec), cells, 8);
    const char *want[] = {"a,\"b\"",
                          "3",
                          "http://h/x?q=1,2",
                          "two\r\nlines\tand \xc3\xa9 \xf0\x9f\x98\x80",
                          "\"v1\"",
                          "17",
                          "false",
                          ""};
    cr_assert_eq(n, 8, "a cell for every field, the missing one empty");
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(cells[i], want[i], "cell %zu", i);
        free(cells[i]);
    }
}

Test(format, tsv_escapes_tabs_and_line_ends_like_jq)
{
    fields("id,error,http_status,timings");
    F.kind = FETCH_FORMAT_TSV;
    cr_assert_str_eq(formatted(rec),
                     "a,\"b\"\ttwo\\r\\nlines\\tand \xc3\xa9 \xf0\x9f\x98\x80\t422\t"
                     "{\"queued_ms\":4,\"total_ms\":17}\n");
}

Test(format, jsonl_fields_in_the_order_given_missing_ones_left_out)
{
    fields("timings.total_ms,id,worker,headers.link,error");
    const char *line = formatted(rec);
    cr_assert_str_eq(line + strlen(line) - 2, "}\n");
    cJSON *o = cJSON_Parse(line);
    cr_assert_not_null(o, "%s", line);
    const char *order[] = {"timings.total_ms", "id", "headers.link", "error"};
    size_t i = 0;
    for (const cJSON *v = o->child; v != NULL; v = v->next, i++)
        cr_assert_str_eq(v->string, order[i]);
    cr_assert_eq(i, 4, "no worker field: the record has none");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")),
                     "two\r\nlines\tand \xc3\xa9 \xf0\x9f\x98\x80");
    cJSON_Delete(o);
}

Test(format, a_record_that_is_not_one_gives_an_empty_row_not_bad_output)
{
    const char *junk[] = {"",
                          "not json",
                          "{\"id\":",
                          "{\"id\":tru}",
                          "[1,2]",
                          "{\"id\":\"\\u12\"}",
                          "{\"id\":{\"a\":{\"b\":{}}}}}}}"};

    fields("id,line");
    F.kind = FETCH_FORMAT_CSV;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char *cells[2];
        cr_assert_eq(csv_row(formatted(junk[i]), cells, 2), 2, "one row of two cells: %s", junk[i]);
        free(cells[0]);
        free(cells[1]);
    }
    F.kind = FETCH_FORMAT_JSONL;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        cJSON *o = cJSON_Parse(formatted(junk[i]));
        cr_assert_not_null(o, "valid JSON for %s: %s", junk[i], B.p);
        cJSON_Delete(o);
    }
}

Test(format, wrong_field_lists_are_refused_with_the_reason)
{
    const char *bad[][2] = {{"id,nope", "unknown field 'nope'"},
                            {"id,,url", "empty field name"},
                            {"url,url", "'url' is named twice"},
                            {"timings.sometime", "unknown field"},
                            {"headers.", "unknown field"},
                            {"headers.bad name", "unknown field"},
                            {"", "empty field name"}};
    char err[512];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(fetch_format_fields(bad[i][0], &F, err, sizeof err), -1, "%s", bad[i][0]);
        cr_assert(strstr(err, bad[i][1]) != NULL, "%s: %s", bad[i][0], err);
    }
    fields("headers.ETag,id");
    cr_assert_str_eq(F.fields[0], "headers.etag",
                     "header names in lower case, as records have them");
    cr_assert_eq(fetch_format_kind("csv", &F), 0);
    cr_assert_eq(F.kind, FETCH_FORMAT_CSV);
    cr_assert_eq(fetch_format_kind("CSV", &F), -1);
    cr_assert_eq(fetch_format_plain(&F), 0);
}
