/* cio/semaphore.h — asyncio.Semaphore and BoundedSemaphore.
 *
 * FIFO-fair: a released permit goes straight to the longest waiter, so no
 * acquire barges past the queue (try_acquire fails while anyone waits). A
 * waiter woken and then cancelled before it ran still holds its permit: its
 * acquire returns 0 and it sees the cancellation at its next blocking call.
 */
#ifndef CIO_SEMAPHORE_H
#define CIO_SEMAPHORE_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_semaphore {
    cio_waitlist _waiters;
    size_t _value;
    size_t _bound;        /* the initial value if bounded, else SIZE_MAX */
} cio_semaphore;

/* A semaphore with value permits. Never blocks. */
void cio_semaphore_init(cio_semaphore *s, size_t value);

/* A BoundedSemaphore: releasing more than value permits is an error. */
void cio_semaphore_init_bounded(cio_semaphore *s, size_t value);

/* Take a permit, waiting behind earlier waiters. Returns 0 or -ECANCELED
 * (then no permit is held; also on the fast path if the task is cancelled),
 * -EPERM outside a task. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_semaphore_acquire(cio_semaphore *s);

/* Take a permit if one is free and nobody waits: 0, else -EAGAIN. Never
 * blocks. */
CIO_MUST_CHECK int cio_semaphore_try_acquire(cio_semaphore *s);

/* Return a permit (to the first waiter if any). Returns 0, or -EOVERFLOW
 * (nothing changes) for a bounded semaphore released more times than
 * acquired, or an unbounded one whose value would pass SIZE_MAX.
 * Never blocks. */
int cio_semaphore_release(cio_semaphore *s);

/* Permits free now (asyncio's _value). */
size_t cio_semaphore_value(const cio_semaphore *s);

/* True if an acquire would wait (asyncio's locked()). */
bool cio_semaphore_locked(const cio_semaphore *s);

#pragma GCC visibility pop

#endif
