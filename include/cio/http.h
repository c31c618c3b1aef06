/* cio/http.h — an HTTP client (aiohttp.ClientSession) on libcurl.
 *
 * Each loop drives one libcurl multi handle with the multi_socket API:
 * libcurl's sockets wait on the loop's poller and its timer is a loop timer,
 * so a request blocks only the task that makes it, and thousands of requests
 * run at once on one thread.
 *
 *     cio_http_session *s;
 *     if ((rc = cio_http_session_open(&s, NULL)) < 0) ...
 *     cio_http_response *resp;
 *     rc = cio_http_get(s, "https://example.org/", &resp);  // whole body
 *     if (rc == 0) {
 *         printf("%d, %zu bytes\n", cio_http_response_status(resp),
 *                cio_http_response_body_size(resp));
 *         cio_http_response_close(resp);
 *     }
 *     cio_http_session_close(s);
 *
 * Streaming (resp.content.iter_chunked): cio_http_send returns as soon as
 * the response's headers are in; cio_http_response_read then hands the body
 * over chunk by chunk. libcurl is paused while the caller does not read
 * (CURLPAUSE_RECV), so a download never holds more than a small buffer.
 *
 *   aiohttp.ClientSession(headers=, timeout=, connector=TCPConnector(limit=))
 *                                      cio_http_session_open(&s, &opts)
 *   await session.get(url) + resp.read()   cio_http_get(s, url, &resp)
 *   async with session.request(m, url, data=) as resp
 *                                      cio_http_send(s, &req, &resp) ... close
 *   resp.status, resp.headers[name], resp.url
 *                                      cio_http_response_status / _header / _url
 *   async for chunk in resp.content.iter_chunked(n)
 *                                      while ((k = cio_http_response_read(resp, buf, n)) > 0)
 *
 * Every call that waits is a cancellation point: it honours the caller's
 * cancel scopes and deadlines as well as the session's timeouts. A request
 * that is cancelled or times out leaves libcurl at once and its connection
 * is closed, never reused half-read (see docs/decisions.md).
 *
 * Errors: negative errnos (-ETIMEDOUT, -ECONNREFUSED, -ECONNRESET,
 * -ECANCELED, -EINVAL for a malformed URL...), cio's own CIO_ENOHOST,
 * CIO_ETLS, CIO_ECERT, CIO_EINCOMPLETE (the body ended before its announced
 * length), and the HTTP codes CIO_EHTTP, CIO_ETOOBIG, CIO_ETOOMANYREDIRECTS,
 * CIO_EHTTPSTATUS (cio/error.h). cio_http_last_error gives libcurl's own
 * message for the last failure.
 *
 * Sessions and responses belong to the loop of the task that made them;
 * use them from that loop's tasks only. One task at a time per response.
 * Use a real-clock loop: libcurl keeps some of its time (the connect
 * timeout, its internal timers) on the real clock, which the virtual clock
 * would race ahead of. A response left open when its loop closes is freed
 * then (debug mode reports it).
 */
#ifndef CIO_HTTP_H
#define CIO_HTTP_H

#include <sys/types.h>

#include "base.h"
#include "error.h"

#pragma GCC visibility push(default)

typedef struct cio_http_session cio_http_session;
typedef struct cio_http_response cio_http_response;

/* ---- sessions ------------------------------------------------------------- */

typedef struct cio_http_options {
    /* User-Agent header. NULL: "cio/<version> libcurl/<version>". */
    const char *user_agent;
    /* Headers sent with every request, "Name: value", NULL-terminated.
     * A request's own header of the same name replaces one of these. */
    const char *const *headers;
    /* Connection limits (aiohttp's limit and limit_per_host). Requests over
     * a limit wait for a connection. They are libcurl's multi-handle limits,
     * which the loop's sessions share: the last session opened with a
     * nonzero value sets it. 0: 100 in total, no per-host limit. */
    unsigned max_connections;
    unsigned max_host_connections;
    /* Time to connect (TCP + TLS), ns. 0: 30 s. */
    int64_t connect_timeout;
    /* Time for a whole request, body included, ns. 0: 300 s (aiohttp's
     * total); CIO_NEVER: no limit. A caller's cancel scope applies too. */
    int64_t timeout;
    /* Redirects followed before CIO_ETOOMANYREDIRECTS. 0: 10; < 0: do not
     * follow (the 3xx response is returned). */
    int max_redirects;
    /* Most body bytes cio_http_response_body (and cio_http_get/fetch/
     * request_retry) keeps before failing with CIO_ETOOBIG. 0: 64 MiB. */
    size_t max_body;
    /* TLS: do not verify the server's certificate and name (testing only). */
    bool insecure;
    /* TLS: CA bundle file. NULL: the system's. */
    const char *ca_file;
    /* Speak HTTP/1.1 only. Default: HTTP/2 over TLS where the server and
     * libcurl support it, HTTP/1.1 otherwise. */
    bool http1_only;
} cio_http_options;

