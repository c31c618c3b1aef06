/* tls_session.h — the state of one TLS connection, shared by
 * tls_transport.c (the data path) and tls_info.c (what the handshake
 * settled). Private. */
#ifndef CIO_IO_TLS_SESSION_H
#define CIO_IO_TLS_SESSION_H

#include "tls_bio.h"
#include "tls_internal.h"

typedef struct cio_tls_session {
    cio_transport base;         /* first: the transport is the session */
    cio_tls_wire wire;          /* ciphertext: inner transport and buffer */
    cio_tls_ctx *ctx;           /* a reference */
    SSL *ssl;
    char *alpn;                 /* the protocol ALPN chose, or NULL */
    int failed;                 /* the error that broke the session, sticky */
    bool in_eof;                /* the inner transport reached its end */
    bool sent_close;            /* close_notify queued */
    bool reading;               /* a task is parked in the inner read */
    bool orphaned;              /* closed meanwhile: that task frees it */
    unsigned char in[];         /* wire.in: ciphertext read from inner */
} cio_tls_session;

/* A session over inner with ctx (a reference is taken), its ciphertext
 * buffer holding preread first; no SSL yet. NULL if out of memory. */
cio_tls_session *cio_tls_session_new(cio_transport *inner, cio_tls_ctx *ctx, const void *preread,
                                     size_t prelen);

/* After an SSL call returned ret: 1 if it needs more ciphertext, 0 if the
 * peer sent close_notify, else the error (sticky in t->failed; the reason
 * recorded for cio_tls_last_error). */
int cio_tls_settle(cio_tls_session *t, int ret, const char *what);

/* OpenSSL used up the ciphertext: read more from the inner transport (the
 * task parks there). Returns 0, 1 at the inner end of stream, or the
 * inner's error; -EBADF if the transport was closed meanwhile by another
 * task, and then t is gone. */
int cio_tls_fill(cio_tls_session *t);

/* The connection ended under TLS without the peer's close_notify: 0 (end
 * of stream) if the context allows it, else CIO_ETRUNCATED. */
int cio_tls_truncated(cio_tls_session *t);

/* The handshake finished: remember what it settled. Returns 0 or -ENOMEM. */
int cio_tls_session_handshaken(cio_tls_session *t);

/* Free the session (not its inner transport). */
void cio_tls_session_free(cio_tls_session *t);

#endif
