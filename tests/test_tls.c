/* test_tls.c — TLS contexts and handshakes: verification, host names, SNI,
 * ALPN, client certificates, configuration errors. Data, shutdown and
 * cancellation are in test_tls_io.c. */
#include "tls_pair.h"

#include <ftw.h>
#include <unistd.h>


/* ---- bodies ------------------------------------------------------------- */

static int echo_server(side *s, cio_transport *t)
{
    (void)s;
    expect_text(t, "ping");
    cr_assert_eq(send_text(t, "pong"), 0);
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0, "the client's close_notify is EOF");
    return 0;
}

static int echo_client(side *s, cio_transport *t)
{
    (void)s;
    cr_assert_eq(send_text(t, "ping"), 0);
    expect_text(t, "pong");
    return 0;
}

struct info {
    char alpn[32], sni[64], version[16], subject[128];
};

/* Note what the handshake settled, then echo. */
static int note_info(side *s, cio_transport *t)
{
    struct info *i = s->arg;
    const char *alpn = cio_tls_transport_alpn(t);
    const char *sni = cio_tls_transport_server_name(t);
    snprintf(i->alpn, sizeof i->alpn, "%s", alpn ? alpn : "(none)");
    snprintf(i->sni, sizeof i->sni, "%s", sni ? sni : "(none)");
    snprintf(i->version, sizeof i->version, "%s", cio_tls_transport_version(t));
    if (cio_tls_transport_peer_subject(t, i->subject, sizeof i->subject) == -ENOENT)
        snprintf(i->subject, sizeof i->subject, "(none)");
    return cio_tls_ctx_is_server(s->ctx) ? echo_server(s, t) : echo_client(s, t);
}

/* ---- handshake and verification -------------------------------------------- */

Test(tls, handshake_and_echo_with_the_ca, WITH_PKI)
{
    struct info si, ci;
    side server = { .ctx = server_ctx(), .body = note_info, .arg = &si };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = note_info, .arg = &ci };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s: %s", cio_errname(client.handshake), client.why);
    cr_assert_eq(server.handshake, 0, "%s: %s", cio_errname(server.handshake), server.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.status, 0);
    cr_assert_eq(client.close_rc, 0);
    cr_assert_str_eq(ci.version, "TLSv1.3");
    cr_assert_str_eq(ci.subject, "CN=localhost,O=cio tests");
    cr_assert_str_eq(si.subject, "(none)", "no client certificate was asked for");
    cr_assert_str_eq(ci.alpn, "(none)");
}

Test(tls, tls_1_2_works_too, WITH_PKI)
{
    struct info ci;
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = note_info, .arg = &ci };
    cr_assert_eq(cio_tls_ctx_set_versions(server.ctx, CIO_TLS1_2, CIO_TLS1_2), 0);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.status, 0);
    cr_assert_str_eq(ci.version, "TLSv1.2");
}

Test(tls, unknown_ca_fails_verification_with_a_reason, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(false), .name = "localhost", .body = echo_client };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, CIO_ECERT, "got %s: %s", cio_errname(client.handshake),
                 client.why);
    cr_assert(strstr(client.why, "certificate verify failed: unable to get local issuer"),
              "reason: %s", client.why);
    /* The client's alert tells the server why. */
    cr_assert_eq(server.handshake, CIO_ETLS, "got %s", cio_errname(server.handshake));
    cr_assert(strstr(server.why, "unknown ca"), "reason: %s", server.why);
}

Test(tls, hostname_mismatch_fails, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = "not-localhost.example", .body = echo_client };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, CIO_ECERT, "got %s", cio_errname(client.handshake));
    cr_assert(strcasestr(client.why, "hostname mismatch"), "reason: %s", client.why);
    cr_assert_lt(server.handshake, 0);
}

