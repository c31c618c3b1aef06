/* test_http.c — the HTTP client against a local fixture server
 * (http_fixture.h) running in the same loop. Real clock: libcurl measures
 * some of its own time; the few timeouts here are short and the tests
 * assert the error, not the duration. */
#include "http_fixture.h"
#include "http/http_internal.h"

#include <fcntl.h>
#include <unistd.h>

typedef int test_fn(fixture *fx, cio_http_session *s);

typedef struct env {
    test_fn *fn;
    const cio_http_options *opts;
} env;

static int env_main(void *arg)
{
    env *e = arg;
    fixture fx;
    fixture_start(&fx);
    cio_http_session *s;
    cr_assert_eq(cio_http_session_open(&s, e->opts), 0);
    int rc = e->fn(&fx, s);
    cio_http_session_close(s);
    fixture_stop(&fx);
    return rc;
}

static void run_with(test_fn *fn, const cio_http_options *opts)
{
    env e = { fn, opts };
    cr_assert_eq(run_real(env_main, &e), 0);
    cr_assert_eq(cio_http_responses_alive(), 0, "every response was freed");
}

#define HTTP_TEST(name, fn) Test(http, name) { run_with(fn, NULL); }

static cio_http_response *get_ok(cio_http_session *s, const char *url)
{
    cio_http_response *r = NULL;
    int rc = cio_http_get(s, url, &r);
    cr_assert_eq(rc, 0, "GET %s: %s (%s)", url, cio_strerror(rc), cio_http_last_error());
    return r;
}

/* Wait (real time, bounded) until *v reaches want. */
static void await_count(const int *v, int want)
{
    for (int i = 0; i < 300 && *v < want; i++)
        cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cr_assert_eq(*v, want);
}

/* ---- status, headers, methods, bodies ----------------------------------------- */

static int status_main(fixture *fx, cio_http_session *s)
{
    int codes[] = { 200, 201, 204, 404, 500 };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%d", codes[i]);
        cio_http_response *r = get_ok(s, fx_url(fx, path));
        cr_assert_eq(cio_http_response_status(r), codes[i]);
        char want[32];
        snprintf(want, sizeof want, "status %d", codes[i]);
        if (codes[i] != 204)
            cr_assert_str_eq(cio_http_response_body_data(r), want);
        cr_assert_eq(cio_http_response_check(r), codes[i] >= 400 ? CIO_EHTTPSTATUS : 0);
        cr_assert_str_eq(cio_http_response_url(r), fx_url(fx, path));
        cio_http_response_close(r);
    }
    return 0;
}
HTTP_TEST(status_codes_and_bodies, status_main)

static int headers_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r = get_ok(s, fx_url(fx, "/headers"));
    cr_assert_str_eq(cio_http_response_header(r, "content-type"), "text/plain");
    cr_assert_str_eq(cio_http_response_header(r, "CONTENT-TYPE"), "text/plain");
    cr_assert_str_eq(cio_http_response_header(r, "x-multi"), "a");
    cr_assert_null(cio_http_response_header(r, "x-missing"));
    cr_assert_eq(cio_http_response_content_length(r), 1);
    size_t multi = 0, n = cio_http_response_header_count(r);
    cr_assert_geq(n, 4);
    const char *name, *value, *seen[2];
    for (size_t i = 0; cio_http_response_header_at(r, i, &name, &value); i++)
        if (strcasecmp(name, "X-Multi") == 0)
            seen[multi++] = value;
    cr_assert_eq(multi, 2);
    cr_assert_str_eq(seen[0], "a");
    cr_assert_str_eq(seen[1], "b");
    cr_assert(!cio_http_response_header_at(r, n, &name, &value));
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(response_headers_by_name_and_in_order, headers_main)

