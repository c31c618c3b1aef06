/* tls_bio.h — the OpenSSL BIO between a TLS session and the transport
 * beneath it (private). */
#ifndef CIO_IO_TLS_BIO_H
#define CIO_IO_TLS_BIO_H

#include <openssl/bio.h>

#include "transport.h"

/* The ciphertext side of one TLS connection. */
typedef struct cio_tls_wire {
    cio_transport *inner;       /* writes go straight to it (never blocks) */
    unsigned char *in;          /* ciphertext read from inner... */
    size_t in_pos, in_len, in_cap;  /* ...and how much OpenSSL has taken */
    int write_error;            /* inner's write error, once it failed */
} cio_tls_wire;

/* A BIO over w: reads take from w->in and, when it is used up, ask the
 * caller to retry (SSL_ERROR_WANT_READ: refill w->in by reading inner);
 * writes hand everything to inner. NULL if out of memory. */
BIO *cio_tls_bio_new(cio_tls_wire *w);

#endif
