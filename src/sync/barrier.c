/* barrier.c — asyncio.Barrier.
 *
 * The last of the parties to arrive wakes every waiter at once, handing each
 * its arrival index as the wait's result: the waiters get 0 .. parties-2 in
 * queue order and the last arrival parties-1. Indexes are given out at that
 * moment, not on arrival, so they stay unique when a waiter withdraws
 * (cancelled before the passage). The woken waiters are off the queue at
 * once, so the barrier is empty for the next round right away (asyncio's
 * "draining" state needs no waiting here).
 */
#include "core/internal.h"
#include "cio/barrier.h"
#include "cio/error.h"

void cio_barrier_init(cio_barrier *b, size_t parties)
{
    cio_waitlist_init(&b->_waiters);
    b->_parties = parties ? parties : 1;
    b->_broken = false;
}

/* The last party arrived: let the whole round through. */
static int pass(cio_barrier *b)
{
    int index = 0;
    while (cio_waitlist_wake_first(&b->_waiters, index))
        index++;
    return index;
}

int cio_barrier_wait(cio_barrier *b)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (b->_broken)
        return CIO_EBROKEN;
    if (b->_waiters.count + 1 >= b->_parties)
        return pass(b);
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_BARRIER, b);
    return cio_wait_park(&w, &b->_waiters, CIO_NEVER);
}

void cio_barrier_abort(cio_barrier *b)
{
    b->_broken = true;
    cio_waitlist_wake_all(&b->_waiters, CIO_EBROKEN);
}

void cio_barrier_reset(cio_barrier *b)
{
    cio_waitlist_wake_all(&b->_waiters, CIO_EBROKEN);
    b->_broken = false;
}

size_t cio_barrier_parties(const cio_barrier *b) { return b->_parties; }
size_t cio_barrier_n_waiting(const cio_barrier *b) { return b->_waiters.count; }
bool cio_barrier_broken(const cio_barrier *b) { return b->_broken; }