static int request_headers_main(fixture *fx, cio_http_session *s)
{
    (void)s;
    static const char *const defaults[] = { "X-Session: s", "X-Over: session", NULL };
    cio_http_options o = { .headers = defaults, .user_agent = "cio-test/1" };
    cio_http_session *s2;
    cr_assert_eq(cio_http_session_open(&s2, &o), 0);
    static const char *const mine[] = { "X-Over: request", "X-Test: t", NULL };
    cio_http_request req = { .url = fx_url(fx, "/echo"), .headers = mine };
    cio_http_response *r;
    cr_assert_eq(cio_http_fetch(s2, &req, &r), 0);
    const char *b = cio_http_response_body_data(r);
    cr_assert(strstr(b, "GET /echo\n") == b, "%s", b);
    cr_assert_not_null(strstr(b, "X-Session: s\n"), "%s", b);
    cr_assert_not_null(strstr(b, "X-Over: request\n"), "%s", b);
    cr_assert_null(strstr(b, "X-Over: session"), "%s", b);
    cr_assert_not_null(strstr(b, "X-Test: t\n"), "%s", b);
    cr_assert_not_null(strstr(b, "User-Agent: cio-test/1\n"), "%s", b);
    cr_assert_null(strstr(b, "Expect:"), "%s", b);
    cio_http_response_close(r);
    cio_http_session_close(s2);
    return 0;
}
HTTP_TEST(default_and_request_headers_and_user_agent, request_headers_main)

static cio_http_response *fetch(cio_http_session *s, const cio_http_request *req)
{
    cio_http_response *r = NULL;
    int rc = cio_http_fetch(s, req, &r);
    cr_assert_eq(rc, 0, "%s %s: %s (%s)", req->method, req->url, cio_strerror(rc),
                 cio_http_last_error());
    return r;
}

static int methods_main(fixture *fx, cio_http_session *s)
{
    static const char *const methods[] = { "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        cio_http_request req = { .url = fx_url(fx, "/echo"), .method = methods[i],
                                 .body = "payload", .body_len = 7 };
        cio_http_response *r = fetch(s, &req);
        const char *b = cio_http_response_body_data(r);
        char first[32];
        snprintf(first, sizeof first, "%s /echo\n", methods[i]);
        cr_assert(strncmp(b, first, strlen(first)) == 0, "%s", b);
        cr_assert_not_null(strstr(b, "Content-Length: 7\n"), "%s", b);
        size_t n = cio_http_response_body_size(r);
        cr_assert(n > 9 && strcmp(b + n - 9, "\n\npayload") == 0, "%s", b);
        cio_http_response_close(r);
    }
    /* No method with a body: POST; without: GET. A DELETE with no body. */
    cio_http_request post = { .url = fx_url(fx, "/echo"), .body = "x", .body_len = 1 };
    cio_http_response *r = fetch(s, &post);
    cr_assert(strncmp(cio_http_response_body_data(r), "POST /echo", 10) == 0);
    cio_http_response_close(r);
    cio_http_request del = { .url = fx_url(fx, "/echo"), .method = "DELETE" };
    r = fetch(s, &del);
    cr_assert(strncmp(cio_http_response_body_data(r), "DELETE /echo", 12) == 0);
    cio_http_response_close(r);
    cio_http_request head = { .url = fx_url(fx, "/status/200"), .method = "HEAD" };
    r = fetch(s, &head);
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert_eq(cio_http_response_body_size(r), 0);
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(methods_and_byte_bodies, methods_main)

/* ---- redirects, chunked, gzip, reuse --------------------------------------------- */

static int redirect_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r = get_ok(s, fx_url(fx, "/redirect/3"));
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert_str_eq(cio_http_response_body_data(r), "landed");
    cr_assert_str_eq(cio_http_response_url(r), fx_url(fx, "/redirect/0"));
    cio_http_response_close(r);

    cio_http_request req = { .url = fx_url(fx, "/redirect/3"), .max_redirects = 2 };
    int rc = cio_http_fetch(s, &req, &r);
    cr_assert_eq(rc, CIO_ETOOMANYREDIRECTS, "%s", cio_strerror(rc));
    cr_assert_null(r);
    cr_assert_neq(cio_http_last_error()[0], '\0');

    req.max_redirects = -1;         /* not followed: the 302 itself */
    r = fetch(s, &req);
    cr_assert_eq(cio_http_response_status(r), 302);
    cr_assert_str_eq(cio_http_response_header(r, "Location"), "/redirect/2");
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(redirects_followed_up_to_the_limit, redirect_main)

