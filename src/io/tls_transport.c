/* tls_transport.c — TLS as a cio_transport over another one. OpenSSL is
 * only ever called with what it can finish at once (tls_bio.c): when it
 * wants ciphertext, the transport reads the inner transport, which parks
 * the task, and calls OpenSSL again. The session's getters are in
 * tls_info.c. */
#include "tls_transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "tls_bio.h"
#include "tls_session.h"

/* Room for one whole record as it travels (16 KiB of payload, header,
 * padding and tag), so a record never needs two reads. */
#define TLS_INBUF (16 * 1024 + 512)

/* Stage small gather entries into records of up to this many bytes
 * instead of one record each. */
#define TLS_STAGE 4096

static const cio_transport_ops tls_ops;

/* ---- turning OpenSSL's answers into cio's ------------------------------- */

/* Did the handshake fail because the peer's certificate did not verify?
 * Then the answer is CIO_ECERT and the reason is the verifier's. */
static int cert_failure(cio_tls_session *t)
{
    unsigned long e = ERR_peek_error();
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return 0;
    char text[256];
    if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long why = SSL_get_verify_result(t->ssl);
        snprintf(text, sizeof text, "certificate verify failed: %s",
                 X509_verify_cert_error_string(why));
        return cio_tls_fail_text(CIO_ECERT, text);
    }
    if (ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return cio_tls_fail_text(CIO_ECERT, "the peer sent no certificate");
    return 0;
}

/* After an SSL call returned ret: 1 if it needs more ciphertext, 0 if the
 * peer sent close_notify, else the (now sticky) error. */
static int settle(cio_tls_session *t, int ret, const char *what)
{
    int rc;
    switch (SSL_get_error(t->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return 1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (t->wire.write_error) {
            ERR_clear_error();
            return t->failed = t->wire.write_error;
        }
        rc = cio_tls_fail(CIO_ETLS, what);
        break;
    case SSL_ERROR_SSL:
        rc = cert_failure(t);
        if (rc == 0)
            rc = cio_tls_fail(CIO_ETLS, what);
        break;
    default:    /* WANT_WRITE and the like: our BIO never asks for them */
        rc = cio_tls_fail(CIO_ETLS, what);
        break;
    }
    return t->failed = rc;
}

/* OpenSSL used up the ciphertext: read more from the inner transport (the
 * task parks there). Returns 0, 1 at the inner end of stream, or the
 * inner's error; -EBADF if the transport was closed meanwhile, and then
 * t is gone. */
static int fill(cio_tls_session *t)
{
    if (t->in_eof)
        return 1;
    cio_transport *inner = t->wire.inner;
    t->reading = true;
    ssize_t n = inner->ops->read(inner, t->wire.in, t->wire.in_cap);
    t->reading = false;
    if (t->orphaned) {          /* closed by another task while we waited */
        cio_tls_session_free(t);
        return -EBADF;
    }
    if (n < 0)
        return (int)n;
    if (n == 0) {
        t->in_eof = true;
        return 1;
    }
    t->wire.in_pos = 0;
    t->wire.in_len = (size_t)n;
    return 0;
}

/* The connection ended under TLS without the peer's close_notify. */
static int truncated(cio_tls_session *t)
{
    if (t->ctx->allow_truncation)
        return 0;
    return t->failed = cio_tls_fail_text(CIO_ETRUNCATED,
                                         "the peer closed the connection without close_notify");
}

/* ---- handshake -------------------------------------------------------------- */

static bool is_ip_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* SNI (never for an IP literal, RFC 6066) and what the certificate must
 * name. */
static int setup_client(cio_tls_session *t, const char *name)
{
    bool check = t->ctx->verify && t->ctx->check_hostname;
    SSL_set_connect_state(t->ssl);
    if (!name || !name[0])
        return check ? -EINVAL : 0;
    bool ip = is_ip_literal(name);
    if (!ip && SSL_set_tlsext_host_name(t->ssl, name) != 1)
        return cio_tls_fail(CIO_ETLS, "setting the server name");
    if (!check)
        return 0;
    X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(p, name) : X509_VERIFY_PARAM_set1_host(p, name, 0);
    return ok == 1 ? 0 : -EINVAL;
}

static int start_session(cio_tls_session *t, const char *server_name)
{
    ERR_clear_error();
    t->ssl = SSL_new(t->ctx->ssl);
    BIO *bio = t->ssl ? cio_tls_bio_new(&t->wire) : NULL;
    if (!bio)
        return -ENOMEM;
    SSL_set_bio(t->ssl, bio, bio);      /* the session owns the BIO */
    if (!t->ctx->server)
        return setup_client(t, server_name);
    SSL_set_accept_state(t->ssl);
    return 0;
}

static int handshake(cio_tls_session *t)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        if (r == 1)
            return cio_tls_session_handshaken(t);
        int rc = settle(t, r, "TLS handshake");
        if (rc < 0)
            return rc;
        rc = rc == 1 ? fill(t) : 1;
        if (rc == 1)
            return t->failed = cio_tls_fail_text(
                       CIO_ETLS, "the peer closed the connection during the TLS handshake");
        if (rc < 0)
            return rc;
    }
}

int cio_tls_transport_start(cio_transport **out, cio_transport *inner, cio_tls_ctx *ctx,
                            const char *server_name, const void *preread, size_t prelen)
{
    size_t cap = prelen > TLS_INBUF ? prelen : TLS_INBUF;
    cio_tls_session *t = calloc(1, sizeof *t + cap);
    if (!t)
        return -ENOMEM;
    t->base.ops = &tls_ops;
    t->wire = (cio_tls_wire){ .inner = inner, .in = t->in, .in_cap = cap, .in_len = prelen };
    if (prelen)
        memcpy(t->in, preread, prelen);
    cio_tls_ctx_ref(ctx);
    t->ctx = ctx;
    int rc = start_session(t, server_name);
    if (rc == 0)
        rc = cio_wait_checkpoint();
    if (rc == 0)
        rc = handshake(t);
    if (rc < 0) {
        cio_tls_session_free(t);
        return rc;
    }
    *out = &t->base;
    return 0;
}

int cio_tls_transport_new(cio_transport **out, cio_transport *inner, cio_tls_ctx *ctx,
                          const char *server_name, const void *preread, size_t prelen)
{
    int rc = cio_tls_transport_start(out, inner, ctx, server_name, preread, prelen);
    if (rc < 0) {
        /* Flush the alert that tells the peer why (unless cancelled); the
         * reason survives the flush, during which other tasks may fail. */
        cio_tls_reason why;
        cio_tls_reason_save(&why);
        int ignored = inner->ops->close(inner, rc == -ECANCELED);
        (void)ignored;
        cio_tls_reason_restore(&why);
    }
    return rc;
}

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
        rc = settle(t, 0, "TLS read");
        if (rc <= 0)
            return rc;          /* close_notify (0), or the error */
        rc = fill(t);
        if (rc == 1)
            return truncated(t);
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
    int rc = settle(t, 0, "TLS write");
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
    int rc = settle(t, -1, "TLS shutdown");
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
