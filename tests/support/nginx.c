/* SPDX-License-Identifier: Apache-2.0 */
/* Starts and stops nginx for the HTTP/2 tests. */
#define _POSIX_C_SOURCE 200809L
#include "nginx.h"

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

extern char **environ;

static int run(char *const argv[], pid_t *bg)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 1, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    if (bg != NULL) {
        *bg = pid;
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int installed(const char *prog)
{
    char *argv[] = {"sh", "-c", NULL, NULL};
    char cmd[128];

    snprintf(cmd, sizeof cmd, "command -v %s || test -x /usr/sbin/%s", prog, prog);
    argv[2] = cmd;
    return run(argv, NULL) == 0;
}

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;

    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int accepting(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((unsigned short)port)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;

    close(fd);
    return ok;
}

int nginx_start(struct nginx *n)
{
    char path[160], subj[] = "/CN=localhost",
                    san[] = "subjectAltName=DNS:localhost,DNS:api.concurio.test,IP:127.0.0.1";

    memset(n, 0, sizeof n[0]);
    if (!installed("nginx") || !installed("openssl"))
        return 1;
    snprintf(n->dir, sizeof n->dir, "/tmp/cio-nginx-XXXXXX");
    if (mkdtemp(n->dir) == NULL)
        return -1;
    char key[128], conf[128];
    snprintf(key, sizeof key, "%s/key.pem", n->dir);
    snprintf(n->ca, sizeof n->ca, "%s/cert.pem", n->dir);
    char *req[] = {
        "openssl", "req",   "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes",  "-days", "1",     "-subj",   subj, "-addext",  san,
        "-keyout", key,     "-out",  n->ca,     NULL};
    if (run(req, NULL) != 0)
        return -1;
    unsigned port = free_port(), port2 = free_port();
    while (port2 == port)
        port2 = free_port();
    snprintf(conf, sizeof conf, "%s/ok.txt", n->dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fputs("ok\n", f);
    fclose(f);
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
    f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    const char *d = n->dir;
    fprintf(f, "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n", d, d);
    fprintf(f, "events { worker_connections 512; }\nhttp {\n");
    fprintf(f, "  log_format arrivals '$msec $status $request_uri';\n");
    fprintf(f, "  access_log %s/access.log arrivals;\n", d);
    fprintf(f, "  limit_req_zone $server_port zone=r2:1m rate=2r/s;\n");
    fprintf(f, "  limit_req_zone $server_port zone=r10:1m rate=10r/s;\n");
    fprintf(f, "  limit_req_zone $server_port zone=r20:1m rate=20r/s;\n");
    fprintf(f, "  limit_req_status 429;\n");
    fprintf(f, "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n", d, d, d);
    fprintf(f, "  uwsgi_temp_path %s; scgi_temp_path %s;\n", d, d);
    /* 127.0.0.2 is not in the certificate: the wrong-host fault. */
    fprintf(f, "  server {\n    listen 127.0.0.1:%u ssl http2;\n", port);
    fprintf(f, "    listen 127.0.0.2:%u ssl http2;\n", port);
    fprintf(f, "    ssl_certificate %s/cert.pem;\n    ssl_certificate_key %s/key.pem;\n", d, d);
    fprintf(f, "    http2_max_concurrent_streams 128;\n    keepalive_requests 100000;\n");
    /* A limited location serves a file: "return" would answer before limit_req runs. */
    char locations[1024];
    snprintf(locations, sizeof locations,
             "    location / { return 200 \"ok\\n\"; }\n"
             "    location /limit2 { limit_req zone=r2; root %s; try_files /ok.txt =404; }\n"
             "    location /limit10 { limit_req zone=r10; root %s; try_files /ok.txt =404; }\n"
             "    location /limit20 { limit_req zone=r20; root %s; try_files /ok.txt =404; }\n",
             d, d, d);
    fprintf(f, "%s  }\n", locations);
    fprintf(f, "  server {\n    listen 127.0.0.1:%u;\n    keepalive_requests 100000;\n%s  }\n}\n",
            port2, locations);
    fclose(f);
    snprintf(path, sizeof path, "%s/error.log", n->dir);
    char *argv[] = {"nginx", "-p", n->dir, "-c", conf, "-e", path, "-g", "daemon off;", NULL};
    if (run(argv, &n->pid) != 0)
        return -1;
    for (int i = 0; i < 100 && (!accepting(port) || !accepting(port2)); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!accepting(port) || !accepting(port2)) {
        nginx_stop(n);
        return -1;
    }
    snprintf(n->url, sizeof n->url, "https://127.0.0.1:%u", port);
    snprintf(n->http_url, sizeof n->http_url, "http://127.0.0.1:%u", port2);
    snprintf(n->log, sizeof n->log, "%s/access.log", n->dir);
    return 0;
}

size_t nginx_arrivals(const struct nginx *n, const char *prefix, double *ms, int *status,
                      size_t max)
{
    FILE *f = fopen(n->log, "r");
    char uri[256];
    double t;
    int st;
    size_t k = 0;

    if (f == NULL)
        return 0;
    while (k < max && fscanf(f, "%lf %d %255s", &t, &st, uri) == 3)
        if (strncmp(uri, prefix, strlen(prefix)) == 0) {
            ms[k] = t * 1000.0;
            status[k++] = st;
        }
    fclose(f);
    return k;
}

void nginx_stop(struct nginx *n)
{
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        waitpid(n->pid, NULL, 0);
        n->pid = 0;
    }
    if (n->dir[0] != '\0') {
        char *argv[] = {"rm", "-rf", n->dir, NULL};
        run(argv, NULL);
        n->dir[0] = '\0';
    }
}
