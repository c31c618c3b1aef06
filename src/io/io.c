/* io.c — a task blocks on one poller request (see io.h for the rules). */
#include "io.h"

#include <errno.h>
#include <unistd.h>

int cio_fd_open(cio_fd *f, int fd, unsigned flags)
{
    cio_poller *p = cio_io_poller();
    f->fd = fd;
    f->flags = (uint8_t)flags;
    f->rq_head = f->rq_tail = f->wq_head = f->wq_tail = NULL;
    if (!p)
        return -EPERM;
    return cio_poller_fd_add(p, f);
}

void cio_fd_release(cio_fd *f)
{
    cio_poller *p = cio_io_poller();
    if (p && f->fd >= 0)
        cio_poller_fd_remove(p, f);
}

/* The request's done callback for a blocked task: wake it. */
static void wake_awaiter(cio_io_req *r)
{
    cio_waiter *w = r->ctx;
    cio_wait_wake(w, 0);
}

/* Put in a blocked task's waiter (its data slot) when cio_fd_abort ends its
 * request: the descriptor is being closed, so the call returns -EBADF even
 * if the operation delivered something as it was cancelled (io_uring): the
 * caller must not go on with a socket that is gone. */
static char closed_mark;

static void abort_queue(cio_poller *p, cio_io_req *head)
{
    while (head) {
        cio_io_req *next = head->next;
        if (head->done == wake_awaiter)
            ((cio_waiter *)head->ctx)->data = &closed_mark;
        cio_poller_cancel(p, head);
        head = next;
    }
}

void cio_fd_abort(cio_fd *f)
{
    cio_poller *p = cio_io_poller();
    if (!p)
        return;
    abort_queue(p, f->rq_head);
    abort_queue(p, f->wq_head);
}

/* Did the operation deliver something that must reach the caller even
 * though the call was interrupted? */
static bool delivered(const cio_io_req *r)
{
    if (r->op == CIO_OP_ACCEPT)
        return r->res >= 0;
    if (r->op == CIO_OP_OPENAT)
        return false;           /* the caller gave up: closed below */
    if (cio_op_is_file(r->op) && r->op != CIO_OP_PREAD && r->op != CIO_OP_PWRITE)
        return r->res >= 0;     /* it happened: fsync, rename, mkdir... */
    if (r->op == CIO_OP_CONNECT || r->op == CIO_OP_POLL)
        return false;
    return r->res > 0;
}

/* The call was interrupted while r is pending: cancel it and wait, shielded,
 * for its final result. */
static void cancel_and_settle(cio_poller *p, cio_io_req *r, cio_waiter *w)
{
    cio_poller_cancel(p, r);
    if (r->state == CIO_REQ_DONE)
        return;
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    while (r->state != CIO_REQ_DONE) {
        int rc = cio_wait_park(w, NULL, CIO_NEVER);
        (void)rc;
    }
    int ignored = cio_scope_leave(&shield);
    (void)ignored;
}

int64_t cio_io_await(cio_io_req *r, int64_t deadline)
{
    cio_poller *p = cio_io_poller();
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    cio_waiter w;
    cio_waiter_init(&w);
    r->done = wake_awaiter;
    r->ctx = &w;
    rc = cio_poller_submit(p, r);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return r->res;
    int why = cio_wait_park(&w, NULL, deadline);
    if (r->state == CIO_REQ_DONE && w.data != &closed_mark) {
        if (why < 0 && r->op == CIO_OP_OPENAT && r->res >= 0) {
            close((int)r->res);     /* the interruption came first: undo */
            return why;
        }
        return r->res == -ECANCELED ? -EBADF : r->res;   /* closed under us */
    }
    cancel_and_settle(p, r, &w);
    if (w.data == &closed_mark) {
        if (r->op == CIO_OP_ACCEPT && r->res >= 0)
            close((int)r->res);     /* accepted as the listener closed */
        return -EBADF;
    }
    if (r->op == CIO_OP_OPENAT && r->res >= 0)
        close((int)r->res);     /* opened as the caller gave up: no leak */
    return delivered(r) ? r->res : why;
}

static int64_t run(cio_fd *f, cio_io_req *r, uint8_t op, int flags, int64_t deadline)
{
    r->op = op;
    r->fd = f;
    r->flags = flags;
    return cio_io_await(r, deadline);
}

ssize_t cio_io_recv(cio_fd *f, void *buf, size_t len, int flags, int64_t deadline)
{
    cio_io_req r = { .io = { buf, len } };
    return run(f, &r, CIO_OP_RECV, flags, deadline);
}

ssize_t cio_io_send(cio_fd *f, const void *buf, size_t len, int flags, int64_t deadline)
{
    cio_io_req r = { .io = { (void *)buf, len } };
    return run(f, &r, CIO_OP_SEND, flags, deadline);
}

ssize_t cio_io_recvmsg(cio_fd *f, struct msghdr *msg, int flags, int64_t deadline)
{
    cio_io_req r = { .msg = msg };
    return run(f, &r, CIO_OP_RECVMSG, flags, deadline);
}

ssize_t cio_io_sendmsg(cio_fd *f, const struct msghdr *msg, int flags, int64_t deadline)
{
    cio_io_req r = { .msg = (struct msghdr *)msg };
    return run(f, &r, CIO_OP_SENDMSG, flags, deadline);
}

int cio_io_accept(cio_fd *f, struct sockaddr *addr, socklen_t *len, int64_t deadline)
{
    cio_io_req r = { .accept = { addr, len } };
    return (int)run(f, &r, CIO_OP_ACCEPT, 0, deadline);
}

int cio_io_connect(cio_fd *f, const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
    cio_io_req r = { .connect = { addr, len } };
    return (int)run(f, &r, CIO_OP_CONNECT, 0, deadline);
}

int cio_io_poll(cio_fd *f, int events, int64_t deadline)
{
    cio_io_req r = { 0 };
    return (int)run(f, &r, CIO_OP_POLL, events, deadline);
}
