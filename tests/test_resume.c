/* SPDX-License-Identifier: Apache-2.0 */
/* --resume: done lines from earlier records (by line number, never by id), the URL
 * sample that tells a changed input, duplicate ids, and the copy into another file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "prior.h"
#include "resume.h"

static enum fetch_prior parse(const char *text, uint64_t *line, uint32_t *hash)
{
    return fetch_prior_parse(text, strlen(text), line, hash);
}

Test(resume, a_done_record_names_its_line_and_url)
{
    uint64_t line = 0;
    uint32_t hash = 0;

    cr_assert_eq(parse("{\"id\":\"a7\",\"line\":12,\"url\":\"http://x/\",\"outcome\":\"done\"}",
                       &line, &hash),
                 FETCH_PRIOR_DONE);
    cr_assert_eq(line, 12);
    cr_assert_eq(hash, fetch_url_hash("http://x/"));
    cr_assert_neq(hash, fetch_url_hash("http://y/"));
    cr_assert_eq(
        parse("{\"id\":2,\"line\":9,\"url\":\"http://x/\",\"outcome\":\"error\"}", &line, &hash),
        FETCH_PRIOR_OTHER, "an error is a record, not done");
    cr_assert_eq(parse("{\"id\":2,\"url\":\"http://x/\",\"outcome\":\"done\"}", &line, &hash),
                 FETCH_PRIOR_JUNK, "no line: not one of our records");
    cr_assert_eq(parse("{\"line\":0,\"url\":\"http://x/\",\"outcome\":\"done\"}", &line, &hash),
                 FETCH_PRIOR_JUNK);
    cr_assert_eq(parse("{\"line\":2.5,\"url\":\"http://x/\",\"outcome\":\"done\"}", &line, &hash),
                 FETCH_PRIOR_JUNK);
    cr_assert_eq(parse("{\"line\":1e999,\"url\":\"http://x/\",\"outcome\":\"done\"}", &line, &hash),
                 FETCH_PRIOR_JUNK);
    cr_assert_eq(parse("[1,2]", &line, &hash), FETCH_PRIOR_JUNK);
}

Test(resume, the_url_hash_is_of_the_url_as_a_record_writes_it)
{
    cr_assert_eq(fetch_url_hash("http://user:secret@h/p"), fetch_url_hash("http://***@h/p"),
                 "a record holds the URL with its userinfo hidden");
}

Test(resume, the_line_set_holds_sparse_and_dense_lines)
{
    struct fetch_lines s = {0};

    for (uint64_t l = 1; l <= 200000; l++)
        cr_assert_eq(fetch_lines_add(&s, l), 1);
    for (uint64_t l = 1000000; l < 5000000000ULL && l <= FETCH_LINES_MAX; l += 999999937)
        cr_assert_eq(fetch_lines_add(&s, l), 1, "far apart: a short list each");
    cr_assert_eq(fetch_lines_add(&s, 77), 0, "no line twice");
    cr_assert_eq(fetch_lines_add(&s, 0), -1, "lines start at 1");
    cr_assert_eq(fetch_lines_add(&s, (uint64_t)FETCH_LINES_MAX + 1), -1);
    for (uint64_t l = 1; l <= 200000; l += 7)
        cr_assert(fetch_lines_has(&s, l));
    cr_assert_not(fetch_lines_has(&s, 200001));
    cr_assert(fetch_lines_has(&s, 1000000));
    cr_assert_not(fetch_lines_has(&s, 1000001));
    cr_assert_not(fetch_lines_has(&s, 0));
    cr_assert_eq(s.n, 200000 + 5);
    fetch_lines_free(&s);
}

Test(resume, a_sample_covers_the_whole_input_in_bounded_room)
{
    struct fetch_samples *s = calloc(1, sizeof *s);

    cr_assert_not_null(s);
    for (uint64_t l = 1; l <= 1000000; l++) /* in any order: a run's completion order */
        fetch_samples_add(s, l % 2 ? l : 1000002 - l, (uint32_t)(l * 2654435761u));
    fetch_samples_seal(s);
    cr_assert_leq(s->n, FETCH_SAMPLES);
    cr_assert_geq(s->n, FETCH_SAMPLES / 2, "it stays at least half full");
    cr_assert_gt(s->s[s->n - 1].line, 990000, "the end of the input is sampled");
    cr_assert_lt(s->s[0].line, 10000, "and its start");
    uint64_t l = s->s[s->n / 2].line;
    uint64_t orig = l % 2 ? l : 1000002 - l; /* the add that carried it */
    cr_assert_eq(fetch_samples_find(s, l), (int64_t)(uint32_t)(orig * 2654435761u));
    cr_assert_eq(fetch_samples_find(s, l + 1), -1);
    free(s);
}

