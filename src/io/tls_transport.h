/* tls_transport.h — TLS as a cio_transport over another transport (private).
 *
 * OpenSSL runs over a BIO of cio's (tls_bio.c): ciphertext it produces goes
 * straight to the inner transport's write, which never blocks; ciphertext
 * it needs comes from a buffer the TLS transport refills by reading the
 * inner transport, which parks the task. So WANT_READ / WANT_WRITE never
 * reach the callers, and the task blocks only in the inner read (and
 * flush), honouring its cancel scopes and deadlines.
 */
#ifndef CIO_IO_TLS_TRANSPORT_H
#define CIO_IO_TLS_TRANSPORT_H

#include "cio/tls.h"
#include "transport.h"

/* Run the handshake over inner as ctx's role says, and give the TLS
 * transport. A client names the server it expects (SNI and the host name
 * check; an IP literal is checked against the certificate's IP addresses
 * and not sent as SNI); a server passes NULL. preread/prelen: ciphertext
 * already read from inner by the layer above (start_tls after a plaintext
 * exchange), fed to OpenSSL first; may be NULL/0.
 *
 * Blocks until the handshake is done. inner is owned from then on: on
 * failure it is closed (after sending the alert that says why, unless the
 * handshake was cancelled). Returns 0, CIO_ETLS, CIO_ECERT, -EINVAL (a
 * client without server_name while the host name is checked), -ENOMEM, or
 * the inner transport's error (-ECANCELED, -ECONNRESET...). */
int cio_tls_transport_new(cio_transport **out, cio_transport *inner, cio_tls_ctx *ctx,
                          const char *server_name, const void *preread, size_t prelen);

/* cio_tls_transport_new for start_tls: on failure inner is left open and
 * still the caller's, with the alert that says why (if any) queued in it;
 * the connection is of no further use, close it. */
int cio_tls_transport_start(cio_transport **out, cio_transport *inner, cio_tls_ctx *ctx,
                            const char *server_name, const void *preread, size_t prelen);

/* True if t is a TLS transport (the getters below need one). */
bool cio_transport_is_tls(const cio_transport *t);

/* The protocol ALPN chose, or NULL if none. */
const char *cio_tls_transport_alpn(cio_transport *t);

/* The name the client asked for by SNI (on both sides), or NULL. */
const char *cio_tls_transport_server_name(cio_transport *t);

/* "TLSv1.3", "TLSv1.2". */
const char *cio_tls_transport_version(cio_transport *t);

/* The peer certificate's subject, as RFC 2253 text ("CN=localhost,O=x"),
 * into buf (always terminated). Returns the length it needed, -ENOENT if
 * the peer sent no certificate, -ENOMEM. */
int cio_tls_transport_peer_subject(cio_transport *t, char *buf, size_t size);

#endif
