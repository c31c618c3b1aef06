/* syscall.c — each request's operation as one non-blocking system call.
 * The epoll backend runs it when a descriptor is ready; io_uring uses it
 * where trying first is cheaper than a round trip through the ring. */
#include "poller.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* A connect in progress has finished when SO_ERROR is set (failed) or the
 * socket has a peer (connected); a spurious wake-up sees neither. */
static int64_t connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    if (err)
        return -err;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        return 0;
    return errno == ENOTCONN ? -EAGAIN : -errno;
}

static int64_t try_connect(cio_io_req *r)
{
    int fd = r->fd->fd;
    if (r->started)
        return connect_result(fd);
    if (connect(fd, r->connect.addr, r->connect.len) == 0)
        return 0;
    if (errno == EINPROGRESS) {
        r->started = true;
        return -EAGAIN;
    }
    return -errno;      /* EAGAIN (a full Unix backlog) retries connect() */
}

static int64_t try_poll(cio_io_req *r)
{
    struct pollfd pfd = { .fd = r->fd->fd, .events = (short)r->flags };
    int n = poll(&pfd, 1, 0);
    if (n < 0)
        return -errno;
    return n == 0 ? -EAGAIN : pfd.revents;
}

static int64_t syscall_result(ssize_t n)
{
    if (n >= 0)
        return n;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int64_t cio_op_try(cio_io_req *r)
{
    int fd = r->fd->fd;
    for (;;) {
        int64_t res;
        switch (r->op) {
        case CIO_OP_RECV:
            res = syscall_result(recv(fd, r->io.buf, r->io.len, r->flags | MSG_DONTWAIT));
            break;
        case CIO_OP_SEND:
            res = syscall_result(send(fd, r->io.buf, r->io.len,
                                      r->flags | MSG_DONTWAIT | MSG_NOSIGNAL));
            break;
        case CIO_OP_RECVMSG:
            res = syscall_result(recvmsg(fd, r->msg, r->flags | MSG_DONTWAIT));
            break;
        case CIO_OP_SENDMSG:
            res = syscall_result(sendmsg(fd, r->msg, r->flags | MSG_DONTWAIT | MSG_NOSIGNAL));
            break;
        case CIO_OP_ACCEPT:
            res = syscall_result(accept4(fd, r->accept.addr, r->accept.len,
                                         SOCK_NONBLOCK | SOCK_CLOEXEC));
            break;
        case CIO_OP_CONNECT:
            res = try_connect(r);
            break;
        case CIO_OP_POLL:
            res = try_poll(r);
            break;
        case CIO_OP_READ:
            res = syscall_result(read(fd, r->io.buf, r->io.len));
            break;
        case CIO_OP_WRITE:
            res = syscall_result(write(fd, r->io.buf, r->io.len));
            break;
        default:
            return -EINVAL;
        }
        if (res != -EINTR)
            return res;
    }
}
