/* out_queue.h — bytes a transport has taken and not yet sent: a chain of
 * chunks (private to cio).
 *
 * Bytes already in the queue never move, so a background send may point at
 * them while more are appended behind (into the tail's free space or a new
 * chunk). Chunks of the standard size are kept in a small per-thread cache
 * while any transport of the thread is open, so a connection that queues a
 * little output now and then does not call malloc each time, and an idle
 * connection holds no output memory at all.
 */
#ifndef CIO_IO_OUT_QUEUE_H
#define CIO_IO_OUT_QUEUE_H

#include <stddef.h>
#include <sys/uio.h>

typedef struct cio_out_chunk cio_out_chunk;

typedef struct cio_out_queue {
    cio_out_chunk *head, *tail;
    size_t bytes;               /* queued, including what is being sent */
} cio_out_queue;

void cio_outq_init(cio_out_queue *q);

/* Append the bytes of iov after the first skip of them: all, or nothing
 * and -ENOMEM. */
int cio_outq_append(cio_out_queue *q, const struct iovec *iov, int iovcnt, size_t skip);

/* Describe the queue's first bytes in iov (at most max entries); returns
 * how many entries were filled (0 when empty). */
int cio_outq_peek(const cio_out_queue *q, struct iovec *iov, int max);

/* Drop the first n bytes (n <= bytes), freeing the chunks they emptied. */
void cio_outq_consume(cio_out_queue *q, size_t n);

/* Drop everything. */
void cio_outq_clear(cio_out_queue *q);

/* Transports of this thread count themselves in and out: the chunk cache
 * lives while the count is above zero and is freed when it drops to zero. */
void cio_outq_thread_enter(void);
void cio_outq_thread_leave(void);

#endif