Test(tls, ip_literal_checked_against_ip_san_and_not_sent_as_sni, WITH_PKI)
{
    struct info si;
    side server = { .ctx = server_ctx(), .body = note_info, .arg = &si };
    side client = { .ctx = client_ctx(true), .name = "127.0.0.1", .body = echo_client };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_str_eq(si.sni, "(none)");

    side server2 = { .ctx = server_ctx(), .body = echo_server };
    side client2 = { .ctx = client_ctx(true), .name = "127.0.0.2", .body = echo_client };
    run_pair(&server2, &client2);
    cr_assert_eq(client2.handshake, CIO_ECERT, "127.0.0.2 is not in the certificate");
}

Test(tls, check_hostname_off_accepts_any_name_of_a_trusted_chain, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = "other.example", .body = echo_client };
    cio_tls_ctx_set_check_hostname(client.ctx, false);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.status, 0);
}

Test(tls, insecure_skip_verify_accepts_an_untrusted_certificate, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(false), .name = NULL, .body = echo_client };
    cio_tls_ctx_insecure_skip_verify(client.ctx);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.status, 0);
}

Test(tls, sni_is_received_by_the_server, WITH_PKI)
{
    struct info si, ci;
    side server = { .ctx = server_ctx(), .body = note_info, .arg = &si };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = note_info, .arg = &ci };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_str_eq(si.sni, "localhost");
    cr_assert_str_eq(ci.sni, "localhost");
}

/* ---- ALPN ------------------------------------------------------------------ */

static void alpn_case(const char *const *srv, size_t ns, const char *const *cli, size_t nc,
                      const char *want)
{
    struct info si, ci;
    side server = { .ctx = server_ctx(), .body = note_info, .arg = &si };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = note_info, .arg = &ci };
    if (ns)
        cr_assert_eq(cio_tls_ctx_set_alpn(server.ctx, srv, ns), 0);
    if (nc)
        cr_assert_eq(cio_tls_ctx_set_alpn(client.ctx, cli, nc), 0);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.handshake, 0, "%s", server.why);
    cr_assert_str_eq(ci.alpn, want);
    cr_assert_str_eq(si.alpn, want);
}

Test(tls, alpn_server_preference_wins, WITH_PKI)
{
    const char *srv[] = { "h2", "http/1.1" };
    const char *cli[] = { "http/1.1", "h2" };
    alpn_case(srv, 2, cli, 2, "h2");
}

Test(tls, alpn_picks_the_common_protocol, WITH_PKI)
{
    const char *srv[] = { "h2", "http/1.1" };
    const char *cli[] = { "http/1.1" };
    alpn_case(srv, 2, cli, 1, "http/1.1");
}

Test(tls, alpn_without_overlap_or_offer_goes_on_without, WITH_PKI)
{
    const char *srv[] = { "h2" };
    const char *cli[] = { "spdy/3" };
    alpn_case(srv, 1, cli, 1, "(none)");
    alpn_case(srv, 1, NULL, 0, "(none)");
    alpn_case(NULL, 0, cli, 1, "(none)");
}

Test(tls, alpn_rejects_bad_names, WITH_PKI)
{
    cio_tls_ctx *c = client_ctx(false);
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *empty[] = { "h2", "" };
    const char *too_long[] = { long_name };
    cr_assert_eq(cio_tls_ctx_set_alpn(c, empty, 2), -EINVAL);
    cr_assert_eq(cio_tls_ctx_set_alpn(c, too_long, 1), -EINVAL);
    cio_tls_ctx_free(c);
}

/* ---- client certificates ----------------------------------------------------- */

static cio_tls_ctx *mutual_server_ctx(void)
{
    cio_tls_ctx *c = server_ctx();
    cr_assert_eq(cio_tls_ctx_load_verify_pem(c, pki.ca.text, pki.ca.len), 0);
    cio_tls_ctx_require_client_cert(c);
    return c;
}

