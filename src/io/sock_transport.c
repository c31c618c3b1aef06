/* sock_transport.c — the transport over a plain socket (see transport.h).
 *
 * Reads are the socket's. Writes never block: when nothing is queued the
 * bytes go to the kernel at once where the backend allows it without a copy
 * (below); what the kernel does not take is copied into the output queue
 * and sent by one background request at a time, whose done callback starts
 * the next. The first error ends the output; later writes and flushes
 * return it.
 */
#include "transport.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "out_queue.h"
#include "socket_internal.h"

#define SEND_IOV 8              /* chunks one background send takes */

typedef struct sock_transport {
    cio_transport base;
    cio_socket *sock;
    cio_out_queue out;
    cio_io_req req;             /* the background send */
    struct msghdr msg;
    struct iovec iov[SEND_IOV];
    bool sending;               /* req is pending */
    bool closing;               /* no new sends: the socket is closing */
    bool shut;                  /* write_eof has sent the FIN */
    int error;                  /* what ended the output, or 0 */
    cio_waitlist flushers;      /* tasks in flush; w->data: their mark */
    cio_waiter *closer;         /* close waiting for req's final result */
} sock_transport;

static sock_transport *of(cio_transport *t) { return (sock_transport *)t; }

/* ---- background sending ----------------------------------------------- */

static void wake_flushers(sock_transport *x)
{
    cio_waiter *next;
    for (cio_waiter *w = x->flushers.head; w; w = next) {
        next = w->next;
        if (x->error || x->out.bytes <= *(const size_t *)w->data)
            cio_wait_wake(w, 0);
    }
}

static void fail(sock_transport *x, int err)
{
    if (!x->error)
        x->error = err;
    cio_outq_clear(&x->out);
}

/* A send finished with res: account for it. */
static void sent(sock_transport *x, int64_t res)
{
    if (res > 0)
        cio_outq_consume(&x->out, (size_t)res);
    else if (res == -ECANCELED && !x->closing)
        fail(x, -EBADF);        /* the socket was closed under us */
    else if (res < 0 && !x->closing)
        fail(x, (int)res);
    else if (res == 0 && !x->closing)
        fail(x, -EIO);          /* a stream send never takes nothing */
    wake_flushers(x);
}

/* Start sending the queue's head unless a send is pending; repeat while the
 * backend finishes sends at once. */
static void pump(sock_transport *x)
{
    cio_poller *p = cio_io_poller();
    while (x->out.bytes && !x->sending && !x->error && !x->closing) {
        int n = cio_outq_peek(&x->out, x->iov, SEND_IOV);
        cio_io_req *r = &x->req;
        if (n == 1) {
            r->op = CIO_OP_SEND;
            r->io.buf = x->iov[0].iov_base;
            r->io.len = x->iov[0].iov_len;
        } else {
            x->msg = (struct msghdr){ .msg_iov = x->iov, .msg_iovlen = (size_t)n };
            r->op = CIO_OP_SENDMSG;
            r->msg = &x->msg;
        }
        int rc = cio_poller_submit(p, r);
        if (rc == 0) {
            x->sending = true;
            return;
        }
        sent(x, rc == 1 ? r->res : rc);
    }
}

static void on_sent(cio_io_req *r)
{
    sock_transport *x = r->ctx;
    x->sending = false;
    sent(x, r->res);
    if (x->closer)
        cio_wait_wake(x->closer, 0);
    else
        pump(x);
}

/* ---- sending in place --------------------------------------------------- */

static void ignore_done(cio_io_req *r) { (void)r; }

/* A backend with sync_cancel (epoll) runs a send the moment it is submitted
 * and keeps it pending only if nothing was sent; its cancel finishes the
 * request before it returns. So a send may start from the caller's memory
 * and, if it pends, be taken back at once: no copy for what the kernel
 * takes. A completion backend keeps the memory until the kernel is done
 * with it, so there the bytes are copied into the queue first. The write-ready bit spares the attempt when the
 * socket's buffer is known to be full. */
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
    int rc = cio_poller_submit(p, &r);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        cio_poller_cancel(p, &r);       /* synchronous: sync_cancel */
        if (r.state != CIO_REQ_DONE)
            abort();    /* it would send from memory the caller reuses */
    }
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
 * is known drained. */
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
    int rc = cio_poller_submit(p, &r);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        cio_poller_cancel(p, &r);       /* synchronous: sync_cancel */
        if (r.state != CIO_REQ_DONE)
            abort();    /* it would read into memory the caller reuses */
    }
    return r.res == -ECANCELED ? -EAGAIN : r.res;
}

