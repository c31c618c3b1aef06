/* cio/gather.h — waiting on several tasks: asyncio.gather, asyncio.wait,
 * asyncio.as_completed.
 *
 * These work on tasks the caller spawned with cio_task_spawn (not group
 * children). gather joins (frees) the tasks; wait and as_completed do not.
 */
#ifndef CIO_GATHER_H
#define CIO_GATHER_H

#include "base.h"
#include "task.h"

#pragma GCC visibility push(default)

enum {
    CIO_GATHER_RETURN_ALL = 1, /* return_exceptions=True: report every status
                                  and return 0 even if some failed */
};

/* Wait for all n tasks to finish, then join them. statuses and results (each
 * may be NULL) receive every task's status and result, in argument order.
 * Returns the first failure in completion order (a status < 0), or 0; with
 * CIO_GATHER_RETURN_ALL, 0 whatever the tasks returned. If the gathering
 * task is cancelled, every task is cancelled and still joined, and
 * -ECANCELED is returned. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_gather(cio_task **tasks, size_t n, int *statuses,
                              void **results, unsigned flags);

enum cio_wait_mode {
    CIO_FIRST_COMPLETED,  /* return when any task is done */
    CIO_FIRST_EXCEPTION,  /* when any fails (status < 0), or all are done */
    CIO_ALL_COMPLETED,    /* when all are done */
};

/* asyncio.wait: wait until the condition of mode holds or timeout_ns passes
 * (CIO_NEVER: no timeout). Tasks are not joined or cancelled; use
 * cio_task_done to split done from pending. Returns how many tasks are done
 * (possibly 0 on timeout), or -ECANCELED. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_wait(cio_task **tasks, size_t n, enum cio_wait_mode mode,
                            int64_t timeout_ns);

/* asyncio.as_completed: yields tasks in the order they finish.
 *
 *     cio_as_completed ac;
 *     cio_as_completed_init(&ac, tasks, n);
 *     cio_task *t;
 *     while ((rc = cio_as_completed_next(&ac, &t)) > 0) use(t);
 *     cio_as_completed_destroy(&ac);
 */
typedef struct cio_as_completed {
    cio_task **_tasks;
    size_t _n, _yielded;
    struct cio_done_hook *_hooks;
    cio_task **_ready;          /* finished, not yet yielded (FIFO ring) */
    size_t _ready_head, _ready_count;
    cio_waiter *_waiter;
} cio_as_completed;

/* Start watching n tasks (the array must stay valid). Returns 0 or -ENOMEM.
 * Never blocks. */
CIO_MUST_CHECK int cio_as_completed_init(cio_as_completed *ac, cio_task **tasks,
                                         size_t n);

/* Wait for the next task to finish and store it in *out (not joined).
 * Returns 1, or 0 when every task has been yielded, or -ECANCELED.
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_as_completed_next(cio_as_completed *ac, cio_task **out);

/* Stop watching; the tasks themselves are untouched. Never blocks. */
void cio_as_completed_destroy(cio_as_completed *ac);

#pragma GCC visibility pop

#endif