Test(tls, client_certificate_is_verified_by_the_server, WITH_PKI)
{
    struct info si;
    side server = { .ctx = mutual_server_ctx(), .body = note_info, .arg = &si };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = echo_client };
    cr_assert_eq(cio_tls_ctx_use_cert_pem(client.ctx, pki.client_cert.text, pki.client_cert.len,
                                          pki.client_key.text, pki.client_key.len), 0);
    run_pair(&server, &client);
    cr_assert_eq(server.handshake, 0, "%s", server.why);
    cr_assert_eq(server.status, 0);
    cr_assert_str_eq(si.subject, "CN=cio test client,O=cio tests");
}

static int read_fails(side *s, cio_transport *t)
{
    char c;
    ssize_t n = t->ops->read(t, &c, 1);
    cio_tls_last_error(s->why, sizeof s->why);
    return (int)n;
}

Test(tls, server_refuses_a_client_without_certificate, WITH_PKI)
{
    side server = { .ctx = mutual_server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = read_fails };
    run_pair(&server, &client);
    cr_assert_eq(server.handshake, CIO_ECERT, "got %s: %s", cio_errname(server.handshake),
                 server.why);
    cr_assert(strstr(server.why, "no certificate"), "reason: %s", server.why);
    /* TLS 1.3: the client finished its side first; the refusal arrives as
     * an alert on its first read. */
    cr_assert_eq(client.handshake, 0);
    cr_assert_eq(client.status, CIO_ETLS, "got %s", cio_errname(client.status));
    cr_assert(strstr(client.why, "certificate required"), "reason: %s", client.why);
}

/* ---- configuration ------------------------------------------------------------ */

Test(tls, client_checking_names_needs_a_server_name, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = NULL };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, -EINVAL);
    cr_assert_lt(server.handshake, 0, "the connection was closed");
}

Test(tls, configuration_errors_say_why, WITH_PKI)
{
    cio_tls_ctx *c = client_ctx(false);
    char why[320];
    cr_assert_eq(cio_tls_ctx_load_verify_file(c, "/nonexistent/ca.pem"), CIO_ETLS);
    cio_tls_last_error(why, sizeof why);
    cr_assert(strstr(why, "/nonexistent/ca.pem"), "reason: %s", why);
    cr_assert_eq(cio_tls_ctx_load_verify_pem(c, "not pem", 7), CIO_ETLS);
    cio_tls_last_error(why, sizeof why);
    cr_assert(strstr(why, "PEM"), "reason: %s", why);
    /* The client's key does not go with the server's certificate. */
    cr_assert_eq(cio_tls_ctx_use_cert_pem(c, pki.server_cert.text, pki.server_cert.len,
                                          pki.client_key.text, pki.client_key.len), CIO_ETLS);
    cio_tls_last_error(why, sizeof why);
    cr_assert(strstr(why, "mismatch"), "reason: %s", why);
    cr_assert_eq(cio_tls_ctx_set_versions(c, 0x0301, 0), -EINVAL);
    cr_assert_eq(cio_tls_ctx_set_versions(c, CIO_TLS1_3, CIO_TLS1_2), -EINVAL);
    cr_assert_eq(cio_tls_ctx_set_versions(c, CIO_TLS1_3, 0), 0);
    cr_assert_not(cio_tls_ctx_is_server(c));
    cio_tls_ctx_free(c);
    cio_tls_ctx_free(NULL);
}

Test(tls, version_floor_above_the_peers_ceiling_fails, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = echo_server };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = echo_client };
    cr_assert_eq(cio_tls_ctx_set_versions(server.ctx, 0, CIO_TLS1_2), 0);
    cr_assert_eq(cio_tls_ctx_set_versions(client.ctx, CIO_TLS1_3, 0), 0);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, CIO_ETLS);
    cr_assert_eq(server.handshake, CIO_ETLS);
    cr_assert(strstr(server.why, "unsupported protocol"), "reason: %s", server.why);
}

/* ---- files ------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const pem *parts[], size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(fwrite(parts[i]->text, 1, parts[i]->len, f), parts[i]->len);
    cr_assert_eq(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The CA under its hash name, as c_rehash would write it. */
