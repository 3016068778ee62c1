/* SPDX-License-Identifier: Apache-2.0 */
/* --resume: done ids from earlier records, bad and truncated lines tolerated. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "resume.h"

Test(resume, only_done_records_count_and_ids_are_normalised)
{
    int bad;
    char *id = fetch_resume_done_id("{\"id\": \"a7\", \"outcome\": \"done\"}", 31, &bad);
    cr_assert_str_eq(id, "\"a7\"");
    cr_assert_eq(bad, 0);
    free(id);
    id = fetch_resume_done_id("{\"outcome\":\"done\",\"id\":17.0}", 28, &bad);
    cr_assert_str_eq(id, "17", "17.0 and 17 are the same id");
    free(id);
    cr_assert_null(fetch_resume_done_id("{\"id\":3,\"outcome\":\"error\"}", 26, &bad));
    cr_assert_eq(bad, 0);
    cr_assert_null(fetch_resume_done_id("[1,2]", 5, &bad));
    cr_assert_eq(bad, 1);
    cr_assert_null(fetch_resume_done_id("{\"id\":{},\"outcome\":\"done\"}", 26, &bad));
    cr_assert_eq(bad, 1);
}

Test(resume, a_file_with_junk_and_a_fragment_loads)
{
    const char text[] =
        "{\"id\":1,\"outcome\":\"done\"}\n\nnot json\n{\"id\":2,\"outcome\":\"timeout\"}\n"
        "{\"id\":\"x\",\"outcome\":\"done\"}\n{\"id\":4,\"outc";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    struct fetch_idset s = {0};
    size_t bad;
    long long end;

    cr_assert_eq(fetch_resume_load(&s, f, &bad, &end), 0);
    fclose(f);
    cr_assert_eq(s.n, 2);
    cr_assert(fetch_idset_has(&s, "1"));
    cr_assert(fetch_idset_has(&s, "\"x\""));
    cr_assert_not(fetch_idset_has(&s, "2"));
    cr_assert_not(fetch_idset_has(&s, "4"));
    cr_assert_eq(bad, 1);
    cr_assert_eq(end, (long long)(strstr(text, "{\"id\":4") - text), "the fragment starts there");
    fetch_idset_free(&s);
}

Test(resume, the_set_grows_and_finds_everything)
{
    struct fetch_idset s = {0};
    char id[32];

    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "%d", i);
        cr_assert_eq(fetch_idset_add(&s, id), 1);
    }
    cr_assert_eq(fetch_idset_add(&s, "77"), 0, "no duplicates");
    for (int i = 0; i < 100000; i += 7) {
        snprintf(id, sizeof id, "%d", i);
        cr_assert(fetch_idset_has(&s, id));
    }
    cr_assert_not(fetch_idset_has(&s, "100000"));
    cr_assert_eq(s.n, 100000);
    fetch_idset_free(&s);
}

Test(resume, an_infinite_number_is_not_an_id)
{
    int bad;
    const char *line = "{\"id\":1e999,\"outcome\":\"done\"}";
    cr_assert_null(fetch_resume_done_id(line, strlen(line), &bad));
    cr_assert_eq(bad, 1);
}
