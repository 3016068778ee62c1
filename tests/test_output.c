/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's records: fields, escaping, bodies, redaction. Every line is parsed
 * back with cJSON. Pure: no I/O. */
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
    cr_assert_str_eq(str(o, "body"), "ok \xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBDz");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "truncated")));
    cJSON_Delete(o);
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
    static const char *const out[] = {
        "https://user:***@api.example.com/x?a=b@c",
        "https://user@h/",
        "http://h/a:b@c",
        "not a url",
        "http://u:***@h:8080/",
        "Failed https://a:***@x/ then http://c:***@y and ftp://d:***@z",
        "://",
        "x://:***@"};
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
    cr_assert(strstr(line, "user:***@api") != NULL && strstr(line, "a:***@x") != NULL, "%s", line);
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