static int chunked_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r = get_ok(s, fx_url(fx, "/chunked"));
    cr_assert_str_eq(cio_http_response_body_data(r), "hello chunked world");
    cr_assert_eq(cio_http_response_content_length(r), -1);
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(chunked_body, chunked_main)

static int gzip_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r = get_ok(s, fx_url(fx, "/gzip"));
    cr_assert_eq(cio_http_response_body_size(r), GZIP_PLAIN_LEN);
    const char *b = cio_http_response_body_data(r);
    for (size_t at = 0; at < GZIP_PLAIN_LEN; at += strlen(GZIP_LINE))
        cr_assert(strncmp(b + at, GZIP_LINE, strlen(GZIP_LINE)) == 0, "at %zu", at);
    cr_assert_str_eq(cio_http_response_header(r, "Content-Encoding"), "gzip");
    cio_http_response_close(r);
    r = get_ok(s, fx_url(fx, "/echo"));
    cr_assert_not_null(strstr(cio_http_response_body_data(r), "Accept-Encoding: "));
    cr_assert_not_null(strstr(cio_http_response_body_data(r), "gzip"));
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(gzip_body_decoded, gzip_main)

static int reuse_main(fixture *fx, cio_http_session *s)
{
    for (int i = 0; i < 5; i++) {
        cio_http_response *r = get_ok(s, fx_url(fx, "/conn"));
        cr_assert_str_eq(cio_http_response_body_data(r), "1", "request %d", i);
        cio_http_response_close(r);
    }
    cr_assert_eq(fx->connections, 1);
    cr_assert_eq(fx->requests, 5);
    return 0;
}
HTTP_TEST(connection_reused, reuse_main)

static void expect_conn(fixture *fx, cio_http_session *s, const char *want)
{
    cio_http_response *r = get_ok(s, fx_url(fx, "/conn"));
    cr_assert_str_eq(cio_http_response_body_data(r), want);
    cio_http_response_close(r);
}

/* A response closed before its end, or failed, leaves its connection
 * closed; a complete one leaves it for the next request. */
