/* http_fixture.h — a small HTTP/1.1 server for the client's tests, written
 * with cio's own server and streams, run in the test's loop on 127.0.0.1
 * with an ephemeral port. Keep-alive; request bodies by Content-Length or
 * chunked. Routes:
 *   /status/N        status N, body "status N"
 *   /echo            "METHOD PATH\n", the request's header lines, "\n", body
 *   /headers         two X-Multi headers and a Content-Type
 *   /redirect/N      302 to /redirect/N-1; /redirect/0 says "landed"
 *   /chunked         a chunked body, "hello chunked world"
 *   /gzip            a gzip-encoded body (GZIP_PLAIN)
 *   /slow            never answers; counts the client's close (slow_closed)
 *   /trickle         announces 1000000 bytes, sends 100, then as /slow
 *   /reset           announces 100000 bytes, sends 1000, resets (RST)
 *   /truncated       announces 1000 bytes, sends 10, closes cleanly
 *   /big/N           N bytes of a pattern (pattern_byte), written as drained
 *   /flaky/F/RA      503 (with Retry-After: RA unless RA is "-") for the
 *                    first F requests, then 200 "ok"
 *   /upload          "len=N sum=S" of the request body
 *   /conn            the connection's number (1, 2... in accept order)
 *   /garbage         a reply that is not HTTP
 * A request in absolute form (http://host/path, as sent to a proxy) is
 * counted in proxied and routed by its path.
 */
#ifndef CIO_TEST_HTTP_FIXTURE_H
#define CIO_TEST_HTTP_FIXTURE_H

#include "helpers.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>

/* "gzip body line\n" 200 times, gzip-compressed. */
static const unsigned char GZIP_BODY[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xaf,
    0xca, 0x2c, 0x50, 0x48, 0xca, 0x4f, 0xa9, 0x54, 0xc8, 0xc9, 0xcc, 0x4b,
    0xe5, 0x4a, 0x1f, 0xe5, 0x8e, 0x72, 0x47, 0xb9, 0xa3, 0xdc, 0x51, 0xee,
    0x28, 0x77, 0x94, 0x3b, 0xca, 0x1d, 0xe5, 0x8e, 0x72, 0x47, 0xb9, 0x83,
    0x8f, 0x0b, 0x00, 0x77, 0xef, 0x55, 0x52, 0xb8, 0x0b, 0x00, 0x00,
};
#define GZIP_LINE "gzip body line\n"
#define GZIP_PLAIN_LEN 3000

static inline unsigned char pattern_byte(uint64_t i) { return (unsigned char)(i * 7 + i / 251); }

typedef struct fixture {
    cio_server *srv;
    char base[64];              /* "http://127.0.0.1:PORT" */
    int connections;            /* numbered in accept order */
    int flaky_hits;
    int slow_started, slow_closed;
    int requests;
    int proxied;                /* requests in absolute form (as a proxy) */
} fixture;

typedef struct fx_request {
    char method[16], path[256];
    char *head;                 /* the header lines, "\n"-separated */
    size_t head_len;
    char *body;
    size_t body_len;
    bool close;
} fx_request;

static void fx_append(char **buf, size_t *len, const void *data, size_t n)
{
    char *b = realloc(*buf, *len + n + 1);
    cr_assert_not_null(b);
    memcpy(b + *len, data, n);
    *len += n;
    b[*len] = '\0';
    *buf = b;
}

/* A line without its "\r\n" into out; returns its length, or < 0. */
static int fx_line(cio_stream *st, char *out, size_t cap)
{
    const char *l;
    size_t n;
    int rc = cio_stream_read_line_view(st, &l, &n);
    if (rc < 0)
        return rc;
    if (n == 0)
        return -1;              /* end of stream */
    while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, l, n);
    out[n] = '\0';
    return (int)n;
}

static int fx_read_exact(cio_stream *st, fx_request *q, size_t n)
{
    char buf[65536];
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        ssize_t got = cio_stream_read(st, buf, k);
        if (got <= 0)
            return -1;
        fx_append(&q->body, &q->body_len, buf, (size_t)got);
        n -= (size_t)got;
    }
    return 0;
}

static int fx_read_chunked(cio_stream *st, fx_request *q)
{
    char line[256];
    for (;;) {
        if (fx_line(st, line, sizeof line) < 0)
            return -1;
        size_t n = strtoul(line, NULL, 16);
        if (n == 0)
            break;
        if (fx_read_exact(st, q, n) < 0 || fx_line(st, line, sizeof line) < 0)
            return -1;
    }
    while (fx_line(st, line, sizeof line) > 0)
        ;                       /* trailers, up to the blank line */
    return 0;
}

