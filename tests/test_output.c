/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's records: fields, escaping, bodies, redaction. Every line is parsed
 * back with cJSON. Pure: no I/O. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "output.h"

static cJSON *parsed(const struct fetch_record *r, enum fetch_body mode)
{
    struct fetch_buf b = {0};
    cr_assert_eq(fetch_record_append(&b, r, mode), 0);
    cr_assert_eq(fetch_record_append(&b, r, mode), 0, "records follow each other");
    cr_assert_eq(b.len % 2, 0);
    cr_assert_eq(memcmp(b.p, b.p + b.len / 2, b.len / 2), 0);
    char *line = malloc(b.len / 2 + 1); /* the buffer holds no NUL: no strndup */
    cr_assert_not_null(line);
    memcpy(line, b.p, b.len / 2);
    line[b.len / 2] = '\0';
    fetch_buf_free(&b);
    size_t n = strlen(line);
    cr_assert_eq(line[n - 1], '\n', "a whole line");
    cr_assert_null(memchr(line, '\n', n - 1), "one line");
    cJSON *o = cJSON_Parse(line);
    cr_assert_not_null(o, "valid JSON: %s", line);
    free(line);
    return o;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double num(const cJSON *o, const char *k)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

Test(output, a_done_record_has_the_fields_of_the_contract)
{
    cio_timings tm = {.queued_ms = 3, .rate_wait_ms = 1, .connect_ms = 2, .total_ms = 40};
    struct fetch_record r = {.id = "\"a7\"",
                             .line = 12,
                             .url = "http://h/x",
                             .method = "GET",
                             .outcome = FETCH_DONE,
                             .http_status = 200,
                             .elapsed_ms = 37,
                             .bytes = 5,
                             .attempts = 2,
                             .timings = &tm};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);

    cr_assert_str_eq(str(o, "id"), "a7");
    cr_assert_eq(num(o, "line"), 12);
    cr_assert_str_eq(str(o, "url"), "http://h/x");
    cr_assert_str_eq(str(o, "method"), "GET");
    cr_assert_str_eq(str(o, "outcome"), "done");
    cr_assert_eq(num(o, "http_status"), 200);
    cr_assert_eq(num(o, "elapsed_ms"), 37);
    cr_assert_eq(num(o, "bytes"), 5);
    cr_assert_eq(num(o, "attempts"), 2);
    cr_assert_null(cJSON_GetObjectItem(o, "error"));
    cr_assert_null(cJSON_GetObjectItem(o, "body"), "no body without a body mode");
    cr_assert_eq(num(cJSON_GetObjectItem(o, "timings"), "connect_ms"), 2);
    cJSON_Delete(o);
}

Test(output, without_an_id_the_line_number_is_the_id)
{
    struct fetch_record r = {.line = 9, .url = "http://h/", .outcome = FETCH_DONE};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);

    cr_assert_eq(num(o, "id"), 9);
    cr_assert_null(cJSON_GetObjectItem(o, "http_status"), "no response, no status");
    cJSON_Delete(o);
}

Test(output, errors_and_timeouts_say_why_and_which_limit)
{
    struct fetch_record e = {.id = "17",
                             .line = 1,
                             .url = "http://h/\"\n\x01",
                             .outcome = FETCH_ERROR,
                             .error = "couldn't connect: \"refused\"\n"};
    cJSON *o = parsed(&e, FETCH_BODY_TEXT);
    cr_assert_eq(num(o, "id"), 17);
    cr_assert_str_eq(str(o, "url"), "http://h/\"\n\x01", "escaped and back");
    cr_assert_str_eq(str(o, "error"), "couldn't connect: \"refused\"\n");
    cr_assert_null(cJSON_GetObjectItem(o, "body"), "bodies are for done records");
    cJSON_Delete(o);

    struct fetch_record t = {.line = 2,
                             .url = "http://h/",
                             .outcome = FETCH_TIMEOUT,
                             .error = "timed out",
                             .timeout_ms = 1500};
    o = parsed(&t, FETCH_BODY_NONE);
    cr_assert_str_eq(str(o, "outcome"), "timeout");
    cr_assert_eq(num(o, "timeout_ms"), 1500);
    cJSON_Delete(o);
}

