/* tls_context.c — cio_tls_ctx: OpenSSL's SSL_CTX with cio's defaults, what
 * to trust, what to present, ALPN, versions. */
#include "tls_internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* Encrypted private keys are not supported: without this, OpenSSL would
 * ask for the passphrase on the terminal, blocking the thread. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
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
    SSL_CTX_set_default_passwd_cb(c->ssl, no_passphrase);
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

/* ---- trust ------------------------------------------------------------------ */

int cio_tls_ctx_load_verify_file(cio_tls_ctx *ctx, const char *cafile)
{
    ERR_clear_error();
    if (SSL_CTX_load_verify_file(ctx->ssl, cafile) != 1)
        return cio_tls_fail(CIO_ETLS, cafile);
    return 0;
}

int cio_tls_ctx_load_verify_dir(cio_tls_ctx *ctx, const char *capath)
{
    ERR_clear_error();
    if (SSL_CTX_load_verify_dir(ctx->ssl, capath) != 1)
        return cio_tls_fail(CIO_ETLS, capath);
    return 0;
}

/* The PEM reader reports "no start line" once the text is used up: that is
 * the normal end, not an error, when something was read. */
static bool pem_ended_normally(void)
{
    unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

int cio_tls_ctx_load_verify_pem(cio_tls_ctx *ctx, const void *pem, size_t len)
{
    ERR_clear_error();
    if (len > INT32_MAX)
        return -EINVAL;
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    if (!in)
        return -ENOMEM;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl);
    int added = 0, rc = 0;
    X509 *x;
    while (rc == 0 && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1)
            added++;
        else
            rc = cio_tls_fail(CIO_ETLS, "adding a CA certificate");
        X509_free(x);
    }
    BIO_free(in);
    if (rc == 0 && (added == 0 || !pem_ended_normally()))
        rc = cio_tls_fail(CIO_ETLS, "reading CA certificates from PEM");
    ERR_clear_error();
    return rc;
}

/* ---- our certificate ------------------------------------------------------- */

static int check_key(cio_tls_ctx *ctx)
{
    if (SSL_CTX_check_private_key(ctx->ssl) != 1)
        return cio_tls_fail(CIO_ETLS, "the private key does not match the certificate");
    return 0;
}

int cio_tls_ctx_use_cert_files(cio_tls_ctx *ctx, const char *chain_file, const char *key_file)
{
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, chain_file) != 1)
        return cio_tls_fail(CIO_ETLS, chain_file);
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key_file, SSL_FILETYPE_PEM) != 1)
        return cio_tls_fail(CIO_ETLS, key_file);
    return check_key(ctx);
}

/* The leaf, then every intermediate of the chain. */
static int use_chain(cio_tls_ctx *ctx, BIO *in)
{
    X509 *leaf = PEM_read_bio_X509(in, NULL, NULL, NULL);
    if (!leaf)
        return cio_tls_fail(CIO_ETLS, "reading the certificate from PEM");
    int ok = SSL_CTX_use_certificate(ctx->ssl, leaf);
    X509_free(leaf);
    if (ok != 1)
        return cio_tls_fail(CIO_ETLS, "using the certificate");
    SSL_CTX_clear_chain_certs(ctx->ssl);
    X509 *ca;
    while ((ca = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx->ssl, ca) != 1) {
            X509_free(ca);
            return cio_tls_fail(CIO_ETLS, "adding a chain certificate");
        }
    }
    if (!pem_ended_normally())
        return cio_tls_fail(CIO_ETLS, "reading the certificate chain from PEM");
    ERR_clear_error();
    return 0;
}

static int use_key(cio_tls_ctx *ctx, BIO *in)
{
    EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
    if (!key)
        return cio_tls_fail(CIO_ETLS, "reading the private key from PEM");
    int ok = SSL_CTX_use_PrivateKey(ctx->ssl, key);
    EVP_PKEY_free(key);
    if (ok != 1)
        return cio_tls_fail(CIO_ETLS, "using the private key");
    return 0;
}

int cio_tls_ctx_use_cert_pem(cio_tls_ctx *ctx, const void *chain, size_t chain_len,
                             const void *key, size_t key_len)
{
    ERR_clear_error();
    if (chain_len > INT32_MAX || key_len > INT32_MAX)
        return -EINVAL;
    BIO *cin = BIO_new_mem_buf(chain, (int)chain_len);
    BIO *kin = BIO_new_mem_buf(key, (int)key_len);
    int rc = cin && kin ? 0 : -ENOMEM;
    if (rc == 0)
        rc = use_chain(ctx, cin);
    if (rc == 0)
        rc = use_key(ctx, kin);
    if (rc == 0)
        rc = check_key(ctx);
    BIO_free(cin);
    BIO_free(kin);
    return rc;
}

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
