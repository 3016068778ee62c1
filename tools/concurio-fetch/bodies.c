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

#define MAX_NUMBERED 100000u /* name-1 ... name-99999, then the item is an error */

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

/* Makes the directories of name under DIR (not its last part). 0 or an errno. */
static int make_parents(int dirfd, char *name)
{
    for (char *s = strchr(name, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        int rc = mkdirat(dirfd, name, 0777) == 0 || errno == EEXIST ? 0 : errno;
        *s = '/';
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Renames from to to under DIR unless to exists: 0, EEXIST, or an errno. */
static int rename_new(int dirfd, const char *from, const char *to)
{
    if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return errno;
    /* A file system without RENAME_NOREPLACE: a link fails as well when to exists. */
    if (linkat(dirfd, from, dirfd, to, 0) != 0)
        return errno;
    unlinkat(dirfd, from, 0);
    return 0;
}

/* Gives the temporary file `from` the name `name`, numbered if taken; the final name
 * into *final. 0 or an errno. */
static int give_name(struct fetch_bodies *b, const char *from, const char *name, char *final,
                     size_t len)
{
    char numbered[FETCH_NAME_MAX + 32];
    int rc = 0;

    snprintf(numbered, sizeof numbered, "%s", name);
    if ((rc = make_parents(b->dirfd, numbered)) != 0)
        return rc;
    for (unsigned n = 1; (rc = rename_new(b->dirfd, from, numbered)) == EEXIST; n++) {
        if (n == MAX_NUMBERED)
            return EEXIST;
        fetch_name_number(name, n, numbered, sizeof numbered);
    }
    if (rc == 0)
        snprintf(final, len, "%s/%s", b->dir, numbered);
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
