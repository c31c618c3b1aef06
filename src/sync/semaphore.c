/* semaphore.c — asyncio.Semaphore and BoundedSemaphore.
 *
 * A release with waiters hands its permit straight to the first one (the
 * value stays 0), so an acquire can never barge past the queue and a waiter
 * cancelled after the hand-off still holds its permit. Hence: waiters queued
 * implies value == 0.
 */
#include "core/internal.h"
#include "cio/semaphore.h"

void cio_semaphore_init(cio_semaphore *s, size_t value)
{
    cio_waitlist_init(&s->_waiters);
    s->_value = value;
    s->_bound = SIZE_MAX;
}

void cio_semaphore_init_bounded(cio_semaphore *s, size_t value)
{
    cio_semaphore_init(s, value);
    s->_bound = value;
}

int cio_semaphore_try_acquire(cio_semaphore *s)
{
    if (cio_semaphore_locked(s))
        return -EAGAIN;
    s->_value--;
    return 0;
}

int cio_semaphore_acquire(cio_semaphore *s)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (cio_semaphore_try_acquire(s) == 0)
        return 0;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_SEMAPHORE, s);
    return cio_wait_park(&w, &s->_waiters, CIO_NEVER);
}

int cio_semaphore_release(cio_semaphore *s)
{
    if (s->_value >= s->_bound)
        return -EOVERFLOW;      /* more releases than acquires (or SIZE_MAX) */
    if (!cio_waitlist_wake_first(&s->_waiters, 0))
        s->_value++;
    return 0;
}

size_t cio_semaphore_value(const cio_semaphore *s) { return s->_value; }

bool cio_semaphore_locked(const cio_semaphore *s)
{
    return s->_value == 0 || s->_waiters.count > 0;
}
