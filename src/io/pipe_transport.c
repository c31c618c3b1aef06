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

#include "io.h"
#include "out_queue.h"

typedef struct pipe_transport {
    cio_transport base;
    cio_fd io;
    cio_out_queue out;
    cio_io_req req;             /* the background write */
    bool writing;               /* req is pending */
    bool closing;               /* no new writes: closing */
    bool shut;                  /* write_eof closed the descriptor */
    int error;                  /* what ended the output, or 0 */
    cio_waitlist flushers;      /* tasks in flush; w->data: their mark */
    cio_waiter *closer;         /* close waiting for req's final result */
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

/* ---- background writing ------------------------------------------------- */

static void wake_flushers(pipe_transport *x)
{
    cio_waiter *next;
    for (cio_waiter *w = x->flushers.head; w; w = next) {
        next = w->next;
        if (x->error || x->out.bytes <= *(const size_t *)w->data)
            cio_wait_wake(w, 0);
    }
}

static void fail(pipe_transport *x, int err)
{
    if (!x->error)
        x->error = err;
    cio_outq_clear(&x->out);
}

/* A write finished with res: account for it. */
static void written(pipe_transport *x, int64_t res)
{
    if (res > 0)
        cio_outq_consume(&x->out, (size_t)res);
    else if (x->closing)
        ;                       /* the close drops the rest anyway */
    else if (res == -ECANCELED)
        fail(x, -EBADF);
    else if (res < 0)
        fail(x, (int)res);
    else
        fail(x, -EIO);          /* a pipe write never takes nothing */
    wake_flushers(x);
}

/* Start writing the queue's head unless a write is pending; repeat while
 * the backend finishes writes at once. */
static void pump(pipe_transport *x)
{
    cio_poller *p = cio_io_poller();
    while (x->out.bytes && !x->writing && !x->error && !x->closing) {
        struct iovec head;
        cio_outq_peek(&x->out, &head, 1);
        x->req.op = CIO_OP_WRITE;
        x->req.io.buf = head.iov_base;
        x->req.io.len = head.iov_len;
        int rc = cio_poller_submit(p, &x->req);
        if (rc == 0) {
            x->writing = true;
            return;
        }
        written(x, rc == 1 ? x->req.res : rc);
    }
}

static void on_written(cio_io_req *r)
{
    pipe_transport *x = r->ctx;
    x->writing = false;
    written(x, r->res);
    if (x->closer)
        cio_wait_wake(x->closer, 0);
    else
        pump(x);
}

/* Cancel the background write and wait, shielded, for its final result:
 * on a completion backend the kernel may still be reading the queue. */
static void stop_writing(pipe_transport *x)
{
    x->closing = true;
    if (!x->writing)
        return;
    cio_poller_cancel(cio_io_poller(), &x->req);
    if (!x->writing)
        return;
    cio_waiter w;
    cio_waiter_init(&w);
    x->closer = &w;
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    while (x->writing) {
        int rc = cio_wait_park(&w, NULL, CIO_NEVER);
        if (rc == -EPERM)
            abort();            /* outside a task: nothing could wait */
    }
    int ignored = cio_scope_leave(&shield);
    (void)ignored;
    x->closer = NULL;
}

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
    if (x->error)
        return x->error;
    if (x->shut || x->closing)
        return -EPIPE;
    if (iovcnt < 0)
        return -EINVAL;
    if (cio_outq_append(&x->out, iov, iovcnt, 0) < 0)
        return -ENOMEM;
    pump(x);
    return x->error;
}

static size_t pt_pending(const cio_transport *t)
{
    return ((const pipe_transport *)t)->out.bytes;
}

static int pt_flush(cio_transport *t, size_t mark)
{
    pipe_transport *x = of(t);
    while (!x->error && x->out.bytes > mark) {
        cio_waiter w;
        cio_waiter_init(&w);
        w.data = &mark;
        int rc = cio_wait_park(&w, &x->flushers, CIO_NEVER);
        if (rc < 0)
            return rc;
    }
    return x->error;
}

static int pt_write_eof(cio_transport *t)
{
    pipe_transport *x = of(t);
    int rc = pt_flush(t, 0);
    if (rc < 0 || x->shut)
        return rc;
    stop_writing(x);
    x->closing = false;
    x->shut = true;
    return close_fd(x);
}

static int pt_close(cio_transport *t, bool abort_output)
{
    pipe_transport *x = of(t);
    int rc = abort_output ? 0 : pt_flush(t, 0);
    stop_writing(x);
    cio_outq_clear(&x->out);
    int crc = close_fd(x);
    if (rc == 0)
        rc = x->error;
    if (rc == 0)
        rc = crc;
    free(x);
    cio_outq_thread_leave();
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
    cio_outq_init(&x->out);
    cio_waitlist_init(&x->flushers);
    x->req.fd = &x->io;
    x->req.done = on_written;
    x->req.ctx = x;
    cio_outq_thread_enter();
    *out = &x->base;
    return 0;
}
