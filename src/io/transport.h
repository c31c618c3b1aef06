/* transport.h — what a buffered stream reads from and writes to: a socket
 * (sock_transport.c), or TLS over another transport (tls_transport.c).
 * Private to cio; streams, TLS and the HTTP layers meet here.
 *
 * Reads block the calling task; writes never block: the transport takes
 * every byte, queues what the kernel does not take at once and sends it in
 * the background (poller requests with done callbacks), so a task may write
 * a reply and go back to reading without waiting. flush is where a writer
 * waits for the queue to shrink (the stream's drain).
 */
#ifndef CIO_IO_TRANSPORT_H
#define CIO_IO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "cio/socket.h"
#include "../poller/poller.h"

typedef struct cio_transport cio_transport;

typedef struct cio_transport_ops {
    /* Block until at least one byte is there: the count, 0 at end of
     * stream, or a negative errno. A cancellation point. */
    ssize_t (*read)(cio_transport *t, void *buf, size_t len);
    /* Optional (NULL: not offered): read into memory lent only for the
     * call. try_read reads once without blocking: the count, 0 at end of
     * stream, -EAGAIN if nothing is there (or known not to be: no system
     * call then), -EOPNOTSUPP if the loop's backend cannot (a completion
     * backend needs the memory while it waits; io_uring can for a socket,
     * from what its multishot recv read ahead), or a negative errno.
     * wait_readable blocks until a read may find something, touching no
     * buffer, and costs no system call of its own on epoll. So a stream
     * need not hold a read buffer while it waits (stream_read.c). */
    ssize_t (*try_read)(cio_transport *t, void *buf, size_t len);
    int (*wait_readable)(cio_transport *t);
    /* Optional (NULL: not offered): borrow received bytes without a copy,
     * as the loop's backend lends them (poller.h, loan_recv, whose returns
     * these are; -EOPNOTSUPP: not on this backend). The stream gives the
     * loan back itself (cio_stream_drop_buffer), so that it may outlive
     * the transport (start_tls). */
    ssize_t (*loan_read)(cio_transport *t, cio_loan *l);
    /* Take all the bytes for sending. Never blocks. Returns 0, or the
     * error that ended the output earlier (then nothing is taken). */
    int (*write)(cio_transport *t, const struct iovec *iov, int iovcnt);
    /* Bytes taken and not yet handed to the kernel. */
    size_t (*pending)(const cio_transport *t);
    /* Block until pending() <= mark. Returns 0 or the output's error. */
    int (*flush)(cio_transport *t, size_t mark);
    /* Flush, then end the output (TCP FIN; TLS close_notify then FIN). */
    int (*write_eof)(cio_transport *t);
    /* Flush (unless abort), close and free, with what lies beneath. Blocks
     * while flushing; cancelled, it drops the rest and closes at once.
     * Returns the first error of the output, or 0. */
    int (*close)(cio_transport *t, bool abort);
    /* The socket at the bottom (addresses, options). */
    cio_socket *(*socket)(cio_transport *t);
} cio_transport_ops;

struct cio_transport {
    const cio_transport_ops *ops;
};

/* A transport over s, which it owns from then on (closed even on failure).
 * Returns 0 or -ENOMEM. */
int cio_sock_transport_new(cio_transport **out, cio_socket *s);

#endif
