/* sock_transport.c — the transport over a plain socket (see transport.h).
 *
 * Reads are the socket's. Writes never block: when nothing is queued the
 * bytes go to the kernel at once where the backend allows it without a copy
 * (below); what the kernel does not take is copied into the output queue
 * and sent by one background request at a time, whose done callback starts
 * the next (fd_writer.h). The first error ends the output; later writes
 * and flushes return it.
 */
#include "transport.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "fd_writer.h"
#include "socket_internal.h"

typedef struct sock_transport {
    cio_transport base;
    cio_socket *sock;
    cio_fd_writer w;            /* the background sends */
} sock_transport;

static sock_transport *of(cio_transport *t) { return (sock_transport *)t; }

/* ---- sending in place --------------------------------------------------- */

static void ignore_done(cio_io_req *r) { (void)r; }

/* Run r on memory lent only for this call (a backend with sync_cancel): if
 * it pends, take it back at once. Returns 0 with r->res final, or the
 * submit's negative errno. */
static int run_now(cio_poller *p, cio_io_req *r)
{
    int rc = cio_poller_submit(p, r);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        cio_poller_cancel(p, r);        /* synchronous: sync_cancel */
        if (r->state != CIO_REQ_DONE)
            abort();    /* the kernel would use memory the caller reuses */
    }
    return 0;
}

/* A backend with sync_cancel (epoll) runs a send the moment it is submitted
 * and keeps it pending only if nothing was sent; its cancel finishes the
 * request before it returns. So a send may start from the caller's memory
 * and, if it pends, be taken back at once: no copy for what the kernel
 * takes. A completion backend keeps the memory until the kernel is done
 * with it, so there the bytes are copied into the queue first. The
 * write-ready bit spares the attempt when the socket's buffer is known to
 * be full. */
static bool can_send_in_place(const sock_transport *x, const cio_poller *p)
{
    return p->be->sync_cancel && (x->sock->io.ready & CIO_READY_WRITE);
}

/* Returns how many bytes the kernel took now, or a negative errno. */
static int64_t send_in_place(sock_transport *x, const struct iovec *iov, int iovcnt)
{
    cio_poller *p = cio_io_poller();
    struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
    cio_io_req r = { .fd = &x->sock->io, .done = ignore_done };
    if (iovcnt == 1) {
        r.op = CIO_OP_SEND;
        r.io.buf = iov[0].iov_base;
        r.io.len = iov[0].iov_len;
    } else {
        r.op = CIO_OP_SENDMSG;
        r.msg = &msg;
    }
    int rc = run_now(p, &r);
    if (rc < 0)
        return rc;
    return r.res == -ECANCELED || r.res == -EAGAIN ? 0 : r.res;
}

/* ---- the transport's operations ---------------------------------------- */

static ssize_t st_read(cio_transport *t, void *buf, size_t len)
{
    return cio_socket_recv(of(t)->sock, buf, len);
}

/* Like send_in_place: on a backend with sync_cancel a recv may run from
 * memory that is the caller's only for this call; if it would pend, it is
 * taken back at once. The read-ready bit spares the attempt when the socket
 * is known drained. (A completion backend lends its own memory instead:
 * st_loan_read.) */
static ssize_t st_try_read(cio_transport *t, void *buf, size_t len)
{
    sock_transport *x = of(t);
    cio_poller *p = cio_io_poller();
    if (!p || !p->be->sync_cancel)
        return -EOPNOTSUPP;
    if (!(x->sock->io.ready & (CIO_READY_READ | CIO_READY_HUP)))
        return -EAGAIN;
    cio_io_req r = { .op = CIO_OP_RECV, .fd = &x->sock->io, .io = { buf, len },
                     .done = ignore_done };
    int rc = run_now(p, &r);
    if (rc < 0)
        return rc;
    return r.res == -ECANCELED ? -EAGAIN : r.res;
}

static ssize_t st_loan_read(cio_transport *t, cio_loan *l)
{
    cio_poller *p = cio_io_poller();
    if (!p || !p->be->loan_recv)
        return -EOPNOTSUPP;
    return p->be->loan_recv(p, &of(t)->sock->io, l);
}

static int st_wait_readable(cio_transport *t)
{
    int rc = cio_io_poll(&of(t)->sock->io, POLLIN, CIO_NEVER);
    return rc < 0 ? rc : 0;
}

static int st_write(cio_transport *t, const struct iovec *iov, int iovcnt)
{
    sock_transport *x = of(t);
    int rc = cio_fdw_refuse(&x->w);
    if (rc < 0)
        return rc;
    if (iovcnt < 0)
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (!total)
        return 0;
    size_t done = 0;
    if (!x->w.out.bytes && iovcnt <= IOV_MAX && can_send_in_place(x, cio_io_poller())) {
        int64_t n = send_in_place(x, iov, iovcnt);
        if (n < 0) {
            cio_fdw_fail(&x->w, (int)n);
            return (int)n;
        }
        done = (size_t)n;
        if (done == total)
            return 0;
    }
    return cio_fdw_queue(&x->w, iov, iovcnt, done);
}

static size_t st_pending(const cio_transport *t)
{
    return ((const sock_transport *)t)->w.out.bytes;
}

static int st_flush(cio_transport *t, size_t mark)
{
    return cio_fdw_flush(&of(t)->w, mark);
}

static int st_write_eof(cio_transport *t)
{
    sock_transport *x = of(t);
    int rc = cio_fdw_begin_eof(&x->w);
    if (rc <= 0)
        return rc;
    return cio_socket_shutdown(x->sock, SHUT_WR);
}

static int st_close(cio_transport *t, bool abort_output)
{
    sock_transport *x = of(t);
    int rc = cio_fdw_close(&x->w, abort_output);
    int crc = cio_socket_close(x->sock);
    rc = cio_fdw_end(&x->w, rc, crc);
    free(x);
    return rc;
}

static cio_socket *st_socket(cio_transport *t) { return of(t)->sock; }

static const cio_transport_ops sock_ops = {
    .read = st_read,
    .try_read = st_try_read,
    .wait_readable = st_wait_readable,
    .loan_read = st_loan_read,
    .write = st_write,
    .pending = st_pending,
    .flush = st_flush,
    .write_eof = st_write_eof,
    .close = st_close,
    .socket = st_socket,
};

int cio_sock_transport_new(cio_transport **out, cio_socket *s)
{
    sock_transport *x = calloc(1, sizeof *x);
    if (!x) {
        cio_socket_close(s);
        return -ENOMEM;
    }
    x->base.ops = &sock_ops;
    x->sock = s;
    s->io.flags |= CIO_FD_MSHOT;    /* read only through the poller from now */
    cio_fdw_init(&x->w, &s->io, true);
    *out = &x->base;
    return 0;
}
