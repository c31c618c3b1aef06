/* cio/task.h — tasks (asyncio.create_task, Task, current_task, all_tasks).
 *
 * A task is a stackful coroutine: a function running on its own stack that
 * gives up the CPU only inside a cio call that would block. Tasks run in FIFO
 * order; a spawned task does not run until its spawner blocks or yields.
 *
 * Lifetime: a task's handle stays valid until the task is joined (or, for a
 * task in a group, until the group is destroyed). A task that is never joined
 * is kept by the loop; if it failed, the loop reports it when it closes.
 */
#ifndef CIO_TASK_H
#define CIO_TASK_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_task_opts {
    const char *name;     /* copied (up to 31 bytes); NULL: "task-<id>" */
    size_t stack_size;    /* 0: the loop's default */
} cio_task_opts;

/* Spawn fn(arg) as a new task on the current loop (or, outside any task, on
 * the thread's loop). It is queued behind the tasks already ready and starts
 * when the spawner blocks or yields. opts may be NULL. On success stores the
 * handle in *out and returns 0 (out NULL: the task is detached, kept by the
 * loop until it closes, and debug mode does not report it as never joined); -ENOMEM if no stack could be had, -EINVAL if
 * the thread has no loop. Never blocks. */
CIO_MUST_CHECK int cio_task_spawn(cio_task **out, cio_task_fn *fn, void *arg,
                                  const cio_task_opts *opts);

/* Wait for t to finish, then free it. Returns t's status (what its function
 * returned, or -ECANCELED if it was cancelled before it ran) and stores what
 * it set with cio_task_set_result in *result (when result is not NULL).
 * If the joining task is cancelled (before or while it waits, even if t
 * ends meanwhile), returns -ECANCELED and leaves t joinable, running or done
 * (cio_task_done tells which): -ECANCELED while cio_cancelled() is true
 * always means t was not freed; otherwise it is t's own status. A task may
 * be joined once; joining a group's child is an error (-EINVAL).
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_task_join(cio_task *t, void **result);

/* Request cancellation of t: its outermost cancel scope is cancelled, so its
 * current and every later blocking call return -ECANCELED (except inside
 * shielded scopes). A task cancelled before it first runs never runs its
 * function. Cancelling a finished task does nothing. Never blocks. */
void cio_task_cancel(cio_task *t);

/* Let every other ready task run, then continue (asyncio.sleep(0)). Returns 0
 * or -ECANCELED. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_yield(void);

/* The running task, or NULL outside any task. */
cio_task *cio_task_current(void);

/* A task's name ("main" for cio_run's main task). Valid while t is. */
const char *cio_task_name(const cio_task *t);

/* Rename a task (copied, up to 31 bytes). */
void cio_task_set_name(cio_task *t, const char *name);

/* A task's id: unique per process, increasing in spawn order. */
uint64_t cio_task_id(const cio_task *t);

/* True once t's function has returned (or t was cancelled before it ran). */
bool cio_task_done(const cio_task *t);

/* t's status once done (undefined before; see cio_task_done). */
int cio_task_status(const cio_task *t);

/* The result t stored with cio_task_set_result, once done; else NULL. */
void *cio_task_result(const cio_task *t);

/* True if t has been asked to cancel (its outermost scope is cancelled). */
bool cio_task_cancel_requested(const cio_task *t);

/* Store a pointer the joiner receives (the task's "return value"). */
void cio_task_set_result(void *result);

/* Fill out[0..max) with the loop's live (spawned, unfinished) tasks in spawn
 * order; returns how many there are in all (may exceed max). */
size_t cio_task_list(cio_task **out, size_t max);

#pragma GCC visibility pop

#endif
