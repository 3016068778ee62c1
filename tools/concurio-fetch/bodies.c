/* SPDX-License-Identifier: Apache-2.0 */
/* Bodies under --output-dir: temporary files named by number, renamed once complete. */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bodies.h"

#define MAX_NUMBERED 10000000u /* name-1 ... name-9999999, then the item is an error */

int fetch_bodies_open(struct fetch_bodies *b, const char *dir, const char *tmpl, int keep_partial,
                      int absolute, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->dirfd = -1;
    if (fetch_template_parse(tmpl, &b->t, err, errlen) != 0)
        return -1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make --output-dir %s: %s", dir, strerror(errno));
        return -1;
    }
    b->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->dirfd < 0) {
        snprintf(err, errlen, "cannot use --output-dir %s: %s", dir,
                 errno == ENOTDIR ? "not a directory" : strerror(errno));
        return -1;
    }
    if (faccessat(b->dirfd, ".", W_OK, AT_EACCESS) != 0) {
        snprintf(err, errlen, "cannot write into --output-dir %s: %s", dir, strerror(errno));
        fetch_bodies_close(b);
        return -1;
    }
    b->dir = dir;
    if (!absolute && strlen(dir) > 1 && dir[strlen(dir) - 1] == '/') {
        /* "out/" names out: records say out/NAME, not out//NAME */
        if ((b->dir_owned = strdup(dir)) == NULL) {
            snprintf(err, errlen, "out of memory");
            fetch_bodies_close(b);
            return -1;
        }
        for (size_t n = strlen(b->dir_owned); n > 1 && b->dir_owned[n - 1] == '/'; n--)
            b->dir_owned[n - 1] = '\0';
        b->dir = b->dir_owned;
    }
    if (absolute) {
        if ((b->dir_owned = realpath(dir, NULL)) == NULL) {
            snprintf(err, errlen, "cannot use --output-dir %s: %s", dir, strerror(errno));
            fetch_bodies_close(b);
            return -1;
        }
        b->dir = b->dir_owned;
    }
    if (strlen(b->dir) > PATH_MAX - FETCH_NAME_MAX - 64) {
        snprintf(err, errlen, "--output-dir's name is too long");
        fetch_bodies_close(b);
        return -1;
    }
    b->keep_partial = keep_partial;
    b->pid = (unsigned)getpid();
    return 0;
}

void fetch_bodies_close(struct fetch_bodies *b)
{
    if (b->dirfd >= 0)
        close(b->dirfd);
    b->dirfd = -1;
    free(b->dir_owned);
    b->dir_owned = NULL;
}

static void temp_name(const struct fetch_bodies *b, uint64_t no, char *out, size_t len)
{
    snprintf(out, len, ".concurio-%u-%llu.part", b->pid, (unsigned long long)no);
}

int fetch_bodies_temp(struct fetch_bodies *b, uint64_t *no, char *out, size_t len)
{
    char name[64];

    *no = ++b->next;
    temp_name(b, *no, name, sizeof name);
    return (size_t)snprintf(out, len, "%s/%s", b->dir, name) < len ? 0 : -1;
}

/* The directory name's last part goes in, made under DIR as needed, each level opened
 * without following a symbolic link (one put inside DIR cannot lead a body out of it):
 * its descriptor, or -1 with errno. *leaf is where the last part starts. */
static int open_parent(int dirfd, char *name, const char **leaf)
{
    int fd = dirfd;
    char *part = name;

    for (char *s; (s = strchr(part, '/')) != NULL; part = s + 1) {
        *s = '\0';
        int next = mkdirat(fd, part, 0777) == 0 || errno == EEXIST
                       ? openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : -1;
        int e = errno;
        *s = '/';
        if (fd != dirfd)
            close(fd);
        if (next < 0) {
            errno = e == ELOOP ? ENOTDIR : e; /* a link where a directory should be */
            return -1;
        }
        fd = next;
    }
    *leaf = part;
    return fd;
}

/* Renames from (under DIR) to to (under to_fd) unless to exists: 0, EEXIST, or an errno. */
static int rename_new(int dirfd, const char *from, int to_fd, const char *to)
{
    if (renameat2(dirfd, from, to_fd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return errno;
    /* A file system without RENAME_NOREPLACE: a link fails as well when to exists. */
    if (linkat(dirfd, from, to_fd, to, 0) != 0)
        return errno;
    unlinkat(dirfd, from, 0);
    return 0;
}

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Gives the temporary file `from` the name `name`, numbered if taken; the final name
 * into *final. 0 or an errno. */
static int give_name(struct fetch_bodies *b, const char *from, const char *name, char *final,
                     size_t len)
{
    char copy[FETCH_NAME_MAX + 8], numbered[FETCH_NAME_MAX + 32];
    const char *leaf;
    uint64_t h = hash_of(name);
    struct fetch_taken *t = &b->taken[h % (sizeof b->taken / sizeof b->taken[0])];
    unsigned n = t->hash == h ? t->next : 0;
    int rc;

    snprintf(copy, sizeof copy, "%s", name);
    int pfd = open_parent(b->dirfd, copy, &leaf);
    if (pfd < 0)
        return errno;
    size_t dir_len = (size_t)(leaf - copy);
    for (;; n++) {
        if (n == 0)
            snprintf(numbered, sizeof numbered, "%s", leaf);
        else
            fetch_name_number(leaf, n, numbered, sizeof numbered);
        if ((rc = rename_new(b->dirfd, from, pfd, numbered)) != EEXIST || n == MAX_NUMBERED)
            break;
    }
    if (pfd != b->dirfd)
        close(pfd);
    if (n > 0) {
        t->hash = h;
        t->next = n + 1;
    }
    if (rc == 0)
        snprintf(final, len, "%s/%.*s%s", b->dir, (int)dir_len, copy, numbered);
    return rc;
}

int fetch_bodies_end(struct fetch_bodies *b, uint64_t no, int done,
                     const struct fetch_name_vars *vars, char *path, char *why, size_t whylen)
{
    char tmp[64], name[FETCH_NAME_MAX + 8];
    struct stat st;

    path[0] = '\0';
    temp_name(b, no, tmp, sizeof tmp);
    if (!done && (!b->keep_partial || fstatat(b->dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) != 0)) {
        unlinkat(b->dirfd, tmp, 0); /* none when it never started: ENOENT */
        return 0;
    }
    size_t n = fetch_name_expand(&b->t, vars, name);
    if (!done)
        snprintf(name + n, sizeof name - n, ".part");
    int rc = give_name(b, tmp, name, path, FETCH_BODIES_PATH);
    if (rc == 0) {
        b->saved += (uint64_t)done;
        b->partial += (uint64_t)!done;
        return 0;
    }
    snprintf(why, whylen, "cannot save the body as %s/%s: %s", b->dir, name, strerror(rc));
    unlinkat(b->dirfd, tmp, 0);
    path[0] = '\0';
    return rc;
}