static int half_read_main(fixture *fx, cio_http_session *s)
{
    expect_conn(fx, s, "1");
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/big/1000000"));
    cio_http_request req = { .url = url };
    cio_http_response *r;
    cr_assert_eq(cio_http_send(s, &req, &r), 0);
    char buf[1000];
    cr_assert_gt(cio_http_response_read(r, buf, sizeof buf), 0);
    cio_http_response_close(r);
    expect_conn(fx, s, "2");
    req.max_body = 100;
    int rc = cio_http_fetch(s, &req, &r);
    cr_assert_eq(rc, CIO_ETOOBIG, "%s (%s)", cio_strerror(rc), cio_http_last_error());
    expect_conn(fx, s, "3");
    req = (cio_http_request){ .url = fx_url(fx, "/big/100000") };
    cr_assert_eq(cio_http_send(s, &req, &r), 0);
    size_t got = 0;
    ssize_t n;
    while ((n = cio_http_response_read(r, buf, sizeof buf)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0);
    cr_assert_eq(got, 100000);
    cio_http_response_close(r);
    expect_conn(fx, s, "3");
    return 0;
}
HTTP_TEST(no_connection_reused_after_a_body_not_read_to_its_end, half_read_main)

/* ---- timeouts, cancellation, broken bodies ------------------------------------- */

static int timeout_main(fixture *fx, cio_http_session *s)
{
    (void)s;
    cio_http_options o = { .timeout = 200 * CIO_MS };
    cio_http_session *s2;
    cr_assert_eq(cio_http_session_open(&s2, &o), 0);
    cio_http_response *r;
    int rc = cio_http_get(s2, fx_url(fx, "/slow"), &r);
    cr_assert_eq(rc, -ETIMEDOUT, "%s", cio_strerror(rc));
    cr_assert_null(r);
    await_count(&fx->slow_closed, 1);       /* the connection was closed */
    /* A per-request timeout, and a caller's scope deadline. */
    cio_http_request req = { .url = fx_url(fx, "/slow"), .timeout = 100 * CIO_MS };
    cr_assert_eq(cio_http_fetch(s, &req, &r), -ETIMEDOUT);
    cio_scope sc;
    cio_scope_enter(&sc, cio_now() + 100 * CIO_MS);
    rc = cio_http_get(s, fx_url(fx, "/slow"), &r);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(cio_scope_leave(&sc), -ETIMEDOUT);
    await_count(&fx->slow_closed, 3);
    cio_http_session_close(s2);
    return 0;
}
HTTP_TEST(total_timeout_against_a_slow_server, timeout_main)

typedef struct getter {
    cio_http_session *s;
    const char *url;
    int rc;
} getter;

static int get_task(void *arg)
{
    getter *g = arg;
    cio_http_response *r = NULL;
    g->rc = cio_http_get(g->s, g->url, &r);
    if (g->rc == 0) {
        g->rc = cio_http_response_status(r);
        cio_http_response_close(r);
    }
    return 0;
}

static int cancel_main(fixture *fx, cio_http_session *s)
{
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/slow"));
    getter g = { s, url, 1 };
    cio_task *t = spawn(get_task, &g, "get");
    await_count(&fx->slow_started, 1);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(g.rc, -ECANCELED);
    await_count(&fx->slow_closed, 1);       /* removed from libcurl, closed */
    cio_http_response *r = get_ok(s, fx_url(fx, "/conn"));
    cr_assert_str_eq(cio_http_response_body_data(r), "2", "a new connection");
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(cancellation_removes_the_transfer_and_its_connection, cancel_main)

typedef struct reader {
    cio_http_session *s;
    const char *url;
    size_t got;
    int rc;
} reader;

static int read_task(void *arg)
{
    reader *rd = arg;
    cio_http_request req = { .url = rd->url };
    cio_http_response *r;
    rd->rc = cio_http_send(rd->s, &req, &r);
    if (rd->rc < 0)
        return 0;
    char buf[4096];
    ssize_t n;
    while ((n = cio_http_response_read(r, buf, sizeof buf)) > 0)
        rd->got += (size_t)n;
    rd->rc = (int)n;
    cio_http_response_close(r);
    return 0;
}

static int cancel_read_main(fixture *fx, cio_http_session *s)
{
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/trickle"));
    reader rd = { s, url, 0, 1 };
    cio_task *t = spawn(read_task, &rd, "reader");
    await_count(&fx->slow_started, 1);
    for (int i = 0; i < 300 && rd.got < 100; i++)
        cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cr_assert_eq(rd.got, 100, "the first bytes arrived; the read now waits");
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(rd.rc, -ECANCELED);
    await_count(&fx->slow_closed, 1);
    return 0;
}
HTTP_TEST(cancelling_a_streamed_read_stops_the_transfer, cancel_read_main)

static int reset_main(fixture *fx, cio_http_session *s)
{
    cio_http_request req = { .url = fx_url(fx, "/reset") };
    cio_http_response *r;
    int rc = cio_http_send(s, &req, &r);
    size_t got = 0;
    if (rc == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = cio_http_response_read(r, buf, sizeof buf)) > 0)
            got += (size_t)n;
        rc = (int)n;
        cio_http_response_close(r);
    }
    cr_assert(rc == -ECONNRESET || rc == CIO_EINCOMPLETE, "%d %s", rc, cio_strerror(rc));
    cr_assert_lt(got, 100000);
    /* Whole: an error, and no body. */
    rc = cio_http_fetch(s, &req, &r);
    cr_assert(rc == -ECONNRESET || rc == CIO_EINCOMPLETE, "%d %s", rc, cio_strerror(rc));
    cr_assert_null(r);
    return 0;
}
HTTP_TEST(reset_in_the_middle_of_a_body_is_an_error, reset_main)

