/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for --name-template and the names it makes from what a server sends (the
 * URL after redirects, the Content-Type) and what the input says (an id): the input is
 * split at NUL bytes into a template, a URL, a content type and an id. Any template is
 * read or refused; any name made is relative, at most FETCH_NAME_MAX bytes, its levels
 * each at most FETCH_NAME_PART, none empty, "." or "..", none starting with '.', and no
 * byte outside the plain ones ('/' only between levels). No crash, no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr(".-_+,=@~%{}", c) != NULL; /* braces: the template's own */
}

/* part_max: FETCH_NAME_PART for a name made; a numbered one may be longer, and still has
 * room for ".part" under NAME_MAX (255). */
static void check(const char *name, size_t len, size_t part_max)
{
    size_t part = 0;

    if (len == 0 || len > FETCH_NAME_MAX || strlen(name) != len || name[0] == '/' ||
        name[len - 1] == '/')
        abort();
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '/') {
            if (part == 0)
                abort(); /* an empty level */
            part = 0;
            continue;
        }
        if (!plain((unsigned char)name[i]) || (part == 0 && name[i] == '.') || ++part > part_max)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 4);
    const char *piece[4] = {"", "", "", ""};
    size_t n = 0, at = 0;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(copy + size, 0, 4);
    for (size_t i = 0; i <= size && n < 4; i++)
        if (copy[i] == '\0') {
            piece[n++] = copy + at;
            at = i + 1;
        }
    struct fetch_template t;
    char err[512], name[FETCH_NAME_MAX + 1], numbered[FETCH_NAME_MAX + 32];
    if (fetch_template_parse(piece[0], &t, err, sizeof err) == 0) {
        struct fetch_name_vars v = {
            .url = piece[1],
            .content_type = piece[2],
            .content_type_len = strlen(piece[2]),
            .id = piece[3][0] != '\0' ? piece[3] : NULL,
            .line = size,
            .status = (long)size - 100,
        };
        size_t len = fetch_name_expand(&t, &v, name);
        check(name, len, FETCH_NAME_PART);
        fetch_name_number(name, (unsigned)size + 1, numbered, sizeof numbered);
        if (strlen(numbered) <= FETCH_NAME_MAX)
            check(numbered, strlen(numbered), 255 - 5);
    } else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort(); /* a refusal says why, on one line */
    }
    free(copy);
    return 0;
}
