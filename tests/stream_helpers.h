/* stream_helpers.h — connected streams and raw peers for the stream,
 * server and chat tests. */
#ifndef CIO_TEST_STREAM_HELPERS_H
#define CIO_TEST_STREAM_HELPERS_H

#include "helpers.h"

#include <sys/socket.h>
#include <unistd.h>

/* Shrink a socket's kernel buffers so that a little output fills them. */
static inline void small_buffers(int fd)
{
    int v = 4096;
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
}

static inline cio_socket *adopt(int fd)
{
    cio_socket *s = NULL;
    cr_assert_eq(cio_socket_adopt(&s, fd), 0);
    return s;
}

static inline cio_stream *open_stream(int fd, const cio_stream_opts *o)
{
    cio_stream *st = NULL;
    cr_assert_eq(cio_stream_open(&st, adopt(fd), o), 0);
    return st;
}

/* A connected pair of Unix stream sockets: a stream (opts o) and a raw
 * descriptor for the peer; small kernel buffers if small. */
static inline cio_stream *stream_and_fd(int *peer, const cio_stream_opts *o, bool small)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (small) {
        small_buffers(sv[0]);
        small_buffers(sv[1]);
    }
    *peer = sv[1];
    return open_stream(sv[0], o);
}

/* Two streams connected to each other. */
static inline void stream_pair(cio_stream **a, cio_stream **b, const cio_stream_opts *o,
                               bool small)
{
    int peer;
    *a = stream_and_fd(&peer, o, small);
    *b = open_stream(peer, o);
}

/* Send s on a raw descriptor without blocking: only for small writes,
 * which the kernel takes at once (use a stream for anything bigger). */
static inline void put(int fd, const char *s)
{
    size_t n = strlen(s);
    cr_assert_eq(send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT), (ssize_t)n);
}

#endif
