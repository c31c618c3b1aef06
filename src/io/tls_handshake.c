/* tls_handshake.c — starting a TLS connection over a transport: the
 * session, the client's server name (SNI and what the certificate must
 * name), and the handshake, which parks the task only in the inner read. */
#include "tls_transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "../core/internal.h"
#include "tls_session.h"

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
        int rc = cio_tls_settle(t, r, "TLS handshake");
        if (rc < 0)
            return rc;
        rc = rc == 1 ? cio_tls_fill(t) : 1;
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
    cio_tls_session *t = cio_tls_session_new(inner, ctx, preread, prelen);
    if (!t)
        return -ENOMEM;
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
