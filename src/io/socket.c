/* socket.c — the socket object: open, adopt, close, connect, accept, and
 * stream data in and out. Datagrams are in udp.c, listeners in listen.c,
 * connecting by name in connect_tcp.c. */
#include "socket_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <unistd.h>

static int wrap(cio_socket **out, int fd, int domain, int type)
{
    cio_socket *s = malloc(sizeof *s);
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->domain = domain;
    s->type = type;
    int rc = cio_fd_open(&s->io, fd, type == SOCK_STREAM ? CIO_FD_STREAM : 0);
    if (rc < 0) {
        close(fd);
        free(s);
        return rc;
    }
    /* Every socket is made here (open, adopt, accept; listeners and UDP
     * sockets through open), so this is the one place to track them. */
    cio_handle_track(&s->handle, "socket", fd);
    *out = s;
    return 0;
}

int cio_socket_open(cio_socket **out, int domain, int type, int protocol)
{
    if (!cio_tls_loop)
        return -EPERM;
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return -errno;
    return wrap(out, fd, domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
}

static int query_int(int fd, int opt, int *v)
{
    socklen_t len = sizeof *v;
    return getsockopt(fd, SOL_SOCKET, opt, v, &len) < 0 ? -errno : 0;
}

int cio_socket_adopt(cio_socket **out, int fd)
{
    int domain = 0, type = 0;
    int rc = cio_tls_loop ? 0 : -EPERM;
    if (rc == 0)
        rc = query_int(fd, SO_DOMAIN, &domain);
    if (rc == 0)
        rc = query_int(fd, SO_TYPE, &type);
    int flags = rc == 0 ? fcntl(fd, F_GETFL) : -1;
    if (rc == 0 && (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
        rc = -errno;
    if (rc == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return wrap(out, fd, domain, type);
}

int cio_socket_close(cio_socket *s)
{
    if (!s)
        return 0;
    cio_handle_untrack(&s->handle);
    cio_fd_abort(&s->io);
    cio_fd_release(&s->io);
    int rc = close(s->io.fd) < 0 && errno != EINTR ? -errno : 0;
    free(s);
    return rc;
}

int cio_socket_fd(const cio_socket *s) { return s->io.fd; }

int cio_socket_connect(cio_socket *s, const cio_addr *addr)
{
    return cio_io_connect(&s->io, &addr->sa, addr->len, CIO_NEVER);
}

int cio_connect_addr(cio_socket **out, const cio_addr *addr)
{
    cio_socket *s;
    int rc = cio_socket_open(&s, addr->sa.sa_family, SOCK_STREAM, 0);
    if (rc < 0)
        return rc;
    rc = cio_socket_connect(s, addr);
    if (rc < 0) {
        cio_socket_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int cio_unix_connect(cio_socket **out, const char *path)
{
    cio_addr a;
    int rc = cio_addr_unix(&a, path);
    return rc < 0 ? rc : cio_connect_addr(out, &a);
}

int cio_socket_accept(cio_socket *listener, cio_socket **out, cio_addr *peer)
{
    cio_addr scratch;
    cio_addr *a = peer ? peer : &scratch;
    a->len = sizeof a->ss;
    int fd = cio_io_accept(&listener->io, &a->sa, &a->len, CIO_NEVER);
    if (fd < 0)
        return fd;
    return wrap(out, fd, listener->domain, listener->type);
}

ssize_t cio_socket_recv(cio_socket *s, void *buf, size_t len)
{
    return cio_io_recv(&s->io, buf, len, 0, CIO_NEVER);
}

/* The bytes sent so far if an error cut a send short, else the error.
 * -EBADF (the socket closed under the call) always: the caller must not
 * take a short count as a reason to send the rest on a socket that is gone. */
static ssize_t partial_or(size_t done, ssize_t err)
{
    return done && err != -EBADF ? (ssize_t)done : err;
}

ssize_t cio_socket_send(cio_socket *s, const void *buf, size_t len)
{
    size_t done = 0;
    do {
        ssize_t n = cio_io_send(&s->io, (const char *)buf + done, len - done, 0, CIO_NEVER);
        if (n < 0)
            return partial_or(done, n);
        done += (size_t)n;
    } while (done < len);
    return (ssize_t)len;
}

/* Drop n sent bytes from the front of an iovec array. */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
    while (*cnt && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

ssize_t cio_socket_sendv(cio_socket *s, const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    struct iovec copy[iovcnt ? iovcnt : 1];
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        copy[i] = iov[i];
        total += iov[i].iov_len;
    }
    struct iovec *cur = copy;
    int cnt = iovcnt;
    size_t done = 0;
    while (done < total) {
        struct msghdr msg = { .msg_iov = cur, .msg_iovlen = (size_t)cnt };
        ssize_t n = cio_io_sendmsg(&s->io, &msg, 0, CIO_NEVER);
        if (n < 0)
            return partial_or(done, n);
        done += (size_t)n;
        iov_advance(&cur, &cnt, (size_t)n);
    }
    if (total == 0) {
        int rc = cio_wait_checkpoint();
        if (rc < 0)
            return rc;
    }
    return (ssize_t)total;
}

int cio_socket_shutdown(cio_socket *s, int how)
{
    return shutdown(s->io.fd, how) < 0 ? -errno : 0;
}

int cio_socket_local_addr(const cio_socket *s, cio_addr *out)
{
    out->len = sizeof out->ss;
    return getsockname(s->io.fd, &out->sa, &out->len) < 0 ? -errno : 0;
}

int cio_socket_peer_addr(const cio_socket *s, cio_addr *out)
{
    out->len = sizeof out->ss;
    return getpeername(s->io.fd, &out->sa, &out->len) < 0 ? -errno : 0;
}

int cio_socket_setopt(cio_socket *s, int level, int name, const void *val, socklen_t len)
{
    return setsockopt(s->io.fd, level, name, val, len) < 0 ? -errno : 0;
}

int cio_socket_getopt(const cio_socket *s, int level, int name, void *val, socklen_t *len)
{
    return getsockopt(s->io.fd, level, name, val, len) < 0 ? -errno : 0;
}

int cio_socket_set_nodelay(cio_socket *s, bool on)
{
    int v = on;
    return cio_socket_setopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
