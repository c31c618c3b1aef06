/* udp.c — datagram sockets (asyncio's datagram endpoints): open a UDP
 * socket, send and receive one datagram at a time with addresses. The
 * send/receive calls work on any datagram socket (Unix ones too, adopted). */
#include "socket_internal.h"

#include <errno.h>
#include <string.h>

static int bind_any(cio_socket *s, int family)
{
    cio_addr a;
    int rc = cio_addr_ip(&a, family == AF_INET6 ? "::" : "0.0.0.0", 0);
    if (rc == 0 && bind(s->io.fd, &a.sa, a.len) < 0)
        rc = -errno;
    return rc;
}

int cio_udp_open(cio_socket **out, const cio_addr *local, int family)
{
    int domain = local ? local->sa.sa_family : family;
    if (domain != AF_INET && domain != AF_INET6)
        return -EAFNOSUPPORT;
    cio_socket *s;
    int rc = cio_socket_open(&s, domain, SOCK_DGRAM, 0);
    if (rc < 0)
        return rc;
    if (local)
        rc = bind(s->io.fd, &local->sa, local->len) < 0 ? -errno : 0;
    else
        rc = bind_any(s, domain);
    if (rc < 0) {
        cio_socket_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

ssize_t cio_socket_sendto(cio_socket *s, const void *buf, size_t len, const cio_addr *to)
{
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg = {
        .msg_name = to ? (void *)&to->sa : NULL,
        .msg_namelen = to ? to->len : 0,
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    return cio_io_sendmsg(&s->io, &msg, 0, CIO_NEVER);
}

ssize_t cio_socket_recvfrom(cio_socket *s, void *buf, size_t len, cio_addr *from)
{
    struct iovec iov = { buf, len };
    struct msghdr msg = {
        .msg_name = from ? &from->sa : NULL,
        .msg_namelen = from ? sizeof from->ss : 0,
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    if (from)
        memset(from, 0, sizeof *from);
    /* MSG_TRUNC: the result is the datagram's full length even when it did
     * not fit, so the caller can tell it was cut. (On a TCP socket it would
     * mean "discard the bytes": there recvfrom is a plain receive.) */
    int flags = s->type == SOCK_STREAM ? 0 : MSG_TRUNC;
    ssize_t n = cio_io_recvmsg(&s->io, &msg, flags, CIO_NEVER);
    if (n >= 0 && from)
        from->len = msg.msg_namelen;
    return n;
}