Test(output, text_bodies_are_repaired_utf8_and_base64_bodies_exact)
{
    struct fetch_record r = {.line = 1,
                             .url = "http://h/",
                             .outcome = FETCH_DONE,
                             .body = "ok \xff\xc3\xa9\0z",
                             .body_len = 8,
                             .truncated = 1};
    cJSON *o = parsed(&r, FETCH_BODY_TEXT);
    cr_assert_str_eq(str(o, "body"), "ok \xEF\xBF\xBD\xc3\xa9", "cJSON stops at the NUL");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "truncated")));
    cJSON_Delete(o);
    struct fetch_buf b = {0};
    cr_assert_eq(fetch_record_append(&b, &r, FETCH_BODY_TEXT), 0);
    cr_assert_not_null(memmem(b.p, b.len, "\\u0000z\"", 8), "a NUL is \\u0000, not dropped");
    fetch_buf_free(&b);
    o = parsed(&r, FETCH_BODY_BASE64);
    cr_assert_str_eq(str(o, "body"), "b2sg/8OpAHo=");
    cJSON_Delete(o);
}

Test(output, base64_matches_the_rfc_vectors)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *b = fetch_base64(in[i], strlen(in[i]));
        cr_assert_str_eq(b, out[i]);
        free(b);
    }
}

Test(output, passwords_in_urls_are_hidden)
{
    static const char *const in[] = {"https://user:secret@api.example.com/x?a=b@c",
                                     "https://user@h/",
                                     "http://h/a:b@c",
                                     "not a url",
                                     "http://u:p:q@h:8080/",
                                     "Failed https://a:b@x/ then http://c:@y and ftp://d:e@z",
                                     "://",
                                     "x://:@"};
    static const char *const out[] = {"https://***@api.example.com/x?a=b@c",
                                      "https://***@h/",
                                      "http://h/a:b@c",
                                      "not a url",
                                      "http://***@h:8080/",
                                      "Failed https://***@x/ then http://***@y and ftp://***@z",
                                      "://",
                                      "x://***@"};
    for (int i = 0; i < 8; i++) {
        char *r = fetch_redact(in[i]);
        cr_assert_str_eq(r, out[i]);
        free(r);
    }
    /* In records: the url and the error. */
    struct fetch_buf b = {0};
    struct fetch_record rec = {
        .line = 1, .url = in[0], .outcome = FETCH_ERROR, .error = "Failed https://a:b@x/ quoted"};
    char line[512];
    cr_assert_eq(fetch_record_append(&b, &rec, FETCH_BODY_NONE), 0);
    snprintf(line, sizeof line, "%.*s", (int)b.len, b.p); /* the buffer has no NUL */
    cr_assert(strstr(line, "secret") == NULL && strstr(line, ":b@") == NULL, "%s", line);
    cr_assert(strstr(line, "//***@api") != NULL && strstr(line, "//***@x") != NULL, "%s", line);
    fetch_buf_free(&b);
}

Test(output, ids_keep_their_escapes_and_strings_stay_valid_utf8)
{
    struct fetch_record r = {.id = "\"a\\\"b\\u0001\xff\"",
                             .line = 3,
                             .url = "http://h/\xc3",
                             .error = "bad \xe2\x82 byte",
                             .outcome = FETCH_ERROR};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);
    cr_assert_str_eq(str(o, "id"), "a\"b\x01\xEF\xBF\xBD");
    cr_assert_str_eq(str(o, "url"), "http://h/\xEF\xBF\xBD");
    cr_assert_str_eq(str(o, "error"), "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
    cJSON_Delete(o);
}