static int st_wait_readable(cio_transport *t)
{
    int rc = cio_io_poll(&of(t)->sock->io, POLLIN, CIO_NEVER);
    return rc < 0 ? rc : 0;
}

static int st_write(cio_transport *t, const struct iovec *iov, int iovcnt)
{
    sock_transport *x = of(t);
    if (x->error)
        return x->error;
    if (x->shut || x->closing)
        return -EPIPE;
    if (iovcnt < 0)
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (!total)
        return 0;
    size_t done = 0;
    if (!x->out.bytes && iovcnt <= IOV_MAX && can_send_in_place(x, cio_io_poller())) {
        int64_t n = send_in_place(x, iov, iovcnt);
        if (n < 0) {
            fail(x, (int)n);
            return (int)n;
        }
        done = (size_t)n;
        if (done == total)
            return 0;
    }
    if (cio_outq_append(&x->out, iov, iovcnt, done) < 0) {
        if (done)
            fail(x, -ENOMEM);   /* a gap in the stream: it is broken */
        return -ENOMEM;
    }
    pump(x);
    return x->error;
}

static size_t st_pending(const cio_transport *t)
{
    return ((const sock_transport *)t)->out.bytes;
}

static int st_flush(cio_transport *t, size_t mark)
{
    sock_transport *x = of(t);
    while (!x->error && x->out.bytes > mark) {
        cio_waiter w;
        cio_waiter_init(&w);
        cio_waiter_why(&w, CIO_WAIT_FLUSH, NULL);
        w.data = &mark;
        int rc = cio_wait_park(&w, &x->flushers, CIO_NEVER);
        if (rc < 0)
            return rc;
    }
    return x->error;
}

static int st_write_eof(cio_transport *t)
{
    sock_transport *x = of(t);
    int rc = st_flush(t, 0);
    if (rc < 0 || x->shut)
        return rc;
    x->shut = true;
    return cio_socket_shutdown(x->sock, SHUT_WR);
}

/* Cancel the background send and wait, shielded, for its final result:
 * on a completion backend the kernel may still be reading our memory. */
static void stop_sending(sock_transport *x)
{
    x->closing = true;
    if (!x->sending)
        return;
    cio_poller_cancel(cio_io_poller(), &x->req);
    if (!x->sending)
        return;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_IO, &x->req);
    x->closer = &w;
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    while (x->sending) {
        int rc = cio_wait_park(&w, NULL, CIO_NEVER);
        if (rc == -EPERM)
            abort();            /* outside a task: nothing could wait */
    }
    int ignored = cio_scope_leave(&shield);
    (void)ignored;
    x->closer = NULL;
}

static int st_close(cio_transport *t, bool abort_output)
{
    sock_transport *x = of(t);
    int rc = abort_output ? 0 : st_flush(t, 0);
    stop_sending(x);
    cio_outq_clear(&x->out);
    int crc = cio_socket_close(x->sock);
    if (rc == 0)
        rc = x->error;
    if (rc == 0)
        rc = crc;
    free(x);
    cio_outq_thread_leave();
    return rc;
}

static cio_socket *st_socket(cio_transport *t) { return of(t)->sock; }

static const cio_transport_ops sock_ops = {
    .read = st_read,
    .try_read = st_try_read,
    .wait_readable = st_wait_readable,
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
    cio_outq_init(&x->out);
    cio_waitlist_init(&x->flushers);
    x->req.fd = &s->io;
    x->req.done = on_sent;
    x->req.ctx = x;
    cio_outq_thread_enter();
    *out = &x->base;
    return 0;
}
