/* gather.c — asyncio.gather, asyncio.wait and asyncio.as_completed.
 *
 * Each watches a set of tasks with one done-hook per task and parks on a
 * single waiter that the hooks wake.
 */
#include "internal.h"
#include "cio/gather.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STACK_HOOKS 16

static bool watchable(cio_task **tasks, size_t n)
{
    if (!tasks && n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tasks[i] || tasks[i]->group || tasks[i]->joining)
            return false;
    return true;
}

static cio_done_hook *hooks_alloc(cio_done_hook *local, size_t n)
{
    if (n <= STACK_HOOKS)
        return local;
    return calloc(n, sizeof(cio_done_hook));
}

/* Remove the hooks that have not fired. A fired hook's task may have been
 * joined and freed since: it is not looked at. */
static void hooks_release(cio_task **tasks, size_t n, cio_done_hook *hooks,
                          cio_done_hook *local)
{
    for (size_t i = 0; i < n; i++)
        if (hooks[i].fn)
            cio_task_hook_remove(tasks[i], &hooks[i]);
    if (hooks != local)
        free(hooks);
}

/* ---- gather ------------------------------------------------------------- */

struct gather {
    cio_waiter w;
    size_t pending;
    int first_error;
    cio_task **tasks;
    size_t n;
};

/* Claim every task for joining; a task listed twice would be freed twice. */
static bool claim_all(cio_task **tasks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (tasks[i]->joining) {
            while (i--)
                tasks[i]->joining = false;
            return false;
        }
        tasks[i]->joining = true;
    }
    return true;
}

static void unclaim_all(cio_task **tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tasks[i]->joining = false;
}

static void gather_done(cio_done_hook *h, cio_task *t)
{
    struct gather *g = h->ctx;
    if (g->first_error == 0 && t->status < 0)
        g->first_error = t->status;
    if (--g->pending == 0)
        cio_wait_wake(&g->w, 0);
}

static void gather_cancel_all(void *ctx)
{
    struct gather *g = ctx;
    for (size_t i = 0; i < g->n; i++)
        cio_task_cancel(g->tasks[i]);
}

int cio_gather(cio_task **tasks, size_t n, int *statuses, void **results,
               unsigned flags)
{
    if (!watchable(tasks, n) || !claim_all(tasks, n))
        return -EINVAL;
    cio_done_hook local[STACK_HOOKS];
    cio_done_hook *hooks = hooks_alloc(local, n);
    if (!hooks) {
        unclaim_all(tasks, n);
        return -ENOMEM;
    }
    struct gather g = { .tasks = tasks, .n = n };
    cio_waiter_init(&g.w);
    cio_waiter_why(&g.w, CIO_WAIT_GATHER, NULL);
    for (size_t i = 0; i < n; i++) {
        cio_task *t = tasks[i];
        hooks[i] = (cio_done_hook){ .fn = NULL };
        if (t->state == CIO_TASK_DONE) {
            if (g.first_error == 0 && t->status < 0)
                g.first_error = t->status;
            continue;
        }
        hooks[i] = (cio_done_hook){ .fn = gather_done, .ctx = &g };
        cio_task_hook_add(t, &hooks[i]);
        g.pending++;
    }
    int rc = cio_wait_until_zero(&g.w, &g.pending, gather_cancel_all, &g);
    if (rc < 0 && rc != -ECANCELED) {   /* not in a task: nothing waited */
        hooks_release(tasks, n, hooks, local);
        unclaim_all(tasks, n);
        return rc;
    }
    if (hooks != local)
        free(hooks);
    for (size_t i = 0; i < n; i++) {
        if (statuses)
            statuses[i] = tasks[i]->status;
        if (results)
            results[i] = tasks[i]->result;
        cio_task_free(tasks[i]);
    }
    if (rc == -ECANCELED)
        return rc;
    return (flags & CIO_GATHER_RETURN_ALL) ? 0 : g.first_error;
}

/* ---- wait --------------------------------------------------------------- */

struct waitset {
    cio_waiter w;
    enum cio_wait_mode mode;
    size_t n, done;
    bool failed;
};

static bool satisfied(const struct waitset *s)
{
    switch (s->mode) {
    case CIO_FIRST_COMPLETED: return s->done > 0 || s->n == 0;
    case CIO_FIRST_EXCEPTION: return s->failed || s->done == s->n;
    case CIO_ALL_COMPLETED:   return s->done == s->n;
    }
    return true;
}

