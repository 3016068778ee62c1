/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for concurio-fetch's command line: the input's lines are the arguments
 * (so option values such as --rate, --retry-on, --max-body and --timeout get any bytes),
 * and each line is also given to the value parsers alone (--queue's address too, when
 * libconcurio-redis is built). Any
 * bytes give a run, a usage message or help, never a crash; a parsed rate is always
 * usable, a parsed Redis address names a host and a port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#ifdef CIO_FUZZ_REDIS
#include <concurio/redis.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef CIO_FUZZ_REDIS
/* 1 when the address gives the same message with another password of the same length
 * (one without a %-escape, so that it decodes alike): the message does not depend on
 * it. 0 when it does. */
static int same_message_whatever_the_password(const char *line, const char *why)
{
    if (strncmp(line, "redis://", 8) != 0)
        return 1;
    const char *auth = line + 8, *at = NULL;
    size_t alen = strcspn(auth, "/");
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL || memchr(colon, '%', (size_t)(at - colon)) != NULL)
        return 1;
    size_t len = strlen(line) + 1;
    char *other = malloc(len);
    if (other == NULL)
        return 1;
    memcpy(other, line, len);
    memset(other + (colon + 1 - line), 'Q', (size_t)(at - colon - 1));
    cio_redis_url u;
    char why2[256] = "";
    (void)cio_redis_parse_url(other, &u, why2, sizeof why2);
    free(other);
    return strcmp(why, why2) == 0;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *argv[66] = {"concurio-fetch"};
    int argc = 1;
    char err[256];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text; argc < 65 && line <= text + size;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        argv[argc++] = line;

        cio_rate rate;
        if (fetch_parse_rate(line, &rate) == 0 && (rate.count == 0 || rate.period_ms == 0))
            abort(); /* a rate that parses limits something */
        unsigned ms;
        (void)fetch_parse_seconds(line, 1, &ms);
        struct fetch_opts o = {0};
        (void)fetch_parse_retry_on(line, &o);
#ifdef CIO_FUZZ_REDIS
        cio_redis_url at;
        char why[256] = "";
        int bad = cio_redis_parse_url(line, &at, why, sizeof why);
        if (!bad && (at.host[0] == '\0' || at.port == 0 || at.port > 65535 || at.name < line ||
                     at.name > line + strlen(line)))
            abort();
        if (bad && same_message_whatever_the_password(line, why) == 0)
            abort(); /* a message never holds the password */
#endif
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    argv[argc] = NULL;
    struct fetch_opts o;
    enum fetch_action a = fetch_parse_args(argc, argv, &o, err, sizeof err);
    if (a == FETCH_USAGE && (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL))
        abort(); /* a usage error always says why */
    fetch_opts_free(&o);
    free(text);
    return 0;
}