/* Open a session (opts may be NULL: every default). Proxies come from the
 * environment as curl reads them (http_proxy, https_proxy, no_proxy...).
 * Returns 0, -ENOMEM, or -EPERM outside a loop. Never blocks. */
CIO_MUST_CHECK int cio_http_session_open(cio_http_session **out,
                                         const cio_http_options *opts);

/* Close the session. Responses still open keep it alive until they are
 * closed. Never blocks. */
void cio_http_session_close(cio_http_session *s);

/* ---- requests --------------------------------------------------------------- */

/* Produces the next bytes of a request body in the requesting task: store
 * up to len bytes in buf and return the count, 0 at the end of the body, or
 * a negative errno to fail the request with it. It may block (read a file,
 * a queue, a stream): the upload waits for it. */
typedef ssize_t cio_http_body_fn(void *arg, void *buf, size_t len);

typedef struct cio_http_request {
    const char *url;
    /* Any method. NULL: "GET", or "POST" when there is a body. */
    const char *method;
    /* Extra headers "Name: value", NULL-terminated. "Name:" removes a
     * header the session or libcurl would send. */
    const char *const *headers;
    /* The body, at most one kind: bytes... */
    const void *body;
    size_t body_len;
    /* ...or a producer (body_size: the length if known, else -1: sent with
     * chunked transfer encoding) ... */
    cio_http_body_fn *body_fn;
    void *body_arg;
    int64_t body_size;
    /* ...or a file, by path or by descriptor (read from its current offset
     * to its end; the caller keeps and closes the descriptor). */
    const char *body_path;
    int body_fd;
    bool use_body_fd;
    /* Override the session's timeout, max_redirects, max_body (0: the
     * session's; timeout CIO_NEVER: none; max_redirects -1: do not
     * follow). */
    int64_t timeout;
    int max_redirects;
    size_t max_body;
} cio_http_request;

/* Send a request and wait for the response's status and headers (after
 * redirects). The body is then read with cio_http_response_read or
 * cio_http_response_body. On success *out holds the response (close it);
 * on failure *out is NULL and the error is returned: a network or protocol
 * failure, -ETIMEDOUT (the timeout), -ECANCELED, -EINVAL (no URL, or two
 * body kinds), -ENOENT etc. (body_path), or a body_fn's error. Any status,
 * 4xx and 5xx included, is a success here. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_http_send(cio_http_session *s, const cio_http_request *req,
                                 cio_http_response **out);

/* cio_http_send, then cio_http_response_body: the whole body is in the
 * response when it returns 0. Blocks. */
CIO_MUST_CHECK int cio_http_fetch(cio_http_session *s, const cio_http_request *req,
                                  cio_http_response **out);

/* cio_http_fetch of a GET of url. Blocks. */
CIO_MUST_CHECK int cio_http_get(cio_http_session *s, const char *url,
                                cio_http_response **out);

/* ---- retries ---------------------------------------------------------------- */

typedef struct cio_http_retry {
    /* Tries in all, the first included. 0: 3. */
    int attempts;
    /* Delay before the first retry, ns; each next one is factor times
     * longer, up to max_delay. Each delay is jittered: a random value
     * between half and all of it. 0: 100 ms, 2, 30 s. */
    int64_t delay;
    double factor;
    int64_t max_delay;
    /* A Retry-After (seconds or HTTP-date) on a 429 or 503 replaces the
     * computed delay; one longer than this (0: 120 s) is not waited for:
     * the response is returned as it is. */
    int64_t max_retry_after;
    /* Retry POST and PATCH too (they are not idempotent: only if the
     * server makes them so, e.g. with an idempotency key). */
    bool any_method;
} cio_http_retry;

