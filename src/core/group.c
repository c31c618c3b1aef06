/* group.c — task groups (asyncio.TaskGroup, trio nurseries). */
#include "internal.h"
#include "cio/group.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cio_group_init(cio_group *g) { memset(g, 0, sizeof *g); }

static void link_child(cio_group *g, cio_task *t)
{
    t->group = g;
    t->group_prev = g->_last;
    t->group_next = NULL;
    if (g->_last)
        g->_last->group_next = t;
    else
        g->_first = t;
    g->_last = t;
}

static void unlink_child(cio_group *g, cio_task *t)
{
    if (t->group_prev)
        t->group_prev->group_next = t->group_next;
    else
        g->_first = t->group_next;
    if (t->group_next)
        t->group_next->group_prev = t->group_prev;
    else
        g->_last = t->group_prev;
    t->group_prev = t->group_next = NULL;
}

int cio_group_spawn(cio_group *g, cio_task **out, cio_task_fn *fn, void *arg,
                    const cio_task_opts *opts)
{
    if (g->_closing)
        return -ESHUTDOWN;
    cio_loop *L = cio_loop_current();
    if (!L || !fn)
        return -EINVAL;
    cio_task *t;
    int rc = cio_task_spawn_on(L, &t, fn, arg, opts);
    if (rc < 0)
        return rc;
    link_child(g, t);
    t->free_when_done = out == NULL;
    g->_alive++;
    if (out)
        *out = t;
    return 0;
}

static void cancel_children(cio_group *g)
{
    g->_closing = true;
    g->_cancelled = true;
    for (cio_task *t = g->_first; t; t = t->group_next)
        cio_task_cancel(t);
}

void cio_group_cancel(cio_group *g) { cancel_children(g); }

void cio_group_child_done(cio_group *g, cio_task *t)
{
    g->_alive--;
    t->retrieved = true;
    if (cio_status_failed(t->status)) {
        g->_failed++;
        if (g->_first_error == 0) {
            g->_first_error = t->status;
            cancel_children(g);
        }
    }
    if (t->free_when_done)
        unlink_child(g, t);
    if (g->_alive == 0 && g->_waiter)
        cio_wait_wake(g->_waiter, 0);
}

static void cancel_children_cb(void *g) { cancel_children(g); }

int cio_group_wait(cio_group *g)
{
    if (g->_waiter)
        return -EBUSY;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_GROUP, g);
    g->_waiter = &w;
    int rc = cio_wait_until_zero(&w, &g->_alive, cancel_children_cb, g);
    g->_waiter = NULL;
    g->_closing = true;
    if (g->_first_error)
        return g->_first_error;
    return rc;
}

size_t cio_group_failed(const cio_group *g) { return g->_failed; }
size_t cio_group_alive(const cio_group *g) { return g->_alive; }

void cio_group_destroy(cio_group *g)
{
    if (g->_alive) {
        fprintf(stderr, "cio: cio_group_destroy: %zu children still running "
                        "(call cio_group_wait first)\n", g->_alive);
        abort();
    }
    while (g->_first) {
        cio_task *t = g->_first;
        unlink_child(g, t);
        cio_task_free(t);
    }
    g->_closing = true;
}
