/* cio/lock.h — asyncio.Lock.
 *
 * FIFO-fair: a released lock passes straight to the longest waiter, so no
 * task barges past the queue. Any task may release (as in asyncio).
 */
#ifndef CIO_LOCK_H
#define CIO_LOCK_H

#include "base.h"

typedef struct cio_lock {
    cio_waitlist _waiters;
    bool _locked;
} cio_lock;

/* Make an unlocked lock. Never blocks. */
void cio_lock_init(cio_lock *l);

/* Take the lock, waiting behind earlier waiters. Returns 0, or -ECANCELED
 * (then the lock is not held). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_lock_acquire(cio_lock *l);

/* Take the lock if it is free and nobody waits: 0, else -EAGAIN. Never
 * blocks. */
CIO_MUST_CHECK int cio_lock_try_acquire(cio_lock *l);

/* Release: the first waiter, if any, now holds the lock. Returns 0, or
 * -EPERM if the lock was not held. Never blocks. */
int cio_lock_release(cio_lock *l);

bool cio_lock_locked(const cio_lock *l);

#endif
