/* http_internal.h — the HTTP client's private structures (src/http).
 *
 * One driver per loop owns libcurl's multi handle (multi.c). A response
 * owns one easy handle for the life of its transfer; the task that waits on
 * it parks on r->waiter and libcurl's callbacks (always run in the loop
 * context, from the driver's timers, or in the task itself when it removes
 * its transfer) wake it when something it may wait for changed: the final
 * headers, body bytes, the end of the transfer, or a request for upload
 * bytes. Waits are condition loops: a woken task looks again.
 */
#ifndef CIO_HTTP_INTERNAL_H
#define CIO_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "cio/http.h"
#include "../core/internal.h"
#include "../debug/handle.h"
#include "../io/io.h"

typedef struct cio_http_driver cio_http_driver;

/* One of libcurl's sockets, registered with the poller. Each side it wants
 * (CURL_POLL_IN, _OUT) has one POLL request pending at a time. Freed only
 * once libcurl said REMOVE and both requests have ended (io_uring ends a
 * cancelled request later), and never inside a poller callback. */
typedef struct cio_http_sock {
    cio_http_driver *d;
    curl_socket_t s;
    cio_fd fd;
    cio_io_req in, out;
    int want;                   /* CURL_POLL_IN / _OUT bits */
    int ready;                  /* CURL_CSELECT_* seen, not yet told */
    unsigned pending;           /* requests in the poller */
    bool removed;               /* libcurl is done with it */
    bool queued;                /* on the driver's ready or dead list */
    struct cio_http_sock *next;
    struct cio_http_sock *all_prev, *all_next;  /* every one not freed */
} cio_http_sock;

struct cio_http_driver {
    cio_loop *loop;
    CURLM *multi;
    cio_timer_node timer;       /* libcurl's timeout */
    cio_timer_node kick;        /* deferred work, next loop pass */
    bool in_kick;
    cio_http_sock *ready;       /* sockets with readiness to tell libcurl */
    cio_http_sock *dead;        /* removed sockets to free */
    cio_http_response *unpause; /* responses to resume */
    cio_http_response *live;    /* every open response */
    cio_http_sock *socks;       /* every cio_http_sock not freed */
};

struct cio_http_session {
    cio_loop *loop;
    size_t refs;                /* 1 while open, + 1 per response */
    char *user_agent;
    char *ca_file;
    char **headers;             /* defaults, NULL-terminated copy */
    int64_t connect_timeout, timeout;
    int max_redirects;
    size_t max_body;
    bool insecure, http1_only;
    /* Easy handles of ended transfers, reset (curl_easy_reset: no option,
     * callback, header list or private pointer survives), for the next
     * requests: saves libcurl's per-handle setup and its allocations. At
     * most pool_cap (the session's connection limit); freed with it. */
    CURL **pool;
    size_t npool, pool_cap;
};

typedef struct cio_http_header {
    char *name, *value;         /* one allocation: name '\0' value '\0' */
} cio_http_header;

enum cio_http_upload { UP_NONE, UP_BYTES, UP_FD, UP_FN };

