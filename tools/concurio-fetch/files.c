/* SPDX-License-Identifier: Apache-2.0 */
/* The files of a run: every file it reads is checked against the output (same device
 * and inode, however spelled) before anything is opened for writing; then the earlier
 * run's records (--resume) are read, the output opened, and those records kept. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "files.h"
#include "prior.h"
#include "urllist.h"

#define MAX_SMALL_FILE ((size_t)64 << 20) /* -d @FILE */
#define MAX_HEADER_FILE ((size_t)1 << 20) /* -H @FILE */

/* A file the run reads, by identity. */
struct seen {
    const char *what; /* "the input FILE", "--data @FILE", ... */
    const char *path;
    dev_t dev;
    ino_t ino;
};

struct checks {
    struct seen read[8];
    size_t n;
};

static int same(const struct stat *st, const struct seen *s)
{
    return st->st_dev == s->dev && st->st_ino == s->ino;
}

static void note_read(struct checks *c, const char *what, const char *path, const struct stat *st)
{
    if (c->n < sizeof c->read / sizeof c->read[0] && S_ISREG(st->st_mode))
        c->read[c->n++] = (struct seen){what, path, st->st_dev, st->st_ino};
}

/* Reads a whole small file (at most max bytes); 0, or -1 with errno. */
static int slurp(const char *path, size_t max, char **out, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 4096, n = 0;
    char *buf = NULL;

    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || S_ISDIR(st->st_mode)) {
        int e = S_ISDIR(st->st_mode) ? EISDIR : errno;
        close(fd);
        errno = e;
        return -1;
    }
    for (;;) {
        if (buf == NULL || n == cap) {
            char *b = n < max ? realloc(buf, buf == NULL ? cap : (cap *= 2)) : NULL;
            if (b == NULL) {
                free(buf);
                close(fd);
                errno = n < max ? ENOMEM : EFBIG;
                return -1;
            }
            buf = b;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}

/* -d TEXT or -d @FILE. */
static int load_data(struct app *a, struct checks *c)
{
    struct stat st;

    if (a->o.data == NULL)
        return 0;
    if (a->o.data[0] != '@') {
        a->data_len = strlen(a->o.data);
        if ((a->data = malloc(a->data_len + 1)) == NULL) {
            fetch_say("out of memory");
            return FETCH_EXIT_USAGE;
        }
        memcpy(a->data, a->o.data, a->data_len + 1);
        return 0;
    }
    if (slurp(a->o.data + 1, MAX_SMALL_FILE, &a->data, &a->data_len, &st) != 0) {
        fetch_say("cannot read -d/--data file %s: %s", a->o.data + 1,
                  errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        return FETCH_EXIT_USAGE;
    }
    note_read(c, "the -d/--data file", a->o.data + 1, &st);
    return 0;
}

/* The -H lines, those of -H @FILE read here: a header a line (CRLF or LF), blank lines
 * skipped. */
/* Appends h to a->headers, keeping room for the NULL at the end; 0 or -1. */
static int add_header(struct app *a, size_t *cap, const char *h)
{
    if (a->nheaders + 1 >= *cap) {
        size_t more = *cap > 0 ? *cap * 2 : 8;
        const char **hs = realloc(a->headers, more * sizeof *hs);
        if (hs == NULL) {
            fetch_say("out of memory");
            return -1;
        }
        a->headers = hs;
        *cap = more;
    }
    a->headers[a->nheaders++] = h;
    a->headers[a->nheaders] = NULL;
    return 0;
}

static int load_headers(struct app *a, struct checks *c)
{
    size_t cap = 0;

    a->nheaders = 0;
    if (add_header(a, &cap, "") != 0) /* the array exists, even empty */
        return FETCH_EXIT_USAGE;
    a->nheaders = 0;
    a->headers[0] = NULL;
    for (size_t i = 0; i < a->o.nheaders; i++) {
        const char *h = a->o.headers[i];
        if (h[0] != '@') {
            if (add_header(a, &cap, h) != 0)
                return FETCH_EXIT_USAGE;
            continue;
        }
        char *text;
        size_t len;
        struct stat st;
        if (slurp(h + 1, MAX_HEADER_FILE, &text, &len, &st) != 0) {
            fetch_say("cannot read -H/--header file %s: %s", h + 1,
                      errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
            return FETCH_EXIT_USAGE;
        }
        note_read(c, "a -H/--header file", h + 1, &st);
        /* The file's text is kept for the run: its lines are the headers. */
        char **keep = realloc(a->header_files, (a->nheader_files + 1) * sizeof *keep);
        char *z = realloc(text, len + 1);
        if (keep == NULL || z == NULL) {
            free(z != NULL ? z : text);
            if (keep != NULL)
                a->header_files = keep;
            fetch_say("out of memory");
            return FETCH_EXIT_USAGE;
        }
        a->header_files = keep;
        a->header_files[a->nheader_files++] = z;
        z[len] = '\0';
        unsigned lineno = 0;
        for (char *line = z, *next; line != NULL && *line != '\0'; line = next) {
            next = strchr(line, '\n');
            if (next != NULL)
                *next++ = '\0';
            lineno++;
            size_t l = strlen(line);
            if (l > 0 && line[l - 1] == '\r')
                line[--l] = '\0';
            if (l == 0)
                continue;
            if (memchr(line, '\0', l) != NULL || !fetch_valid_header(line)) {
                fetch_say("-H/--header file %s, line %u: expected 'Name: value'", h + 1, lineno);
                return FETCH_EXIT_USAGE;
            }
            if (add_header(a, &cap, line) != 0)
                return FETCH_EXIT_USAGE;
        }
    }
    return 0;
}

/* --cacert FILE must be a readable file of PEM certificates: a wrong path would fail
 * every https item, a million error records for a million lines. */
static int check_cacert(struct app *a, struct checks *c)
{
    char *text;
    size_t len;
    struct stat st;

    if (a->o.cacert == NULL)
        return 0;
    if (slurp(a->o.cacert, MAX_SMALL_FILE, &text, &len, &st) != 0) {
        fetch_say("--cacert %s: %s", a->o.cacert,
                  errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        return FETCH_EXIT_USAGE;
    }
    int pem = len > 0 && memmem(text, len, "-----BEGIN CERTIFICATE-----", 27) != NULL;
    free(text);
    if (!pem) {
        fetch_say("--cacert %s: no PEM certificate in it (expected '-----BEGIN CERTIFICATE-----')",
                  a->o.cacert);
        return FETCH_EXIT_USAGE;
    }
    note_read(c, "the --cacert file", a->o.cacert, &st);
    return 0;
}

static int open_input(struct app *a, struct checks *c)
{
    const char *in = a->o.input;
    struct stat st;

    if (in == NULL || strcmp(in, "-") == 0) {
        a->in_fd = 0;
        in = NULL;
    } else if ((a->in_fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
        fetch_say("cannot read %s: %s", in, strerror(errno));
        return FETCH_EXIT_USAGE;
    }
    if (fstat(a->in_fd, &st) != 0) {
        fetch_say("cannot read %s: %s", in != NULL ? in : "standard input", strerror(errno));
        return FETCH_EXIT_USAGE;
    }
    if (S_ISDIR(st.st_mode)) {
        fetch_say("%s is a directory, not a list of URLs", in != NULL ? in : "standard input");
        return FETCH_EXIT_USAGE;
    }
    a->in_regular = S_ISREG(st.st_mode);
    note_read(c, in != NULL ? "the input FILE" : "standard input", in != NULL ? in : "-", &st);
    return 0;
}

/* The output against every file read; 0 or FETCH_EXIT_USAGE (message said). */
static int check_output(const struct app *a, const struct checks *c, const struct stat *out,
                        const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (same(out, &c->read[i])) {
            fetch_say("%s is %s (%s): it would be overwritten; write the records to another "
                      "file",
                      name, c->read[i].what, c->read[i].path);
            return FETCH_EXIT_USAGE;
        }
    (void)a;
    return 0;
}

/* Identifies the output before it is opened: whether it is the --resume file. */
static int identify_output(struct app *a, const struct checks *c, struct stat *out, int *exists)
{
    const char *o = a->o.output;

    *exists = 0;
    if (o == NULL || strcmp(o, "-") == 0) {
        if (fstat(1, out) == 0 && S_ISREG(out->st_mode)) {
            *exists = 1;
            return check_output(a, c, out, "standard output");
        }
        return 0;
    }
    if (stat(o, out) != 0)
        return 0; /* made new: it can be none of the files read */
    if (S_ISDIR(out->st_mode)) {
        fetch_say("-o/--output %s is a directory; expected a file name", o);
        return FETCH_EXIT_USAGE;
    }
    *exists = S_ISREG(out->st_mode);
    char name[300];
    snprintf(name, sizeof name, "-o/--output %s", o);
    return check_output(a, c, out, name);
}

/* A path's file by name, whether it exists or not: its directory's real path and its
 * last part ("" when the directory cannot be resolved). */
static void canon(const char *path, char *out, size_t len)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;

    snprintf(dir, sizeof dir, "%.*s",
             slash == NULL   ? 1
             : slash == path ? 1
                             : (int)(slash - path),
             slash == NULL ? "." : path);
    if (realpath(dir, real) == NULL) {
        out[0] = '\0';
        return;
    }
    snprintf(out, len, "%s/%s", real, base);
}

/* 1 when the two paths name one file, made yet or not. */
static int same_name(const char *a, const char *b)
{
    char x[PATH_MAX + 256], y[PATH_MAX + 256];
    struct stat sa, sb;

    if (a == NULL || b == NULL || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return 0;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    canon(a, x, sizeof x);
    canon(b, y, sizeof y);
    return x[0] != '\0' && strcmp(x, y) == 0;
}

/* The files written (-o, --summary-json, --cookie-jar) are three files, whether they
 * exist yet or not: one would be written over another. */
static int check_apart(const struct app *a)
{
    const char *o = a->o.output, *sj = a->o.summary_json, *jar = a->o.cookie_jar;
    const char *clash = same_name(o, sj)     ? "--summary-json and -o/--output"
                        : same_name(o, jar)  ? "--cookie-jar and -o/--output"
                        : same_name(sj, jar) ? "--summary-json and --cookie-jar"
                                             : NULL;

    if (clash == NULL)
        return 0;
    fetch_say("%s name one file: each would be written over the other; give them two", clash);
    return FETCH_EXIT_USAGE;
}

/* --cookie-jar FILE is written at the end: its directory must take it (found now, not
 * after the whole run). */
static int check_jar_dir(const struct app *a)
{
    char dir[PATH_MAX];
    const char *jar = a->o.cookie_jar, *slash = jar != NULL ? strrchr(jar, '/') : NULL;

    if (jar == NULL)
        return 0;
    snprintf(dir, sizeof dir, "%.*s",
             slash == NULL  ? 1
             : slash == jar ? 1
                            : (int)(slash - jar),
             slash == NULL ? "." : jar);
    if (access(dir, W_OK) == 0)
        return 0;
    fetch_say("cannot write --cookie-jar %s: %s", jar, strerror(errno));
    return FETCH_EXIT_USAGE;
}

/* A file written at the end (flag's path: --summary-json, --cookie-jar): never one of
 * the files read, nor -o. */
static int check_written(const struct app *a, const struct checks *c, const struct stat *out,
                         int out_exists, const char *flag, const char *path)
{
    struct stat st;
    char name[300];

    if (path == NULL || stat(path, &st) != 0)
        return 0; /* made new: none of the others */
    if (S_ISDIR(st.st_mode)) {
        fetch_say("%s %s is a directory; expected a file name", flag, path);
        return FETCH_EXIT_USAGE;
    }
    if (out_exists && st.st_dev == out->st_dev && st.st_ino == out->st_ino) {
        fetch_say("%s %s is the records' output: give it another file", flag, path);
        return FETCH_EXIT_USAGE;
    }
    snprintf(name, sizeof name, "%s %s", flag, path);
    return check_output(a, c, &st, name);
}

/* -b FILE must be a readable file (curl ignores one it cannot read: a typo would lose
 * the session without a word). It may be the --cookie-jar, as with curl. */
static int check_cookie_file(const struct app *a)
{
    const char *path = a->o.cookie;
    struct stat st;

    if (path == NULL || path[0] == '\0' || strchr(path, '=') != NULL)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int e = fd < 0 ? errno : fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (fd >= 0)
        close(fd);
    if (e == 0 || (e == ENOENT && a->o.cookie_jar != NULL && strcmp(path, a->o.cookie_jar) == 0))
        return 0; /* -b jar --cookie-jar jar: the first run makes it */
    fetch_say("cannot read -b/--cookie file %s: %s (a cookie string is NAME=VALUE)", path,
              strerror(e));
    return FETCH_EXIT_USAGE;
}

/* Reads --resume FILE: what is done, checked against the input where it can be. */
static int load_prior(struct app *a, const struct checks *c, int *prior_fd)
{
    struct stat st;

    *prior_fd = -1;
    if (a->o.resume == NULL)
        return 0;
    int fd = open(a->o.resume, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (!a->o.quiet)
            fetch_say("--resume %s does not exist yet: nothing to skip", a->o.resume);
        return 0;
    }
    if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        fetch_say("cannot read --resume file %s: %s", a->o.resume,
                  fd >= 0 && S_ISDIR(st.st_mode) ? "it is a directory" : strerror(errno));
        if (fd >= 0)
            close(fd);
        return FETCH_EXIT_USAGE;
    }
    for (size_t i = 0; i < c->n; i++)
        if (same(&st, &c->read[i])) {
            fetch_say("--resume %s is %s (%s): expected the records of an earlier run", a->o.resume,
                      c->read[i].what, c->read[i].path);
            close(fd);
            return FETCH_EXIT_USAGE;
        }
    a->prior_dev = st.st_dev;
    a->prior_ino = st.st_ino;
    a->has_prior = 1;
    int rc = fetch_prior_load(fd, &a->done, &a->samples, &a->prior);
    if (rc != 0) {
        fetch_say("cannot read --resume file %s: %s", a->o.resume, strerror(rc));
        close(fd);
        return FETCH_EXIT_USAGE;
    }
    if (a->prior.junk > 0)
        fetch_say("warning: %zu lines of %s are not records; skipped", a->prior.junk, a->o.resume);
    *prior_fd = fd;
    return 0;
}

/* A regular input is read ahead once: its items counted for the meter, and the lines
 * the --resume sample names compared with the records, so that a changed input is
 * refused before anything is skipped. */
static int scan_input(struct app *a)
{
    int count = !a->o.quiet && a->o.progress != FETCH_PROGRESS_OFF;

    if (!a->in_regular || (!count && a->samples.n == 0))
        return 0;
    struct fetch_reader *r = malloc(sizeof *r);
    const char *line;
    size_t len;
    uint64_t items = 0;
    int rc = 0;

    if (r == NULL)
        return 0;
    fetch_reader_init(r, a->in_fd);
    while (rc == 0 && fetch_reader_next(r, &line, &len) == FETCH_READ_LINE) {
        items += (uint64_t)fetch_line_is_item(line, len);
        if (a->samples.n > 0 && fetch_input_mismatch(a, r->line, line, len))
            rc = FETCH_EXIT_USAGE;
    }
    free(r);
    if (lseek(a->in_fd, 0, SEEK_SET) != 0) {
        fetch_say("cannot read %s: %s", a->o.input, strerror(errno));
        return FETCH_EXIT_USAGE;
    }
    a->expected = count ? items : 0;
    return rc;
}

int fetch_input_mismatch(struct app *a, uint64_t line, const char *text, size_t len)
{
    int64_t want = fetch_samples_find(&a->samples, line);

    if (want < 0)
        return 0;
    struct fetch_item fi;
    uint32_t got = 0;
    int ok = fetch_parse_line(text, len, &fi) == FETCH_ITEM &&
             (got = fetch_url_hash(fi.url)) == (uint32_t)want;
    fetch_item_clear(&fi);
    if (ok)
        return 0;
    fetch_say("line %llu of %s is not the item the --resume file %s has a \"done\" record "
              "for: the input changed since? Resuming would skip lines that were not done; "
              "start afresh with another -o FILE",
              (unsigned long long)line, a->o.input != NULL ? a->o.input : "standard input",
              a->o.resume);
    return 1;
}

static int open_output(struct app *a, int one_file, int prior_fd)
{
    const char *o = a->o.output;
    int to_stdout = o == NULL || strcmp(o, "-") == 0;

    if (one_file) {
        /* Records are added after the last whole one; a killed run's torn line goes. */
        a->out_fd = to_stdout ? 1 : open(o, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (a->out_fd < 0 || ftruncate(a->out_fd, a->prior.whole_end) != 0 ||
            lseek(a->out_fd, 0, SEEK_END) < 0) {
            fetch_say("cannot cut the torn last line of %s: %s", a->o.resume, strerror(errno));
            return FETCH_EXIT_OUTPUT;
        }
    } else if (to_stdout) {
        a->out_fd = 1;
    } else if ((a->out_fd = open(o, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
        fetch_say("cannot open %s: %s", o, strerror(errno));
        return FETCH_EXIT_OUTPUT;
    }
    a->out_tty = isatty(a->out_fd);
    if (prior_fd >= 0 && !one_file) {
        /* Two files: the output starts with the earlier run's done records, so that it
         * alone holds one "done" record of every input that got one. */
        size_t copied;
        int rc = fetch_prior_copy(prior_fd, a->out_fd, &a->prior, &copied);
        if (rc != 0) {
            fetch_say("cannot copy the records of %s to %s: %s", a->o.resume,
                      to_stdout ? "standard output" : o, strerror(rc));
            return FETCH_EXIT_OUTPUT;
        }
        a->copied = copied;
    }
    return 0;
}

int fetch_files_open(struct app *a)
{
    struct checks c = {.n = 0};
    struct stat out;
    int exists, prior_fd = -1, rc;

    a->out_fd = -1;
    if ((rc = open_input(a, &c)) != 0 || (rc = load_data(a, &c)) != 0 ||
        (rc = load_headers(a, &c)) != 0 || (rc = check_cacert(a, &c)) != 0 ||
        (rc = identify_output(a, &c, &out, &exists)) != 0 ||
        (rc = check_written(a, &c, &out, exists, "--summary-json", a->o.summary_json)) != 0 ||
        (rc = check_written(a, &c, &out, exists, "--cookie-jar", a->o.cookie_jar)) != 0 ||
        (rc = check_cookie_file(a)) != 0 || (rc = check_apart(a)) != 0 ||
        (rc = check_jar_dir(a)) != 0 || (rc = load_prior(a, &c, &prior_fd)) != 0 ||
        (rc = scan_input(a)) != 0) {
        if (prior_fd >= 0)
            close(prior_fd);
        return rc;
    }
    int one_file =
        prior_fd >= 0 && exists && out.st_dev == a->prior_dev && out.st_ino == a->prior_ino;
    a->method = a->o.method != NULL ? a->o.method : a->o.data != NULL ? "POST" : "GET";
    rc = open_output(a, one_file, prior_fd);
    if (prior_fd >= 0)
        close(prior_fd);
    if (rc == 0 && (a->rd = malloc(sizeof *a->rd)) == NULL) {
        fetch_say("out of memory");
        rc = FETCH_EXIT_USAGE;
    }
    if (rc == 0) {
        fetch_reader_init(a->rd, a->in_fd);
        a->meter_tty = a->o.progress == FETCH_PROGRESS_ON || isatty(2);
    }
    return rc;
}

void fetch_files_close(struct app *a)
{
    if (a->out_fd > 2)
        close(a->out_fd);
    a->out_fd = -1;
    if (a->in_fd > 0)
        close(a->in_fd);
    a->in_fd = -1;
    free(a->rd);
    a->rd = NULL;
    free(a->data);
    a->data = NULL;
    free(a->headers);
    a->headers = NULL;
    for (size_t i = 0; i < a->nheader_files; i++)
        free(a->header_files[i]);
    free(a->header_files);
    a->header_files = NULL;
    a->nheader_files = 0;
    fetch_lines_free(&a->done);
    fetch_ids_free(&a->ids);
}
