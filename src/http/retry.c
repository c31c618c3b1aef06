/* retry.c — cio_http_request_retry: exponential backoff with jitter,
 * Retry-After honoured, idempotent methods only, cancellation ends it. */
#include "http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ATTEMPTS 3
#define DEFAULT_DELAY (100 * CIO_MS)
#define DEFAULT_FACTOR 2.0
#define DEFAULT_MAX_DELAY (30 * CIO_SEC)
#define DEFAULT_MAX_RETRY_AFTER (120 * CIO_SEC)

int64_t cio_http_parse_retry_after(const char *v, int64_t now_wall)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        char *end;
        long long secs = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end || secs < 0 || secs > INT64_MAX / CIO_SEC)
            return -1;
        return secs * CIO_SEC;
    }
    struct tm tm = { 0 };                       /* IMF-fixdate, always GMT */
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return -1;
    int64_t at = (int64_t)timegm(&tm);
    return at > now_wall ? (at - now_wall) * CIO_SEC : 0;
}

static bool idempotent(const char *m)
{
    static const char *const ok[] = { "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE" };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcasecmp(m, ok[i]) == 0)
            return true;
    return false;
}

static bool retryable_error(int rc)
{
    switch (rc) {
    case -ECONNREFUSED: case -ECONNRESET: case -ECONNABORTED: case -EPIPE:
    case -ETIMEDOUT: case -ENETUNREACH: case -EHOSTUNREACH: case -ENETDOWN:
    case CIO_EINCOMPLETE: case CIO_EDNSAGAIN:
        return true;
    default:
        return false;
    }
}

/* 5xx that another try may cure (not 501 Not Implemented, 505 Version),
 * and 429 Too Many Requests. */
static bool retryable_status(int st)
{
    return st == 429 || (st >= 500 && st <= 599 && st != 501 && st != 505);
}

/* A random value in [d/2, d] ("equal jitter": spread, never near zero). */
static int64_t jitter(int64_t d)
{
    static __thread uint64_t x;
    if (!x)
        x = (uint64_t)cio_now() ^ (uint64_t)(uintptr_t)&x ^ 0x9e3779b97f4a7c15u;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)(x % (uint64_t)(half + 1)) : 0);
}

typedef struct policy {
    int attempts;
    double delay, factor, max_delay;
    int64_t max_retry_after;
    bool any_method;
} policy;

static policy defaults(const cio_http_retry *p)
{
    static const cio_http_retry none;
    if (!p)
        p = &none;
    return (policy){
        .attempts = p->attempts > 0 ? p->attempts : DEFAULT_ATTEMPTS,
        .delay = (double)(p->delay > 0 ? p->delay : DEFAULT_DELAY),
        .factor = p->factor >= 1.0 ? p->factor : DEFAULT_FACTOR,
        .max_delay = (double)(p->max_delay > 0 ? p->max_delay : DEFAULT_MAX_DELAY),
        .max_retry_after = p->max_retry_after > 0 ? p->max_retry_after : DEFAULT_MAX_RETRY_AFTER,
        .any_method = p->any_method,
    };
}

/* How long to wait before the next try after a retryable response, or -1
 * to return it as it is (a Retry-After beyond the policy's patience). */
static int64_t delay_after(const policy *p, cio_http_response *resp, int64_t backoff)
{
    const char *ra = cio_http_response_header(resp, "Retry-After");
    if (!ra)
        return backoff;
    int64_t d = cio_http_parse_retry_after(ra, (int64_t)time(NULL));
    if (d < 0)
        return backoff;
    return d > p->max_retry_after ? -1 : d;
}

int cio_http_request_retry(cio_http_session *s, const cio_http_request *req,
                           const cio_http_retry *policy_in, cio_http_response **out)
{
    policy p = defaults(policy_in);
    const char *m = req->method ? req->method
                    : (req->body || req->body_fn || req->body_path || req->use_body_fd)
                        ? "POST" : "GET";
    int attempts = (idempotent(m) || p.any_method) && !req->body_fn ? p.attempts : 1;
    double backoff = p.delay;
    off_t body_start = req->use_body_fd ? lseek(req->body_fd, 0, SEEK_CUR) : -1;
    for (int attempt = 1;; attempt++) {
        int rc = cio_http_fetch(s, req, out);
        if (attempt >= attempts || rc == -ECANCELED)
            return rc;
        int64_t wait = (int64_t)(backoff < p.max_delay ? backoff : p.max_delay);
        wait = jitter(wait);
        if (rc < 0) {
            if (!retryable_error(rc))
                return rc;
        } else {
            if (!retryable_status(cio_http_response_status(*out)))
                return rc;
            wait = delay_after(&p, *out, wait);
            if (wait < 0)
                return rc;
            cio_http_response_close(*out);
            *out = NULL;
        }
        rc = cio_sleep(wait);           /* a cancellation point */
        if (rc < 0)
            return rc;
        if (req->use_body_fd && body_start >= 0 &&
            lseek(req->body_fd, body_start, SEEK_SET) < 0)
            return -errno;              /* the body cannot be sent again */
        backoff *= p.factor;
    }
}
