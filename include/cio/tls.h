/* cio/tls.h — TLS over cio's streams, with OpenSSL (asyncio's ssl= and
 * start_tls).
 *
 * A cio_tls_ctx is the configuration shared by many connections
 * (ssl.SSLContext): its role (client or server), what to trust, the
 * certificate to present, ALPN, versions. Configure it before the first
 * connection uses it; after that it may be shared by the loops of several
 * threads. Connections hold a reference, so cio_tls_ctx_free may be called
 * while they are open.
 *
 * Client contexts verify the server by default, the way Python's
 * ssl.create_default_context() does: the certificate chain against the
 * system's trust store (or CAs you load) and the host name against the
 * certificate. Minimum version TLS 1.2. Renegotiation is refused.
 *
 * Failures are negative codes: CIO_ETLS (handshake or protocol failure, an
 * alert from the peer, a peer that does not speak TLS), CIO_ECERT (the
 * peer's certificate did not verify), CIO_ETRUNCATED (the connection ended
 * without close_notify), or the errno of what lies beneath (-ECONNRESET,
 * -ECANCELED...). cio_tls_last_error tells why in OpenSSL's words.
 *
 * The blocking calls (handshakes, reads) block only the calling task and
 * honour its cancel scopes and deadlines.
 *
 * A TLS connection is a cio_stream like any other (cio/stream.h): read,
 * read_line, write, drain, write_eof (sends close_notify, then the FIN;
 * reading goes on), close (close_notify first). The peer's close_notify
 * reads as end of stream; an end without it is CIO_ETRUNCATED.
 *
 *     cio_tls_ctx *ctx;
 *     rc = cio_tls_ctx_client(&ctx);
 *     cio_stream *st;
 *     rc = cio_tls_connect(&st, "example.com", "443", ctx, NULL);
 *     rc = cio_stream_write(st, req, len);  ...  cio_stream_close(st);
 *     cio_tls_ctx_free(ctx);
 *
 * Servers: set cio_server_opts.tls to a server context (cio/server.h).
 */
#ifndef CIO_TLS_H
#define CIO_TLS_H

#include <stddef.h>

#include "base.h"
#include "stream.h"

#pragma GCC visibility push(default)

typedef struct cio_tls_ctx cio_tls_ctx;

/* Protocol versions, for cio_tls_ctx_set_versions (OpenSSL's numbers). */
enum {
    CIO_TLS1_2 = 0x0303,
    CIO_TLS1_3 = 0x0304,
};

/* ---- contexts -------------------------------------------------------------- */

/* A client context: verification on (system trust store, host name check),
 * TLS 1.2 or later. Returns 0, -ENOMEM, or CIO_ETLS. Never blocks. */
CIO_MUST_CHECK int cio_tls_ctx_client(cio_tls_ctx **out);

/* A server context: TLS 1.2 or later, no client certificates asked for.
 * Give it a certificate with cio_tls_ctx_use_cert_*. Returns 0, -ENOMEM,
 * or CIO_ETLS. Never blocks. */
CIO_MUST_CHECK int cio_tls_ctx_server(cio_tls_ctx **out);

/* Drop the caller's reference (connections keep theirs). NULL is ignored. */
void cio_tls_ctx_free(cio_tls_ctx *ctx);

/* True for a server context. */
bool cio_tls_ctx_is_server(const cio_tls_ctx *ctx);

/* Trust the CA certificates in a PEM file, in a directory of hashed PEM
 * files (c_rehash), or in PEM text in memory (len bytes), in addition to
 * the system store for clients. Also what a server checks client
 * certificates against. Returns 0, or CIO_ETLS (unreadable file, bad PEM:
 * see cio_tls_last_error). Reads files: blocks the thread briefly. */
CIO_MUST_CHECK int cio_tls_ctx_load_verify_file(cio_tls_ctx *ctx, const char *cafile);
CIO_MUST_CHECK int cio_tls_ctx_load_verify_dir(cio_tls_ctx *ctx, const char *capath);
CIO_MUST_CHECK int cio_tls_ctx_load_verify_pem(cio_tls_ctx *ctx, const void *pem, size_t len);

/* The certificate to present (a server's, or a client's for mutual TLS):
 * the leaf first then intermediates, in PEM, and its private key in PEM,
 * not encrypted (no passphrase is ever asked for). The key must match the
 * certificate. Returns 0 or CIO_ETLS. */
CIO_MUST_CHECK int cio_tls_ctx_use_cert_files(cio_tls_ctx *ctx, const char *chain_file,
                                              const char *key_file);
CIO_MUST_CHECK int cio_tls_ctx_use_cert_pem(cio_tls_ctx *ctx, const void *chain, size_t chain_len,
                                            const void *key, size_t key_len);

/* ALPN protocols ("h2", "http/1.1"), count of them. A client offers them
 * in this order; a server picks the first of its list that the client
 * offered (no match: the connection goes on without ALPN, as in Python).
 * Returns 0, -EINVAL (an empty name or one over 255 bytes), -ENOMEM. */
CIO_MUST_CHECK int cio_tls_ctx_set_alpn(cio_tls_ctx *ctx, const char *const *protos,
                                        size_t count);

