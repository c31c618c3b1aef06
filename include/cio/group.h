/* cio/group.h — task groups (asyncio.TaskGroup, trio nurseries).
 *
 * A group owns the tasks spawned into it. cio_group_wait returns when all of
 * them have ended; the first child that fails (a status < 0 other than
 * -ECANCELED) cancels its siblings. A group cannot be left with children
 * running: cio_group_wait always waits for every child, and
 * cio_group_destroy refuses (aborts with a message) a group that has
 * children alive.
 *
 *     cio_group g;
 *     cio_group_init(&g);
 *     for (...) if ((rc = cio_group_spawn(&g, NULL, fetch, url, NULL)) < 0) ...
 *     rc = cio_group_wait(&g);     // first failure, or 0
 *     cio_group_destroy(&g);
 */
#ifndef CIO_GROUP_H
#define CIO_GROUP_H

#include "base.h"
#include "task.h"

#pragma GCC visibility push(default)

typedef struct cio_group {
    cio_task *_first, *_last;   /* children, in spawn order */
    size_t _alive;              /* children not yet finished */
    size_t _failed;             /* children that failed */
    int _first_error;
    bool _closing, _cancelled;
    cio_waiter *_waiter;        /* the task in cio_group_wait */
} cio_group;

/* Make an empty group. Never blocks. */
void cio_group_init(cio_group *g);

/* Spawn fn(arg) into the group. If out is not NULL the handle is stored
 * there and stays valid until cio_group_destroy: every child's status and
 * result stay retrievable (cio_task_status, cio_task_result). With out NULL
 * the child is freed as soon as it ends (its failure still counts): use that
 * for servers that spawn without end. Returns 0, -ENOMEM, or -ESHUTDOWN if
 * the group is closing (its wait has returned, or it failed or was
 * cancelled). Never blocks. */
CIO_MUST_CHECK int cio_group_spawn(cio_group *g, cio_task **out,
                                   cio_task_fn *fn, void *arg,
                                   const cio_task_opts *opts);

/* Wait until every child has ended, then close the group. Returns the
 * status of the first child that failed, or 0. If the waiting task is
 * cancelled, the children are cancelled and still waited for, and the result
 * is -ECANCELED unless a child failed (a child's error wins, as in asyncio's
 * TaskGroup). One task at a time may wait on a group: a second gets -EBUSY.
 * Blocks: a cancellation point (it then still waits). */
CIO_MUST_CHECK int cio_group_wait(cio_group *g);

/* Cancel every child; the group then closes (spawns fail). Never blocks. */
void cio_group_cancel(cio_group *g);

/* How many children have failed so far; how many are still alive. */
size_t cio_group_failed(const cio_group *g);
size_t cio_group_alive(const cio_group *g);

/* Free the children kept for their status. The group must have no child
 * alive (wait first). Never blocks. */
void cio_group_destroy(cio_group *g);

#pragma GCC visibility pop

#endif