static void wait_done(cio_done_hook *h, cio_task *t)
{
    struct waitset *s = h->ctx;
    s->done++;
    if (t->status < 0)
        s->failed = true;
    if (satisfied(s))
        cio_wait_wake(&s->w, 0);
}

int cio_wait(cio_task **tasks, size_t n, enum cio_wait_mode mode,
             int64_t timeout_ns)
{
    if (!watchable(tasks, n))
        return -EINVAL;
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    struct waitset s = { .mode = mode, .n = n };
    cio_waiter_init(&s.w);
    cio_waiter_why(&s.w, CIO_WAIT_GATHER, NULL);
    for (size_t i = 0; i < n; i++) {
        if (tasks[i]->state == CIO_TASK_DONE) {
            s.done++;
            s.failed |= tasks[i]->status < 0;
        }
    }
    if (satisfied(&s))
        return (int)s.done;
    cio_done_hook local[STACK_HOOKS];
    cio_done_hook *hooks = hooks_alloc(local, n);
    if (!hooks)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        hooks[i] = (cio_done_hook){ .fn = NULL };
        if (tasks[i]->state != CIO_TASK_DONE) {
            hooks[i] = (cio_done_hook){ .fn = wait_done, .ctx = &s };
            cio_task_hook_add(tasks[i], &hooks[i]);
        }
    }
    int64_t deadline = timeout_ns == CIO_NEVER ? CIO_NEVER
                                               : cio_deadline_after(timeout_ns);
    rc = cio_wait_park(&s.w, NULL, deadline);
    hooks_release(tasks, n, hooks, local);
    if (rc == -ECANCELED || rc == -EPERM || rc == -ENOMEM)
        return rc;
    return (int)s.done;
}

/* ---- as_completed ------------------------------------------------------- */

static void push_ready(cio_as_completed *ac, cio_task *t)
{
    ac->_ready[(ac->_ready_head + ac->_ready_count) % ac->_n] = t;
    ac->_ready_count++;
}

static void ac_done(cio_done_hook *h, cio_task *t)
{
    cio_as_completed *ac = h->ctx;
    push_ready(ac, t);
    if (ac->_waiter)
        cio_wait_wake(ac->_waiter, 0);
}

int cio_as_completed_init(cio_as_completed *ac, cio_task **tasks, size_t n)
{
    memset(ac, 0, sizeof *ac);
    if (!watchable(tasks, n))
        return -EINVAL;
    ac->_tasks = tasks;
    ac->_n = n;
    if (n == 0)
        return 0;
    ac->_hooks = calloc(n, sizeof *ac->_hooks);
    ac->_ready = calloc(n, sizeof *ac->_ready);
    if (!ac->_hooks || !ac->_ready) {
        free(ac->_hooks);
        free(ac->_ready);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (tasks[i]->state == CIO_TASK_DONE) {
            push_ready(ac, tasks[i]);
        } else {
            ac->_hooks[i] = (cio_done_hook){ .fn = ac_done, .ctx = ac };
            cio_task_hook_add(tasks[i], &ac->_hooks[i]);
        }
    }
    return 0;
}

int cio_as_completed_next(cio_as_completed *ac, cio_task **out)
{
    if (ac->_yielded == ac->_n)
        return 0;
    int rc = cio_wait_checkpoint();
    while (rc == 0 && ac->_ready_count == 0) {
        cio_waiter w;
        cio_waiter_init(&w);
        cio_waiter_why(&w, CIO_WAIT_GATHER, NULL);
        ac->_waiter = &w;
        rc = cio_wait_park(&w, NULL, CIO_NEVER);
        ac->_waiter = NULL;
    }
    if (rc < 0)
        return rc;
    *out = ac->_ready[ac->_ready_head];
    ac->_ready_head = (ac->_ready_head + 1) % ac->_n;
    ac->_ready_count--;
    ac->_yielded++;
    return 1;
}

void cio_as_completed_destroy(cio_as_completed *ac)
{
    if (ac->_hooks)
        hooks_release(ac->_tasks, ac->_n, ac->_hooks, NULL);
    free(ac->_ready);
    memset(ac, 0, sizeof *ac);
}
