/* stream_line.c — reading up to a separator: read_until, read_line and
 * their zero-copy views, with asyncio's limit rules. */
#include "stream_internal.h"

#include <errno.h>
#include <string.h>

#include "../core/internal.h"

int cio_stream_find(cio_stream *st, const void *sep, size_t seplen, size_t *len)
{
    if (seplen == 0)
        return -EINVAL;
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    size_t from = 0;            /* bytes already searched, less a partial separator */
    for (;;) {
        size_t have = cio_stream_avail(st);
        if (have >= seplen) {
            const char *base = st->buf + st->start;
            const char *hit = memmem(base + from, have - from, sep, seplen);
            if (hit) {
                size_t pos = (size_t)(hit - base);
                if (pos > st->limit)
                    return CIO_ELIMIT;
                *len = pos + seplen;
                return 0;
            }
            from = have - seplen + 1;
            if (from > st->limit)
                return CIO_ELIMIT;
        }
        if (st->eof)
            return CIO_EINCOMPLETE;
        ssize_t n = cio_stream_fill(st, st->limit + seplen);
        if (n < 0)
            return (int)n;
    }
}

/* Copy the first len buffered bytes out and take them; -ENOBUFS (nothing
 * taken) if they need more than cap (room for the '\0' when terminate). */
static ssize_t copy_line(cio_stream *st, size_t len, void *buf, size_t cap, bool terminate)
{
    if (len + terminate > cap)
        return -ENOBUFS;
    if (len)
        memcpy(buf, st->buf + st->start, len);
    if (terminate)
        ((char *)buf)[len] = '\0';
    cio_stream_take(st, len);
    return (ssize_t)len;
}

ssize_t cio_stream_read_until(cio_stream *st, const void *sep, size_t seplen, void *buf,
                              size_t cap)
{
    size_t len;
    int rc = cio_stream_find(st, sep, seplen, &len);
    return rc < 0 ? rc : copy_line(st, len, buf, cap, false);
}

int cio_stream_read_until_view(cio_stream *st, const void *sep, size_t seplen,
                               const char **data, size_t *len)
{
    int rc = cio_stream_find(st, sep, seplen, len);
    if (rc < 0)
        return rc;
    *data = st->buf + st->start;
    cio_stream_take(st, *len);
    return 0;
}

/* The next line's length: up to "\n", or what is left at end of stream. */
static int line_length(cio_stream *st, size_t *len)
{
    int rc = cio_stream_find(st, "\n", 1, len);
    if (rc == CIO_EINCOMPLETE) {
        *len = cio_stream_avail(st);
        return 0;
    }
    return rc;
}

ssize_t cio_stream_read_line(cio_stream *st, char *buf, size_t cap)
{
    size_t len;
    int rc = line_length(st, &len);
    return rc < 0 ? rc : copy_line(st, len, buf, cap, true);
}

int cio_stream_read_line_view(cio_stream *st, const char **line, size_t *len)
{
    int rc = line_length(st, len);
    if (rc < 0)
        return rc;
    *line = st->buf ? st->buf + st->start : "";
    cio_stream_take(st, *len);
    return 0;
}
