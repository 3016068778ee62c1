/* SPDX-License-Identifier: Apache-2.0 */
/* --name-template: the file name a body gets under --output-dir, made from its item
 * ({id}, {line}) and its response ({host}, {path}, {basename}, {status}, {ext}). Pure:
 * no I/O. Whatever the URL or the server says, a name stays inside the directory: it
 * is relative, its parts are never "", "." or "..", and no field brings a '/'. */
#ifndef CIO_FETCH_NAMES_H
#define CIO_FETCH_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define FETCH_NAME_MAX 1024   /* a name's bytes at most, its NUL not counted */
#define FETCH_NAME_PART 200   /* one directory level's bytes at most (NAME_MAX is 255: */
                              /*   room for "-12345" and ".part") */
#define FETCH_TEMPLATE_MAX 64 /* pieces (text or fields) of a template */

enum fetch_name_field {
    FETCH_NF_TEXT = 0,
    FETCH_NF_ID,
    FETCH_NF_LINE,
    FETCH_NF_HOST,
    FETCH_NF_PATH,
    FETCH_NF_BASENAME,
    FETCH_NF_STATUS,
    FETCH_NF_EXT,
};

struct fetch_template {
    struct fetch_piece {
        enum fetch_name_field field;
        const char *text; /* FETCH_NF_TEXT: into the template given (not copied) */
        size_t len;
    } p[FETCH_TEMPLATE_MAX];
    size_t n;
    int uses_response; /* {status} or {ext}: known at the end only */
};

/* Reads a template ("{id}", "{host}/{basename}.{ext}"; "{{" and "}}" are braces).
 * 0, or -1 with a one-line reason in err. The template is kept, not copied. */
int fetch_template_parse(const char *s, struct fetch_template *t, char *err, size_t errlen);

/* What a name is made of. Any of the strings may be NULL (a field then says "unknown",
 * except ext: "bin"). */
struct fetch_name_vars {
    const char *id; /* the record's id as JSON text (a string's quotes are dropped) */
    uint64_t line;
    const char *url; /* the effective URL: host, path and basename come from it */
    long status;
    const char *content_type; /* value of the header, parameters allowed */
    size_t content_type_len;
};

/* Writes the name into out (room for FETCH_NAME_MAX + 1). Returns its length; never
 * fails (a name too long is cut, each part at FETCH_NAME_PART). */
size_t fetch_name_expand(const struct fetch_template *t, const struct fetch_name_vars *v,
                         char *out);

/* The extension of a content type, without its dot: "json" for application/json and
 * application/problem+json, "html", "txt", "bin" when it is not known. Static text. */
const char *fetch_ext_of(const char *content_type, size_t len);

/* name numbered for its nth collision (n >= 1), before the extension of its last part:
 * "page.html" -> "page-1.html", "a.b/c" -> "a.b/c-1". Into out. */
void fetch_name_number(const char *name, unsigned n, char *out, size_t outlen);

#endif
