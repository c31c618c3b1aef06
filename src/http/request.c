/* request.c — a request's life: send it, wait on it, stop it, close it. */
#include "http_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_size_t alive;

size_t cio_http_responses_alive(void) { return atomic_load(&alive); }

static void live_link(cio_http_driver *d, cio_http_response *r)
{
    atomic_fetch_add(&alive, 1);
    r->live_next = d->live;
    if (d->live)
        d->live->live_prev = r;
    d->live = r;
}

static void live_unlink(cio_http_driver *d, cio_http_response *r)
{
    atomic_fetch_sub(&alive, 1);
    if (r->live_prev)
        r->live_prev->live_next = r->live_next;
    else
        d->live = r->live_next;
    if (r->live_next)
        r->live_next->live_prev = r->live_prev;
}

void cio_http_response_free(cio_http_response *r)
{
    cio_handle_untrack(&r->handle);
    cio_http_driver_remove(r->d, r);
    cio_http_driver_forget(r->d, r);
    live_unlink(r->d, r);
    cio_http_easy_release(r);
    curl_slist_free_all(r->req_headers);
    cio_http_headers_clear(r);
    free(r->hdrs);
    free(r->url);
    free(r->buf);
    free(r->up);
    if (r->up_own_fd)
        close(r->up_fd);
    cio_http_session_unref(r->session);
    free(r);
}

void cio_http_response_close(cio_http_response *r)
{
    if (r)
        cio_http_response_free(r);
}

void cio_http_abort(cio_http_response *r, int rc)
{
    if (r->done)
        return;
    cio_http_driver_remove(r->d, r);
    r->done = true;
    r->result = rc;
    cio_http_set_last_error(r->errbuf[0] ? r->errbuf : cio_strerror(rc));
}

void cio_http_transfer_done(cio_http_response *r, CURLcode code)
{
    r->done = true;                     /* before the removal: a clean end */
    cio_http_driver_remove(r->d, r);
    long os_errno = 0;
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
    int rc = cio_http_error_from_curl(code, os_errno);
    char *ip = NULL;
    if (code == CURLE_UNSUPPORTED_PROTOCOL &&
        curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
        rc = CIO_EHTTP;     /* connected: the answer was not HTTP (libcurl's
                               "HTTP/0.9 not allowed"), not a wrong scheme */
    if (r->too_big) {
        rc = CIO_ETOOBIG;
        snprintf(r->errbuf, sizeof r->errbuf, "response body over the limit of %zu bytes",
                 r->max_body);
    }
    else if (r->up_err)
        rc = r->up_err;
    if (rc == 0)
        cio_http_mark_ready(r);         /* a response with no body */
    else if (!r->errbuf[0])
        snprintf(r->errbuf, sizeof r->errbuf, "%s", curl_easy_strerror(code));
    r->result = rc;
    cio_http_notify(r);
}

int cio_http_wait(cio_http_response *r, bool (*done)(const cio_http_response *))
{
    int rc = cio_wait_checkpoint();
    while (rc == 0) {
        if (r->up_wanted) {
            rc = cio_http_produce(r);
            continue;
        }
        if (done(r))
            return 0;
        cio_waiter w;
        cio_waiter_init(&w);
        r->waiter = &w;
        rc = cio_wait_park(&w, NULL, r->deadline);
        r->waiter = NULL;
    }
    cio_http_abort(r, rc);
    return rc;
}

static bool head_in(const cio_http_response *r)
{
    return r->ready || r->done;
}

static int start(cio_http_session *s, const cio_http_request *req, cio_http_response **out)
{
    cio_http_driver *d = cio_http_driver_get();
    if (!d || s->loop != cio_tls_loop)
        return -EPERM;
    cio_http_response *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->session = s;
    s->refs++;
    r->d = d;
    r->content_length = -1;
    r->up_fd = -1;
    r->max_body = req && req->max_body ? req->max_body : s->max_body;
    int64_t timeout = req && req->timeout ? req->timeout : s->timeout;
    r->deadline = timeout == CIO_NEVER || cio_now() > CIO_NEVER - timeout
                      ? CIO_NEVER : cio_now() + timeout;
    live_link(d, r);
    cio_handle_track(&r->handle, "http response", -1);
    int rc = cio_http_easy_setup(r, req);
    if (rc == 0)
        rc = cio_http_driver_add(d, r);
    if (rc < 0) {
        cio_http_response_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cio_http_send(cio_http_session *s, const cio_http_request *req, cio_http_response **out)
{
    *out = NULL;
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    cio_http_set_last_error("");
    cio_http_response *r;
    rc = start(s, req, &r);
    if (rc < 0)
        return rc;
    rc = cio_http_wait(r, head_in);
    if (rc == 0 && !r->ready)
        rc = r->result;                 /* ended without a response */
    if (rc < 0) {
        cio_http_set_last_error(r->errbuf[0] ? r->errbuf : cio_strerror(rc));
        cio_http_response_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cio_http_fetch(cio_http_session *s, const cio_http_request *req, cio_http_response **out)
{
    int rc = cio_http_send(s, req, out);
    if (rc < 0)
        return rc;
    rc = cio_http_response_body(*out);
    if (rc < 0) {
        cio_http_set_last_error((*out)->errbuf[0] ? (*out)->errbuf : cio_strerror(rc));
        cio_http_response_close(*out);
        *out = NULL;
    }
    return rc;
}

int cio_http_get(cio_http_session *s, const char *url, cio_http_response **out)
{
    cio_http_request req = { .url = url };
    return cio_http_fetch(s, &req, out);
}
