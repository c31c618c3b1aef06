/* stream.c — opening and closing streams, and what they tell of their
 * connection. Reading is in stream_read.c and stream_line.c, writing in
 * stream_write.c. */
#include "stream_internal.h"

#include <errno.h>
#include <stdlib.h>

#define DEFAULT_LIMIT (64u * 1024u)
#define DEFAULT_HIGH (64u * 1024u)
#define DEFAULT_LOW (16u * 1024u)
#define DEFAULT_READ_BUFFER 2048u

/* The water marks asyncio would pick for these options. */
static int water_marks(cio_stream *st, const cio_stream_opts *o)
{
    size_t high = o ? o->high_water : 0;
    size_t low = o ? o->low_water : 0;
    if (!high && !low) {
        high = DEFAULT_HIGH;
        low = DEFAULT_LOW;
    } else if (!high) {
        high = low * 4 > low ? low * 4 : low;
    } else if (!low) {
        low = high / 4;
    }
    if (low > high)
        return -EINVAL;
    st->high = high;
    st->low = low;
    return 0;
}

int cio_stream_from_transport(cio_stream **out, cio_transport *t, const cio_stream_opts *opts)
{
    cio_stream *st = calloc(1, sizeof *st);
    int rc = st ? water_marks(st, opts) : -ENOMEM;
    if (rc < 0) {
        free(st);
        int ignored = t->ops->close(t, true);
        (void)ignored;
        return rc;
    }
    st->t = t;
    st->limit = opts && opts->limit ? opts->limit : DEFAULT_LIMIT;
    st->first_cap = opts && opts->read_buffer ? opts->read_buffer : DEFAULT_READ_BUFFER;
    *out = st;
    return 0;
}

int cio_stream_open(cio_stream **out, cio_socket *sock, const cio_stream_opts *opts)
{
    cio_transport *t;
    int rc = cio_sock_transport_new(&t, sock);
    return rc < 0 ? rc : cio_stream_from_transport(out, t, opts);
}

cio_transport *cio_stream_transport(cio_stream *st) { return st->t; }

void cio_stream_set_transport(cio_stream *st, cio_transport *t) { st->t = t; }

static void stream_free(cio_stream *st)
{
    free(st->buf);
    free(st);
}

int cio_stream_close(cio_stream *st)
{
    int rc = st->t->ops->close(st->t, false);
    stream_free(st);
    return rc;
}

void cio_stream_abort(cio_stream *st)
{
    int ignored = st->t->ops->close(st->t, true);
    (void)ignored;
    stream_free(st);
}

cio_socket *cio_stream_socket(cio_stream *st) { return st->t->ops->socket(st->t); }

/* A stream over a pipe (a subprocess's) or a file has no socket: -ENOTSOCK. */
int cio_stream_peer_addr(const cio_stream *st, cio_addr *out)
{
    cio_socket *s = st->t->ops->socket(st->t);
    return s ? cio_socket_peer_addr(s, out) : -ENOTSOCK;
}

int cio_stream_local_addr(const cio_stream *st, cio_addr *out)
{
    cio_socket *s = st->t->ops->socket(st->t);
    return s ? cio_socket_local_addr(s, out) : -ENOTSOCK;
}
