/* pipe_transport.c — the transport over one end of a pipe (see
 * pipe_transport.h).
 *
 * Reads are CIO_OP_READ requests a task blocks on. Writes copy the bytes
 * into the output queue and one background CIO_OP_WRITE at a time sends its
 * head chunk; its done callback starts the next. (A pipe has no sendmsg, and
 * the epoll backend runs a submitted write at once when the pipe is known to
 * have room, so the copy is the only cost.) The first error ends the
 * output; later writes and flushes return it.
 */
#include "pipe_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd_writer.h"
#include "io.h"

typedef struct pipe_transport {
    cio_transport base;
    cio_fd io;
    cio_fd_writer w;            /* the background writes */
} pipe_transport;

static pipe_transport *of(cio_transport *t) { return (pipe_transport *)t; }

/* ---- SIGPIPE ------------------------------------------------------------ */

static atomic_bool sigpipe_ignored_by_us;
static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void ignore_sigpipe_once(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
        !(old.sa_flags & SA_SIGINFO)) {
        struct sigaction ign = { .sa_handler = SIG_IGN };
        if (sigaction(SIGPIPE, &ign, NULL) == 0)
            atomic_store(&sigpipe_ignored_by_us, true);
    }
}

bool cio_pipe_ignore_sigpipe(void)
{
    pthread_once(&sigpipe_once, ignore_sigpipe_once);
    return atomic_load(&sigpipe_ignored_by_us);
}

/* ---- the descriptor ---------------------------------------------------- */

/* Abort what is pending on the descriptor, unregister it and close it. */
static int close_fd(pipe_transport *x)
{
    if (x->io.fd < 0)
        return 0;
    cio_fd_abort(&x->io);
    cio_fd_release(&x->io);
    int rc = close(x->io.fd) < 0 && errno != EINTR ? -errno : 0;
    x->io.fd = -1;
    return rc;
}

/* ---- the transport's operations ---------------------------------------- */

static ssize_t pt_read(cio_transport *t, void *buf, size_t len)
{
    pipe_transport *x = of(t);
    if (x->io.fd < 0)
        return -EBADF;
    cio_io_req r = { .op = CIO_OP_READ, .fd = &x->io, .io = { buf, len } };
    return cio_io_await(&r, CIO_NEVER);
}

static int pt_write(cio_transport *t, const struct iovec *iov, int iovcnt)
{
    pipe_transport *x = of(t);
    int rc = cio_fdw_refuse(&x->w);
    if (rc < 0)
        return rc;
    if (iovcnt < 0)
        return -EINVAL;
    return cio_fdw_queue(&x->w, iov, iovcnt, 0);
}

static size_t pt_pending(const cio_transport *t)
{
    return ((const pipe_transport *)t)->w.out.bytes;
}

static int pt_flush(cio_transport *t, size_t mark)
{
    return cio_fdw_flush(&of(t)->w, mark);
}

/* A pipe's end of output is its descriptor's close. */
static int pt_write_eof(cio_transport *t)
{
    pipe_transport *x = of(t);
    int rc = cio_fdw_begin_eof(&x->w);
    if (rc <= 0)
        return rc;
    cio_fdw_stop(&x->w);
    x->w.closing = false;       /* shut says why writes fail from now on */
    return close_fd(x);
}

static int pt_close(cio_transport *t, bool abort_output)
{
    pipe_transport *x = of(t);
    int rc = cio_fdw_close(&x->w, abort_output);
    int crc = close_fd(x);
    rc = cio_fdw_end(&x->w, rc, crc);
    free(x);
    return rc;
}

static cio_socket *pt_socket(cio_transport *t)
{
    (void)t;
    return NULL;
}

static const cio_transport_ops pipe_ops = {
    .read = pt_read,
    .write = pt_write,
    .pending = pt_pending,
    .flush = pt_flush,
    .write_eof = pt_write_eof,
    .close = pt_close,
    .socket = pt_socket,
};

int cio_pipe_transport_new(cio_transport **out, int fd)
{
    cio_pipe_ignore_sigpipe();
    pipe_transport *x = calloc(1, sizeof *x);
    int flags = fcntl(fd, F_GETFL);
    if (!x || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int rc = x ? -errno : -ENOMEM;
        free(x);
        close(fd);
        return rc;
    }
    int rc = cio_fd_open(&x->io, fd, CIO_FD_STREAM);
    if (rc < 0) {
        free(x);
        close(fd);
        return rc;
    }
    x->base.ops = &pipe_ops;
    cio_fdw_init(&x->w, &x->io, false);
    *out = &x->base;
    return 0;
}
