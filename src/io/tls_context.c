/* tls_context.c — cio_tls_ctx: OpenSSL's SSL_CTX with cio's defaults,
 * ALPN, versions, verification policy. Certificates: tls_ctx_certs.c. */
#include "tls_internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

int cio_tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Defaults every context shares: TLS 1.2 at least, no renegotiation (it
 * would make a write wait for a read), buffers released when idle (an idle
 * connection then costs little). */
static int new_ctx(cio_tls_ctx **out, bool server)
{
    ERR_clear_error();
    cio_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl) {
        free(c);
        return cio_tls_fail(CIO_ETLS, "SSL_CTX_new");
    }
    atomic_init(&c->refs, 1);
    c->server = server;
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_passwd_cb(c->ssl, cio_tls_no_passphrase);
    *out = c;
    return 0;
}

int cio_tls_ctx_client(cio_tls_ctx **out)
{
    int rc = new_ctx(out, false);
    if (rc < 0)
        return rc;
    cio_tls_ctx *c = *out;
    c->verify = c->check_hostname = true;
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
        cio_tls_ctx_free(c);
        return cio_tls_fail(CIO_ETLS, "loading the system trust store");
    }
    return 0;
}

int cio_tls_ctx_server(cio_tls_ctx **out)
{
    int rc = new_ctx(out, true);
    if (rc < 0)
        return rc;
    /* Sessions resumed from the cache must belong to this application. */
    static const unsigned char sid[] = "cio";
    SSL_CTX_set_session_id_context((*out)->ssl, sid, sizeof sid - 1);
    return 0;
}

void cio_tls_ctx_ref(cio_tls_ctx *ctx)
{
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
}

void cio_tls_ctx_unref(cio_tls_ctx *ctx)
{
    if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx->alpn);
    free(ctx);
}

void cio_tls_ctx_free(cio_tls_ctx *ctx)
{
    if (ctx)
        cio_tls_ctx_unref(ctx);
}

bool cio_tls_ctx_is_server(const cio_tls_ctx *ctx) { return ctx->server; }

/* ---- ALPN ---------------------------------------------------------------- */

/* Server: the first of our protocols that the client offered. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    cio_tls_ctx *ctx = arg;
    unsigned char *sel;
    if (inlen == 0 || ctx->alpn_len == 0)
        return SSL_TLSEXT_ERR_NOACK;
    if (SSL_select_next_proto(&sel, outlen, ctx->alpn, ctx->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The wire format: each name prefixed by its length. */
static int encode_alpn(unsigned char **out, unsigned *out_len, const char *const *protos,
                       size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(protos[i]);
        if (n == 0 || n > 255)
            return -EINVAL;
        total += 1 + n;
    }
    if (total > 65535)
        return -EINVAL;
    unsigned char *w = malloc(total ? total : 1);
    if (!w)
        return -ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(protos[i]);
        w[at++] = (unsigned char)n;
        memcpy(w + at, protos[i], n);
        at += n;
    }
    *out = w;
    *out_len = (unsigned)total;
    return 0;
}

int cio_tls_ctx_set_alpn(cio_tls_ctx *ctx, const char *const *protos, size_t count)
{
    unsigned char *wire;
    unsigned len;
    int rc = encode_alpn(&wire, &len, protos, count);
    if (rc < 0)
        return rc;
    free(ctx->alpn);
    ctx->alpn = wire;
    ctx->alpn_len = len;
    if (ctx->server) {
        SSL_CTX_set_alpn_select_cb(ctx->ssl, select_alpn, ctx);
        return 0;
    }
    /* OpenSSL inverts the convention here: 0 is success. */
    return SSL_CTX_set_alpn_protos(ctx->ssl, wire, len) == 0 ? 0 : -ENOMEM;
}

/* ---- policy ---------------------------------------------------------------- */

static bool known_version(int v)
{
    return v == 0 || v == CIO_TLS1_2 || v == CIO_TLS1_3;
}

int cio_tls_ctx_set_versions(cio_tls_ctx *ctx, int min, int max)
{
    if (!known_version(min) || !known_version(max) || (min && max && min > max))
        return -EINVAL;
    SSL_CTX_set_min_proto_version(ctx->ssl, min ? min : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx->ssl, max);
    return 0;
}

void cio_tls_ctx_set_check_hostname(cio_tls_ctx *ctx, bool on)
{
    ctx->check_hostname = on;
}

void cio_tls_ctx_require_client_cert(cio_tls_ctx *ctx)
{
    SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
}

void cio_tls_ctx_insecure_skip_verify(cio_tls_ctx *ctx)
{
    ctx->verify = ctx->check_hostname = false;
    SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_NONE, NULL);
}

void cio_tls_ctx_allow_truncation(cio_tls_ctx *ctx, bool on)
{
    ctx->allow_truncation = on;
}
