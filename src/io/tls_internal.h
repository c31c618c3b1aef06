/* tls_internal.h — the TLS context and error helpers shared by the files of
 * src/io that speak TLS (tls_context.c, tls_error.c, tls_transport.c). */
#ifndef CIO_IO_TLS_INTERNAL_H
#define CIO_IO_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cio/error.h"
#include "cio/tls.h"

struct cio_tls_ctx {
    SSL_CTX *ssl;
    atomic_int refs;            /* the owner's and one per connection */
    bool server;
    bool verify;                /* client: verify the server (default on) */
    bool check_hostname;        /* client: match the name too */
    bool allow_truncation;
    unsigned char *alpn;        /* protocols in ALPN wire format */
    unsigned alpn_len;
};

/* The passphrase callback of every context: encrypted private keys are
 * refused (OpenSSL's default would ask on the terminal, blocking the
 * thread). */
int cio_tls_no_passphrase(char *buf, int size, int rwflag, void *u);

/* Take / drop a reference; the last drop frees the context. */
void cio_tls_ctx_ref(cio_tls_ctx *ctx);
void cio_tls_ctx_unref(cio_tls_ctx *ctx);

/* Record why a TLS call failed (the text cio_tls_last_error returns):
 * what, then the reasons OpenSSL queued on this thread, which it drains.
 * Returns code, for `return cio_tls_fail(CIO_ETLS, "...")`. */
int cio_tls_fail(int code, const char *what);

/* Record a reason of cio's own (no OpenSSL error queued). Returns code. */
int cio_tls_fail_text(int code, const char *text);

/* The latest reason, saved across a call that may block (another task of
 * the thread may fail meanwhile) and put back after it. */
typedef struct cio_tls_reason {
    char text[320];
} cio_tls_reason;

void cio_tls_reason_save(cio_tls_reason *r);
void cio_tls_reason_restore(const cio_tls_reason *r);

#endif
