/* SPDX-License-Identifier: Apache-2.0 */
/* Concurio: fan out many HTTP requests (and other asynchronous work) under a concurrency
 * cap, a rate limit and per-item timeouts, streaming every outcome as it happens.
 *
 * Read top to bottom: version and errors; the pool and its options; submitting (HTTP,
 * generic work, the adapter contract, the built-in adapters); results; runs; progress;
 * the allocator. The optional Redis part has a header of its own, concurio/redis.h.
 *
 * Threads: a pool is used from one thread, the one that runs its event loop. Every
 * callback runs on that thread, never after the pool is freed, and may call any function
 * here except cio_pool_run.
 *
 * Growth: the input structs (cio_pool_opts, cio_http_opts, cio_http_req, cio_task_opts)
 * begin with their size. The *_init functions set it (or write sizeof yourself); a zero
 * size means the struct as 0.2.0 has it, for good, so "= {0}" and designated
 * initializers stay safe but see only 0.2.0's fields. Fields are only ever appended, and
 * the library reads no more of a caller's struct than its size says: a program built
 * against an older header is never overrun; one built against a newer header has the
 * fields this library does not know ignored. */
#ifndef CONCURIO_H
#define CONCURIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CIO_BUILDING_LIBRARY) && defined(__GNUC__)
#define CIO_EXTERN __attribute__((visibility("default")))
#else
#define CIO_EXTERN
#endif

/* ==== version and errors ============================================================= */

#define CIO_VERSION_MAJOR 0
#define CIO_VERSION_MINOR 2
#define CIO_VERSION_PATCH 0
#define CIO_VERSION_STRING "0.2.0"
/* One number that grows with every release: 0x00MMmmpp. */
#define CIO_VERSION_NUM ((CIO_VERSION_MAJOR << 16) | (CIO_VERSION_MINOR << 8) | CIO_VERSION_PATCH)

/* The version of the library linked at run time, "MAJOR.MINOR.PATCH"; static storage. */
CIO_EXTERN const char *cio_version(void);
/* CIO_VERSION_NUM of the library linked at run time. */
CIO_EXTERN unsigned cio_version_num(void);

/* Error codes. Values are ABI: append only, never renumber or reuse. */
typedef enum cio_err {
    CIO_OK = 0,
    CIO_E_NOMEM = -1,        /* out of memory */
    CIO_E_INVAL = -2,        /* invalid argument (bad URL, CR/LF/NUL in a header, ...) */
    CIO_E_TIMEOUT = -3,      /* an item's own time limit expired */
    CIO_E_CANCELED = -4,     /* cio_cancel, cio_pool_cancel or cio_pool_free ended the item */
    CIO_E_TRANSPORT = -5,    /* the transfer failed: see curl_code and message */
    CIO_E_LOOP = -6,         /* the event loop refused an event */
    CIO_E_STATE = -7,        /* not allowed now (attach after submit, submit while freeing) */
    CIO_E_NOTFOUND = -8,     /* no unfinished item has that id */
    CIO_E_ADAPTER = -9,      /* a generic work item failed */
    CIO_E_DEADLINE = -10,    /* the whole-run deadline expired before the item ended */
    CIO_E_HTTP = -11,        /* HTTP status >= 400 with CIO_FAIL_ON_HTTP_ERROR, or a status
                                the retry policy retries, on its last attempt */
    CIO_E_RETRY_AFTER = -12, /* the server asked to wait longer than max_wait_ms */
    CIO_E_NOFD = -13,        /* no file descriptor left (RLIMIT_NOFILE), none of the pool's
                                to wait for */
    CIO_E_FILE = -14,        /* the response body could not be written to its body_file
                                (message: the path and why; the file holds what was written) */
    CIO_E__LAST = -15        /* sentinel, never returned */
} cio_err;

/* A fixed English text for a code ("operation timed out"); never NULL. */
CIO_EXTERN const char *cio_strerror(int err);
/* The code's name ("CIO_E_TIMEOUT"), or "CIO_E_UNKNOWN"; never NULL. */
CIO_EXTERN const char *cio_err_name(int err);

/* ==== the pool and its options ======================================================== */

struct event_base;                /* libevent; not included here */
typedef struct cio_pool cio_pool; /* opaque, long-lived */
typedef struct cio_task cio_task; /* opaque, seen by adapters only */
typedef uint64_t cio_task_id;     /* 1, 2, 3, ... per pool; never 0 */

typedef struct cio_result cio_result;                 /* below, with the results */
typedef struct cio_timeouted_task cio_timeouted_task; /* below */
typedef struct cio_progress cio_progress;             /* below, with the meter */

/* How a rate is kept. */
typedef enum cio_rate_mode {
    CIO_RATE_PACED = 0, /* token bucket: starts evenly spaced, up to `burst` at once */
    CIO_RATE_WINDOW = 1 /* never more than `count` starts in any window of `period_ms` */
} cio_rate_mode;

/* A rate limit: `count` starts per `period_ms` (so "N/s", "N/m", "N/h" are all exact),
 * paced or windowed. In paced mode starts in any window of T ms never exceed
 * burst + count * (T + 1) / period_ms (the bucket starts full: the first `burst` go at
 * once; the + 1 is the clock's millisecond). In window mode `count` may go at once, then
 * the window holds. In both, an HTTP request counts from the moment its request goes
 * out (after connecting and TLS), or its end if it never went out, and as going out at
 * every moment until then: so the bound holds for the requests as the server sees them
 * sent, however long a connection takes (paced with burst 1, the next start waits for
 * the request before it to go out; at rates over 1000/s a few may wait at once). Either
 * mode counts what leaves the client: keep a margin under a server's exact limit for the
 * way to it (concurio-fetch keeps 5%). Every attempt, retries included, takes a start. */
