/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's input lines: every kind of good and bad line. Pure: no I/O. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "urllist.h"

static struct fetch_item it;

static void clear(void)
{
    fetch_item_clear(&it);
}

static enum fetch_line parse(const char *line)
{
    fetch_item_clear(&it);
    return fetch_parse_line(line, strlen(line), &it);
}

TestSuite(urllist, .fini = clear);

Test(urllist, blank_lines_and_comments_are_skipped)
{
    cr_assert_eq(parse(""), FETCH_SKIP);
    cr_assert_eq(parse("   \t\r\n"), FETCH_SKIP);
    cr_assert_eq(parse("# a comment"), FETCH_SKIP);
    cr_assert_eq(parse("   # indented comment"), FETCH_SKIP);
}

Test(urllist, a_plain_url_is_an_item)
{
    cr_assert_eq(parse("  https://api.example.com/items/17 \r\n"), FETCH_ITEM);
    cr_assert_str_eq(it.url, "https://api.example.com/items/17");
    cr_assert_null(it.method);
    cr_assert_null(it.id);
    cr_assert_eq(parse("HTTP://EXAMPLE.COM/"), FETCH_ITEM);
}

Test(urllist, a_json_line_carries_method_headers_body_id_and_key)
{
    cr_assert_eq(parse("{\"url\": \"http://h/x\", \"method\": \"POST\", \"headers\": "
                       "{\"X-Token\": \"abc\"}, \"body\": \"a=1\", \"id\": \"a7\", "
                       "\"key\": \"token-1\"}"),
                 FETCH_ITEM);
    cr_assert_str_eq(it.url, "http://h/x");
    cr_assert_str_eq(it.method, "POST");
    cr_assert_eq(it.nheaders, 1);
    cr_assert_str_eq(it.headers[0], "X-Token: abc");
    cr_assert_str_eq(it.body, "a=1");
    cr_assert_eq(it.body_is_json, 0);
    cr_assert_str_eq(it.id, "\"a7\"");
    cr_assert_str_eq(it.key, "token-1");
}

Test(urllist, a_json_body_is_sent_as_compact_json_and_numeric_ids_stay_numbers)
{
    cr_assert_eq(parse("{\"url\":\"https://h/\",\"body\":{\"a\": [1, 2]},\"id\":17}"), FETCH_ITEM);
    cr_assert_str_eq(it.body, "{\"a\":[1,2]}");
    cr_assert_eq(it.body_len, strlen(it.body));
    cr_assert_eq(it.body_is_json, 1);
    cr_assert_str_eq(it.id, "17");
}

static void expect_bad(const char *line, const char *why)
{
    cr_assert_eq(parse(line), FETCH_BAD, "line: %s", line);
    cr_assert(strstr(it.error, why) != NULL, "error \"%s\" should say \"%s\"", it.error, why);
    cr_assert_not_null(it.url, "a bad line still says which it was");
}

Test(urllist, bad_lines_get_an_error_that_names_the_problem)
{
    expect_bad("ftp://h/file", "not an http or https URL");
    expect_bad("http://", "not an http or https URL");
    expect_bad("example.com/x", "not an http or https URL");
    expect_bad("http://h/a b", "space or control");
    expect_bad("http://h/\xff\xfe", "invalid UTF-8");
    expect_bad("{\"url\": ", "invalid JSON near byte");
    expect_bad("{\"method\": \"GET\"}", "no \"url\"");
    expect_bad("{\"url\": 5}", "\"url\" is not a string");
    expect_bad("{\"url\": \"file:///etc/passwd\"}", "not an http or https URL");
    expect_bad("{\"url\": \"http://h/\", \"method\": \"G ET\"}", "\"method\"");
    expect_bad("{\"url\": \"http://h/\", \"headers\": [1]}", "\"headers\" is not an object");
    expect_bad("{\"url\": \"http://h/\", \"headers\": {\"X\": \"a\\r\\nInjected: 1\"}}",
               "CR or LF");
    expect_bad("{\"url\": \"http://h/\", \"headers\": {\"X\": 1}}", "not a string");
    expect_bad("{\"url\": \"http://h/\", \"body\": 3}", "\"body\"");
    expect_bad("[\"http://h/\"]", "not an http or https URL");
    cr_assert_str_eq(it.url, "[\"http://h/\"]", "the raw line when no URL was read");
}

Test(urllist, a_nul_byte_or_an_overlong_line_is_an_error)
{
    char line[] = "http://h/a\0b";
    fetch_item_clear(&it);
    cr_assert_eq(fetch_parse_line(line, sizeof line - 1, &it), FETCH_BAD);
    cr_assert(strstr(it.error, "NUL") != NULL);

    static char big[FETCH_MAX_LINE + 100];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "http://h/", 9);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(parse(big), FETCH_BAD);
    cr_assert(strstr(it.error, "64 KiB") != NULL);
    cr_assert_eq(strlen(it.url), sizeof big - 1, "the raw line: cut after hiding passwords");
}

