/* cio/loop.h — the event loop: asyncio.run and the embedding API.
 *
 * A loop belongs to the thread that created it. It owns a run queue, the
 * timers, one poller and a pool of task stacks. Tasks of one loop never run
 * in parallel, so nothing inside a loop needs locks.
 */
#ifndef CIO_LOOP_H
#define CIO_LOOP_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_loop_options {
    /* Virtual clock (like trio's autojump clock): time starts at 0 and, when
     * every task waits and nothing is ready, jumps to the next deadline.
     * Timeout tests run instantly and deterministically. Default: off, or on
     * when the environment sets CIO_VIRTUAL_CLOCK=1. */
    bool virtual_clock;
    /* Stack size for tasks that do not choose one; 0 means the default
     * (CIO_DEFAULT_STACK_SIZE, or CIO_STACK_SIZE from the environment). */
    size_t stack_size;
    /* How many free stacks the loop keeps for reuse; 0 means the default
     * (1024). Stacks beyond it are released at once; and once a second,
     * when the loop goes idle, it releases half of those above 64 that
     * stayed unused the whole second, so a past burst's stacks do not hold
     * memory for ever while a recurring load keeps the ones it reuses. */
    size_t stack_pool_max;
    /* Consecutive task switches allowed before the loop forces a pass through
     * timers and the poller (fairness budget); 0 means the default (64). */
    unsigned fairness_budget;
    /* The I/O backend: "epoll", "io_uring", or "auto" (io_uring when the
     * kernel allows it, else epoll). NULL means the environment's
     * CIO_BACKEND, else auto. With CIO_DEBUG=1 the loop says which. */
    const char *backend;
    /* Most worker threads in the loop's thread pool (cio_to_thread, DNS);
     * 0 means CIO_THREADS from the environment, else max(4, 2 x the CPUs
     * this process may run on), at most 64. Workers start as jobs need
     * them; cio_loop_close joins them. */
    unsigned threads;
    /* Debug mode (also on when the environment sets CIO_DEBUG=1): the
     * slow-task watchdog, handle and task reports at close, statistics
     * printed at exit. See cio/debug.h and cio/stats.h. */
    bool debug;
    /* cio_run / cio_run_with: do not turn SIGINT and SIGTERM into the main
     * task's cancellation (cio/signal.h); leave them alone. */
    bool no_signal_handlers;
    /* Debug mode's watchdog reports a task that runs this many milliseconds
     * without yielding (a blocking call in a task), while it is stuck, with
     * its stack; 0 means CIO_SLOW_TASK_MS from the environment, else 100.
     * asyncio's loop.slow_callback_duration. See cio/debug.h. */
    unsigned slow_task_ms;
} cio_loop_options;

/* The default task stack: 128 KiB of address space, committed lazily, so a
 * parked task costs only the pages it touched (usually one). */
#define CIO_DEFAULT_STACK_SIZE (128u * 1024u)

/* asyncio.run: make a loop, run main(arg) as a task named "main", and when it
 * returns cancel and join every task still running, report failed tasks that
 * were never joined, close the loop (which shuts its thread pool down: see
 * cio_loop_close). Returns main's status, or a negative
 * errno if the loop could not be made (-ENOMEM) or deadlocked (-EDEADLK:
 * every task blocked with nothing left that could wake one). Must be called
 * outside any task. While main runs, SIGINT and SIGTERM cancel it (unless
 * the program handles them itself or sets .no_signal_handlers); cio_run
 * then returns CIO_EINTERRUPTED, and a second one kills the program at once
 * (cio/signal.h). */
int cio_run(cio_task_fn *main, void *arg);

/* cio_run with loop options (NULL: defaults). */
int cio_run_with(const cio_loop_options *opts, cio_task_fn *main, void *arg);

/* Make a loop for this thread; NULL if memory or descriptors run out (the
 * reason is in errno) or the thread already has one. opts may be NULL. */
cio_loop *cio_loop_create(const cio_loop_options *opts);

/* Run the loop until task t has finished. Returns 0, or -EDEADLK when every
 * task is blocked and nothing (timer, descriptor, other thread) can wake any:
 * t would never finish. Call it from the loop's thread, outside any task. */
CIO_MUST_CHECK int cio_loop_run_until(cio_loop *loop, cio_task *t);

/* Close the loop: refuse further calls from other threads (-ESHUTDOWN),
 * cancel every task still alive, run until they have all finished and the
 * calls queued before the close have run, report on stderr each task that
 * failed and was never joined (asyncio's "Task exception was never
 * retrieved"; in debug mode also the tasks never joined, the handles left
 * open and the task statistics: cio/stats.h), shut the thread pool down (wait for the jobs still running,
 * dispose of their results, join the workers: a job that never returns
 * blocks the close for ever), free everything. Call it outside any task. */
void cio_loop_close(cio_loop *loop);

/* The loop of the calling thread, or NULL. */
cio_loop *cio_loop_current(void);

/* The name of the loop's I/O backend: "epoll" or "io_uring". */
const char *cio_loop_backend(cio_loop *loop);

/* Counts of the loop's tasks, for tests and statistics. */
typedef struct cio_loop_stats {
    size_t live_tasks;      /* spawned and not yet finished */
    size_t pooled_stacks;   /* free stacks kept for reuse */
    size_t guarded_stacks;  /* stacks (all loops) with a guard page */
    size_t unguarded_stacks;/* stacks (all loops) protected by a canary only */
    uint64_t switches;      /* task switches so far */
    uint64_t iterations;    /* passes through timers and poller */
} cio_loop_stats;

void cio_loop_get_stats(cio_loop *loop, cio_loop_stats *out);

#pragma GCC visibility pop

#endif