typedef struct cio_rate {
    unsigned count;       /* starts per period; 0: unlimited */
    unsigned period_ms;   /* 0: 60000 */
    unsigned burst;       /* paced mode's bucket size; 0: 1 (evenly paced) */
    cio_rate_mode mode;   /* CIO_RATE_PACED or CIO_RATE_WINDOW */
    unsigned start_empty; /* 1: no start until the quota refills (a quota shared with
                             earlier runs) */
} cio_rate;

/* What a retry policy retries. */
enum {
    CIO_RETRY_TRANSPORT = 1 << 0, /* connection and transfer errors (refused, reset, ...) */
    CIO_RETRY_429 = 1 << 1,       /* 429 Too Many Requests */
    CIO_RETRY_5XX = 1 << 2,       /* 500 to 599 */
    CIO_RETRY_TIMEOUT = 1 << 3,   /* the attempt's own timeout expired (not by default) */
    CIO_RETRY_WORK = 1 << 4,      /* a generic item reported cio_task_retry */
};
#define CIO_RETRY_DEFAULT (CIO_RETRY_TRANSPORT | CIO_RETRY_429 | CIO_RETRY_5XX | CIO_RETRY_WORK)

/* A retry policy, for every kind of work. Each attempt takes a concurrency slot and a
 * rate token again; an item waiting to retry holds neither. The wait before attempt n+1
 * is a random time up to base_ms * 2^(n-1) ("full jitter"), at least what the outcome
 * asked (an HTTP Retry-After, seconds or a date; cio_task_retry's after_ms), and never
 * more than max_wait_ms: a longer ask ends the item with CIO_E_RETRY_AFTER. The terminal
 * callback fires once, after the last attempt, with that attempt's outcome and
 * res->attempts. A response whose status the policy retries (429 and 5xx by default)
 * that is still the answer when the attempts or the budget run out is a failure:
 * on_error with CIO_E_HTTP, its status, body and headers kept, so a caller who asked for
 * retries never takes a 503 for a result. All zero: never retry (then every status is a
 * result, as without a policy). */
typedef struct cio_retry {
    unsigned max_attempts;          /* attempts in all, the first included; 0, 1: none */
    unsigned on;                    /* CIO_RETRY_* flags; 0: CIO_RETRY_DEFAULT */
    const unsigned short *statuses; /* if set, exactly these statuses are retried */
    size_t nstatuses;               /*   (instead of CIO_RETRY_429 and CIO_RETRY_5XX) */
    unsigned base_ms;               /* 0: 500 */
    unsigned max_wait_ms;           /* 0: 60000 */
    unsigned budget_ms;             /* the whole item from its first start, attempts and
                                       waits together; 0: none. No retry starts past it,
                                       and an attempt running into it times out */
} cio_retry;

/* Limits for one key. Every item has a key: an HTTP request's is its URL's
 * "scheme://host:port" unless it names one (an API token, an endpoint group); a generic
 * item's is the one in its cio_task_opts, or none. Each key has its own queue,
 * concurrency cap and rate, checked together with the pool's own before an item
 * starts, and the keys are served round robin. While several keys have items waiting,
 * none gets a slot past its share of the pool (max_concurrency over the keys waiting)
 * unless the others cannot start now (a token, a cap): one slow or throttled key never
 * takes every slot, and no slot idles for fairness. Slots already held are not taken
 * back. Zero fields: no limit. */
typedef struct cio_limits {
    unsigned max_concurrency; /* in flight with this key */
    cio_rate rate;            /* starts with this key */
} cio_limits;

typedef void (*cio_done_cb)(cio_pool *pool, const cio_result *res, void *user);
typedef void (*cio_error_cb)(cio_pool *pool, const cio_result *res, void *user);
typedef void (*cio_timeout_cb)(cio_pool *pool, const cio_timeouted_task *rec, void *user);
typedef void (*cio_drained_cb)(cio_pool *pool, void *user);
typedef void (*cio_progress_cb)(cio_pool *pool, const cio_progress *pr, void *user);

/* Return values of a feeder. */
enum { CIO_FEED_MORE = 0, CIO_FEED_END = 1 };

/* A feeder hands items over lazily: the pool calls it on the loop thread whenever its
 * queue has room for `room` more items (it keeps twice max_concurrency queued, at least
 * 64, so that keys further down the input are there to get their share). It submits up
 * to about `room` items and returns CIO_FEED_MORE, or CIO_FEED_END when it has no more
 * (the pool then stops calling it for this run). Returning CIO_FEED_MORE having
 * submitted nothing pauses it until the next item ends or cio_pool_feed_wake. */
typedef int (*cio_feed_cb)(cio_pool *pool, size_t room, void *user);

/* Pool flags (cio_pool_opts.flags). */
enum {
    CIO_ADAPTIVE = 1 << 4, /* on 429 and 503 slow that key down (below) */
};

/* CIO_ADAPTIVE: a 429 or 503 halves the rate of the request's key (at most one cut a
 * second), from the rate it is held to: its own, or the pool's when it has none (or a
 * higher one); with no rate at all, half the rate of its starts over the last second.
 * Every second without one the key gets back a tenth of that rate, never more. A
 * response saying RateLimit-Remaining: 0 (or X-RateLimit-Remaining: 0) pauses its key
 * until RateLimit-Reset / X-RateLimit-Reset (seconds, or an epoch time) instead of
 * burning attempts; the pause is no quiet time for the recovery. */

