/* tls_stream.h — TLS on streams, for the server (private). */
#ifndef CIO_IO_TLS_STREAM_H
#define CIO_IO_TLS_STREAM_H

#include "cio/stream.h"
#include "cio/tls.h"

/* Run ctx's server handshake on st under timeout (0: the default 60 s;
 * < 0: none): -ETIMEDOUT once it has passed. Returns 0 or the error; the
 * stream is then of no further use. Blocks. */
int cio_tls_serve_stream(cio_stream *st, cio_tls_ctx *ctx, int64_t timeout);

/* The server keeps a reference to its context. */
void cio_tls_ctx_ref(cio_tls_ctx *ctx);

#endif