/* 0: a request; < 0: the connection ended. */
static int fx_read_request(cio_stream *st, fx_request *q)
{
    memset(q, 0, sizeof *q);
    char line[1024];
    if (fx_line(st, line, sizeof line) <= 0)
        return -1;
    if (sscanf(line, "%15s %255s", q->method, q->path) != 2)
        return -1;
    size_t clen = 0;
    bool chunked = false;
    int n;
    while ((n = fx_line(st, line, sizeof line)) > 0) {
        fx_append(&q->head, &q->head_len, line, (size_t)n);
        fx_append(&q->head, &q->head_len, "\n", 1);
        if (strncasecmp(line, "content-length:", 15) == 0)
            clen = strtoul(line + 15, NULL, 10);
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strstr(line, "chunked"))
            chunked = true;
        else if (strncasecmp(line, "connection:", 11) == 0 && strstr(line, "close"))
            q->close = true;
    }
    if (n < 0)
        return -1;
    if (!q->head)
        fx_append(&q->head, &q->head_len, "", 0);
    fx_append(&q->body, &q->body_len, "", 0);
    return chunked ? fx_read_chunked(st, q) : fx_read_exact(st, q, clen);
}

static void fx_free(fx_request *q)
{
    free(q->head);
    free(q->body);
}

static int fx_write(cio_stream *st, const void *data, size_t n)
{
    int rc = cio_stream_write(st, data, n);
    return rc < 0 ? rc : cio_stream_drain(st);
}

/* Send a response with a Content-Length; extra: more header lines, each
 * ending "\r\n" (may be ""). */
static int fx_respond(cio_stream *st, int status, const char *extra, const void *body, size_t n)
{
    char head[1024];
    int k = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                     status, n, extra);
    /* One write: a second small one would wait for the client's delayed
     * ACK (Nagle), 40 ms a response. */
    struct iovec iov[2] = { { head, (size_t)k }, { (void *)body, n } };
    int rc = cio_stream_writev(st, iov, 2);
    return rc < 0 ? rc : cio_stream_drain(st);
}

static int fx_respond_text(cio_stream *st, int status, const char *extra, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return fx_respond(st, status, extra, body, (size_t)n);
}

static int fx_echo(cio_stream *st, const fx_request *q)
{
    char *out = NULL;
    size_t len = 0;
    char first[300];
    int n = snprintf(first, sizeof first, "%s %s\n", q->method, q->path);
    fx_append(&out, &len, first, (size_t)n);
    fx_append(&out, &len, q->head, q->head_len);
    fx_append(&out, &len, "\n", 1);
    fx_append(&out, &len, q->body, q->body_len);
    int rc = fx_respond(st, 200, "Content-Type: text/plain\r\n", out, len);
    free(out);
    return rc;
}

static int fx_big(cio_stream *st, uint64_t n)
{
    char head[128];
    int k = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                     (unsigned long long)n);
    int rc = fx_write(st, head, (size_t)k);
    static __thread unsigned char chunk[65536];
    for (uint64_t at = 0; rc == 0 && at < n;) {
        size_t m = n - at < sizeof chunk ? (size_t)(n - at) : sizeof chunk;
        for (size_t i = 0; i < m; i++)
            chunk[i] = pattern_byte(at + i);
        rc = fx_write(st, chunk, m);
        at += m;
    }
    return rc;
}

/* Wait for the client to close (or 10 s), counting it. */
static int fx_slow(fixture *fx, cio_stream *st)
{
    fx->slow_started++;
    char c[256];
    cio_scope sc;
    cio_scope_enter(&sc, cio_now() + 10 * CIO_SEC);
    ssize_t n;
    while ((n = cio_stream_read(st, c, sizeof c)) > 0)
        ;
    int rc = cio_scope_leave(&sc);
    if (rc == 0 && n <= 0)
        fx->slow_closed++;
    return 1;
}

static int fx_reset(cio_stream *st)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    char part[1000];
    memset(part, 'r', sizeof part);
    if (fx_write(st, head, sizeof head - 1) < 0 || fx_write(st, part, sizeof part) < 0)
        return 1;
    int ignored = cio_sleep(20 * CIO_MS);     /* let the bytes arrive */
    (void)ignored;
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    int rc = cio_socket_setopt(cio_stream_socket(st), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    cr_assert_eq(rc, 0);
    return 1;                   /* the server's close now sends a reset */
}

