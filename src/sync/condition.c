/* condition.c — asyncio.Condition.
 *
 * A notify wakes waiters in FIFO order; each woken waiter then queues for the
 * lock like any other task. The re-acquire runs in a shielded scope: the
 * caller must get the lock back even when cancelled, and the notify a waiter
 * received before its cancellation is kept (the wait returns 0; the next
 * blocking call sees the cancellation). A waiter cancelled before the notify
 * has left the queue, so the notify goes to the next one.
 */
#include "core/internal.h"
#include "cio/condition.h"

#include <limits.h>

void cio_condition_init(cio_condition *c, cio_lock *lock)
{
    cio_lock_init(&c->_own_lock);
    c->_lock = lock ? lock : &c->_own_lock;
    cio_waitlist_init(&c->_waiters);
}

cio_lock *cio_condition_lock(cio_condition *c) { return c->_lock; }

/* Take the lock back, deaf to cancellation (it cannot fail in a task). */
static void reacquire(cio_lock *l)
{
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int rc = cio_lock_acquire(l);
    (void)rc;
    (void)cio_scope_leave(&shield);
}

/* Checks shared by wait and wait_for: 0 when the caller may wait. */
static int may_wait(cio_condition *c)
{
    if (!cio_lock_locked(c->_lock))
        return -EPERM;
    return cio_wait_checkpoint();
}

int cio_condition_wait(cio_condition *c)
{
    int rc = may_wait(c);
    if (rc < 0)
        return rc;              /* the lock is untouched */
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_CONDITION, c);
    (void)cio_lock_release(c->_lock);
    rc = cio_wait_park(&w, &c->_waiters, CIO_NEVER);
    reacquire(c->_lock);
    return rc;
}

int cio_condition_wait_for(cio_condition *c, bool (*pred)(void *), void *arg)
{
    int rc = may_wait(c);
    while (rc == 0 && !pred(arg))
        rc = cio_condition_wait(c);
    return rc;
}

int cio_condition_notify(cio_condition *c, size_t n)
{
    if (!cio_lock_locked(c->_lock))
        return -EPERM;
    int woken = 0;
    while ((size_t)woken < n && woken < INT_MAX &&
           cio_waitlist_wake_first(&c->_waiters, 0))
        woken++;
    return woken;
}

int cio_condition_notify_all(cio_condition *c)
{
    return cio_condition_notify(c, SIZE_MAX);
}
