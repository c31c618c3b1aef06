/* threadsafe.h — the loop's thread-safe call queue (private).
 *
 * The only way other threads talk to a loop (DESIGN §1): they append a call
 * under a mutex and wake the loop's poller; the loop runs the queued calls,
 * FIFO, in its own context on every pass of cio_sched_run. The thread pool's
 * completions and cio_future's spawn and cancel requests travel the same way,
 * as calls embedded in their own records (posting them cannot fail).
 */
#ifndef CIO_CORE_THREADSAFE_H
#define CIO_CORE_THREADSAFE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cio/base.h"

/* One queued call. Embedded in the record it belongs to, or allocated by
 * cio_call_threadsafe (heap: freed just before fn runs). */
typedef struct cio_ts_call {
    struct cio_ts_call *next;
    void (*fn)(void *arg);
    void *arg;
    bool heap;
} cio_ts_call;

struct cio_future;

typedef struct cio_ts_queue {
    pthread_mutex_t lock;
    cio_ts_call *head, *tail;   /* under lock */
    bool closed;                /* under lock; the loop thread writes it */
    atomic_size_t pending;      /* calls queued and not yet taken to run */
    atomic_size_t unrefs;       /* cio_loop_unref calls from other threads */
    struct cio_future *futures; /* loop thread: futures whose task runs */
} cio_ts_queue;

/* Loop creation / close (loop.c). */
int cio_threadsafe_init(cio_loop *L);
/* Close starts: calls from outside are refused (-ESHUTDOWN) from now on. */
void cio_threadsafe_close(cio_loop *L);
/* Close ends (tasks done, thread pool joined): complete the futures whose
 * task never finished, run what is still queued, free the queue. */
void cio_threadsafe_finish(cio_loop *L);

/* Queue c on L's loop and wake it. external: refuse with -ESHUTDOWN once
 * the loop is closing; internal posts (pool completions, future cancels)
 * are always accepted and run at the latest by cio_threadsafe_finish.
 * Any thread. Returns 0 or -ESHUTDOWN. */
int cio_threadsafe_post(cio_loop *L, cio_ts_call *c, bool external);

/* Run every call queued so far, and apply pending unrefs (loop context). */
void cio_threadsafe_drain(cio_loop *L);

/* cio_threadsafe_pending / cio_threadsafe_run: inline, in internal.h. */

/* Loop thread: complete the futures still tracked with -ECANCELED (their
 * tasks ignored cancellation and were leaked at close). future.c. */
void cio_future_abandon_all(cio_loop *L);

#endif