/* HTTP flags (cio_http_opts.flags). They share no bit with the pool's flags (1 << 4 is
 * CIO_ADAPTIVE), so that one given in the other's field is refused, not ignored. */
enum {
    CIO_FAIL_ON_HTTP_ERROR = 1 << 0, /* status >= 400 goes to on_error as CIO_E_HTTP */
    CIO_INSECURE = 1 << 1,           /* do not verify TLS certificates or host names */
    CIO_NO_REDIRECTS = 1 << 2,       /* do not follow 3xx Location (default: up to 10) */
    CIO_DISCARD_BODY = 1 << 3,       /* keep no response body (max_body still bounds what is
                                        read, and res->bytes counts it) */
    CIO_NO_COMPRESSION = 1 << 5,     /* send no Accept-Encoding (default: every encoding
                                        this libcurl decodes), bodies come as sent */
};

/* HTTP versions. */
typedef enum cio_http_version {
    CIO_HTTP_DEFAULT = 0, /* HTTP/2 over TLS when the server offers it, else HTTP/1.1 */
    CIO_HTTP_1_1 = 1,     /* HTTP/1.1 only */
    CIO_HTTP_2 = 2        /* HTTP/2 wherever possible (also h2c upgrades on http://) */
} cio_http_version;

/* How the built-in meter draws (cio_pool_opts.progress_fd). */
typedef enum cio_progress_mode {
    CIO_PROGRESS_AUTO = 0, /* _LINE on a terminal, _LOG otherwise */
    CIO_PROGRESS_LINE = 1, /* one line redrawn in place, at most 10 times a second */
    CIO_PROGRESS_LOG = 2   /* a new line every progress_ms (a log file, a CI job) */
} cio_progress_mode;

/* The HTTP engine's options (cio_pool_opts.http). */
typedef struct cio_http_opts {
    size_t size;                   /* sizeof(cio_http_opts) (cio_http_opts_init); 0: the
                                      0.2.0 struct */
    unsigned flags;                /* CIO_FAIL_ON_HTTP_ERROR | CIO_INSECURE | ... */
    size_t max_body;               /* response bytes kept (decoded); 0: 16 MiB */
    unsigned max_connections;      /* connections open at most; 0: max_concurrency. Over
                                      HTTP/2 one connection carries many requests, so the
                                      request cap and the connection cap differ */
    cio_http_version version;      /* CIO_HTTP_DEFAULT, CIO_HTTP_1_1 or CIO_HTTP_2 */
    const char *ca_file;           /* PEM certificates to verify servers with; NULL: the
                                      system's (copied) */
    unsigned connect_timeout_ms;   /* limit on the connection phase of an attempt; its expiry
                                      is a timeout with budget CIO_BUDGET_CONNECT and
                                      timeout_ms this limit; 0: libcurl's (300 s) */
    unsigned io_threads;           /* threads of the pool's own that run transfers (sockets,
                                      TLS, parsing), each with its own curl multi handle and
                                      connections; 0: transfers run on the loop thread.
                                      Admission, limits and every callback stay on the loop
                                      thread; max_concurrency and max_connections are
                                      shared out between the threads, so they stay global.
                                      At most max_connections threads are made, and none
                                      when file descriptors are short. glibc gives each
                                      thread a malloc arena that keeps its freed pages: a
                                      long run's RSS creeps up unless the program calls
                                      malloc_trim(0) now and then (concurio-fetch does,
                                      once a second); the library does not, as that is the
                                      whole process's choice */
    unsigned max_redirects;        /* redirects followed at most (unless CIO_NO_REDIRECTS);
                                      one more is an error (curl_code 47); 0: 10 */
    const char *proxy;             /* every request through this proxy ("http://H:P",
                                      "socks5h://H:P", as libcurl takes it); NULL: the
                                      environment's (http_proxy, ...) (copied) */
    const char *noproxy;           /* hosts reached without the proxy, comma-separated, as
                                      no_proxy; NULL: the environment's (copied) */
    const char *const *resolve;    /* "HOST:PORT:ADDR[,ADDR]..." entries, NULL-terminated:
                                      these names are not looked up (curl --resolve);
                                      the URL's name stays for Host and TLS (copied) */
    const char *const *connect_to; /* "HOST:PORT:CONNECT-HOST:CONNECT-PORT" entries,
                                      NULL-terminated (curl --connect-to) (copied) */
    const char *cookie_file;       /* NULL: no cookies kept (a Set-Cookie is dropped, as
                                      curl does without -b). "": cookies kept, per key (see
                                      "Cookies" below). A path: kept, and each key's store
                                      starts with this file's (curl's cookie file format,
                                      or Set-Cookie lines), read when the key has its first
                                      request (copied) */
} cio_http_opts;

/* Cookies (cio_http_opts.cookie_file set). Every key (an HTTP request's is its URL's
 * "scheme://host:port" unless it names one) has a cookie store of its own: what one
 * key's responses set is sent with that key's later requests and redirects (a login
 * that redirects keeps its session), and never with another key's, so two API tokens
 * on one host keep two sessions. libcurl's domain, path, expiry and Secure rules apply
 * within a store. Stores last as long as the pool: memory grows with the keys that had
 * a request. */

