/* scope.c — cancel scopes: deadlines, cancellation, shields, and the
 * asyncio forms built on them (timeout, wait_for, shield).
 */
#include "internal.h"
#include "cio/scope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void cancel(cio_scope *s, bool by_deadline)
{
    if (!s->_active || s->_cancelled)
        return;
    s->_cancelled = true;
    s->_timed_out = by_deadline;
    cio_timer_disarm(&s->_task->loop->timers, &s->_timer);
    cio_wait_interrupt(s->_task);
}

static void on_deadline(cio_timer_node *n)
{
    cio_scope *s = (cio_scope *)((char *)n - offsetof(cio_scope, _timer));
    cancel(s, true);
}

static void apply_deadline(cio_scope *s, int64_t deadline)
{
    cio_loop *L = s->_task->loop;
    s->_deadline = deadline;
    cio_timer_disarm(&L->timers, &s->_timer);
    if (deadline == CIO_NEVER || s->_cancelled)
        return;
    if (deadline <= L->now || cio_timer_arm(&L->timers, &s->_timer, deadline) < 0)
        cancel(s, true);        /* past already (or no memory to wait) */
}

static void enter(cio_scope *s, int64_t deadline, bool shielded)
{
    cio_task *t = cio_task_current();
    s->_task = t;
    s->_cancelled = s->_timed_out = s->_delivered = false;
    s->_shielded = shielded;
    s->_active = t != NULL;
    s->_deadline = deadline;
    cio_timer_node_init(&s->_timer, on_deadline);
    if (!t)
        return;                 /* outside a task: an inert scope */
    s->_parent = t->scope;
    t->scope = s;
    apply_deadline(s, deadline);
}

void cio_scope_enter(cio_scope *s, int64_t deadline) { enter(s, deadline, false); }

void cio_scope_enter_shielded(cio_scope *s, int64_t deadline)
{
    enter(s, deadline, true);
}

int cio_scope_leave(cio_scope *s)
{
    cio_task *t = s->_task;
    if (!t || !s->_active)
        return 0;
    if (t->scope != s) {
        fprintf(stderr, "cio: task '%s' left a cancel scope that is not its "
                        "innermost (scopes must nest)\n", cio_task_name(t));
        abort();
    }
    cio_timer_disarm(&t->loop->timers, &s->_timer);
    t->scope = s->_parent;
    s->_active = false;
    if (!s->_delivered)
        return 0;
    return s->_timed_out ? -ETIMEDOUT : -ECANCELED;
}

void cio_scope_cancel(cio_scope *s) { cancel(s, false); }

void cio_scope_set_deadline(cio_scope *s, int64_t deadline)
{
    if (s->_active)
        apply_deadline(s, deadline);
}

bool cio_scope_cancelled(const cio_scope *s) { return s->_cancelled; }
bool cio_scope_timed_out(const cio_scope *s) { return s->_timed_out; }

bool cio_cancelled(void)
{
    cio_task *t = cio_task_current();
    return t && cio_task_is_cancelled(t);
}

int cio_wait_for(cio_task_fn *fn, void *arg, int64_t timeout_ns)
{
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(timeout_ns));
    int rc = fn(arg);
    int why = cio_scope_leave(&s);
    /* An outside cancellation that is in force too is what the caller must
     * see (asyncio.wait_for and trio agree): the timeout does not hide it. */
    if (why == -ETIMEDOUT && rc == -ECANCELED) {
        if (!cio_cancelled())
            return -ETIMEDOUT;
        /* The caller sees -ECANCELED: it belongs to the outer scope now. */
        return cio_task_cancel_delivered(cio_task_current());
    }
    return rc;
}

int cio_shield(cio_task_fn *fn, void *arg)
{
    cio_scope s;
    cio_scope_enter_shielded(&s, CIO_NEVER);
    int rc = fn(arg);
    int ignored = cio_scope_leave(&s);
    (void)ignored;
    return rc;
}
