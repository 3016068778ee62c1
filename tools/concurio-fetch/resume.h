/* SPDX-License-Identifier: Apache-2.0 */
/* --resume, the pure parts: which input lines have a "done" record, a sample of their
 * URLs to tell that the input is still the one the records were written for, and which
 * explicit ids the input has used twice. No I/O (prior.c reads the files). */
#ifndef CIO_FETCH_RESUME_H
#define CIO_FETCH_RESUME_H

#include <stddef.h>
#include <stdint.h>

/* A set of line numbers in bounded memory: the lines in chunks of 65536, each chunk a
 * sorted list of the lines set while it has few (2 bytes each), else a bitmap (8 KiB,
 * a bit per line). Never more than a bit per input line and 24 bytes per chunk, and
 * never more than 2 bytes per line set: a junk file cannot make it large. */
#define FETCH_LINES_MAX 4294967295u /* the last line number a record may name */
struct fetch_lines {
    struct fetch_chunk *chunk;
    size_t nchunks;
    uint64_t n; /* lines set */
};

/* 1 added, 0 there already, -1 out of memory or not a line number (0, or past
 * FETCH_LINES_MAX). */
int fetch_lines_add(struct fetch_lines *s, uint64_t line);
int fetch_lines_has(const struct fetch_lines *s, uint64_t line);
void fetch_lines_free(struct fetch_lines *s);

/* What one line of an earlier output is. */
enum fetch_prior {
    FETCH_PRIOR_JUNK = 0, /* not a record */
    FETCH_PRIOR_OTHER,    /* a record of an item that did not end "done" */
    FETCH_PRIOR_DONE      /* a "done" record: *line and *url_hash are set */
};
/* Reads one record line (without its "\n"). url_hash is fetch_url_hash of its "url". */
enum fetch_prior fetch_prior_parse(const char *text, size_t len, uint64_t *line,
                                   uint32_t *url_hash);
/* A done record's body file (--output-dir): its "path" and "bytes". */
struct fetch_prior_body {
    char path[4200]; /* "": the record names none (or one too long to be ours) */
    uint64_t bytes;
};
/* fetch_prior_parse, and for a done record its body file into *body. */
enum fetch_prior fetch_prior_parse_body(const char *text, size_t len, uint64_t *line,
                                        uint32_t *url_hash, struct fetch_prior_body *body);

/* The hash of a URL as a record writes it (its userinfo hidden). */
uint32_t fetch_url_hash(const char *url);

/* A bounded sample of (line, URL hash) of done records: every stride-th line, the
 * stride doubling as it fills, so it covers the whole input in at most FETCH_SAMPLES. */
#define FETCH_SAMPLES 1024
struct fetch_samples {
    struct fetch_sample {
        uint64_t line;
        uint32_t hash;
    } s[FETCH_SAMPLES];
    size_t n;
    uint64_t stride; /* 0 counts as 1 */
};
void fetch_samples_add(struct fetch_samples *s, uint64_t line, uint32_t hash);
/* Sorts the sample by line: call once, after the last add, before fetch_samples_find. */
void fetch_samples_seal(struct fetch_samples *s);
/* The sampled hash of line, or -1 when line is not in the sample. */
int64_t fetch_samples_find(const struct fetch_samples *s, uint64_t line);

/* Explicit ids of the input (as JSON text), each with the first line that used it, to
 * report an id used twice. At most FETCH_IDS_MAX are remembered (16 bytes each). */
#define FETCH_IDS_MAX (1u << 20)
struct fetch_ids {
    struct fetch_id_slot {
        uint64_t hash, line; /* line 0: empty slot */
    } * slots;
    size_t cap, n;
    int full; /* FETCH_IDS_MAX reached: later ids are not checked */
};
/* 0 when id is new (remembered with line), else the earlier line that used it; -1 when
 * out of memory or full (not checked). */
int64_t fetch_ids_check(struct fetch_ids *s, const char *id, uint64_t line);
void fetch_ids_free(struct fetch_ids *s);

#endif
