/* cio/scope.h — cancel scopes, timeouts, wait_for, shield.
 *
 * A cancel scope wraps a stretch of one task, between cio_scope_enter and
 * cio_scope_leave (strictly nested, on the task's own stack). Cancelling it,
 * or passing its deadline, is level-triggered: from then on every blocking
 * call inside it returns -ECANCELED at once, until the scope is left. A
 * shielded scope is not reached by the cancellation of scopes outside it.
 *
 * The asyncio forms:
 *   asyncio.timeout(d)       cio_scope_enter(&s, cio_deadline_after(d)) ...
 *                            rc = cio_scope_leave(&s)  -> -ETIMEDOUT
 *   asyncio.timeout_at(t)    cio_scope_enter(&s, t)
 *   asyncio.wait_for(f, d)   cio_wait_for(f, arg, d)
 *   asyncio.shield(f)        cio_shield(f, arg)
 */
#ifndef CIO_SCOPE_H
#define CIO_SCOPE_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_scope {
    /* First: what every cancellation check reads (a task's root scope
     * shares a cache line with the task's switch fields). */
    bool _cancelled, _timed_out, _shielded, _active;
    bool _delivered;            /* a blocking call failed because of it */
    struct cio_scope *_parent;
    cio_task *_task;
    int64_t _deadline;
    cio_timer_node _timer;
} cio_scope;

/* Open a scope in the current task with an absolute deadline (CIO_NEVER for
 * none). A deadline already past cancels the scope at once. Never blocks. */
void cio_scope_enter(cio_scope *s, int64_t deadline);

/* Open a shielded scope: cancellation from outside does not reach the calls
 * inside (cleanup code, asyncio.shield); its own deadline and
 * cio_scope_cancel still do. Never blocks. */
void cio_scope_enter_shielded(cio_scope *s, int64_t deadline);

/* Close the innermost scope s. Returns -ETIMEDOUT if s's own deadline
 * interrupted the code inside (some blocking call in it returned -ECANCELED
 * because of s), -ECANCELED if cio_scope_cancel did, else 0: like
 * asyncio.timeout, a deadline that passed while the code inside never
 * blocked again is not an error (cio_scope_timed_out still tells). When
 * several enclosing scopes are cancelled, the interruption belongs to the
 * outermost of them (up to a shield), as in trio. A cancellation of an outer
 * scope is not reported here: it stays in force after s is left. Never
 * blocks. */
int cio_scope_leave(cio_scope *s);

/* Cancel s (any task may cancel any scope that is open). Never blocks. */
void cio_scope_cancel(cio_scope *s);

/* Move s's deadline (earlier or later); CIO_NEVER removes it. */
void cio_scope_set_deadline(cio_scope *s, int64_t deadline);

/* True once s is cancelled, by cio_scope_cancel or by its deadline. */
bool cio_scope_cancelled(const cio_scope *s);

/* True if s was cancelled by its own deadline. */
bool cio_scope_timed_out(const cio_scope *s);

/* True if a blocking call made now by the current task would return
 * -ECANCELED (asyncio's Task.cancelling(), trio's checkpoint test). */
bool cio_cancelled(void);

/* asyncio.wait_for: run fn(arg) in the current task under a timeout of
 * timeout_ns. Returns fn's status, except that -ECANCELED caused by the
 * timeout becomes -ETIMEDOUT (not when an outside cancellation is in force
 * too: then it stays -ECANCELED). Blocks (whatever fn blocks on). */
CIO_MUST_CHECK int cio_wait_for(cio_task_fn *fn, void *arg, int64_t timeout_ns);

/* asyncio.shield: run fn(arg) in the current task, shielded from outside
 * cancellation; returns fn's status. An outside cancellation that arrived
 * meanwhile is still in force afterwards. Blocks (whatever fn blocks on). */
CIO_MUST_CHECK int cio_shield(cio_task_fn *fn, void *arg);

#pragma GCC visibility pop

#endif
