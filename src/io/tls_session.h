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

/* The handshake finished: remember what it settled. Returns 0 or -ENOMEM. */
int cio_tls_session_handshaken(cio_tls_session *t);

/* Free the session (not its inner transport). */
void cio_tls_session_free(cio_tls_session *t);

#endif
