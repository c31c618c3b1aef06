/* tls_stream.c — TLS on streams: open_connection(ssl=), start_tls, the
 * server's handshake, and what a stream's handshake settled. */
#include "tls_stream.h"

#include <errno.h>

#include "cio/scope.h"
#include "cio/time.h"
#include "stream_internal.h"
#include "tls_internal.h"
#include "tls_transport.h"

/* asyncio's ssl_handshake_timeout default. */
#define DEFAULT_HANDSHAKE_TIMEOUT (60 * CIO_SEC)

int cio_stream_start_tls(cio_stream *st, cio_tls_ctx *ctx, const char *server_hostname)
{
    cio_transport *plain = cio_stream_transport(st), *t;
    /* Unread bytes are the peer's first TLS bytes (or an attacker's
     * injection, which the handshake then refuses): never plaintext. */
    size_t pre = cio_stream_avail(st);
    const char *bytes = pre ? st->buf + st->start : NULL;
    int rc = cio_tls_transport_start(&t, plain, ctx, ctx->server ? NULL : server_hostname,
                                     bytes, pre);
    cio_stream_take(st, pre);
    if (rc < 0)
        return rc;
    cio_stream_set_transport(st, t);
    return 0;
}

/* start_tls under the handshake timeout: -ETIMEDOUT when it ran out. */
static int timed_start(cio_stream *st, cio_tls_ctx *ctx, const char *name, int64_t timeout)
{
    int64_t deadline = CIO_NEVER;
    if (timeout >= 0)
        deadline = cio_deadline_after(timeout ? timeout : DEFAULT_HANDSHAKE_TIMEOUT);
    cio_scope s;
    cio_scope_enter(&s, deadline);
    int rc = cio_stream_start_tls(st, ctx, name);
    int left = cio_scope_leave(&s);
    return left == -ETIMEDOUT ? -ETIMEDOUT : rc;
}

int cio_tls_serve_stream(cio_stream *st, cio_tls_ctx *ctx, int64_t timeout)
{
    return timed_start(st, ctx, NULL, timeout);
}

int cio_tls_connect(cio_stream **out, const char *host, const char *port, cio_tls_ctx *ctx,
                    const cio_tls_connect_opts *opts)
{
    if (ctx->server)
        return -EINVAL;
    const char *name = opts && opts->server_hostname ? opts->server_hostname : host;
    if (!name[0] && ctx->verify && ctx->check_hostname)
        return -EINVAL;
    cio_stream *st;
    int rc = cio_open_connection(&st, host, port, opts ? &opts->stream : NULL);
    if (rc < 0)
        return rc;
    rc = timed_start(st, ctx, name, opts ? opts->handshake_timeout : 0);
    if (rc < 0) {
        /* Send the alert saying why, unless interrupted; keep the reason. */
        cio_tls_reason why;
        cio_tls_reason_save(&why);
        if (rc == -ECANCELED || rc == -ETIMEDOUT)
            cio_stream_abort(st);
        else
            (void)cio_stream_close(st);
        cio_tls_reason_restore(&why);
        return rc;
    }
    *out = st;
    return 0;
}

/* ---- what the handshake settled ---------------------------------------------- */

bool cio_stream_is_tls(cio_stream *st)
{
    return cio_transport_is_tls(cio_stream_transport(st));
}

const char *cio_stream_tls_alpn(cio_stream *st)
{
    return cio_tls_transport_alpn(cio_stream_transport(st));
}

const char *cio_stream_tls_server_name(cio_stream *st)
{
    return cio_tls_transport_server_name(cio_stream_transport(st));
}

const char *cio_stream_tls_version(cio_stream *st)
{
    return cio_tls_transport_version(cio_stream_transport(st));
}

int cio_stream_tls_peer_subject(cio_stream *st, char *buf, size_t size)
{
    return cio_tls_transport_peer_subject(cio_stream_transport(st), buf, size);
}