Test(output, userinfo_is_hidden_whatever_it_holds)
{
    static const char *const in[] = {"http://TOKEN@api.example.com/x",
                                     "http://user:pass word@h/p",
                                     "http://user:p#ss@h/p",
                                     "http://user:p?ss@h/p",
                                     "http://user:pa/ss@h/p",
                                     "http://h:8080/path@x",
                                     "http://[::1]:80/x@y",
                                     "https://medium.com/@user",
                                     "curl: (6) Could not resolve host: http://a:b c@h/ now"};
    static const char *const out[] = {"http://***@api.example.com/x",
                                      "http://***@h/p",
                                      "http://***@h/p",
                                      "http://***@h/p",
                                      "http://***@h/p",
                                      "http://h:8080/path@x",
                                      "http://[::1]:80/x@y",
                                      "https://medium.com/@user",
                                      "curl: (6) Could not resolve host: http://***@h/ now"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *r = fetch_redact(in[i]);
        cr_assert_str_eq(r, out[i], "case %zu", i);
        free(r);
    }
}

Test(output, a_long_bad_line_is_cut_after_its_password_is_hidden)
{
    static char url[700], want[201];
    memset(url, 's', sizeof url - 1);
    memcpy(url, "http://user:", 12);
    memcpy(url + 312, "@host/", 6); /* a password of 300 characters */
    memset(want, 's', 200);
    memcpy(want, "http://***@host/", 16);
    struct fetch_record r = {
        .line = 7, .url = url, .url_max = 200, .outcome = FETCH_ERROR, .error = "bad"};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);
    cr_assert_str_eq(str(o, "url"), want, "hidden first, then cut to 200 bytes");
    cJSON_Delete(o);
}

Test(output, line_separators_in_a_text_body_are_escaped)
{
    struct fetch_record r = {.line = 1,
                             .url = "http://h/",
                             .outcome = FETCH_DONE,
                             .body = "a\xe2\x80\xa8"
                                     "b\xe2\x80\xa9"
                                     "c\xc2\x85"
                                     "d",
                             .body_len = 12};
    struct fetch_buf b = {0};
    cr_assert_eq(fetch_record_append(&b, &r, FETCH_BODY_TEXT), 0);
    cr_assert_not_null(memmem(b.p, b.len, "a\\u2028b\\u2029c\\u0085d", 22), "%.*s", (int)b.len,
                       b.p);
    cr_assert_null(memmem(b.p, b.len, "\xe2\x80", 2), "no raw separator is left");
    cJSON *o = cJSON_ParseWithLength(b.p, b.len);
    cr_assert_str_eq(cJSON_GetObjectItem(o, "body")->valuestring,
                     "a\xe2\x80\xa8"
                     "b\xe2\x80\xa9"
                     "c\xc2\x85"
                     "d",
                     "the same text, parsed");
    cJSON_Delete(o);
    fetch_buf_free(&b);
}

Test(output, a_cut_body_says_truncated_whatever_the_body_mode)
{
    struct fetch_record r = {.line = 1, .url = "http://h/", .outcome = FETCH_DONE, .truncated = 1};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "truncated")));
    cr_assert_null(cJSON_GetObjectItem(o, "body"));
    cJSON_Delete(o);
    r.truncated = 0;
    o = parsed(&r, FETCH_BODY_NONE);
    cr_assert_null(cJSON_GetObjectItem(o, "truncated"), "no field when nothing was cut");
    cJSON_Delete(o);
    struct fetch_record e = {.line = 2,
                             .url = "http://h/",
                             .outcome = FETCH_ERROR,
                             .http_status = 422,
                             .error = "HTTP status 422",
                             .body = "{\"field\":\"name\"}",
                             .body_len = 16};
    o = parsed(&e, FETCH_BODY_TEXT);
    cr_assert_str_eq(str(o, "body"), "{\"field\":\"name\"}", "an error's body is kept");
    cJSON_Delete(o);
}

Test(output, rfc3339_is_utc_with_milliseconds)
{
    char at[FETCH_RFC3339_LEN];

    fetch_rfc3339(at, 1);
    cr_assert_str_eq(at, "1970-01-01T00:00:00.001Z");
    fetch_rfc3339(at, 1796176271123ull);
    cr_assert_str_eq(at, "2026-12-02T01:51:11.123Z");
    fetch_rfc3339(at, 1709251199999ull);
    cr_assert_str_eq(at, "2024-02-29T23:59:59.999Z", "a leap day");
    fetch_rfc3339(at, UINT64_MAX);
    cr_assert_eq(strlen(at), FETCH_RFC3339_LEN - 1, "past year 9999: still one length");
}