/* Lowest and highest protocol version (CIO_TLS1_2, CIO_TLS1_3; 0 keeps
 * the default: TLS 1.2 and the highest OpenSSL knows). Returns 0 or
 * -EINVAL. */
CIO_MUST_CHECK int cio_tls_ctx_set_versions(cio_tls_ctx *ctx, int min, int max);

/* Client: check that the server's certificate names the host (on by
 * default; ssl.SSLContext.check_hostname). Off, any name the trusted
 * chain vouches for is accepted. */
void cio_tls_ctx_set_check_hostname(cio_tls_ctx *ctx, bool on);

/* Server: ask clients for a certificate and refuse those without one that
 * verifies against the CAs loaded with cio_tls_ctx_load_verify_*
 * (ssl.CERT_REQUIRED on a server context: mutual TLS). */
void cio_tls_ctx_require_client_cert(cio_tls_ctx *ctx);

/* INSECURE, for tests and development only: accept any certificate from
 * the peer, self-signed, expired or for another host. Anyone on the path
 * can then read and change the traffic (Python: check_hostname = False,
 * verify_mode = CERT_NONE; Go: InsecureSkipVerify). */
void cio_tls_ctx_insecure_skip_verify(cio_tls_ctx *ctx);

/* Treat a connection that ends without the peer's close_notify as a plain
 * end of stream (0) instead of CIO_ETRUNCATED. Only for protocols that
 * frame their own data (HTTP with Content-Length...), for peers that do not
 * close cleanly (ssl.OP_IGNORE_UNEXPECTED_EOF). */
void cio_tls_ctx_allow_truncation(cio_tls_ctx *ctx, bool on);

/* ---- streams ---------------------------------------------------------------- */

typedef struct cio_tls_connect_opts {
    /* The name the server's certificate must carry, also sent by SNI
     * (asyncio's server_hostname). NULL: host. "": none, which a context
     * that checks host names refuses (-EINVAL). */
    const char *server_hostname;
    /* How long the handshake may take (asyncio's ssl_handshake_timeout):
     * past it, -ETIMEDOUT. 0: 60 s; < 0: only the caller's scopes. */
    int64_t handshake_timeout;
    cio_stream_opts stream;     /* the stream's buffer limit, water marks */
} cio_tls_connect_opts;

/* asyncio.open_connection(host, port, ssl=ctx): connect (as
 * cio_open_connection does), then run the TLS handshake with the client
 * context ctx. Returns 0, or the connection's error, CIO_ECERT, CIO_ETLS,
 * -ETIMEDOUT (handshake timeout), -EINVAL (a server context; no server
 * name to check). opts may be NULL. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_tls_connect(cio_stream **out, const char *host, const char *port,
                                   cio_tls_ctx *ctx, const cio_tls_connect_opts *opts);

/* asyncio's StreamWriter.start_tls / loop.start_tls: upgrade an open
 * stream to TLS after a plaintext exchange (SMTP, IMAP, XMPP STARTTLS).
 * ctx's role says which side this is; a client names the server to verify
 * (server_hostname, as in cio_tls_connect; a server passes NULL). Bytes
 * still buffered unread in the stream are taken as the start of the TLS
 * stream (a client's hello sent right behind its STARTTLS line), never as
 * plaintext read after the upgrade. What was written before is sent
 * before the handshake. From then on every call on st goes through TLS.
 * No timeout of its own: use a scope. Returns 0, CIO_ECERT, CIO_ETLS, or
 * the connection's error; on failure the connection is of no further use
 * (close the stream: that sends the alert saying why). Blocks: a
 * cancellation point. */
CIO_MUST_CHECK int cio_stream_start_tls(cio_stream *st, cio_tls_ctx *ctx,
                                        const char *server_hostname);

/* True if st speaks TLS. */
bool cio_stream_is_tls(cio_stream *st);

/* The protocol ALPN chose ("h2"), or NULL: none, or st is not TLS
 * (ssl_object.selected_alpn_protocol()). */
const char *cio_stream_tls_alpn(cio_stream *st);

/* The server name the client sent by SNI (what a server reads to pick a
 * virtual host), or NULL. */
const char *cio_stream_tls_server_name(cio_stream *st);

/* "TLSv1.3" or "TLSv1.2"; NULL if st is not TLS. */
const char *cio_stream_tls_version(cio_stream *st);

/* The peer certificate's subject as RFC 2253 text ("CN=localhost,O=x")
 * into buf (always terminated). Returns the length it needed, -ENOENT if
 * the peer sent no certificate (or st is not TLS), -ENOMEM. */
int cio_stream_tls_peer_subject(cio_stream *st, char *buf, size_t size);

/* ---- errors ---------------------------------------------------------------- */

/* Why the latest TLS call of this thread that failed with CIO_ETLS,
 * CIO_ECERT or CIO_ETRUNCATED failed, in words ("certificate verify failed:
 * unable to get local issuer certificate", "wrong version number"...),
 * written to buf (always terminated). Returns the length it needed (like
 * snprintf); an empty text if no TLS call failed yet. Read it right after
 * the failing call: other tasks of the loop may fail once it blocks
 * again. Never blocks. */
size_t cio_tls_last_error(char *buf, size_t size);

#pragma GCC visibility pop

#endif
