/* cio/debug.h — debug mode, the slow-task watchdog and the task dump
 * (asyncio's debug mode, slow_callback_duration, all_tasks + print_stack;
 * Go's goroutine dump).
 *
 * Debug mode is a loop option (cio_loop_options.debug) or the environment's
 * CIO_DEBUG=1. In debug mode:
 *   - a watchdog thread watches the loop. When one task runs longer than
 *     cio_loop_options.slow_task_ms (CIO_SLOW_TASK_MS, default 100) without
 *     yielding — a blocking sleep(), a synchronous query, a long computation —
 *     it prints on stderr, while the task is still stuck, the task's name and
 *     id, how long it has blocked the loop and its current stack, symbolized
 *     (function+offset and file:line where the code has debug info):
 *
 *       cio: watchdog: task 'handler' (id 7) has been running for 104 ms
 *            without yielding (slow_task_ms 100): it blocks the loop. Its stack:
 *       cio:     #0 0x7f... clock_nanosleep+0x... (libc.so.6)
 *       cio:     #1 0x55... lookup_user+0x2c (server.c:41)
 *       ...
 *     and when the task yields:
 *       cio: watchdog: task 'handler' (id 7) yielded after blocking the loop
 *            for 312 ms
 *     To read the stack the watchdog sends the loop thread the real-time
 *     signal CIO_DEBUG_SIGNAL (its handler is installed by the first loop
 *     made in debug mode). A blocking system call it interrupts that is not
 *     restarted (sleep, nanosleep, poll...) returns early with EINTR.
 *   - at close, the reports of cio/loop.h and of the handle registry.
 *
 * Outside debug mode none of this runs; the scheduler pays one predictable
 * branch per task switch.
 */
#ifndef CIO_DEBUG_H
#define CIO_DEBUG_H

#include <signal.h>
#include <stdio.h>

#include "base.h"

#pragma GCC visibility push(default)

/* The signal the watchdog uses to read a stuck loop thread's stack. */
#define CIO_DEBUG_SIGNAL (SIGRTMAX - 2)

/* True if the calling thread has a loop and it is in debug mode. */
bool cio_debug_enabled(void);

/* Print every task of the calling thread's loop, like Go's goroutine dump:
 * id, name, state, what it waits on (sleep and when it ends; fd N readable
 * or writable; lock, semaphore, event, condition, barrier, queue get/put/
 * join, join of task X, task group, gather, thread-pool job...), its age,
 * and its stack, symbolized: a suspended task's is read from its saved
 * frame pointers, the calling task's is captured on the spot. For example:
 *
 *   cio: task dump: 3 tasks
 *   task 2 'worker' waiting: queue get (queue 0x7ffd...), age 1.250 s
 *       #0 0x55... cio_sched_switch_away+0x8c (sched.c:58)
 *       #1 0x55... cio_wait_park+0xd1 (wait.c:99)
 *       #2 0x55... cio_queue_get+0x77 (queue.c:167)
 *       #3 0x55... worker+0x1e (app.c:12)
 *
 * Call it from the loop's thread (in a task or outside any). Never blocks.
 * Does nothing if the thread has no loop. */
void cio_dump_tasks(FILE *out);

/* Opt in: on SIGQUIT (Ctrl-\), the calling thread's loop prints the task
 * dump on stderr at its next pass (a signal handler cannot safely walk the
 * tasks; the loop can). If a task is blocking the loop at that moment, the
 * loop cannot print until it yields: in debug mode the watchdog has already
 * reported that task and its stack, and says the dump will follow. Several
 * loops (threads) may opt in; each prints its own. The handler replaces
 * SIGQUIT's default action (core dump) for the whole process; it stays
 * installed after the loops close. Returns 0, -EINVAL if the thread has no
 * loop, -ENOMEM, or -ENOSPC past 64 registered loops. */
CIO_MUST_CHECK int cio_dump_on_sigquit(void);

#pragma GCC visibility pop

#endif