static void write_hashed_ca(const char *dir)
{
    BIO *in = BIO_new_mem_buf(pki.ca.text, (int)pki.ca.len);
    X509 *ca = PEM_read_bio_X509(in, NULL, NULL, NULL);
    cr_assert_not_null(ca);
    char name[32];
    snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(ca));
    X509_free(ca);
    BIO_free(in);
    const pem *parts[] = { &pki.ca };
    write_file(dir, name, parts, 1);
}

Test(tls, certificates_and_trust_from_files, WITH_PKI)
{
    char dir[] = "/tmp/cio-tls-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const pem *chain[] = { &pki.server_cert, &pki.ca };
    const pem *key[] = { &pki.server_key };
    const pem *ca[] = { &pki.ca };
    write_file(dir, "chain.pem", chain, 2);
    write_file(dir, "key.pem", key, 1);
    write_file(dir, "ca.pem", ca, 1);
    char hashed[600];
    snprintf(hashed, sizeof hashed, "%s/hashed", dir);
    cr_assert_eq(mkdir(hashed, 0700), 0);
    write_hashed_ca(hashed);

    char path[600], keypath[600];
    for (int by_dir = 0; by_dir < 2; by_dir++) {
        side server = { .body = echo_server };
        side client = { .name = "localhost", .body = echo_client };
        cr_assert_eq(cio_tls_ctx_server(&server.ctx), 0);
        snprintf(path, sizeof path, "%s/chain.pem", dir);
        snprintf(keypath, sizeof keypath, "%s/key.pem", dir);
        cr_assert_eq(cio_tls_ctx_use_cert_files(server.ctx, path, keypath), 0);
        cr_assert_eq(cio_tls_ctx_client(&client.ctx), 0);
        snprintf(path, sizeof path, "%s/ca.pem", dir);
        cr_assert_eq(by_dir ? cio_tls_ctx_load_verify_dir(client.ctx, hashed)
                            : cio_tls_ctx_load_verify_file(client.ctx, path), 0);
        run_pair(&server, &client);
        cr_assert_eq(client.handshake, 0, "by_dir %d: %s", by_dir, client.why);
        cr_assert_eq(server.status, 0);
    }
    cr_assert_eq(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* An encrypted key is refused at once: OpenSSL's default would be to ask
 * for the passphrase on the terminal, blocking the thread. */
static pem encrypted_server_key(void)
{
    BIO *in = BIO_new_mem_buf(pki.server_key.text, (int)pki.server_key.len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    cr_assert_not_null(k);
    BIO_free(in);
    BIO *out = BIO_new(BIO_s_mem());
    cr_assert_eq(PEM_write_bio_PrivateKey(out, k, EVP_aes_128_cbc(),
                                          (unsigned char *)"secret", 6, NULL, NULL), 1);
    EVP_PKEY_free(k);
    return bio_to_pem(out);
}

Test(tls, encrypted_keys_are_refused_without_a_prompt, WITH_PKI)
{
    pem key = encrypted_server_key();
    cio_tls_ctx *c;
    cr_assert_eq(cio_tls_ctx_server(&c), 0);
    cr_assert_eq(cio_tls_ctx_use_cert_pem(c, pki.server_cert.text, pki.server_cert.len, key.text,
                                          key.len), CIO_ETLS);
    char dir[] = "/tmp/cio-tls-XXXXXX", path[64], chain[64];
    cr_assert_not_null(mkdtemp(dir));
    const pem *parts[] = { &key };
    const pem *cert[] = { &pki.server_cert };
    write_file(dir, "key.pem", parts, 1);
    write_file(dir, "cert.pem", cert, 1);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    snprintf(chain, sizeof chain, "%s/cert.pem", dir);
    cr_assert_eq(cio_tls_ctx_use_cert_files(c, chain, path), CIO_ETLS);
    char why[320];
    cio_tls_last_error(why, sizeof why);
    cr_assert(strstr(why, path), "reason: %s", why);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(unlink(chain), 0);
    cr_assert_eq(rmdir(dir), 0);
    cio_tls_ctx_free(c);
    free(key.text);
}
