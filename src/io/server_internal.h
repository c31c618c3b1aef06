/* server_internal.h — the server object, shared by server.c (life cycle)
 * and server_accept.c (the accept loop and the handler tasks). */
#ifndef CIO_IO_SERVER_INTERNAL_H
#define CIO_IO_SERVER_INTERNAL_H

#include "cio/event.h"
#include "cio/group.h"
#include "cio/semaphore.h"
#include "cio/server.h"

struct cio_server {
    cio_group group;            /* the handlers (first: see server_of) */
    cio_socket *listener;       /* closed by the accept loop as it ends */
    cio_addr addr;
    cio_server_handler *handler;
    void *arg;
    cio_server_opts opts;
    cio_task *acceptor;
    cio_semaphore slots;        /* max_connections */
    cio_event stopped;          /* the accept loop has ended */
    int error;                  /* what ended it, if not close */
    bool closing;
    bool warned;                /* the back-off was reported */
    cio_server_stats stats;
};

/* The accept loop's task body. */
int cio_server_accept_loop(void *srv);

#endif