/* Writes every key's cookies to path, in curl's cookie file format (a cookie appears
 * once per key that has it; loaded again with cookie_file), through a temporary file
 * renamed over path, readable by its owner only. Cookies set by transfers still running
 * may be missing.
 * Returns: CIO_OK; CIO_E_STATE when cookies are not kept; CIO_E_FILE when path cannot be
 *          written (*why, if not NULL, is the errno); CIO_E_NOMEM.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN int cio_http_save_cookies(cio_pool *pool, const char *path, int *why);

/* The HTTP engine's libraries and what they can do, one line, e.g. "libcurl/7.88.1
 * OpenSSL/3.0.15 zlib/1.2.13 nghttp2/1.52.0 (HTTP/2: yes, HTTP/3: no)". Static text.
 * Context: any thread. */
CIO_EXTERN const char *cio_http_engine_version(void);

/* A shared limiter: a backend that hands out start slots, so that several pools (in
 * several processes, on several machines) keep one quota (concurio/redis.h has one on
 * Redis). When items wait, the pool asks it for as many slots as could start; the
 * backend answers each asked slot once with cio_pool_grant, usually later (from the
 * loop). Until a slot comes nothing starts: a backend that cannot reach its store holds
 * the pool (fail closed). */
typedef struct cio_limiter_vtable {
    const char *name;
    /* Asks for n more slots. Returns CIO_OK, or a negative cio_err (nothing was asked;
     * the pool asks again at its next admission). */
    int (*reserve)(void *limiter, cio_pool *pool, struct event_base *base, unsigned n);
    /* The pool is being freed: no cio_pool_grant for it after this returns. */
    void (*forget)(void *limiter, cio_pool *pool);
} cio_limiter_vtable;

/* Options of a pool. A zero field means its default, so cio_pool_opts_init and = {0}
 * agree. Fields are only ever appended. */
typedef struct cio_pool_opts {
    size_t size;                       /* sizeof(cio_pool_opts) (cio_pool_opts_init); 0: the
                                          0.2.0 struct */
    unsigned max_concurrency;          /* items in flight, and HTTP connections open; 0: 50.
                                          Fewer when file descriptors are short: a run starts no
                                          more than RLIMIT_NOFILE leaves room for (two a
                                          request: its socket, a name lookup's pair), and a
                                          socket refused with EMFILE holds its item back until
                                          another ends (not counted as an attempt). With none of
                                          the pool's own to wait for, it tries again after
                                          100 ms, 200, ... and after 3 s of that the item ends
                                          with CIO_E_NOFD (the rest then at once, until a
                                          descriptor is had again): it waits, never spins */
    cio_rate rate;                     /* item starts; count 0: unlimited */
    unsigned timeout_ms;               /* default per-item limit from admission; 0: none */
    unsigned deadline_ms;              /* whole-run limit from cio_pool_run/start; 0: none */
    unsigned flags;                    /* CIO_ADAPTIVE */
    cio_retry retry;                   /* the policy of every item without its own */
    cio_limits per_key;                /* limits of every key without its own (per host) */
    const cio_http_opts *http;         /* the HTTP engine's options; NULL: defaults (copied) */
    cio_done_cb on_done;               /* a response arrived (any HTTP status), or work done */
    cio_error_cb on_error;             /* transport error, cancel, deadline, ... */
    cio_timeout_cb on_timeout;         /* the item's own limit expired (NULL: on_error,
                                          CIO_E_TIMEOUT) */
    cio_drained_cb on_drained;         /* every item of a run has ended; items it submits belong
                                          to the run, which goes on (and drains again) */
    cio_feed_cb on_feed;               /* optional lazy source of items */
    void *user;                        /* handed to every pool callback */
    cio_progress_cb on_progress;       /* optional progress meter feed */
    unsigned progress_ms;              /* 0: 250 (10000 for the meter's log lines) */
    uint64_t expected;                 /* items expected per run, for the meter's total, ETA */
    int progress_fd;                   /* the built-in meter: draw it on this descriptor (2 for
                                          stderr) every progress_ms; 0: no meter */
    const char *progress_desc;         /* the meter's label, e.g. "fetch"; NULL: none (copied) */
    cio_progress_mode progress_mode;   /* CIO_PROGRESS_AUTO, _LINE or _LOG */
    unsigned blocking_threads;         /* worker threads for cio_submit_blocking; 0: 4 */
    const char *dns_nameserver;        /* "IP[:PORT]" for cio_submit_dns; NULL: the system's */
    const cio_limiter_vtable *limiter; /* a shared limiter: every start also needs one of
                                          its slots; NULL: none */
    void *limiter_arg;                 /* the limiter's state */
} cio_pool_opts;

/* Fills *o with the defaults: all zero, and o->size. */
CIO_EXTERN void cio_pool_opts_init(cio_pool_opts *o);
/* Fills *o with the defaults: all zero, and o->size. */
CIO_EXTERN void cio_http_opts_init(cio_http_opts *o);

/* Makes a pool.
 *
 * Copies:  *o, *o->http and the strings they point to (NULL: defaults), no more of each
 *          than its size says.
 * Returns: the pool, owned by the caller (cio_pool_free), or NULL with *err (if err is
 *          not NULL) set to CIO_E_NOMEM or CIO_E_INVAL (a size too small to hold even
 *          `size`, a flag of the other struct, an unknown enum value, an impossible
 *          rate).
 * Growth:  a caller built against an older header passes its smaller size: the library
 *          reads no byte past it and takes the newer fields as zero (their defaults).
 * Context: any thread; the pool is then used from one thread only. */
CIO_EXTERN cio_pool *cio_pool_new(const cio_pool_opts *o, int *err);

