/* stream_write.c — the writing half of a stream (asyncio.StreamWriter):
 * a thin layer over the transport, which queues and sends. */
#include "stream_internal.h"

#include <stdint.h>

#include "../core/internal.h"

int cio_stream_write(cio_stream *st, const void *data, size_t n)
{
    struct iovec v = { (void *)data, n };
    return st->t->ops->write(st->t, &v, 1);
}

int cio_stream_writev(cio_stream *st, const struct iovec *iov, int iovcnt)
{
    return st->t->ops->write(st->t, iov, iovcnt);
}

int cio_stream_drain(cio_stream *st)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    cio_transport *t = st->t;
    /* Below the high mark flush returns the output's error without
     * waiting. */
    return t->ops->flush(t, t->ops->pending(t) > st->high ? st->low : SIZE_MAX);
}

size_t cio_stream_write_pending(const cio_stream *st)
{
    return st->t->ops->pending(st->t);
}

int cio_stream_write_eof(cio_stream *st)
{
    int rc = cio_wait_checkpoint();
    return rc < 0 ? rc : st->t->ops->write_eof(st->t);
}
