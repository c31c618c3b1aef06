/* io.h — blocking I/O for tasks, on the loop's poller (private to cio).
 *
 * Each call is a cancellation point: it submits one request and parks the
 * task until the request finishes, the task's scopes are cancelled or the
 * deadline passes (CIO_NEVER: none besides the scopes'). An interrupted call
 * waits, shielded, for the request's final result before its buffers (on the
 * task's stack or the caller's) can be reused; if the operation delivered
 * something as it was cancelled (bytes received or sent, a connection
 * accepted) the call returns that, and the cancellation is seen by the next
 * blocking call, so nothing is lost. Results are >= 0 or a negative errno;
 * a request ended because its descriptor was closed (cio_fd_abort) returns
 * -EBADF, even if it delivered something as it ended (a connection accepted
 * then is closed): the caller must not go on with a descriptor that is gone.
 * File operations (fd-less requests, src/os/file_op.h) follow the same
 * rules, except that an open interrupted after it succeeded closes the
 * descriptor it got and returns the interruption, so nothing leaks.
 */
#ifndef CIO_IO_IO_H
#define CIO_IO_IO_H

#include <sys/socket.h>
#include <sys/types.h>

#include "../core/internal.h"
#include "../poller/poller.h"

/* Register fd (non-blocking, owned by the caller) with the current loop's
 * poller; flags: CIO_FD_STREAM for byte streams. Returns 0 or a negative
 * errno; -EPERM outside a loop. */
int cio_fd_open(cio_fd *f, int fd, unsigned flags);

/* Unregister f. Its pending requests must have finished (cio_fd_abort). */
void cio_fd_release(cio_fd *f);

/* End every request pending on f: the tasks blocked in them return -EBADF
 * (background requests' done see -ECANCELED) once the backend confirms. */
void cio_fd_abort(cio_fd *f);

/* Submit r (op and arguments set) and block until it finishes. */
int64_t cio_io_await(cio_io_req *r, int64_t deadline);

ssize_t cio_io_recv(cio_fd *f, void *buf, size_t len, int flags, int64_t deadline);
ssize_t cio_io_send(cio_fd *f, const void *buf, size_t len, int flags, int64_t deadline);
ssize_t cio_io_recvmsg(cio_fd *f, struct msghdr *msg, int flags, int64_t deadline);
ssize_t cio_io_sendmsg(cio_fd *f, const struct msghdr *msg, int flags, int64_t deadline);
/* Returns the new descriptor (non-blocking, close-on-exec). */
int cio_io_accept(cio_fd *f, struct sockaddr *addr, socklen_t *len, int64_t deadline);
int cio_io_connect(cio_fd *f, const struct sockaddr *addr, socklen_t len, int64_t deadline);
/* Wait until f is ready for events (POLLIN, POLLOUT); returns the revents. */
int cio_io_poll(cio_fd *f, int events, int64_t deadline);

static inline cio_poller *cio_io_poller(void)
{
    return cio_tls_loop ? &cio_tls_loop->poller : NULL;
}

#endif