static int truncated_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r;
    int rc = cio_http_get(s, fx_url(fx, "/truncated"), &r);
    cr_assert_eq(rc, CIO_EINCOMPLETE, "%s", cio_strerror(rc));
    cr_assert_null(r);
    cr_assert_neq(cio_http_last_error()[0], '\0');
    return 0;
}
HTTP_TEST(body_shorter_than_announced_is_incomplete, truncated_main)

static int limit_main(fixture *fx, cio_http_session *s)
{
    cio_http_request req = { .url = fx_url(fx, "/big/5000"), .max_body = 1000 };
    cio_http_response *r;
    cr_assert_eq(cio_http_fetch(s, &req, &r), CIO_ETOOBIG);
    cr_assert_null(r);
    /* Streamed first, then kept: the kept part alone counts. */
    cr_assert_eq(cio_http_send(s, &req, &r), 0);
    cr_assert_eq(cio_http_response_body(r), CIO_ETOOBIG);
    cr_assert_null(cio_http_response_body_data(r));
    cr_assert_eq(cio_http_response_body(r), CIO_ETOOBIG, "the same result again");
    cio_http_response_close(r);
    req.url = fx_url(fx, "/big/1000");
    r = fetch(s, &req);
    cr_assert_eq(cio_http_response_body_size(r), 1000);
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(body_size_limit, limit_main)

/* ---- streaming ---------------------------------------------------------------------- */

static int download_main(fixture *fx, cio_http_session *s)
{
    enum { SIZE = 32 << 20 };
    char path[32];
    snprintf(path, sizeof path, "/big/%d", SIZE);
    cio_http_request req = { .url = fx_url(fx, path) };
    cio_http_response *r;
    cr_assert_eq(cio_http_send(s, &req, &r), 0);
    cr_assert_eq(cio_http_response_content_length(r), SIZE);
    /* A slow reader: libcurl fills the buffer, then is paused. */
    for (int i = 0; i < 300 && r->pauses == 0; i++)
        cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    static char buf[16384];
    uint64_t at = 0;
    ssize_t n;
    size_t max_cap = 0;
    while ((n = cio_http_response_read(r, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] != pattern_byte(at + (uint64_t)i))
                cr_assert_fail("byte %llu", (unsigned long long)(at + (uint64_t)i));
        at += (uint64_t)n;
        if (cio_http_buffer_cap(r) > max_cap)
            max_cap = cio_http_buffer_cap(r);
    }
    cr_assert_eq(n, 0, "%s", cio_strerror((int)n));
    cr_assert_eq(at, SIZE);
    cr_assert_leq(max_cap, 128 * 1024, "the buffer stays small: %zu", max_cap);
    cr_assert_gt(r->pauses, 0, "libcurl was paused while nobody read");
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(streamed_download_in_bounded_memory, download_main)

typedef struct producer {
    size_t total, sent;
    uint32_t sum;
} producer;

static ssize_t produce(void *arg, void *buf, size_t len)
{
    producer *p = arg;
    int rc = cio_sleep(0);                  /* it may block */
    if (rc < 0)
        return rc;
    size_t n = p->total - p->sent;
    if (n > len)
        n = len;
    if (n > 10000)
        n = 10000;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = pattern_byte(p->sent + i);
        ((unsigned char *)buf)[i] = c;
        p->sum = p->sum * 31 + c;
    }
    p->sent += n;
    return (ssize_t)n;
}

static void expect_upload(cio_http_response *r, size_t len, uint32_t sum)
{
    char want[64];
    snprintf(want, sizeof want, "len=%zu sum=%u", len, sum);
    cr_assert_str_eq(cio_http_response_body_data(r), want);
}

static int upload_main(fixture *fx, cio_http_session *s)
{
    producer p = { .total = 4 << 20 };
    cio_http_request req = { .url = fx_url(fx, "/upload"), .method = "PUT",
                             .body_fn = produce, .body_arg = &p, .body_size = -1 };
    cio_http_response *r = fetch(s, &req);
    cr_assert_eq(p.sent, p.total);
    expect_upload(r, p.total, p.sum);
    cio_http_response_close(r);

    /* A file, by path and by descriptor. */
    char path[] = "/tmp/cio-http-upload-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    producer q = { .total = 300000 };
    static char data[300000];
    cr_assert_eq(produce(&q, data, sizeof data), 10000);
    for (size_t i = 10000; i < sizeof data; i++) {
        data[i] = (char)pattern_byte(i);
        q.sum = q.sum * 31 + (unsigned char)data[i];
    }
    cr_assert_eq(write(fd, data, sizeof data), (ssize_t)sizeof data);
    cio_http_request file = { .url = fx_url(fx, "/upload"), .body_path = path };
    r = fetch(s, &file);
    expect_upload(r, sizeof data, q.sum);
    cio_http_response_close(r);
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    cio_http_request byfd = { .url = fx_url(fx, "/upload"), .use_body_fd = true, .body_fd = fd };
    r = fetch(s, &byfd);
    expect_upload(r, sizeof data, q.sum);
    cio_http_response_close(r);
    close(fd);
    unlink(path);
    return 0;
}
HTTP_TEST(streamed_and_file_uploads, upload_main)

/* ---- retries ----------------------------------------------------------------------- */

static int retry_main(fixture *fx, cio_http_session *s)
{
    cio_http_retry fast = { .attempts = 4, .delay = CIO_MS };
    cio_http_request req = { .url = fx_url(fx, "/flaky/2/0") };
    cio_http_response *r;
    cr_assert_eq(cio_http_request_retry(s, &req, &fast, &r), 0);
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert_str_eq(cio_http_response_body_data(r), "ok");
    cr_assert_eq(fx->flaky_hits, 3);
    cio_http_response_close(r);

    fx->flaky_hits = 0;             /* tries run out: the last 503 */
    req.url = fx_url(fx, "/flaky/9/-");
    fast.attempts = 3;
    cr_assert_eq(cio_http_request_retry(s, &req, &fast, &r), 0);
    cr_assert_eq(cio_http_response_status(r), 503);
    cr_assert_eq(fx->flaky_hits, 3);
    cio_http_response_close(r);

    fx->flaky_hits = 0;             /* POST is not idempotent */
    cio_http_request post = { .url = fx_url(fx, "/flaky/9/-"), .body = "x", .body_len = 1 };
    cr_assert_eq(cio_http_request_retry(s, &post, &fast, &r), 0);
    cr_assert_eq(cio_http_response_status(r), 503);
    cr_assert_eq(fx->flaky_hits, 1);
    cio_http_response_close(r);

    fx->flaky_hits = 0;             /* a Retry-After beyond patience */
    req.url = fx_url(fx, "/flaky/9/1000");
    cr_assert_eq(cio_http_request_retry(s, &req, &fast, &r), 0);
    cr_assert_eq(cio_http_response_status(r), 503);
    cr_assert_eq(fx->flaky_hits, 1);
    cio_http_response_close(r);

    /* Connection errors are retried too: a port nobody listens on. */
    cio_http_request refused = { .url = "http://127.0.0.1:1/" };
    cr_assert_eq(cio_http_request_retry(s, &refused, &fast, &r), -ECONNREFUSED);
    cr_assert_null(r);
    return 0;
}
HTTP_TEST(retries_on_5xx_with_backoff_idempotent_only, retry_main)

static int retry_after_main(fixture *fx, cio_http_session *s)
{
    cio_http_retry fast = { .attempts = 2, .delay = CIO_MS };
    cio_http_request req = { .url = fx_url(fx, "/flaky/1/1") };
    cio_http_response *r;
    int64_t t0 = cio_now();
    cr_assert_eq(cio_http_request_retry(s, &req, &fast, &r), 0);
    int64_t took = cio_now() - t0;
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert_geq(took, 900 * CIO_MS, "Retry-After: 1 was honoured: %lld ns", (long long)took);
    cio_http_response_close(r);
    return 0;
}
HTTP_TEST(retry_after_seconds_honoured, retry_after_main)

/* A Retry-After replaces the backoff: with a minute's backoff, "0" and a
 * date in the past retry at once. */
static int retry_after_now_main(fixture *fx, cio_http_session *s)
{
    cio_http_retry slow = { .attempts = 2, .delay = 60 * CIO_SEC };
    static const char *const paths[] = { "/flaky/1/0", "/flaky/1/Wed,_21_Oct_2015_07:28:00_GMT" };
    for (size_t i = 0; i < 2; i++) {
        fx->flaky_hits = 0;
        cio_http_request req = { .url = fx_url(fx, paths[i]) };
        cio_http_response *r;
        int64_t t0 = cio_now();
        cr_assert_eq(cio_http_request_retry(s, &req, &slow, &r), 0);
        cr_assert_eq(cio_http_response_status(r), 200, "%s", paths[i]);
        cr_assert_eq(fx->flaky_hits, 2);
        cr_assert_lt(cio_now() - t0, 10 * CIO_SEC, "no backoff: %s", paths[i]);
        cio_http_response_close(r);
    }
    return 0;
}
HTTP_TEST(retry_after_zero_or_a_past_date_retries_at_once, retry_after_now_main)

static int retry_task(void *arg)
{
    getter *t = arg;
    cio_http_retry slow = { .attempts = 5, .delay = 60 * CIO_SEC };
    cio_http_request req = { .url = t->url };
    cio_http_response *r = NULL;
    t->rc = cio_http_request_retry(t->s, &req, &slow, &r);
    cr_assert_null(r);
    return 0;
}

static int retry_cancel_main(fixture *fx, cio_http_session *s)
{
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/flaky/9/-"));
    getter rt = { s, url, 1 };
    cio_task *t = spawn(retry_task, &rt, "retry");
    await_count(&fx->flaky_hits, 1);        /* now in its 30-60 s backoff */
    int64_t t0 = cio_now();
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(rt.rc, -ECANCELED);
    cr_assert_lt(cio_now() - t0, 5 * CIO_SEC);
    cr_assert_eq(fx->flaky_hits, 1);
    return 0;
}
HTTP_TEST(retry_backoff_stops_at_once_when_cancelled, retry_cancel_main)

Test(http, retry_after_values)
{
    int64_t now = 1445412470;               /* Wed, 21 Oct 2015 07:27:50 GMT */
    cr_assert_eq(cio_http_parse_retry_after("120", now), 120 * CIO_SEC);
    cr_assert_eq(cio_http_parse_retry_after(" 3 ", now), 3 * CIO_SEC);
    cr_assert_eq(cio_http_parse_retry_after("0", now), 0);
    cr_assert_eq(cio_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
                 10 * CIO_SEC);
    cr_assert_eq(cio_http_parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
    cr_assert_eq(cio_http_parse_retry_after("soon", now), -1);
    cr_assert_eq(cio_http_parse_retry_after("-5", now), -1);
    cr_assert_eq(cio_http_parse_retry_after("12abc", now), -1);
}

/* ---- errors ------------------------------------------------------------------------ */

static int errors_main(fixture *fx, cio_http_session *s)
{
    cio_http_response *r;
    cr_assert_eq(cio_http_get(s, "http://127.0.0.1:1/", &r), -ECONNREFUSED);
    cr_assert_null(r);
    cr_assert_neq(cio_http_last_error()[0], '\0');
    cr_assert_eq(cio_http_get(s, "ftp://127.0.0.1/", &r), -EPROTONOSUPPORT);
    cr_assert_eq(cio_http_get(s, "http://[::1", &r), -EINVAL);
    cr_assert_eq(cio_http_get(s, fx_url(fx, "/garbage"), &r), CIO_EHTTP);
    cr_assert_null(r);
    cio_http_request two = { .url = fx_url(fx, "/echo"), .body = "x", .body_len = 1,
                             .body_path = "/etc/hostname" };
    cr_assert_eq(cio_http_send(s, &two, &r), -EINVAL);
    cio_http_request missing = { .url = fx_url(fx, "/upload"), .body_path = "/nonexistent/x" };
    cr_assert_eq(cio_http_send(s, &missing, &r), -ENOENT);
    cr_assert_str_eq(cio_errname(CIO_ETOOBIG), "CIO_ETOOBIG");
    return 0;
}
HTTP_TEST(errors_map_to_cio_codes, errors_main)

/* libcurl reads proxies from the environment, as curl does. */
static int proxy_main(fixture *fx, cio_http_session *s)
{
    setenv("http_proxy", fx->base, 1);
    setenv("no_proxy", "", 1);
    cio_http_response *r = get_ok(s, "http://proxied.invalid/status/201");
    cr_assert_eq(cio_http_response_status(r), 201);
    cr_assert_eq(fx->proxied, 1);
    cio_http_response_close(r);
    unsetenv("http_proxy");
    return 0;
}
HTTP_TEST(proxy_from_the_environment, proxy_main)

/* ---- many at once ------------------------------------------------------------------ */

static int many_main(fixture *fx, cio_http_session *s)
{
    enum { N = 1000 };
    static getter g[N];
    static cio_task *t[N];
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/status/200"));
    for (int i = 0; i < N; i++) {
        g[i] = (getter){ s, url, 1 };
        t[i] = spawn(get_task, &g[i], "get");
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
        ok += g[i].rc == 200;
        if (g[i].rc != 200)
            cr_log_error("request %d: %d %s", i, g[i].rc, cio_strerror(g[i].rc));
    }
    cr_assert_eq(ok, N);
    cr_assert_eq(fx->requests, N);
    cr_assert_leq(fx->connections, 100, "the total limit holds: %d", fx->connections);
    return 0;
}
HTTP_TEST(a_thousand_concurrent_requests_from_a_thousand_tasks, many_main)

static int per_host_main(fixture *fx, cio_http_session *s)
{
    enum { N = 30 };
    getter g[N];
    cio_task *t[N];
    char url[512];
    snprintf(url, sizeof url, "%s", fx_url(fx, "/status/200"));
    for (int i = 0; i < N; i++) {
        g[i] = (getter){ s, url, 1 };
        t[i] = spawn(get_task, &g[i], "get");
    }
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
        cr_assert_eq(g[i].rc, 200, "request %d: %s", i, cio_strerror(g[i].rc));
    }
    cr_assert_leq(fx->connections, 3, "per-host limit: %d connections", fx->connections);
    return 0;
}

Test(http, per_host_connection_limit)
{
    cio_http_options o = { .max_host_connections = 3 };
    run_with(per_host_main, &o);
}

/* A response nobody closes (its transfer still running) is freed when the
 * loop closes (run_with checks that none is left). */
static int left_open_main(fixture *fx, cio_http_session *s)
{
    cio_http_request req = { .url = fx_url(fx, "/trickle") };
    cio_http_response *r;
    cr_assert_eq(cio_http_send(s, &req, &r), 0);
    cio_http_response *done;
    cr_assert_eq(cio_http_get(s, fx_url(fx, "/status/200"), &done), 0);
    cio_http_response_close(done);
    return 0;                       /* r is left open */
}
HTTP_TEST(a_response_left_open_is_freed_when_the_loop_closes, left_open_main)

Test(http, a_session_needs_a_loop)
{
    cio_http_session *s = (cio_http_session *)1;
    cr_assert_eq(cio_http_session_open(&s, NULL), -EPERM);
    cr_assert_null(s);
}
