/* fd_writer.c — a descriptor's background writer (see fd_writer.h). */
#include "fd_writer.h"

#include <stdlib.h>

static void wake_flushers(cio_fd_writer *w)
{
    cio_waiter *next;
    for (cio_waiter *f = w->flushers.head; f; f = next) {
        next = f->next;
        if (w->error || w->out.bytes <= *(const size_t *)f->data)
            cio_wait_wake(f, 0);
    }
}

void cio_fdw_fail(cio_fd_writer *w, int err)
{
    if (!w->error)
        w->error = err;
    cio_outq_clear(&w->out);
}

/* A request finished with res: account for it. */
static void written(cio_fd_writer *w, int64_t res)
{
    if (res > 0)
        cio_outq_consume(&w->out, (size_t)res);
    else if (w->closing)
        ;                       /* the close drops the rest anyway */
    else if (res == -ECANCELED)
        cio_fdw_fail(w, -EBADF);        /* the descriptor was closed under us */
    else if (res < 0)
        cio_fdw_fail(w, (int)res);
    else
        cio_fdw_fail(w, -EIO);  /* a stream write never takes nothing */
    wake_flushers(w);
}

/* Point req at the queue's head: a socket sends up to CIO_FDW_IOV chunks,
 * a pipe writes the first. */
static void aim(cio_fd_writer *w)
{
    cio_io_req *r = &w->req;
    int n = cio_outq_peek(&w->out, w->iov, w->sendmsg ? CIO_FDW_IOV : 1);
    if (n > 1) {
        w->msg = (struct msghdr){ .msg_iov = w->iov, .msg_iovlen = (size_t)n };
        r->op = CIO_OP_SENDMSG;
        r->msg = &w->msg;
    } else {
        r->op = w->sendmsg ? CIO_OP_SEND : CIO_OP_WRITE;
        r->io.buf = w->iov[0].iov_base;
        r->io.len = w->iov[0].iov_len;
    }
}

/* Start a request for the queue's head unless one is pending; repeat while
 * the backend finishes requests at once. */
static void pump(cio_fd_writer *w)
{
    cio_poller *p = cio_io_poller();
    while (w->out.bytes && !w->busy && !w->error && !w->closing) {
        aim(w);
        int rc = cio_poller_submit(p, &w->req);
        if (rc == 0) {
            w->busy = true;
            return;
        }
        written(w, rc == 1 ? w->req.res : rc);
    }
}

static void on_written(cio_io_req *r)
{
    cio_fd_writer *w = r->ctx;
    w->busy = false;
    written(w, r->res);
    if (w->closer)
        cio_wait_wake(w->closer, 0);
    else
        pump(w);
}

void cio_fdw_init(cio_fd_writer *w, cio_fd *fd, bool sendmsg)
{
    cio_outq_init(&w->out);
    cio_waitlist_init(&w->flushers);
    w->sendmsg = sendmsg;
    w->req.fd = fd;
    w->req.done = on_written;
    w->req.ctx = w;
    cio_outq_thread_enter();
}

int cio_fdw_queue(cio_fd_writer *w, const struct iovec *iov, int iovcnt, size_t skip)
{
    if (cio_outq_append(&w->out, iov, iovcnt, skip) < 0) {
        if (skip)
            cio_fdw_fail(w, -ENOMEM);   /* a gap in the stream: it is broken */
        return -ENOMEM;
    }
    pump(w);
    return w->error;
}

int cio_fdw_flush(cio_fd_writer *w, size_t mark)
{
    while (!w->error && w->out.bytes > mark) {
        cio_waiter f;
        cio_waiter_init(&f);
        cio_waiter_why(&f, CIO_WAIT_FLUSH, NULL);
        f.data = &mark;
        int rc = cio_wait_park(&f, &w->flushers, CIO_NEVER);
        if (rc < 0)
            return rc;
    }
    return w->error;
}

int cio_fdw_begin_eof(cio_fd_writer *w)
{
    int rc = cio_fdw_flush(w, 0);
    if (rc < 0 || w->shut)
        return rc;
    w->shut = true;
    return 1;
}

void cio_fdw_stop(cio_fd_writer *w)
{
    w->closing = true;
    if (!w->busy)
        return;
    cio_poller_cancel(cio_io_poller(), &w->req);
    if (!w->busy)
        return;
    cio_waiter c;
    cio_waiter_init(&c);
    cio_waiter_why(&c, CIO_WAIT_IO, &w->req);
    w->closer = &c;
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    while (w->busy) {
        int rc = cio_wait_park(&c, NULL, CIO_NEVER);
        if (rc == -EPERM)
            abort();            /* outside a task: nothing could wait */
    }
    int ignored = cio_scope_leave(&shield);
    (void)ignored;
    w->closer = NULL;
}

int cio_fdw_close(cio_fd_writer *w, bool abort_output)
{
    int rc = abort_output ? 0 : cio_fdw_flush(w, 0);
    cio_fdw_stop(w);
    cio_outq_clear(&w->out);
    return rc;
}

int cio_fdw_end(cio_fd_writer *w, int rc, int close_rc)
{
    if (rc == 0)
        rc = w->error;
    if (rc == 0)
        rc = close_rc;
    cio_outq_thread_leave();
    return rc;
}
