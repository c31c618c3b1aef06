/* lock.c — asyncio.Lock on the core's waits.
 *
 * Release hands the lock straight to the first waiter (it stays locked and
 * that waiter's park returns 0), so nobody can barge in between, and a
 * waiter cancelled after the hand-off still owns the lock. A waiter cancelled
 * before it was woken has left the queue, so release skips it.
 */
#include "core/internal.h"
#include "cio/lock.h"

void cio_lock_init(cio_lock *l)
{
    cio_waitlist_init(&l->_waiters);
    l->_locked = false;
}

int cio_lock_try_acquire(cio_lock *l)
{
    if (l->_locked || l->_waiters.count)
        return -EAGAIN;
    l->_locked = true;
    return 0;
}

int cio_lock_acquire(cio_lock *l)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (cio_lock_try_acquire(l) == 0)
        return 0;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_LOCK, l);
    return cio_wait_park(&w, &l->_waiters, CIO_NEVER);
}

int cio_lock_release(cio_lock *l)
{
    if (!l->_locked)
        return -EPERM;
    if (!cio_waitlist_wake_first(&l->_waiters, 0))
        l->_locked = false;     /* nobody to hand it to */
    return 0;
}

bool cio_lock_locked(const cio_lock *l) { return l->_locked; }
