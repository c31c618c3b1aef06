/* tls_transport.c — TLS as a cio_transport over another one. OpenSSL is
 * only ever called with what it can finish at once (tls_bio.c): when it
 * wants ciphertext, the transport reads the inner transport, which parks
 * the task, and calls OpenSSL again. The handshake is in tls_handshake.c,
 * the session's helpers in tls_session.c, its getters in tls_info.c. */
#include "tls_transport.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "tls_session.h"

/* Room for one whole record as it travels (16 KiB of payload, header,
 * padding and tag), so a record never needs two reads. */
#define TLS_INBUF (16 * 1024 + 512)

/* Stage small gather entries into records of up to this many bytes
 * instead of one record each. */
#define TLS_STAGE 4096

static const cio_transport_ops tls_ops;

/* ---- data ----------------------------------------------------------------- */

static ssize_t tls_read(cio_transport *base, void *buf, size_t len)
{
    cio_tls_session *t = (cio_tls_session *)base;
    int rc = cio_wait_checkpoint();
    if (rc < 0 || len == 0)
        return rc;
    for (;;) {
        if (t->failed)
            return t->failed;
        size_t got = 0;
        ERR_clear_error();
        if (SSL_read_ex(t->ssl, buf, len, &got) == 1)
            return (ssize_t)got;
        rc = cio_tls_settle(t, 0, "TLS read");
        if (rc <= 0)
            return rc;          /* close_notify (0), or the error */
        rc = cio_tls_fill(t);
        if (rc == 1)
            return cio_tls_truncated(t);
        if (rc < 0)
            return rc;
    }
}

/* Encrypt len bytes into the inner transport's queue. */
static int put(cio_tls_session *t, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    size_t done;
    ERR_clear_error();
    if (SSL_write_ex(t->ssl, data, len, &done) == 1)
        return 0;
    int rc = cio_tls_settle(t, 0, "TLS write");
    if (rc >= 0)    /* a write that must wait for a read: renegotiation is off */
        rc = t->failed = cio_tls_fail_text(CIO_ETLS, "TLS write needed to read first");
    return rc;
}

static int tls_write(cio_transport *base, const struct iovec *iov, int iovcnt)
{
    cio_tls_session *t = (cio_tls_session *)base;
    if (t->failed)
        return t->failed;
    if (t->sent_close)
        return -EPIPE;
    char stage[TLS_STAGE];
    size_t staged = 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < iovcnt; i++) {
        const char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        if (len == 0)
            continue;
        if (len <= sizeof stage - staged) {
            memcpy(stage + staged, p, len);
            staged += len;
            continue;
        }
        rc = put(t, stage, staged);
        staged = 0;
        if (rc == 0 && len <= sizeof stage) {
            memcpy(stage, p, len);
            staged = len;
        } else if (rc == 0) {
            rc = put(t, p, len);
        }
    }
    return rc == 0 ? put(t, stage, staged) : rc;
}

static size_t tls_pending(const cio_transport *base)
{
    const cio_tls_session *t = (const cio_tls_session *)base;
    return t->wire.inner->ops->pending(t->wire.inner);
}

static int tls_flush(cio_transport *base, size_t mark)
{
    cio_tls_session *t = (cio_tls_session *)base;
    return t->wire.inner->ops->flush(t->wire.inner, mark);
}

/* Queue close_notify (SSL_shutdown's first call only writes it). */
static int send_close_notify(cio_tls_session *t)
{
    t->sent_close = true;
    ERR_clear_error();
    if (SSL_shutdown(t->ssl) >= 0)
        return 0;
    int rc = cio_tls_settle(t, -1, "TLS shutdown");
    return rc < 0 ? rc : 0;
}

static int tls_write_eof(cio_transport *base)
{
    cio_tls_session *t = (cio_tls_session *)base;
    if (t->failed)
        return t->failed;
    if (!t->sent_close) {
        int rc = send_close_notify(t);
        if (rc < 0)
            return rc;
    }
    return t->wire.inner->ops->write_eof(t->wire.inner);
}

static int tls_close(cio_transport *base, bool abort)
{
    cio_tls_session *t = (cio_tls_session *)base;
    int rc = 0;
    if (!abort && !t->failed && !t->sent_close)
        rc = send_close_notify(t);
    cio_tls_reason why;
    cio_tls_reason_save(&why);
    cio_transport *inner = t->wire.inner;
    int rc2 = inner->ops->close(inner, abort);
    cio_tls_reason_restore(&why);
    /* A reader parked in the inner read wakes up after this returns: it
     * frees the session then. */
    if (t->reading)
        t->orphaned = true;
    else
        cio_tls_session_free(t);
    return rc < 0 ? rc : rc2;
}

static cio_socket *tls_socket(cio_transport *base)
{
    cio_tls_session *t = (cio_tls_session *)base;
    return t->wire.inner->ops->socket(t->wire.inner);
}

static const cio_transport_ops tls_ops = {
    .read = tls_read,
    .write = tls_write,
    .pending = tls_pending,
    .flush = tls_flush,
    .write_eof = tls_write_eof,
    .close = tls_close,
    .socket = tls_socket,
};

bool cio_transport_is_tls(const cio_transport *t)
{
    return t && t->ops == &tls_ops;
}

cio_tls_session *cio_tls_session_new(cio_transport *inner, cio_tls_ctx *ctx, const void *preread,
                                     size_t prelen)
{
    size_t cap = prelen > TLS_INBUF ? prelen : TLS_INBUF;
    cio_tls_session *t = calloc(1, sizeof *t + cap);
    if (!t)
        return NULL;
    t->base.ops = &tls_ops;
    t->wire = (cio_tls_wire){ .inner = inner, .in = t->in, .in_cap = cap, .in_len = prelen };
    if (prelen)
        memcpy(t->in, preread, prelen);
    cio_tls_ctx_ref(ctx);
    t->ctx = ctx;
    return t;
}