/* Frees the pool: unfinished items end with CIO_E_CANCELED first (their callbacks fire).
 * Inside a callback the release of memory is deferred until the callback returns (or,
 * under cio_pool_run, until it returns). NULL is fine.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN void cio_pool_free(cio_pool *pool);

/* Gives `key` limits of its own instead of cio_pool_opts.per_key: an API token's quota,
 * an endpoint group's. Takes effect for items not yet started; a new bucket starts full.
 * Copies: key and *limits. Returns: CIO_OK; CIO_E_INVAL; CIO_E_NOMEM.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN int cio_pool_set_key_limits(cio_pool *pool, const char *key, const cio_limits *limits);

/* A shared limiter's answer to one asked slot: an item may start in wait_ms, and no
 * later than late_ms after that (a slot not used by then is dropped and another asked
 * for). Context: the pool's loop thread, also inside reserve. */
CIO_EXTERN void cio_pool_grant(cio_pool *pool, uint64_t wait_ms, unsigned late_ms);

/* ==== submitting =========================================================================
 * Every submitted item ends in exactly one terminal callback (on_done, on_error or
 * on_timeout): whatever happens, deadline, cancel, the pool freed mid-run included. */

/* An HTTP request. Only http:// and https:// URLs are accepted (redirects too). */
typedef struct cio_http_req {
    size_t size;                /* sizeof(cio_http_req); 0: the 0.2.0 struct */
    const char *method;         /* NULL: GET, or POST when a body is given */
    const char *url;            /* required */
    const char *const *headers; /* "Name: value" strings; NULL-terminated array or NULL */
    const void *body;           /* NULL: no body */
    size_t body_len;
    unsigned timeout_ms;    /* 0: the pool's timeout_ms; CIO_NO_TIMEOUT: none */
    void *user;             /* handed back as task_user */
    const cio_retry *retry; /* NULL: the pool's policy; copied at submit */
    const char *key;        /* limits key; NULL: "scheme://host:port" of the URL */
    const char *body_file;  /* NULL: the body is kept in memory (max_body). Else the
                               response body is written to this path as it arrives (not
                               kept: res->body is "", res->bytes counts what was written;
                               max_body does not apply), from the transfer's thread; see
                               "Bodies to files" below (copied) */
} cio_http_req;

#define CIO_NO_TIMEOUT 0xFFFFFFFFu

/* Bodies to files (cio_http_req.body_file). Each attempt opens the path afresh
 * (O_CREAT | O_TRUNC, mode 0666 less the umask) when its first body byte arrives, or at
 * its end when a response had no body, so a complete response always leaves its file,
 * empty or not; the bodies of redirects followed are not written. Nothing is written to
 * it once the terminal callback fires, so the callback may rename or remove it; it is
 * closed by then too, except for a transfer cut on a transfer thread (a timeout, a
 * cancel), whose descriptor is closed when that thread gives the transfer back. An attempt that
 * cannot open or write it (no such directory, disk full) stops and the item ends with
 * CIO_E_FILE, not retried; a descriptor refused with EMFILE is back-pressure, as for a
 * socket (cio_pool_opts.max_concurrency). A transfer that fails leaves what it wrote:
 * the caller removes or keeps it. The item holds one more descriptor while it runs. */

/* Queues one HTTP request; it starts when a slot and a rate token are free.
 *
 * Copies:  req and everything it points to; free them whenever you like.
 * Returns: CIO_OK and stores the id in *id (if id is not NULL), or a negative cio_err
 *          (CIO_E_INVAL for a missing or non-http(s) URL, CR, LF or NUL in the method,
 *          URL or headers, or a header without ':'; CIO_E_DEADLINE after the run's
 *          deadline; CIO_E_STATE while the pool is being freed or stopped; CIO_E_NOFD
 *          when no descriptor is left for its loop), in which case no callback will ever
 *          fire. Never starts the request nor calls back inside.
 * Resends: libcurl sends a request again on a new connection when a reused one turns
 *          out dead before any byte of the answer (up to 5 times, then curl 55); the
 *          item still ends once.
 * Proxies: libcurl's variables (http_proxy, https_proxy, all_proxy, no_proxy) apply;
 *          whether any is set is read once, at the pool's first HTTP request.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN int cio_submit_http(cio_pool *pool, const cio_http_req *req, cio_task_id *id);

/* The adapter contract. A work item is a context pointer (`work`) and a vtable. The pool
 * drives it exactly as it drives HTTP requests (HTTP is itself such an adapter): same
 * queue, concurrency slots, rate tokens, retry policy and budget, per-item timeout,
 * deadline, cancel, and exactly one terminal callback.
 *
 *   start    an attempt was admitted: begin the work on `base` and keep `task` to
 *            report how the attempt ended, with cio_task_complete (the item's end) or
 *            cio_task_retry (another attempt may help), from start itself or later from
 *            the work's own events. After cio_task_retry, start is called again for the
 *            next attempt (the policy allowing). Return CIO_OK, or a negative cio_err to
 *            end the item at once with on_error (cancel is then not called).
 *   cancel   its timeout, the deadline, cio_cancel or cio_pool_free ended the item while
 *            an attempt ran: stop the work and its events. The terminal callback
 *            (on_timeout or on_error) follows, or another start when a timeout is
 *            retried; the work must not report after this.
 *   destroy  free the work: once per submitted item, after its terminal callback, on a
 *            later turn of the loop (never inside the work's own code); also for items
 *            that never started (start was not called).
 *
 * All three run on the loop thread. A report made twice, or after cancel, in the same
 * turn of the loop is caught and ignored (cio_stats.ignored_completions). */