/* 1: close the connection after this response. */
static int fx_route(fixture *fx, cio_stream *st, const fx_request *q, int conn)
{
    const char *p = q->path;
    if (strncmp(p, "http://", 7) == 0) {    /* asked as a proxy */
        fx->proxied++;
        p = strchr(p + 7, '/');
        p = p ? p : "/";
    }
    int a;
    char ra[64];
    if (sscanf(p, "/status/%d", &a) == 1)     /* 204 and 304 have no body */
        return a == 204 || a == 304 ? fx_respond(st, a, "", "", 0)
                                    : fx_respond_text(st, a, "", "status %d", a);
    if (strcmp(p, "/echo") == 0)
        return fx_echo(st, q);
    if (strcmp(p, "/headers") == 0)
        return fx_respond(st, 200, "X-Multi: a\r\nX-Multi: b\r\nContent-Type: text/plain\r\n",
                          "h", 1);
    if (sscanf(p, "/redirect/%d", &a) == 1) {
        if (a == 0)
            return fx_respond_text(st, 200, "", "landed");
        char loc[64];
        snprintf(loc, sizeof loc, "Location: /redirect/%d\r\n", a - 1);
        return fx_respond_text(st, 302, loc, "go on");
    }
    if (strcmp(p, "/chunked") == 0) {
        static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n";
        return fx_write(st, resp, sizeof resp - 1);
    }
    if (strcmp(p, "/gzip") == 0)
        return fx_respond(st, 200, "Content-Encoding: gzip\r\n", GZIP_BODY, sizeof GZIP_BODY);
    if (strcmp(p, "/slow") == 0)
        return fx_slow(fx, st);
    if (strcmp(p, "/trickle") == 0) {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
        char part[100];
        memset(part, 't', sizeof part);
        if (fx_write(st, head, sizeof head - 1) < 0 || fx_write(st, part, sizeof part) < 0)
            return 1;
        return fx_slow(fx, st);
    }
    if (strcmp(p, "/reset") == 0)
        return fx_reset(st);
    if (strcmp(p, "/truncated") == 0) {
        static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
        int ignored = fx_write(st, resp, sizeof resp - 1);
        (void)ignored;
        return 1;
    }
    unsigned long long big;
    if (sscanf(p, "/big/%llu", &big) == 1)
        return fx_big(st, big);
    if (sscanf(p, "/flaky/%d/%63s", &a, ra) == 2) {
        if (fx->flaky_hits++ < a) {
            char h[96] = "";
            if (strcmp(ra, "-") != 0)
                snprintf(h, sizeof h, "Retry-After: %s\r\n", ra);
            for (char *c = h; *c; c++)
                if (*c == '_')
                    *c = ' ';   /* dates travel in the path with '_' for ' ' */
            return fx_respond_text(st, 503, h, "busy");
        }
        return fx_respond_text(st, 200, "", "ok");
    }
    if (strcmp(p, "/upload") == 0) {
        uint32_t sum = 0;
        for (size_t i = 0; i < q->body_len; i++)
            sum = sum * 31 + (unsigned char)q->body[i];
        return fx_respond_text(st, 200, "", "len=%zu sum=%u", q->body_len, sum);
    }
    if (strcmp(p, "/garbage") == 0) {
        int ignored = fx_write(st, "what?\r\n\r\n", 9);
        (void)ignored;
        return 1;
    }
    if (strcmp(p, "/conn") == 0)
        return fx_respond_text(st, 200, "", "%d", conn);
    return fx_respond_text(st, 404, "", "no route");
}

static int fx_handle(cio_stream *st, void *arg)
{
    fixture *fx = arg;
    int conn = ++fx->connections;
    for (;;) {
        fx_request q;
        if (fx_read_request(st, &q) < 0) {
            fx_free(&q);
            return 0;
        }
        fx->requests++;
        int rc = fx_route(fx, st, &q, conn);
        bool close = q.close;
        fx_free(&q);
        if (rc != 0 || close)
            return 0;
    }
}

/* Serve HTTPS with the server context tls (NULL: plain HTTP). */
static inline void fixture_start_tls(fixture *fx, cio_tls_ctx *tls)
{
    memset(fx, 0, sizeof *fx);
    setenv("no_proxy", "127.0.0.1", 1);     /* a proxy in the environment */
    cio_server_opts o = { .tls = tls };
    int rc = cio_tcp_server(&fx->srv, "127.0.0.1", 0, fx_handle, fx, &o);
    cr_assert_eq(rc, 0, "fixture server: %s", cio_strerror(rc));
    cio_addr a;
    cr_assert_eq(cio_server_addr(fx->srv, &a), 0);
    snprintf(fx->base, sizeof fx->base, "%s://127.0.0.1:%u", tls ? "https" : "http",
             cio_addr_port(&a));
}

static inline void fixture_start(fixture *fx) { fixture_start_tls(fx, NULL); }

static inline void fixture_stop(fixture *fx)
{
    int rc = cio_server_stop(fx->srv, 0);
    (void)rc;
}

/* fx->base + path, in a static buffer (one at a time). */
static inline const char *fx_url(const fixture *fx, const char *path)
{
    static __thread char url[512];
    snprintf(url, sizeof url, "%s%s", fx->base, path);
    return url;
}

#endif
