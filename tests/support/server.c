/* SPDX-License-Identifier: Apache-2.0 */
/* The test server as a real child process, and its /stats read with a plain curl. */
#define _POSIX_C_SOURCE 200809L
#include "server.h"
#include "clock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

extern char **environ;

static int start_program(struct server *s, const char *program)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)program, "--port", "0", "--quiet", NULL};

    memset(s, 0, sizeof *s);
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawn(&s->pid, program, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    char line[128] = {0};
    size_t n = 0;
    while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n')
        n++;
    close(fds[0]);
    line[n] = '\0';
    if (sscanf(line, "listening on %63s", s->url) != 1) {
        server_stop(s);
        return -1;
    }
    return 0;
}

int server_stop(struct server *s)
{
    int status = 0;

    if (s->pid <= 0)
        return 0;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void server_stop_checked(struct server *s)
{
    int rc = server_stop(s);

    if (rc != 0) { /* Criterion ignores assertions in .fini; a crash fails the run */
        fprintf(stderr, "the test server exited with %d (a leak under LeakSanitizer?)\n", rc);
        abort();
    }
}

int server_start(struct server *s)
{
    return start_program(s, CONCURIO_TESTSERVER);
}

int server_start_faults(struct server *s)
{
    return start_program(s, CONCURIO_FAULTSERVER);
}

uint64_t test_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *server_url(const struct server *s, const char *path)
{
    static char buf[256];

    snprintf(buf, sizeof buf, "%s%s", s->url, path);
    return buf;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    char **buf = arg;
    size_t old = *buf != NULL ? strlen(*buf) : 0;
    char *b = realloc(*buf, old + size * n + 1);

    if (b == NULL)
        return 0;
    memcpy(b + old, data, size * n);
    b[old + size * n] = '\0';
    *buf = b;
    return size * n;
}

char *server_get(const struct server *s, const char *path)
{
    char *text = NULL;
    CURL *e = curl_easy_init();

    curl_easy_setopt(e, CURLOPT_URL, server_url(s, path));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &text);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        free(text);
        return NULL;
    }
    return text;
}

int server_stats(const struct server *s, struct server_stats *st)
{
    char *text = server_get(s, "/stats");

    memset(st, 0, sizeof *st);
    cJSON *o = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    if (o == NULL)
        return -1;
    st->requests = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "requests"));
    st->max_in_flight = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "max_in_flight"));
    cJSON *a = cJSON_GetObjectItem(o, "starts_ms");
    st->nstarts = (size_t)cJSON_GetArraySize(a);
    st->starts_ms = calloc(st->nstarts + 1, sizeof *st->starts_ms);
    size_t i = 0;
    cJSON *v;
    cJSON_ArrayForEach(v, a) st->starts_ms[i++] = (uint64_t)cJSON_GetNumberValue(v);
    cJSON *hosts = cJSON_GetObjectItem(o, "hosts");
    cJSON_ArrayForEach(v, hosts)
    {
        if (st->nhosts == sizeof st->hosts / sizeof st->hosts[0])
            break;
        snprintf(st->hosts[st->nhosts].name, sizeof st->hosts[0].name, "%s", v->string);
        st->hosts[st->nhosts].requests =
            (long)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "requests"));
        st->hosts[st->nhosts].max_in_flight =
            (long)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "max_in_flight"));
        st->nhosts++;
    }
    cJSON_Delete(o);
    return 0;
}

long server_host_max(const struct server_stats *st, const char *host)
{
    for (size_t i = 0; i < st->nhosts; i++)
        if (strcmp(st->hosts[i].name, host) == 0)
            return st->hosts[i].max_in_flight;
    return -1;
}

void server_stats_free(struct server_stats *st)
{
    free(st->starts_ms);
    st->starts_ms = NULL;
}

int blackhole_open(struct blackhole *b)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;

    b->fill[0] = b->fill[1] = -1;
    b->listener = socket(AF_INET, SOCK_STREAM, 0);
    if (b->listener < 0 || bind(b->listener, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(b->listener, 0) != 0 || getsockname(b->listener, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    /* Backlog 0 holds one connection; the second waits: the queue is full. */
    for (int i = 0; i < 2; i++) {
        b->fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(b->fill[i], (struct sockaddr *)&a, sizeof a); /* EINPROGRESS is fine */
    }
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    snprintf(b->url, sizeof b->url, "http://127.0.0.1:%u/", (unsigned)ntohs(a.sin_port));
    return 0;
}

void blackhole_close(struct blackhole *b)
{
    for (int i = 0; i < 2; i++)
        if (b->fill[i] >= 0)
            close(b->fill[i]);
    if (b->listener >= 0)
        close(b->listener);
}
