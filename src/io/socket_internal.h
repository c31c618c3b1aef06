/* socket_internal.h — the socket object, shared by the files of src/io. */
#ifndef CIO_IO_SOCKET_INTERNAL_H
#define CIO_IO_SOCKET_INTERNAL_H

#include <string.h>

#include "cio/socket.h"
#include "io.h"
#include "../debug/handle.h"

struct cio_socket {
    cio_fd io;              /* descriptor and its poller registration */
    int domain, type;
    cio_handle handle;      /* in the loop's registry of open handles */
};

/* Set the port of an IP address (others are left alone). */
static inline void cio_addr_set_port(cio_addr *a, uint16_t port)
{
    if (a->sa.sa_family == AF_INET)
        a->in.sin_port = htons(port);
    else if (a->sa.sa_family == AF_INET6)
        a->in6.sin6_port = htons(port);
}

/* Copy a sockaddr of len bytes (at most sizeof a->ss) into a. */
static inline void cio_addr_from_sockaddr(cio_addr *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof *a);
    memcpy(&a->ss, sa, len);
    a->len = len;
}

#endif