typedef struct cio_task_vtable {
    const char *name; /* the TimeoutedTask name, e.g. "sleep" */
    int (*start)(cio_task *task, void *work, struct event_base *base);
    void (*cancel)(cio_task *task, void *work);
    void (*destroy)(void *work);
} cio_task_vtable;

typedef struct cio_task_opts {
    size_t size;            /* sizeof(cio_task_opts); 0: the 0.2.0 struct */
    unsigned timeout_ms;    /* 0: the pool's timeout_ms; CIO_NO_TIMEOUT: none */
    void *user;             /* handed back as task_user */
    const char *key;        /* limits key (cio_limits); NULL: none, only the pool's */
    const cio_retry *retry; /* NULL: the pool's policy; copied at submit */
} cio_task_opts;

/* Queues one generic work item; it starts under the same slot, token, retry, timeout,
 * deadline and cancel rules as HTTP requests.
 *
 * Takes:   work, on success (vt->destroy frees it once); on error the caller keeps it.
 * Borrows: vt, which must outlive the pool. Copies: *o (may be NULL).
 * Returns: as cio_submit_http (CIO_E_INVAL for a vtable without start, cancel or
 *          destroy).
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN int cio_submit(cio_pool *pool, const cio_task_vtable *vt, void *work,
                          const cio_task_opts *o, cio_task_id *id);

/* Reports the end of a running generic item; its terminal callback runs before this
 * returns.
 *
 * status CIO_OK: on_done, with res->value = data, res->body = data and res->body_len =
 *                len (not NUL-terminated unless the data is).
 * status < 0:    on_error with that code; data, if not NULL, is a NUL-terminated
 *                message for res->message (len is ignored).
 * Borrows: data, until this returns.
 * Context: loop thread only (from start or the work's own events); once per attempt. */
CIO_EXTERN void cio_task_complete(cio_task *task, int status, const void *data, size_t len);

/* Reports that a running generic item's attempt failed and another may succeed. The
 * item's retry policy (with CIO_RETRY_WORK, as by default) decides: another attempt
 * after the backoff and at least after_ms (0: the backoff alone; more than max_wait_ms:
 * the item ends with CIO_E_RETRY_AFTER), and then start is called again; or, with no
 * attempt or budget left, the item ends with on_error(status) and message. Nothing is
 * called back inside but that terminal callback.
 * status: a negative cio_err (CIO_E_ADAPTER when not negative). message: NUL-terminated
 * or NULL, borrowed until this returns.
 * Context: loop thread only; once per attempt, instead of cio_task_complete. */
CIO_EXTERN void cio_task_retry(cio_task *task, int status, unsigned after_ms, const char *message);

/* Ends one unfinished item: its terminal callback (on_error with CIO_E_CANCELED) fires
 * before this returns, also when called from a callback of a cancel-all, the deadline
 * or the free.
 * Returns: CIO_OK; CIO_E_NOTFOUND when no unfinished item has that id.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN int cio_cancel(cio_pool *pool, cio_task_id id);

/* Items submitted and not yet ended (an item no longer counts inside its own terminal
 * callback). */
CIO_EXTERN size_t cio_pool_count(const cio_pool *pool);

/* ---- the built-in adapters ------------------------------------------------------------ */

/* A blocking function, run on one of the pool's worker threads (blocking_threads). It
 * returns CIO_OK or a negative cio_err and may store a result in *value. It must not
 * call Concurio. */
typedef int (*cio_blocking_fn)(void *arg, void **value);
/* Frees a blocking item's arg and value; value is NULL if fn never ran. */
typedef void (*cio_cleanup_fn)(void *arg, void *value);

/* Queues a blocking function. An admitted item runs as soon as a worker is free;
 * admission waits for a free worker, so the timeout never counts time spent waiting for
 * one. on_done gets the value in res->value; callbacks always run on the loop thread. A
 * timeout, cancel or deadline ends the item at once; the function runs on to its end and
 * its late result is discarded.
 *
 * Takes:   arg, on success: cleanup (if not NULL) is called once on the loop thread after
 *          both the item has ended and fn has returned (or will never run).
 * Returns: as cio_submit.
 * Context: loop thread. cio_pool_free waits for functions already running. */
CIO_EXTERN int cio_submit_blocking(cio_pool *pool, cio_blocking_fn fn, void *arg,
                                   cio_cleanup_fn cleanup, const cio_task_opts *o, cio_task_id *id);

/* Queues a timer: the item completes (on_done, no value) `ms` milliseconds after it is
 * admitted. Useful for scheduled work and for tests. Returns: as cio_submit. */
CIO_EXTERN int cio_submit_timer(cio_pool *pool, unsigned ms, const cio_task_opts *o,
                                cio_task_id *id);

/* Queues a DNS lookup of `host` on libevent's asynchronous resolver (the system's
 * name servers and hosts file, or cio_pool_opts.dns_nameserver). on_done gets the
 * first address as text in res->body ("127.0.0.1", "::1") and the whole list as a
 * `struct addrinfo *` in res->value (borrowed); a failure is on_error with
 * CIO_E_TRANSPORT and the resolver's message.
 * Copies: host. Returns: as cio_submit (CIO_E_INVAL for an empty host).
 * Freeing: libevent answers a canceled lookup on a later loop turn, so a pool freed
 *          with lookups out keeps its resolver until then: on its own loop the free
 *          runs that turn; on the caller's, the caller's next turn frees it (a base
 *          freed without one leaves the resolver's memory behind, never a crash). */