Test(resume, an_id_used_twice_names_the_first_line)
{
    struct fetch_ids ids = {0};
    char id[32];

    cr_assert_eq(fetch_ids_check(&ids, "\"a7\"", 3), 0);
    cr_assert_eq(fetch_ids_check(&ids, "2", 5), 0, "the number 2 is another id");
    cr_assert_eq(fetch_ids_check(&ids, "\"a7\"", 9), 3);
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "\"k%d\"", i);
        cr_assert_eq(fetch_ids_check(&ids, id, 100 + (uint64_t)i), 0);
    }
    cr_assert_eq(fetch_ids_check(&ids, "\"k777\"", 1), 877);
    fetch_ids_free(&ids);
}

static int file_of(const char *text)
{
    FILE *f = tmpfile();

    cr_assert_not_null(f);
    fputs(text, f);
    fflush(f);
    int fd = dup(fileno(f));
    fclose(f);
    return fd;
}

Test(resume, a_file_with_junk_duplicates_and_a_torn_line_loads_and_copies_once)
{
    const char text[] = "{\"id\":1,\"line\":1,\"url\":\"http://a/\",\"outcome\":\"done\"}\n"
                        "\n"
                        "not json\n"
                        "{\"id\":2,\"line\":2,\"url\":\"http://b/\",\"outcome\":\"timeout\"}\n"
                        "{\"id\":\"x\",\"line\":3,\"url\":\"http://c/\",\"outcome\":\"done\"}\n"
                        "{\"id\":\"y\",\"line\":3,\"url\":\"http://c/\",\"outcome\":\"done\"}\n"
                        "{\"id\":4,\"line\":4,\"outc";
    int fd = file_of(text);
    struct fetch_lines done = {0};
    struct fetch_samples *smp = calloc(1, sizeof *smp);
    struct fetch_prior_info info;

    cr_assert_eq(fetch_prior_load(fd, &done, smp, &info), 0);
    cr_assert_eq(done.n, 2);
    cr_assert(fetch_lines_has(&done, 1));
    cr_assert(fetch_lines_has(&done, 3));
    cr_assert_not(fetch_lines_has(&done, 2));
    cr_assert_not(fetch_lines_has(&done, 4));
    cr_assert_eq(info.junk, 1);
    cr_assert_eq(info.dup_lines, 1);
    cr_assert_eq(info.whole_end, (long long)(strstr(text, "{\"id\":4") - text),
                 "the torn line starts there");
    cr_assert_eq(fetch_samples_find(smp, 3), (int64_t)fetch_url_hash("http://c/"));

    int out = file_of("");
    size_t copied;
    cr_assert_eq(fetch_prior_copy(fd, out, &info, &copied), 0);
    cr_assert_eq(copied, 2, "one done record per line: the second of line 3 is not copied");
    char got[512] = "";
    cr_assert_eq(lseek(out, 0, SEEK_SET), 0);
    ssize_t n = read(out, got, sizeof got - 1);
    cr_assert_gt(n, 0);
    got[n] = '\0';
    cr_assert_not_null(strstr(got, "\"id\":\"x\""));
    cr_assert_null(strstr(got, "\"id\":\"y\""));
    cr_assert_null(strstr(got, "timeout"));
    close(out);
    close(fd);
    fetch_lines_free(&done);
    free(smp);
}
