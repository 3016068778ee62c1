/* SPDX-License-Identifier: Apache-2.0 */
/* Reading and copying an earlier run's records, a line at a time. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "prior.h"
#include "say.h"

#define COPY_FLUSH (64u << 10)

/* A line of an earlier output: a done record counts as one only while the body file
 * it names (--output-dir) is there whole; else its item is fetched again. */
static enum fetch_prior parse(const char *text, size_t len, uint64_t *line, uint32_t *hash)
{
    struct fetch_prior_body body;
    struct stat st;
    enum fetch_prior kind = fetch_prior_parse_body(text, len, line, hash, &body);

    if (kind == FETCH_PRIOR_DONE && body.path[0] != '\0' &&
        (stat(body.path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != body.bytes))
        return FETCH_PRIOR_OTHER;
    return kind;
}

/* Calls each(line, len, arg) for every whole line of fd from its start; stops at a torn
 * last line, whose offset *whole_end then gives. 0, or an errno. */
static int each_line(int fd, int (*each)(const char *, size_t, void *), void *arg,
                     long long *whole_end)
{
    int dupfd = dup(fd);
    FILE *f = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (f == NULL) {
        rc = errno;
        if (dupfd >= 0)
            close(dupfd);
        return rc;
    }
    *whole_end = 0;
    if (lseek(fd, 0, SEEK_SET) != 0) /* f shares the offset with fd */
        rc = errno;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* a torn last line: neither a record nor junk */
        *whole_end += n;
        rc = each(line, (size_t)n - 1, arg);
    }
    if (rc == 0 && ferror(f))
        rc = errno != 0 ? errno : EIO;
    free(line);
    fclose(f);
    return rc;
}

struct load {
    struct fetch_lines *done;
    struct fetch_samples *samples;
    struct fetch_prior_info *info;
};

static int load_one(const char *text, size_t len, void *arg)
{
    struct load *l = arg;
    uint64_t line;
    uint32_t hash;

    if (len == 0)
        return 0;
    switch (parse(text, len, &line, &hash)) {
    case FETCH_PRIOR_JUNK:
        l->info->junk++;
        return 0;
    case FETCH_PRIOR_OTHER:
        return 0;
    case FETCH_PRIOR_DONE:
        break;
    }
    int added = fetch_lines_add(l->done, line);
    if (added < 0)
        return ENOMEM;
    if (added == 0)
        l->info->dup_lines = 1;
    else
        fetch_samples_add(l->samples, line, hash);
    return 0;
}

int fetch_prior_load(int fd, struct fetch_lines *done, struct fetch_samples *samples,
                     struct fetch_prior_info *info)
{
    struct load l = {done, samples, info};

    info->junk = 0;
    info->dup_lines = 0;
    int rc = each_line(fd, load_one, &l, &info->whole_end);
    fetch_samples_seal(samples);
    return rc;
}

struct copy {
    int out_fd, dups;
    struct fetch_lines seen; /* with dups: the lines copied so far */
    struct fetch_buf buf;
    size_t copied;
};

static int flush_copy(struct copy *c)
{
    int rc = c->buf.len > 0 ? fetch_write_all(c->out_fd, c->buf.p, c->buf.len) : 0;

    c->buf.len = 0;
    return rc;
}

static int copy_one(const char *text, size_t len, void *arg)
{
    struct copy *c = arg;
    uint64_t line;
    uint32_t hash;

    if (len == 0 || parse(text, len, &line, &hash) != FETCH_PRIOR_DONE)
        return 0;
    if (c->dups) {
        int added = fetch_lines_add(&c->seen, line);
        if (added < 0)
            return ENOMEM;
        if (added == 0)
            return 0; /* a second "done" record of that line */
    }
    if (fetch_buf_add(&c->buf, text, len + 1) != 0) /* with its "\n" */
        return ENOMEM;
    c->copied++;
    return c->buf.len >= COPY_FLUSH ? flush_copy(c) : 0;
}

int fetch_prior_copy(int fd, int out_fd, const struct fetch_prior_info *info, size_t *copied)
{
    struct copy c = {.out_fd = out_fd, .dups = info->dup_lines};
    long long end;
    int rc = each_line(fd, copy_one, &c, &end);

    if (rc == 0)
        rc = flush_copy(&c);
    *copied = c.copied;
    fetch_buf_free(&c.buf);
    fetch_lines_free(&c.seen);
    return rc;
}
