/* cio/barrier.h — asyncio.Barrier. */
#ifndef CIO_BARRIER_H
#define CIO_BARRIER_H

#include "base.h"

typedef struct cio_barrier {
    cio_waitlist _waiters;
    size_t _parties;
    bool _broken;
} cio_barrier;

/* A barrier for parties tasks (parties >= 1). Never blocks. */
void cio_barrier_init(cio_barrier *b, size_t parties);

/* Wait until parties tasks are waiting; then all pass. Returns the task's
 * arrival index, 0 .. parties-1 (unique within one passage), or -ECANCELED
 * (the task withdraws; the barrier stays whole), or CIO_EBROKEN if the
 * barrier is broken or is aborted or reset while waiting.
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_barrier_wait(cio_barrier *b);

/* Break the barrier: every waiter, and every later wait until reset, gets
 * CIO_EBROKEN. Never blocks. */
void cio_barrier_abort(cio_barrier *b);

/* Return to the empty, unbroken state; current waiters get CIO_EBROKEN.
 * Never blocks. */
void cio_barrier_reset(cio_barrier *b);

size_t cio_barrier_parties(const cio_barrier *b);
size_t cio_barrier_n_waiting(const cio_barrier *b);
bool cio_barrier_broken(const cio_barrier *b);

#endif
