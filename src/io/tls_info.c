/* tls_info.c — what a TLS connection's handshake settled: ALPN, SNI,
 * version, the peer's certificate. */
#include "tls_session.h"
#include "tls_transport.h"

#include <errno.h>
#include <openssl/x509.h>
#include <string.h>

static cio_tls_session *session(cio_transport *t)
{
    return cio_transport_is_tls(t) ? (cio_tls_session *)t : NULL;
}

const char *cio_tls_transport_alpn(cio_transport *t)
{
    cio_tls_session *s = session(t);
    return s ? s->alpn : NULL;
}

const char *cio_tls_transport_server_name(cio_transport *t)
{
    cio_tls_session *s = session(t);
    return s ? SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}

const char *cio_tls_transport_version(cio_transport *t)
{
    cio_tls_session *s = session(t);
    return s ? SSL_get_version(s->ssl) : NULL;
}

int cio_tls_transport_peer_subject(cio_transport *t, char *buf, size_t size)
{
    cio_tls_session *s = session(t);
    X509 *cert = s ? SSL_get0_peer_certificate(s->ssl) : NULL;
    if (!cert)
        return -ENOENT;
    BIO *out = BIO_new(BIO_s_mem());
    if (!out)
        return -ENOMEM;
    int rc = X509_NAME_print_ex(out, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char *text;
    long len = BIO_get_mem_data(out, &text);
    if (rc >= 0 && size > 0) {
        size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    BIO_free(out);
    return rc < 0 ? -ENOMEM : (int)len;
}
