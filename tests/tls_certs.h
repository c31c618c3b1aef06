/* tls_certs.h — a throwaway PKI made at test time with OpenSSL: a CA, a
 * server certificate for localhost / 127.0.0.1 / ::1 and a client
 * certificate, all EC P-256 (fast to make), as PEM text in memory. */
#ifndef CIO_TEST_TLS_CERTS_H
#define CIO_TEST_TLS_CERTS_H

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

typedef struct pem {
    char *text;
    size_t len;
} pem;

typedef struct test_pki {
    pem ca;                     /* the CA's certificate */
    pem server_cert, server_key;
    pem client_cert, client_key;
} test_pki;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    cr_assert_not_null(e, "extension %d=%s", nid, value);
    cr_assert_eq(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for key named cn, signed by issuer (NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    cr_assert_not_null(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cio tests", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : x;
    add_ext(x, signer, NID_subject_key_identifier, "hash");
    add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    if (!issuer) {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    if (san)
        add_ext(x, signer, NID_subject_alt_name, san);
    cr_assert_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
    return x;
}

static pem bio_to_pem(BIO *b)
{
    char *data;
    long len = BIO_get_mem_data(b, &data);
    pem p = { malloc((size_t)len + 1), (size_t)len };
    cr_assert_not_null(p.text);
    memcpy(p.text, data, (size_t)len);
    p.text[len] = '\0';
    BIO_free(b);
    return p;
}

static pem cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    cr_assert_eq(PEM_write_bio_X509(b, x), 1);
    return bio_to_pem(b);
}

static pem key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    cr_assert_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    return bio_to_pem(b);
}

static void make_pki(test_pki *pki)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    EVP_PKEY *srv_key = EVP_EC_gen("P-256");
    EVP_PKEY *cli_key = EVP_EC_gen("P-256");
    cr_assert(ca_key && srv_key && cli_key);
    X509 *ca = make_cert(ca_key, "cio test CA", NULL, NULL, NULL);
    X509 *srv = make_cert(srv_key, "localhost", ca, ca_key,
                          "DNS:localhost,IP:127.0.0.1,IP:::1");
    X509 *cli = make_cert(cli_key, "cio test client", ca, ca_key, NULL);
    pki->ca = cert_pem(ca);
    pki->server_cert = cert_pem(srv);
    pki->server_key = key_pem(srv_key);
    pki->client_cert = cert_pem(cli);
    pki->client_key = key_pem(cli_key);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
}

static void free_pki(test_pki *pki)
{
    free(pki->ca.text);
    free(pki->server_cert.text);
    free(pki->server_key.text);
    free(pki->client_cert.text);
    free(pki->client_key.text);
}

/* Each test makes its own PKI: Test(suite, name, WITH_PKI). */
static test_pki pki;
static void pki_setup(void) { make_pki(&pki); }
static void pki_teardown(void) { free_pki(&pki); }
#define WITH_PKI .init = pki_setup, .fini = pki_teardown

/* A server context with the test certificate. */
static cio_tls_ctx *server_ctx(void)
{
    cio_tls_ctx *c;
    cr_assert_eq(cio_tls_ctx_server(&c), 0);
    cr_assert_eq(cio_tls_ctx_use_cert_pem(c, pki.server_cert.text, pki.server_cert.len,
                                          pki.server_key.text, pki.server_key.len), 0);
    return c;
}

/* A client context that trusts the test CA (or only the system store). */
static cio_tls_ctx *client_ctx(bool trust_test_ca)
{
    cio_tls_ctx *c;
    cr_assert_eq(cio_tls_ctx_client(&c), 0);
    if (trust_test_ca)
        cr_assert_eq(cio_tls_ctx_load_verify_pem(c, pki.ca.text, pki.ca.len), 0);
    return c;
}

#endif