Test(urllist, an_overlong_line_is_an_error_whatever_it_holds)
{
    static char big[FETCH_MAX_LINE + 1]; /* as the reader hands an overlong line over */
    memset(big, ' ', sizeof big);
    memcpy(big + sizeof big - 9, "http://h/", 9);
    fetch_item_clear(&it);
    cr_assert_eq(fetch_parse_line(big, sizeof big, &it), FETCH_BAD, "spaces, then a URL");
    cr_assert(strstr(it.error, "64 KiB") != NULL);
    cr_assert_eq(fetch_line_is_item(big, sizeof big), 1, "it is counted as an item");
    memset(big, ' ', sizeof big);
    memcpy(big, "http://h/", 9);
    fetch_item_clear(&it);
    cr_assert_eq(fetch_parse_line(big, sizeof big, &it), FETCH_BAD, "a URL, then spaces");
    memset(big, ' ', sizeof big);
    fetch_item_clear(&it);
    cr_assert_eq(fetch_parse_line(big, sizeof big, &it), FETCH_BAD, "only spaces");
    cr_assert_eq(fetch_parse_line(big, FETCH_MAX_LINE, &it), FETCH_SKIP, "blank, not too long");
}

Test(urllist, a_nul_escape_in_a_json_string_is_refused)
{
    const char *bad[] = {"{\"url\": \"http://h/a\\u0000b\"}",
                         "{\"url\": \"http://h/\", \"headers\": {\"X\": \"a\\u0000\"}}",
                         "{\"url\": \"http://h/\", \"body\": \"text\\u0000more\"}",
                         "{\"url\": \"http://h/\", \"body\": {\"k\": \"\\u0000\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(bad[i]), FETCH_BAD, "%s", bad[i]);
        cr_assert(strstr(it.error, "u0000") != NULL, "%s", it.error);
    }
    cr_assert_eq(parse("{\"url\": \"http://h/\", \"body\": \"a\\\\u0000\"}"), FETCH_ITEM,
                 "an escaped backslash, then u0000, is text");
    cr_assert_str_eq(it.body, "a\\u0000");
}

Test(urllist, text_after_the_json_object_is_refused)
{
    cr_assert_eq(parse("{\"url\": \"http://h/\"} trailing"), FETCH_BAD);
    cr_assert(strstr(it.error, "text after") != NULL, "%s", it.error);
    cr_assert_eq(parse("{\"url\": \"http://h/\"}{\"url\": \"http://i/\"}"), FETCH_BAD);
    cr_assert_eq(parse("{\"url\": \"http://h/\"}   \r"), FETCH_ITEM, "spaces are fine");
}

Test(urllist, utf8_validation)
{
    cr_assert(fetch_utf8_valid("h\xc3\xa9llo", 6));
    cr_assert(fetch_utf8_valid("\xf0\x9f\x98\x80", 4));
    cr_assert_not(fetch_utf8_valid("\xc0\xaf", 2), "overlong");
    cr_assert_not(fetch_utf8_valid("\xed\xa0\x80", 3), "surrogate");
    cr_assert_not(fetch_utf8_valid("\xe2\x82", 2), "cut short");
    cr_assert_not(fetch_utf8_valid("\xf5\x80\x80\x80", 4), "past U+10FFFF");
}

Test(urllist, an_id_must_be_a_string_or_a_finite_number)
{
    const char *bad[] = {"{\"url\": \"http://h/\", \"id\": 1e999}",
                         "{\"url\": \"http://h/\", \"id\": true}",
                         "{\"url\": \"http://h/\", \"id\": [1]}"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(fetch_parse_line(bad[i], strlen(bad[i]), &it), FETCH_BAD, "%s", bad[i]);
        cr_assert(strstr(it.error, "\"id\"") != NULL, "%s", it.error);
        fetch_item_clear(&it);
    }
}

/* ---- cJSON's allocations failing one at a time ------------------------------------ */

static long cjson_calls, cjson_fail_at, cjson_live;

static void *failing_malloc(size_t n)
{
    if (++cjson_calls == cjson_fail_at)
        return NULL;
    void *p = malloc(n);
    cjson_live += p != NULL;
    return p;
}

static void counted_free(void *p)
{
    cjson_live -= p != NULL;
    free(p);
}

Test(urllist, every_failed_json_allocation_is_a_bad_line_never_a_crash_or_a_leak)
{
    static const char *const lines[] = {
        ("{\"url\":\"http://a.test/x\",\"method\":\"PUT\",\"id\":\"a7\",\"key\":\"k\","
         "\"headers\":{\"X-A\":\"1\",\"X-B\":\"2\"},\"body\":{\"q\":[1,2,{\"r\":null}]}}"),
        "{\"url\":\"http://a.test/y\",\"id\":17,\"body\":\"text\"}",
        "{\"url\":\"http://a.test/z\",\"headers\":{\"Bad\":\"a\\r\\nb\"}}",
    };
    cJSON_Hooks hooks = {failing_malloc, counted_free};

    cJSON_InitHooks(&hooks);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        cjson_calls = 0;
        enum fetch_line clean = parse(lines[i]);
        long used = cjson_calls;
        cr_assert_gt(used, 0);
        fetch_item_clear(&it);
        for (long k = 1; k <= used; k++) {
            cjson_calls = 0;
            cjson_fail_at = k;
            enum fetch_line got = parse(lines[i]);
            fetch_item_clear(&it);
            cr_assert(got == FETCH_BAD || got == clean, "line %zu, allocation %ld: %d", i, k, got);
            cr_assert_eq(cjson_live, 0, "line %zu, allocation %ld: %ld blocks left", i, k,
                         cjson_live);
        }
        cjson_calls = cjson_fail_at = 0;
    }
    cJSON_InitHooks(NULL);
}
