/* cio/barrier.h — asyncio.Barrier.
 *
 * The barrier lets its tasks through in rounds of parties. The last arrival
 * of a round wakes all the others at once (a waiter woken and then
 * cancelled before it ran still passed: its wait returns its index), and the
 * barrier is at once empty and ready for the next round.
 */
#ifndef CIO_BARRIER_H
#define CIO_BARRIER_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_barrier {
    cio_waitlist _waiters;
    size_t _parties;
    bool _broken;
} cio_barrier;

/* A barrier for parties tasks (1 <= parties <= INT_MAX; 0 is taken as 1).
 * Never blocks. */
void cio_barrier_init(cio_barrier *b, size_t parties);

/* Wait until parties tasks are waiting; then all pass. Returns the task's
 * arrival index, 0 .. parties-1, unique within one round: the waiters are
 * numbered in arrival order among those still waiting when the round passes,
 * and the last arrival gets parties-1. Or returns -ECANCELED (the task
 * withdraws and the barrier stays whole; also at once if the task is
 * cancelled), or CIO_EBROKEN if the barrier is broken or is aborted or reset
 * while waiting; -EPERM outside a task. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_barrier_wait(cio_barrier *b);

/* Break the barrier: every waiter, and every later wait until reset, gets
 * CIO_EBROKEN. Never blocks. */
void cio_barrier_abort(cio_barrier *b);

/* Return to the empty, unbroken state; current waiters get CIO_EBROKEN.
 * Never blocks. */
void cio_barrier_reset(cio_barrier *b);

/* The parties count given to init. */
size_t cio_barrier_parties(const cio_barrier *b);

/* How many tasks wait in the current round. */
size_t cio_barrier_n_waiting(const cio_barrier *b);

/* True after abort, until reset. */
bool cio_barrier_broken(const cio_barrier *b);

#pragma GCC visibility pop

#endif
