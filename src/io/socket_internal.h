/* socket_internal.h — the socket object, shared by the files of src/io. */
#ifndef CIO_IO_SOCKET_INTERNAL_H
#define CIO_IO_SOCKET_INTERNAL_H

#include "cio/socket.h"
#include "io.h"

struct cio_socket {
    cio_fd io;              /* descriptor and its poller registration */
    int domain, type;
};

#endif