CIO_EXTERN int cio_submit_dns(cio_pool *pool, const char *host, const cio_task_opts *o,
                              cio_task_id *id);

/* ==== results ========================================================================= */

/* Time an item spent in each phase, in milliseconds. */
typedef struct cio_timings {
    uint64_t queued_ms;     /* waiting for admission, over all attempts */
    uint64_t connect_ms;    /* last attempt: from its start until TCP connected (0: reused) */
    uint64_t tls_ms;        /* last attempt: until TLS was established (0: plain, reused) */
    uint64_t first_byte_ms; /* last attempt: until the first response byte */
    uint64_t total_ms;      /* from submit until the end */
    uint64_t rate_wait_ms;  /* of queued_ms: its turn had come, only a rate token was missing */
    uint64_t elapsed_ms;    /* from the first attempt's start until the end; 0: never started */
} cio_timings;

/* The outcome of an item, given to on_done and on_error. Borrowed: every pointer is
 * valid only while the callback runs; copy what you keep. */
struct cio_result {
    cio_task_id id;
    int status;                /* CIO_OK (on_done) or a negative cio_err (on_error) */
    long http_status;          /* 0 when no response arrived or not HTTP */
    int curl_code;             /* CURLcode of the transfer; 0 when absent or not HTTP */
    const char *message;       /* detail for errors (curl's error text), "" otherwise */
    const char *method;        /* NULL for non-HTTP items */
    const char *url;           /* the submitted URL; NULL for non-HTTP items */
    const char *effective_url; /* the URL last fetched (after redirects); may be NULL */
    const char *body;          /* response body, NUL-terminated, at most max_body bytes */
    size_t body_len;
    int truncated;       /* 1: the body passed max_body and the transfer was stopped */
    const char *headers; /* the final response's header lines, "Name: value\r\n"... */
    size_t headers_len;
    unsigned attempts; /* how many times the item was started */
    cio_timings timings;
    void *value;       /* generic items: the data given to cio_task_complete */
    void *task_user;   /* the request's user pointer */
    long http_version; /* of the response: 10, 11, 20, 30; 0 when none */
    uint64_t bytes;    /* decoded body bytes received, kept or not (CIO_DISCARD_BODY); at
                          most max_body plus one network read */
};

/* The value of response header `name` (case-insensitive) in res, or NULL; *len gets its
 * length (the value is not NUL-terminated). Borrowed like res. */
CIO_EXTERN const char *cio_result_header(const cio_result *res, const char *name, size_t *len);

/* Which time budget a cio_timeouted_task reports. (The whole-run deadline ends items
 * with on_error and CIO_E_DEADLINE instead.) */
typedef enum cio_budget {
    CIO_BUDGET_ATTEMPT = 0, /* the attempt's own timeout_ms */
    CIO_BUDGET_ITEM = 1,    /* cio_retry.budget_ms: the item across all its attempts */
    CIO_BUDGET_CONNECT = 2  /* cio_http_opts.connect_timeout_ms: no connection in time */
} cio_budget;

/* The TimeoutedTask record: an item whose own time limit expired. Borrowed like
 * cio_result. Time spent waiting for admission never counts against the limit. */
struct cio_timeouted_task {
    cio_task_id id;
    const char *name;            /* "GET http://..." for HTTP; the adapter's name else */
    unsigned timeout_ms;         /* the limit that expired */
    const cio_http_req *request; /* the pool's copy of the request; NULL if not HTTP */
    uint64_t queued_ms;          /* waited for admission */
    uint64_t ran_ms;             /* from admission until expiry */
    uint64_t started_ms;         /* monotonic clock at admission */
    uint64_t expired_ms;         /* monotonic clock at expiry */
    void *task_user;
    unsigned attempts;   /* attempts started, the expired one included */
    cio_budget budget;   /* which budget expired */
    cio_timings timings; /* as in cio_result: the phases the attempt reached */
};

/* ==== runs ============================================================================ */

/* Binds the pool to the caller's event loop instead of one of its own.
 *
 * Borrows: base; free the pool before the base.
 * Returns: CIO_OK; CIO_E_STATE after the first submit or a second attach; CIO_E_NOMEM
 *          when the pool's events could not be made (the pool stays bound to base, and
 *          cio_pool_start tries again).
 * Context: the loop's thread, before anything is submitted. The pool never dispatches
 *          the caller's loop: the caller does, and items start after cio_pool_start. */
CIO_EXTERN int cio_pool_attach(cio_pool *pool, struct event_base *base);

/* Starts a run on an attached pool: queued items are admitted, the deadline clock
 * starts, and on_drained fires once every item (and the feeder) has ended. Items
 * submitted inside on_drained belong to the run, which goes on (on_drained fires again
 * when they have ended); items submitted after it returns wait for the next
 * cio_pool_start.
 *
 * Returns: CIO_OK; CIO_E_STATE when not attached or already running; CIO_E_NOMEM when
 *          the pool's events could not be made (nothing started; it may be called again).
 * Context: loop thread; returns at once, before any callback fires. */
CIO_EXTERN int cio_pool_start(cio_pool *pool);

typedef enum cio_run_mode {
    CIO_RUN_DEFAULT = 0, /* until every item (and the feeder) has ended */
    CIO_RUN_ONCE = 1,    /* one loop iteration, waiting for events */
    CIO_RUN_NOWAIT = 2   /* one loop iteration, not waiting */
} cio_run_mode;

