/* tls_ctx_certs.c — what a cio_tls_ctx trusts (CA certificates) and what
 * it presents (a certificate chain and its key), from files or memory. */
#include "tls_internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
    EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, cio_tls_no_passphrase, NULL);
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