/* cio_http_fetch, retried on connection errors, timeouts of an attempt
 * (the request's timeout; the caller's scopes end everything), truncated
 * bodies, 5xx statuses and 429, with exponential backoff and jitter, and
 * Retry-After honoured. Only idempotent methods (GET HEAD PUT DELETE
 * OPTIONS TRACE) are retried, unless policy->any_method; a body_fn body is
 * never resent (it cannot be replayed). policy may be NULL (defaults).
 * Returns as cio_http_fetch: the last attempt's response (a 5xx or 429 when
 * the tries ran out) or its error. Cancellation, including during a
 * backoff sleep, ends it at once with -ECANCELED. Blocks. */
CIO_MUST_CHECK int cio_http_request_retry(cio_http_session *s, const cio_http_request *req,
                                          const cio_http_retry *policy,
                                          cio_http_response **out);

/* ---- responses -------------------------------------------------------------- */

/* The status code (200, 404...). */
int cio_http_response_status(const cio_http_response *r);

/* The HTTP version the response came in: 10 (HTTP/1.0), 11, 20 (HTTP/2:
 * what a session negotiates with ALPN over TLS unless http1_only), 30;
 * 0 if libcurl did not say. */
int cio_http_response_http_version(const cio_http_response *r);

/* The URL the response came from, after redirects. */
const char *cio_http_response_url(const cio_http_response *r);

/* The first header called name (any case), or NULL. */
const char *cio_http_response_header(const cio_http_response *r, const char *name);

/* The number of header lines, and the i-th one (0-based, in the order
 * received) as name and value. Returns false past the end. */
size_t cio_http_response_header_count(const cio_http_response *r);
bool cio_http_response_header_at(const cio_http_response *r, size_t i,
                                 const char **name, const char **value);

/* The Content-Length the server announced, or -1. */
int64_t cio_http_response_content_length(const cio_http_response *r);

/* Read the next body bytes into buf (at most n). Returns the count, 0 at
 * the end of a complete body, or an error (the body did not arrive whole:
 * -ECONNRESET, CIO_EINCOMPLETE, -ETIMEDOUT...; -ECANCELED). A read that is
 * cancelled or times out stops the transfer: later reads return the bytes
 * already buffered, then that error, never 0. Blocks: a cancellation
 * point. */
CIO_MUST_CHECK ssize_t cio_http_response_read(cio_http_response *r, void *buf, size_t n);

/* Read the rest of the body and keep it in the response (bytes read before
 * with cio_http_response_read are not in it). Returns 0, CIO_ETOOBIG if
 * it exceeds the limit (max_body; the transfer is stopped and nothing is
 * kept), or an error as cio_http_response_read. Calling it again returns
 * the same result. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_http_response_body(cio_http_response *r);

/* The body kept by cio_http_response_body (with a '\0' after it, not
 * counted), and its size. NULL and 0 before. */
const char *cio_http_response_body_data(const cio_http_response *r);
size_t cio_http_response_body_size(const cio_http_response *r);

/* CIO_EHTTPSTATUS if the status is 400 or above (aiohttp's
 * raise_for_status), else 0. */
CIO_MUST_CHECK int cio_http_response_check(const cio_http_response *r);

/* libcurl's message for the response's failure, or "" if none. */
const char *cio_http_response_error(const cio_http_response *r);

/* Close the response. A body not read to its end stops the transfer, and
 * its connection is closed rather than reused. Never blocks. */
void cio_http_response_close(cio_http_response *r);

/* ---- errors ----------------------------------------------------------------- */

/* libcurl's message for the last HTTP call of this thread that failed
 * (e.g. "Failed to connect to 127.0.0.1 port 1: Connection refused"), or
 * "" if none failed. Valid until the next HTTP call. */
const char *cio_http_last_error(void);

#pragma GCC visibility pop

#endif