static const char block[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/json; charset=utf-8\r\n"
                            "ETag:  \"v1\" \r\n"
                            "Link: </p2>; rel=next\r\n"
                            "X-Request-Id: r-17\r\n"
                            "link: </p9>; rel=last\r\n"
                            " folded continuation\r\n"
                            "no colon here\r\n"
                            "\r\n";

Test(output, a_response_gives_its_version_content_type_url_and_start)
{
    struct fetch_record r = {.line = 1,
                             .url = "http://h/a",
                             .effective_url = "http://u:secret@h/b",
                             .outcome = FETCH_DONE,
                             .http_status = 200,
                             .http_version = 20,
                             .started_at_ms = 1796176271123ull,
                             .headers = block,
                             .headers_len = sizeof block - 1};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);

    cr_assert_str_eq(str(o, "http_version"), "2");
    cr_assert_str_eq(str(o, "content_type"), "application/json; charset=utf-8");
    cr_assert_str_eq(str(o, "effective_url"), "http://***@h/b", "its password hidden");
    cr_assert_str_eq(str(o, "started_at"), "2026-12-02T01:51:11.123Z");
    cr_assert_null(cJSON_GetObjectItem(o, "headers"), "no headers unless asked for");
    cr_assert_null(cJSON_GetObjectItem(o, "curl_code"));
    cJSON_Delete(o);
    struct fetch_record e = {
        .line = 2, .url = "http://h/", .outcome = FETCH_ERROR, .error = "refused", .curl_code = 7};
    o = parsed(&e, FETCH_BODY_NONE);
    cr_assert_eq(num(o, "curl_code"), 7);
    cr_assert_null(cJSON_GetObjectItem(o, "http_version"), "no response: no version");
    cr_assert_null(cJSON_GetObjectItem(o, "content_type"));
    cr_assert_null(cJSON_GetObjectItem(o, "started_at"), "never started");
    cJSON_Delete(o);
}

Test(output, kept_headers_by_name_in_any_case_repeated_ones_joined)
{
    static const char *const names[] = {"link", "ETAG", "X-Missing", "x-request-id"};
    struct fetch_keep keep = {names, 4, 0};
    struct fetch_record r = {.line = 1,
                             .url = "http://h/",
                             .outcome = FETCH_DONE,
                             .http_status = 200,
                             .headers = block,
                             .headers_len = sizeof block - 1,
                             .keep = &keep};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers");

    cr_assert(cJSON_IsObject(h));
    cr_assert_eq(cJSON_GetArraySize(h), 3, "a header the response lacks is left out");
    cr_assert_str_eq(h->child->string, "link", "in the order named, in lower case");
    cr_assert_str_eq(str(h, "link"), "</p2>; rel=next, </p9>; rel=last");
    cr_assert_str_eq(str(h, "etag"), "\"v1\"", "spaces around the value trimmed");
    cr_assert_str_eq(str(h, "x-request-id"), "r-17");
    cJSON_Delete(o);
}

Test(output, every_header_by_name_when_all_are_kept)
{
    struct fetch_keep all = {NULL, 0, 1};
    struct fetch_record r = {.line = 1,
                             .url = "http://h/",
                             .outcome = FETCH_DONE,
                             .http_status = 200,
                             .headers = block,
                             .headers_len = sizeof block - 1,
                             .keep = &all};
    cJSON *o = parsed(&r, FETCH_BODY_NONE);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers");
    const char *order[] = {"content-type", "etag", "link", "x-request-id"};
    size_t i = 0;

    for (const cJSON *v = h->child; v != NULL; v = v->next, i++) {
        cr_assert_lt(i, 4, "each name once; no status line, no folded or broken line");
        cr_assert_str_eq(v->string, order[i]);
    }
    cr_assert_eq(i, 4);
    cr_assert_str_eq(str(h, "link"), "</p2>; rel=next, </p9>; rel=last");
    cJSON_Delete(o);
    r.headers = "";
    r.headers_len = 0;
    o = parsed(&r, FETCH_BODY_NONE);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "headers")), 0, "an empty object");
    cJSON_Delete(o);
}
