/* file_transport.c — a file as a stream's transport (see transport.h and
 * cio_file_stream): reads are preads at the transport's own offset, through
 * the backend; the stream is read-only, every write is refused. */
#include "file_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../io/stream_internal.h"

typedef struct file_transport {
    cio_transport base;
    cio_file *f;
    int64_t off;                /* where the next read starts */
} file_transport;

static file_transport *of(cio_transport *t) { return (file_transport *)t; }

static ssize_t ft_read(cio_transport *t, void *buf, size_t len)
{
    file_transport *x = of(t);
    ssize_t n = cio_file_pread(x->f, buf, len, x->off);
    if (n > 0)
        x->off += n;
    return n;
}

static int ft_write(cio_transport *t, const struct iovec *iov, int iovcnt)
{
    (void)t, (void)iov, (void)iovcnt;
    return -EBADF;              /* read-only */
}

static size_t ft_pending(const cio_transport *t)
{
    (void)t;
    return 0;
}

static int ft_flush(cio_transport *t, size_t mark)
{
    (void)t, (void)mark;
    return 0;                   /* nothing is ever queued */
}

static int ft_write_eof(cio_transport *t)
{
    (void)t;
    return -EBADF;
}

static int ft_close(cio_transport *t, bool abort)
{
    (void)abort;
    int rc = cio_file_close(of(t)->f);
    free(t);
    return rc;
}

static cio_socket *ft_socket(cio_transport *t)
{
    (void)t;
    return NULL;
}

static const cio_transport_ops file_ops = {
    .read = ft_read,
    .write = ft_write,
    .pending = ft_pending,
    .flush = ft_flush,
    .write_eof = ft_write_eof,
    .close = ft_close,
    .socket = ft_socket,
};

int cio_file_stream(cio_stream **out, cio_file *f, const cio_stream_opts *opts)
{
    *out = NULL;
    file_transport *x = malloc(sizeof *x);
    if (!x) {
        int ignored = cio_file_close(f);
        (void)ignored;
        return -ENOMEM;
    }
    off_t off = lseek(f->fd, 0, SEEK_CUR);  /* never blocks */
    *x = (file_transport){ .base.ops = &file_ops, .f = f, .off = off < 0 ? 0 : off };
    return cio_stream_from_transport(out, &x->base, opts);
}

int cio_open_file_stream(cio_stream **out, const char *path, const cio_stream_opts *opts)
{
    *out = NULL;
    cio_file *f;
    int rc = cio_file_open(&f, path, O_RDONLY, 0);
    return rc < 0 ? rc : cio_file_stream(out, f, opts);
}
