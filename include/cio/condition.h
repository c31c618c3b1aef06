/* cio/condition.h — asyncio.Condition.
 *
 * notify wakes waiters in the order they waited; each woken waiter then
 * queues for the lock behind whoever already waits for it. A waiter notified
 * and then cancelled before it ran keeps the notification: its wait returns 0
 * (with the lock) and the next blocking call sees the cancellation. A waiter
 * cancelled before the notify has withdrawn, so the notify goes to the next.
 * As in asyncio, the lock has no owner: "held" means locked by anyone.
 */
#ifndef CIO_CONDITION_H
#define CIO_CONDITION_H

#include "base.h"
#include "lock.h"

#pragma GCC visibility push(default)

typedef struct cio_condition {
    cio_lock *_lock;
    cio_lock _own_lock;
    cio_waitlist _waiters;
} cio_condition;

/* Make a condition over lock, or over a lock of its own if lock is NULL.
 * Never blocks. */
void cio_condition_init(cio_condition *c, cio_lock *lock);

/* The condition's lock (acquire it before wait and notify). */
cio_lock *cio_condition_lock(cio_condition *c);

/* Release the lock, wait for a notify, take the lock again. The lock is held
 * again when this returns, whatever it returns: a cancelled wait re-acquires
 * it first (shielded from the cancellation). Returns 0, -ECANCELED (a task
 * already cancelled returns at once, without releasing the lock; under a
 * deadline scope the scope then reports -ETIMEDOUT), or -EPERM if the lock
 * was not held (or outside a task). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_condition_wait(cio_condition *c);

/* Wait until pred(arg) is true (checked with the lock held, first before
 * any wait, then after each wake-up). Returns 0, -ECANCELED or -EPERM; the
 * lock is held on return. Even when pred is true at once, a cancelled task
 * gets -ECANCELED (the call is a cancellation point). Blocks. */
CIO_MUST_CHECK int cio_condition_wait_for(cio_condition *c,
                                          bool (*pred)(void *), void *arg);

/* Wake up to n waiters (in the order they waited). The lock must be held:
 * returns how many were woken, or -EPERM. Never blocks. */
int cio_condition_notify(cio_condition *c, size_t n);

/* Wake every waiter. Returns how many, or -EPERM. Never blocks. */
int cio_condition_notify_all(cio_condition *c);

#pragma GCC visibility pop

#endif