/* Runs the pool's own event loop.
 *
 * Returns: CIO_OK when the run ended with every item delivered; CIO_E_DEADLINE or
 *          CIO_E_CANCELED when the deadline or cio_pool_cancel ended it; CIO_E_STATE on
 *          an attached pool, when called from a callback, or when a feeder paused
 *          (CIO_FEED_MORE, nothing submitted) with nothing left to run; CIO_E_LOOP on
 *          loop failure.
 *          If a callback freed the pool, the free happens before this returns CIO_OK.
 * Context: the pool's thread, never inside a callback. The pool is empty and reusable
 *          after CIO_RUN_DEFAULT returns: what on_drained submitted ran in this run. */
CIO_EXTERN int cio_pool_run(cio_pool *pool, cio_run_mode mode);

/* Ends every unfinished item with CIO_E_CANCELED (callbacks fire before this returns)
 * and stops the feeder for this run. Items submitted afterwards run normally.
 * Returns: how many items it ended itself (not those a callback canceled meanwhile).
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN size_t cio_pool_cancel(cio_pool *pool);

/* A graceful stop, as for a first Ctrl-C: nothing new starts. The feeder is not called
 * again, items waiting for admission or for a retry end now with CIO_E_CANCELED (their
 * res->attempts says whether they ever started), items in flight run to their end but are
 * not retried (one that would be ends with CIO_E_CANCELED), and the run ends when the
 * last of them does; cio_pool_run then returns CIO_E_CANCELED. Submitting during the
 * stop fails with CIO_E_STATE. cio_pool_cancel still ends the items in flight at once.
 * Returns: how many items it ended.
 * Context: loop thread; allowed inside any Concurio callback; no-op outside a run. */
CIO_EXTERN size_t cio_pool_stop(cio_pool *pool);

/* Calls a feeder that returned CIO_FEED_MORE without submitting, at the next loop turn.
 * Called from inside the feeder, it asks for that next call before the feeder returns. */
CIO_EXTERN void cio_pool_feed_wake(cio_pool *pool);

/* Per-pool counters, since the pool was made. */
typedef struct cio_stats {
    uint64_t submitted, started, done, errors, timeouts;
    size_t queued;                /* waiting for admission now */
    size_t in_flight;             /* running now */
    size_t max_in_flight;         /* the most ever running at once */
    uint64_t connects;            /* HTTP connections opened (the rest were reused) */
    uint64_t ignored_completions; /* a report on an ended item: a bug, ignored */
    uint64_t retries;             /* attempts started again after a failure */
    uint64_t throttles;           /* rate cuts made by CIO_ADAPTIVE */
    uint64_t slots_dropped;       /* a shared limiter's slots not used in time */
} cio_stats;

/* Copies the pool's counters into *out. */
CIO_EXTERN void cio_pool_stats(const cio_pool *pool, cio_stats *out);

/* ==== progress ======================================================================== */

/* A snapshot for a progress meter. */
struct cio_progress {
    uint64_t total; /* items expected this run (cio_pool_opts.expected); 0: unknown */
    uint64_t ended; /* items ended this run: done + errors + timeouts */
    uint64_t done, errors, timeouts;
    uint64_t in_flight, queued;
    uint64_t elapsed_ms; /* since the run started */
    double rate;         /* items ended per second over the last few seconds */
    uint64_t eta_ms;     /* 0 when unknown */
    int final;           /* 1 for the last snapshot of a run */
    uint64_t retrying;   /* items waiting to retry (they hold no slot) */
    unsigned held;       /* what keeps queued items from a free slot now: CIO_HELD_* */
};

/* cio_progress.held: items are queued and a slot is free, but they wait for */
enum {
    CIO_HELD_RATE = 1 << 0, /* the pool's rate (or its shared limiter): a token */
    CIO_HELD_KEY = 1 << 1,  /* their keys' rate, or a CIO_ADAPTIVE cut or pause */
};

/* on_progress is called on the loop thread every progress_ms during a run, and once
 * more at its end (final = 1) before each on_drained. */

/* Changes the meter's total (cio_pool_opts.expected) from now on: for a caller that
 * learns the number of items as it goes, or drops some it counted.
 * Context: loop thread; allowed inside any Concurio callback. */
CIO_EXTERN void cio_pool_set_expected(cio_pool *pool, uint64_t expected);

/* Writes one line for pr into buf (NUL-terminated, cut to len): with a total,
 * "DESC  42% |#####     | 420/1000 [00:04<00:06, 98.5/s] done 400, errors 15, timeouts 5";
 * without one, no bar, percentage or ETA. width: columns for the bar (0: none). Returns
 * the length it wanted, as snprintf. Pure: no I/O. */
CIO_EXTERN int cio_progress_format(const cio_progress *pr, const char *desc, unsigned width,
                                   char *buf, size_t len);

/* ==== the allocator =================================================================== */

/* The allocator of Concurio's own code. libcurl's and libevent's are set with their own
 * calls (curl_global_init_mem, event_set_mem_functions); give them the same functions
 * to count, cap or fail every allocation of a run.
 *
 * Copies:  *m; a NULL m, or a NULL function in it, means the C library's.
 * Returns: CIO_OK, or CIO_E_STATE while any pool exists (memory must go back to the
 *          allocator that gave it).
 * Context: any thread, before the first pool is made. */
typedef struct cio_mem_functions {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t n, size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} cio_mem_functions;
CIO_EXTERN int cio_set_mem_functions(const cio_mem_functions *m);

#ifdef __cplusplus
}
#endif
#endif /* CONCURIO_H */
