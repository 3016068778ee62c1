/* SPDX-License-Identifier: Apache-2.0 */
/* --name-template, pure: templates read or refused, names made from items and
 * responses, made safe, numbered. */
#include <string.h>

#include <criterion/criterion.h>

#include "names.h"

static const char *name_of(const char *tmpl, const struct fetch_name_vars *v)
{
    static char out[FETCH_NAME_MAX + 1];
    struct fetch_template t;
    char err[256];

    cr_assert_eq(fetch_template_parse(tmpl, &t, err, sizeof err), 0, "%s: %s", tmpl, err);
    size_t n = fetch_name_expand(&t, v, out);
    cr_assert_eq(n, strlen(out));
    return out;
}

Test(names, every_field_comes_from_the_item_or_its_response)
{
    struct fetch_name_vars v = {.id = "\"inv-7\"",
                                .line = 12,
                                .url =
                                    "https://user:pw@api.example.com:8443/v1/items/42.json?x=1#f",
                                .status = 404,
                                .content_type = "application/problem+json; charset=utf-8",
                                .content_type_len = 39};

    cr_assert_str_eq(name_of("{id}", &v), "inv-7", "a string id without its quotes");
    cr_assert_str_eq(name_of("{line}", &v), "12");
    cr_assert_str_eq(name_of("{host}", &v), "api.example.com", "no userinfo, no port");
    cr_assert_str_eq(name_of("{path}", &v), "v1_items_42.json", "no query: '/' as '_'");
    cr_assert_str_eq(name_of("{basename}", &v), "42.json");
    cr_assert_str_eq(name_of("{status}", &v), "404");
    cr_assert_str_eq(name_of("{ext}", &v), "json", "+json is JSON");
    cr_assert_str_eq(name_of("{host}/{line}-{status}.{ext}", &v), "api.example.com/12-404.json");
    cr_assert_str_eq(name_of("{{{id}}}", &v), "{inv-7}", "the template's braces");
    v.id = "17";
    cr_assert_str_eq(name_of("{id}", &v), "17", "a number id as it is");
    v.id = NULL;
    cr_assert_str_eq(name_of("{id}", &v), "12", "no id: the line");
}

Test(names, nothing_from_a_url_or_an_id_leaves_the_directory)
{
    struct fetch_name_vars v = {
        .id = "\"../../etc/passwd\"", .line = 1, .url = "http://h/a/..%2F..%2Fb/../.."};

    cr_assert_str_eq(name_of("{id}", &v), "_._.._etc_passwd");
    cr_assert_str_eq(name_of("{basename}", &v), "_.", "'..' as a level is never kept");
    v.id = "\".\"";
    cr_assert_str_eq(name_of("{id}", &v), "_");
    v.id = "\"\"";
    cr_assert_str_eq(name_of("{id}", &v), "_", "never an empty name");
    cr_assert_str_eq(name_of("a/../{line}", &v), "a/_./1", "the template's own '..' too");
    cr_assert_str_eq(name_of("a//{line}/", &v), "a/1", "no empty level, no trailing '/'");
    v.id = "\"a\\u0000b\\nc\xc3\xa9\"";
    cr_assert_str_eq(name_of("{id}", &v), "a_u0000b_nc__", "only plain bytes");
}

Test(names, an_empty_path_is_index_and_unknown_parts_say_so)
{
    struct fetch_name_vars v = {.line = 3, .url = "http://example.org"};

    cr_assert_str_eq(name_of("{host}/{path}/{basename}.{ext}", &v), "example.org/index/index.bin");
    v.url = "http://example.org/dir/";
    cr_assert_str_eq(name_of("{basename}", &v), "dir", "a trailing '/' names its directory");
    v.url = NULL;
    cr_assert_str_eq(name_of("{host}", &v), "unknown");
}

Test(names, long_values_are_cut_per_level_and_in_all)
{
    char url[3000] = "http://h/";
    struct fetch_name_vars v = {.url = url};

    memset(url + 9, 'a', 2500);
    url[2509] = '\0';
    const char *n = name_of("{basename}", &v);
    cr_assert_eq(strlen(n), FETCH_NAME_PART);
    n = name_of("{basename}/{basename}/{basename}/{basename}/{basename}/{basename}", &v);
    cr_assert_leq(strlen(n), FETCH_NAME_MAX);
}

Test(names, extensions_follow_the_content_type)
{
    static const struct {
        const char *type, *ext;
    } cases[] = {
        {"text/html; charset=utf-8", "html"},
        {"TEXT/PLAIN", "txt"},
        {"application/json", "json"},
        {"application/ld+json", "json"},
        {"image/svg+xml", "svg"},
        {"application/atom+xml", "xml"},
        {"image/png", "png"},
        {"text/csv", "csv"},
        {"application/octet-stream", "bin"},
        {"", "bin"},
        {"x", "bin"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(fetch_ext_of(cases[i].type, strlen(cases[i].type)), cases[i].ext, "%s",
                         cases[i].type);
    cr_assert_str_eq(fetch_ext_of(NULL, 0), "bin");
}

Test(names, bad_templates_are_refused_naming_the_fields)
{
    static const char *const bad[] = {"", "/abs/{id}", "{nope}", "{id", "a}b", "{}"};
    struct fetch_template t;
    char err[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(fetch_template_parse(bad[i], &t, err, sizeof err), -1, "%s", bad[i]);
        cr_assert_neq(err[0], '\0');
    }
    fetch_template_parse("{nope}", &t, err, sizeof err);
    cr_assert(strstr(err, "{basename}") != NULL, "%s", err);
}

Test(names, a_taken_name_is_numbered_before_its_extension)
{
    char out[64];

    fetch_name_number("page.html", 1, out, sizeof out);
    cr_assert_str_eq(out, "page-1.html");
    fetch_name_number("a.b/c", 2, out, sizeof out);
    cr_assert_str_eq(out, "a.b/c-2");
    fetch_name_number("17", 12, out, sizeof out);
    cr_assert_str_eq(out, "17-12");
    fetch_name_number("x/_hidden.tar.gz", 3, out, sizeof out);
    cr_assert_str_eq(out, "x/_hidden.tar-3.gz");
}
