/* cio/semaphore.h — asyncio.Semaphore and BoundedSemaphore.
 *
 * FIFO-fair: a released permit goes straight to the longest waiter.
 */
#ifndef CIO_SEMAPHORE_H
#define CIO_SEMAPHORE_H

#include "base.h"

typedef struct cio_semaphore {
    cio_waitlist _waiters;
    size_t _value;
    size_t _bound;        /* SIZE_MAX when unbounded */
    size_t _held;         /* permits out, for the bound check */
} cio_semaphore;

/* A semaphore with value permits. Never blocks. */
void cio_semaphore_init(cio_semaphore *s, size_t value);

/* A BoundedSemaphore: releasing more than value permits is an error. */
void cio_semaphore_init_bounded(cio_semaphore *s, size_t value);

/* Take a permit, waiting behind earlier waiters. Returns 0 or -ECANCELED
 * (then no permit is held). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_semaphore_acquire(cio_semaphore *s);

/* Take a permit if one is free and nobody waits: 0, else -EAGAIN. */
CIO_MUST_CHECK int cio_semaphore_try_acquire(cio_semaphore *s);

/* Return a permit (to the first waiter if any). Returns 0, or -EOVERFLOW
 * for a bounded semaphore released more times than acquired. Never blocks. */
int cio_semaphore_release(cio_semaphore *s);

/* Permits free now (asyncio's _value). */
size_t cio_semaphore_value(const cio_semaphore *s);

/* True if an acquire would wait (asyncio's locked()). */
bool cio_semaphore_locked(const cio_semaphore *s);

#endif
