/* cio/lock.h — asyncio.Lock.
 *
 * FIFO-fair: a released lock passes straight to the longest waiter, so no
 * task barges past the queue (try_acquire fails while anyone waits). A
 * waiter woken and then cancelled before it ran still holds the lock: its
 * acquire returns 0 and it sees the cancellation at its next blocking call.
 * Any task may release (as in asyncio); the lock has no owner.
 */
#ifndef CIO_LOCK_H
#define CIO_LOCK_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_lock {
    cio_waitlist _waiters;
    bool _locked;
} cio_lock;

/* Make an unlocked lock. Never blocks. */
void cio_lock_init(cio_lock *l);

/* Take the lock, waiting behind earlier waiters. Returns 0, or -ECANCELED
 * (then the lock is not held; also on the fast path if the task is
 * cancelled), -EPERM outside a task. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_lock_acquire(cio_lock *l);

/* Take the lock if it is free and nobody waits: 0, else -EAGAIN. Never
 * blocks. */
CIO_MUST_CHECK int cio_lock_try_acquire(cio_lock *l);

/* Release: the first waiter, if any, now holds the lock. Returns 0, or
 * -EPERM if the lock was not held. Never blocks. */
int cio_lock_release(cio_lock *l);

/* True while some task holds the lock. */
bool cio_lock_locked(const cio_lock *l);

#pragma GCC visibility pop

#endif
