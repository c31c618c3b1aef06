/* cio/thread.h — threads and the loop: asyncio's call_soon_threadsafe,
 * run_coroutine_threadsafe and to_thread.
 *
 * A loop belongs to one thread, and its tasks never need locks. Other
 * threads talk to it only through its thread-safe call queue: they queue a
 * function, the loop's eventfd wakes it, and the loop runs the function on
 * its own thread. Everything else here is built on that queue:
 *
 *   loop.call_soon_threadsafe(fn, arg)     cio_call_threadsafe(loop, fn, arg)
 *   asyncio.run_coroutine_threadsafe(c, l) cio_spawn_threadsafe(loop, fn, arg, &f)
 *   fut.result(timeout)                    cio_future_wait(f, &status, &res, ns)
 *   fut.cancel()                           cio_future_cancel(f)
 *   await asyncio.to_thread(fn, arg)       cio_to_thread(fn, arg, &result)
 *
 * Lifetime: calls that arrive while cio_loop_close runs are refused with
 * -ESHUTDOWN (those queued before it began still run), but a loop's memory
 * is gone once cio_loop_close returns: stop or join the threads that call
 * it before then (a task can wait for a thread with
 * cio_to_thread(joiner, &tid, NULL), joiner calling pthread_join).
 */
#ifndef CIO_THREAD_H
#define CIO_THREAD_H

#include "base.h"

#pragma GCC visibility push(default)

/* ---- calling into a loop from any thread --------------------------------- */

/* loop.call_soon_threadsafe: queue fn(arg) to run on loop's thread, in the
 * loop context (not inside a task: fn must not block, but it may spawn tasks,
 * set events, put on queues with try_put...). Calls run in the order they
 * were queued (FIFO), on the loop's next pass. Safe from any thread,
 * including the loop's own. Returns 0, -ENOMEM, -EINVAL (loop or fn NULL),
 * or -ESHUTDOWN once cio_loop_close has begun (calls queued before that are
 * still run, during the close). Never blocks (beyond a short mutex). */
CIO_MUST_CHECK int cio_call_threadsafe(cio_loop *loop, void (*fn)(void *),
                                       void *arg);

/* Keep loop from reporting a deadlock while another thread may still call
 * it: a task waiting for that thread (an event its call will set) is then
 * not "blocked with nothing that can wake it". Each cio_loop_ref needs one
 * cio_loop_unref. While a reference is held, the virtual clock does not
 * jump (the other thread may act first). Call on the loop's thread (in or
 * outside a task), typically before starting the other thread. */
void cio_loop_ref(cio_loop *loop);

/* Drop a reference taken with cio_loop_ref. Safe from any thread; from
 * another thread it takes effect on the loop's next pass (it wakes the
 * loop). Never blocks. */
void cio_loop_unref(cio_loop *loop);

/* ---- asyncio.run_coroutine_threadsafe ------------------------------------ */

/* A handle another thread holds on a task spawned with cio_spawn_threadsafe
 * (concurrent.futures.Future). Thread-safe; freed with cio_future_free. */
typedef struct cio_future cio_future;

/* From any thread: spawn fn(arg) as a task on loop (it starts on the loop's
 * next pass) and, if out is not NULL, store a future for its outcome in *out.
 * Returns 0, -ENOMEM, -EINVAL (loop or fn NULL), or -ESHUTDOWN once the loop
 * is closing. If the spawn itself fails on the loop (no stack), the future
 * completes with -ENOMEM; a spawn queued before the loop began closing
 * completes with -ECANCELED without running fn. Never blocks. */
CIO_MUST_CHECK int cio_spawn_threadsafe(cio_loop *loop, cio_task_fn *fn,
                                        void *arg, cio_future **out);

/* Wait, blocking the calling thread (a plain blocking wait, not a cio
 * task call), until the task has finished, at most timeout_ns nanoseconds
 * (0: just look; negative or CIO_NEVER: no limit). On 0, stores the task's
 * status in *status and what it set with cio_task_set_result in *result
 * (either may be NULL). Returns 0, -ETIMEDOUT, or -EDEADLK if called on the
 * future's own loop thread (it would wait for itself). Calling it from a
 * thread that runs another loop blocks that whole loop. */
CIO_MUST_CHECK int cio_future_wait(cio_future *f, int *status, void **result,
                                   int64_t timeout_ns);

/* True once the task has finished (cio_future_wait would not block). */
bool cio_future_done(cio_future *f);

/* fut.cancel(): ask the loop to cancel the task (cio_task_cancel on its
 * thread). A task not yet started never runs; either way the future then
 * completes with the task's status (-ECANCELED unless it finished first).
 * Does nothing once the future is done. Any thread; never blocks. */
void cio_future_cancel(cio_future *f);

/* Release the handle. Safe at any time, also before the task has finished:
 * the task runs on, and its status is then dropped (not reported at loop
 * close). It does not cancel the task. */
void cio_future_free(cio_future *f);

/* ---- asyncio.to_thread ---------------------------------------------------- */

/* await asyncio.to_thread(fn, arg): run fn(arg) on a worker thread of the
 * loop's thread pool; the calling task parks until it returns, then gets
 * 0 and fn's return value in *result (result may be NULL). Returns at once
 * -ECANCELED if the task is cancelled, before or while it waits (a scope's
 * deadline is a cancellation: cio_scope_leave / cio_wait_for turn it into
 * -ETIMEDOUT). The worker cannot be interrupted: it runs fn to the end, and
 * its late result is dropped. So arg, and whatever fn touches, must stay
 * valid until fn returns, even after cio_to_thread has returned -ECANCELED;
 * to hand arg over, or to free a late result, use cio_to_thread_ex.
 * Other errors: -EPERM outside a task, -EINVAL (fn NULL), -ENOMEM or
 * -EAGAIN (no worker thread could be started).
 * The pool is made at the first call: up to cio_loop_options.threads
 * workers (CIO_THREADS, default max(4, 2 x CPUs), at most 64), started as
 * jobs need them and joined by cio_loop_close, which waits for running jobs.
 * A job in flight keeps the loop from reporting a deadlock, and the virtual
 * clock does not jump while one runs.
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_to_thread(void *(*fn)(void *), void *arg, void **result);

/* cio_to_thread that owns arg and disposes of results nobody receives.
 * Unless the call returns 0 with result not NULL (fn's result delivered),
 * dispose(fn_result, arg) is called exactly once: at once, with a NULL
 * result, if fn never ran (cancelled while queued, or an error before it was
 * queued); with fn's late result once fn returns, if the caller gave up
 * while fn ran; and with the result when result is NULL. So arg may be
 * handed over: dispose frees it. dispose never runs on a worker: it runs in
 * the calling task before cio_to_thread_ex returns, or later on the loop's
 * thread in the loop context (at the latest during cio_loop_close), where it
 * may set events or spawn tasks but must not block. dispose may be NULL
 * (then this is cio_to_thread). */
CIO_MUST_CHECK int cio_to_thread_ex(void *(*fn)(void *), void *arg, void **result,
                                    void (*dispose)(void *result, void *arg));

#pragma GCC visibility pop

#endif