struct cio_http_response {
    cio_handle handle;          /* the loop's registry of open handles */
    cio_http_session *session;
    cio_http_driver *d;
    CURL *easy;
    struct curl_slist *req_headers;
    cio_http_response *live_prev, *live_next;
    cio_http_response *unpause_next;
    cio_waiter *waiter;         /* the task parked on it */
    int64_t deadline;           /* the request's total timeout */
    bool in_multi;              /* added to the multi handle */
    bool ready;                 /* final status and headers are in */
    bool done;                  /* the transfer ended: result is final */
    bool following;             /* libcurl follows redirects */
    bool unpause_queued;
    bool paused_recv, paused_send;
    int result;                 /* when done: 0 or the error */
    /* head */
    int status;
    int http_version;           /* 10, 11, 20, 30; 0: unknown */
    char *url;
    int64_t content_length;
    cio_http_header *hdrs;
    size_t nhdrs, hdrs_cap;
    bool has_location;
    /* body: buf[off, len) not yet read */
    char *buf;
    size_t off, len, cap;
    bool collecting;            /* cio_http_response_body: keep it all */
    bool too_big;
    bool body_done;
    int body_rc;
    size_t max_body;
    uint64_t pauses;            /* times the download was paused (tests) */
    /* upload */
    uint8_t up_kind;            /* enum cio_http_upload */
    bool up_wanted;             /* libcurl paused: the task must produce */
    bool up_eof;
    bool up_own_fd;
    int up_fd;
    int up_err;
    char *up;                   /* UP_BYTES: the copy; UP_FN: a buffer */
    size_t up_off, up_len;
    cio_http_body_fn *up_fn;
    void *up_arg;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- multi.c ------------------------------------------------------------- */

/* The current loop's driver, made at the first call. NULL: no memory, or
 * outside a loop. */
cio_http_driver *cio_http_driver_get(void);

/* Add r's easy handle to the multi handle. Returns 0 or a negative errno. */
int cio_http_driver_add(cio_http_driver *d, cio_http_response *r);

/* Take r's transfer out of libcurl at once; unless it ended cleanly, its
 * connection is closed, never reused. */
void cio_http_driver_remove(cio_http_driver *d, cio_http_response *r);

/* Resume r's paused transfer (at the loop's next pass). */
void cio_http_driver_unpause(cio_http_driver *d, cio_http_response *r);

/* r is being freed: drop it from the resume list. */
void cio_http_driver_forget(cio_http_driver *d, cio_http_response *r);

/* Set the loop's connection limits (0: leave as is). */
void cio_http_driver_limits(cio_http_driver *d, unsigned total, unsigned per_host);

/* Arm the driver's kick: deferred work at the loop's next timer pass. */
void cio_http_kick(cio_http_driver *d);

/* ---- sock.c: libcurl's sockets on the poller ------------------------------ */

int cio_http_on_socket(CURL *easy, curl_socket_t fd, int what, void *d, void *s);

/* Put s on a driver list (ready or dead) unless it is on one. */
void cio_http_sock_queue(cio_http_sock **list, cio_http_sock *s);

/* Make s's pending POLL requests match what libcurl wants. */
void cio_http_sock_update(cio_http_sock *s);

/* libcurl is done with s: cancel its requests, release its descriptor. */
void cio_http_sock_remove(cio_http_driver *d, cio_http_sock *s);

/* Free the sockets on the dead list. */
void cio_http_socks_free_dead(cio_http_driver *d);

/* ---- request.c ----------------------------------------------------------- */

/* libcurl finished r's transfer with code (loop context). */
void cio_http_transfer_done(cio_http_response *r, CURLcode code);

/* Wake the task waiting on r, if any. */
static inline void cio_http_notify(cio_http_response *r)
{
    if (r->waiter)
        cio_wait_wake(r->waiter, 0);
}

/* Responses not yet freed, process-wide (tests). */
size_t cio_http_responses_alive(void);

/* Free r: stop its transfer if it runs. */
void cio_http_response_free(cio_http_response *r);

/* Stop r's transfer with rc (a cancellation, timeout or local failure). */
void cio_http_abort(cio_http_response *r, int rc);

/* Wait until done(r) holds, producing upload bytes when libcurl asks.
 * Returns 0, or the error that ended the wait (the transfer is then
 * stopped with it). */
int cio_http_wait(cio_http_response *r, bool (*done)(const cio_http_response *));

/* ---- session.c ----------------------------------------------------------- */

/* Set up r->easy for req on session s. Returns 0 or a negative errno. */
int cio_http_easy_setup(cio_http_response *r, const cio_http_request *req);

void cio_http_session_unref(cio_http_session *s);

/* r's transfer is over (out of the multi handle): keep r->easy in the
 * session's pool, reset, or free it. */
void cio_http_easy_release(cio_http_response *r);

/* ---- response.c: libcurl's header callback ---------------------------------- */

size_t cio_http_on_header(char *data, size_t size, size_t n, void *arg);

/* The final head is in (or the transfer ended without one). */
void cio_http_mark_ready(cio_http_response *r);

void cio_http_headers_clear(cio_http_response *r);

/* ---- body.c: libcurl's write and read callbacks ----------------------------- */

size_t cio_http_on_write(char *data, size_t size, size_t n, void *arg);
size_t cio_http_on_read(char *data, size_t size, size_t n, void *arg);
int cio_http_on_seek(void *arg, curl_off_t offset, int origin);

/* In the task: fill the upload buffer from the body producer. Returns 0 or
 * its error. */
int cio_http_produce(cio_http_response *r);

/* The download buffer's size (bounded-memory tests). */
static inline size_t cio_http_buffer_cap(const cio_http_response *r) { return r->cap; }

/* ---- curl_error.c ------------------------------------------------------------ */

/* cio's code for a libcurl failure. */
int cio_http_error_from_curl(CURLcode code, long os_errno);

/* Remember msg as this thread's cio_http_last_error ("" clears it). */
void cio_http_set_last_error(const char *msg);

/* ---- retry.c ----------------------------------------------------------------- */

/* A Retry-After value (delta seconds or an HTTP-date) as a delay in ns from
 * now_wall (seconds since the epoch); -1 if it is not one. A date in the
 * past gives 0. */
int64_t cio_http_parse_retry_after(const char *value, int64_t now_wall);

#endif
