/* tls_session.c — one TLS connection's state shared by the handshake and
 * the data path: what OpenSSL's answers mean in cio's terms, and refilling
 * its ciphertext from the inner transport. */
#include "tls_session.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cio_tls_session_handshaken(cio_tls_session *t)
{
    const unsigned char *proto;
    unsigned len;
    SSL_get0_alpn_selected(t->ssl, &proto, &len);
    if (len == 0)
        return 0;
    t->alpn = strndup((const char *)proto, len);
    return t->alpn ? 0 : -ENOMEM;
}

void cio_tls_session_free(cio_tls_session *t)
{
    SSL_free(t->ssl);
    cio_tls_ctx_unref(t->ctx);
    free(t->alpn);
    free(t);
}

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

int cio_tls_settle(cio_tls_session *t, int ret, const char *what)
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

int cio_tls_fill(cio_tls_session *t)
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

int cio_tls_truncated(cio_tls_session *t)
{
    if (t->ctx->allow_truncation)
        return 0;
    return t->failed = cio_tls_fail_text(CIO_ETRUNCATED,
                                         "the peer closed the connection without close_notify");
}
