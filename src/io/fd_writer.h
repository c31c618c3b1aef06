/* fd_writer.h — a descriptor's background writer (private to cio): the
 * output queue, one request in flight, the tasks waiting in flush, and the
 * error that ended the output. Shared by the socket and pipe transports.
 *
 * The transport owns the descriptor and decides what to do first (a socket
 * may send in place); what it queues goes out one request at a time, whose
 * done callback accounts for it and starts the next. The first error ends
 * the output: the queue is dropped and later writes and flushes return it.
 */
#ifndef CIO_IO_FD_WRITER_H
#define CIO_IO_FD_WRITER_H

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "io.h"
#include "out_queue.h"

#define CIO_FDW_IOV 8           /* chunks one background sendmsg takes */

typedef struct cio_fd_writer {
    cio_out_queue out;
    cio_io_req req;             /* the background write */
    struct msghdr msg;
    struct iovec iov[CIO_FDW_IOV];
    bool sendmsg;               /* SEND/SENDMSG (socket), else WRITE of the head */
    bool busy;                  /* req is pending */
    bool closing;               /* no new requests: the descriptor is closing */
    bool shut;                  /* write_eof has ended the output */
    int error;                  /* what ended the output, or 0 */
    cio_waitlist flushers;      /* tasks in flush; w->data: their mark */
    cio_waiter *closer;         /* stop waiting for req's final result */
} cio_fd_writer;

/* Start a writer for fd: sendmsg picks socket requests (SEND for one chunk,
 * SENDMSG for several), else one WRITE of the queue's head. Counts the
 * thread in the out_queue's chunk cache (cio_fdw_end counts it out). */
void cio_fdw_init(cio_fd_writer *w, cio_fd *fd, bool sendmsg);

/* Why a write cannot start now: the error, -EPIPE after write_eof or while
 * closing, or 0. */
static inline int cio_fdw_refuse(const cio_fd_writer *w)
{
    if (w->error)
        return w->error;
    return w->shut || w->closing ? -EPIPE : 0;
}

/* End the output with err (the first error stays) and drop the queue. */
void cio_fdw_fail(cio_fd_writer *w, int err);

/* Queue iov after its first skip bytes (those went out already) and start
 * sending; returns the writer's error or 0, or -ENOMEM (which breaks the
 * output if skip left a gap). */
int cio_fdw_queue(cio_fd_writer *w, const struct iovec *iov, int iovcnt, size_t skip);

/* Wait until at most mark bytes are queued: 0, the error, or the wait's. */
int cio_fdw_flush(cio_fd_writer *w, size_t mark);

/* write_eof's first half: flush everything; returns < 0 on error, 0 if the
 * output was already shut, 1 if it is shut now and the caller must end it
 * on the descriptor. */
int cio_fdw_begin_eof(cio_fd_writer *w);

/* Cancel the request in flight and wait, shielded, for its final result
 * (the kernel may still read the queue); no requests after this. */
void cio_fdw_stop(cio_fd_writer *w);

/* close's first half: flush (unless abort_output), stop, drop the queue;
 * returns flush's result. */
int cio_fdw_close(cio_fd_writer *w, bool abort_output);

/* close's second half, after the descriptor's close returned close_rc:
 * the first failure of rc, the writer's error, close_rc. */
int cio_fdw_end(cio_fd_writer *w, int rc, int close_rc);

#endif
