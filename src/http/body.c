/* body.c — response bodies (streamed with backpressure, or kept whole with
 * a limit) and request bodies (bytes, a file, or a producer in the task).
 *
 * Download: libcurl's write callback copies into the response's buffer
 * (64 KiB). When a chunk does not fit, it answers CURL_WRITEFUNC_PAUSE:
 * libcurl keeps that chunk and stops reading the socket, so the kernel's
 * window closes and the server slows down. A read that makes room resumes
 * the transfer (at the loop's next pass). libcurl hands over at most
 * CURL_MAX_WRITE_SIZE (16 KiB) at a time, so the buffer never grows.
 *
 * Upload by a producer: the read callback serves the task's buffer; when it
 * is empty it pauses the upload and wakes the task, which calls the
 * producer (it may block) and resumes the upload.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_BUFFER (64 * 1024)
#define UPLOAD_BUFFER (64 * 1024)

static int reserve(cio_http_response *r, size_t more)
{
    if (r->off && r->off == r->len)
        r->off = r->len = 0;
    if (r->cap - r->len >= more)
        return 0;
    if (r->off) {                       /* slide the unread bytes down */
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
        if (r->cap - r->len >= more)
            return 0;
    }
    size_t cap = r->cap ? r->cap : STREAM_BUFFER;
    while (cap - r->len < more)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b)
        return -ENOMEM;
    r->buf = b;
    r->cap = cap;
    return 0;
}

/* ---- download ----------------------------------------------------------------- */

size_t cio_http_on_write(char *data, size_t size, size_t n, void *arg)
{
    cio_http_response *r = arg;
    size_t len = size * n;
    cio_http_mark_ready(r);             /* the body started: the head is final */
    size_t unread = r->len - r->off;
    if (r->collecting) {
        if (unread + len > r->max_body) {
            r->too_big = true;
            return 0;                   /* libcurl stops: CURLE_WRITE_ERROR */
        }
    } else if (unread && unread + len + 1 > (r->cap ? r->cap : STREAM_BUFFER)) {
        r->paused_recv = true;          /* full: libcurl keeps the chunk */
        r->pauses++;
        cio_http_notify(r);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (reserve(r, len + 1) < 0)        /* + 1: room for the body's '\0' */
        return 0;
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    cio_http_notify(r);
    return len;
}

static bool readable(const cio_http_response *r)
{
    return r->len > r->off || r->done;
}

ssize_t cio_http_response_read(cio_http_response *r, void *buf, size_t n)
{
    int rc = cio_http_wait(r, readable);
    if (rc < 0)
        return rc;      /* what is buffered stays for a later call */
    size_t k = r->len - r->off;
    if (k == 0)
        return r->result;               /* 0: the body is complete */
    if (k > n)
        k = n;
    memcpy(buf, r->buf + r->off, k);
    r->off += k;
    /* Resume once a whole chunk of libcurl's fits again. */
    if (r->paused_recv && r->cap - (r->len - r->off) >= CURL_MAX_WRITE_SIZE) {
        r->paused_recv = false;
        cio_http_driver_unpause(r->d, r);
    }
    return (ssize_t)k;
}

static bool finished(const cio_http_response *r)
{
    return r->done;
}

static int finish_body(cio_http_response *r, int rc)
{
    r->body_done = true;
    if (rc == 0 && r->too_big)
        rc = CIO_ETOOBIG;
    if (rc == 0 && reserve(r, 1) < 0)
        rc = -ENOMEM;
    if (rc < 0) {                       /* nothing half-returned */
        free(r->buf);
        r->buf = NULL;
        r->off = r->len = r->cap = 0;
    } else {
        r->buf[r->len] = '\0';
    }
    r->body_rc = rc;
    return rc;
}

int cio_http_response_body(cio_http_response *r)
{
    if (r->body_done)
        return r->body_rc;
    r->collecting = true;
    if (r->len - r->off > r->max_body) {
        r->too_big = true;
        cio_http_abort(r, CIO_ETOOBIG);
        return finish_body(r, CIO_ETOOBIG);
    }
    if (r->paused_recv) {
        r->paused_recv = false;
        cio_http_driver_unpause(r->d, r);
    }
    int rc = cio_http_wait(r, finished);
    if (rc == 0)
        rc = r->result;
    if (rc == -ECANCELED)
        return rc;                      /* not settled: the transfer is gone */
    return finish_body(r, rc);
}

/* ---- upload ------------------------------------------------------------------- */

static size_t serve(cio_http_response *r, char *data, size_t cap)
{
    size_t k = r->up_len - r->up_off;
    if (k > cap)
        k = cap;
    memcpy(data, r->up + r->up_off, k);
    r->up_off += k;
    return k;
}

size_t cio_http_on_read(char *data, size_t size, size_t n, void *arg)
{
    cio_http_response *r = arg;
    size_t cap = size * n;
    switch (r->up_kind) {
    case UP_BYTES:
        return serve(r, data, cap);
    case UP_FD: {
        ssize_t k;
        do
            k = read(r->up_fd, data, cap);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
            r->up_err = -errno;
            return CURL_READFUNC_ABORT;
        }
        return (size_t)k;
    }
    default:
        if (r->up_off < r->up_len)
            return serve(r, data, cap);
        if (r->up_err)
            return CURL_READFUNC_ABORT;
        if (r->up_eof)
            return 0;
        r->up_wanted = true;
        r->paused_send = true;
        cio_http_notify(r);
        return CURL_READFUNC_PAUSE;
    }
}

int cio_http_on_seek(void *arg, curl_off_t offset, int origin)
{
    cio_http_response *r = arg;
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    if (r->up_kind == UP_BYTES && (size_t)offset <= r->up_len) {
        r->up_off = (size_t)offset;
        return CURL_SEEKFUNC_OK;
    }
    if (r->up_kind == UP_FD &&
        lseek(r->up_fd, (off_t)r->up_off + (off_t)offset, SEEK_SET) >= 0)
        return CURL_SEEKFUNC_OK;
    return CURL_SEEKFUNC_CANTSEEK;      /* a producer cannot replay */
}

int cio_http_produce(cio_http_response *r)
{
    r->up_wanted = false;
    if (!r->up && !(r->up = malloc(UPLOAD_BUFFER)))
        return -ENOMEM;
    ssize_t k = r->up_fn(r->up_arg, r->up, UPLOAD_BUFFER);
    if (k < 0) {
        r->up_err = (int)k;
        return (int)k;
    }
    r->up_off = 0;
    r->up_len = (size_t)k;
    r->up_eof = k == 0;
    r->paused_send = false;
    cio_http_driver_unpause(r->d, r);
    return 0;
}
