/* wait.c — the one way to wait (DESIGN §2).
 *
 * Every blocking call parks its task on a cio_waiter until it is woken, its
 * deadline passes or it is cancelled. The waiter's state settles the races:
 * the first of the three to arrive changes it from PARKED, and the others
 * then find nothing to do.
 */
#include "internal.h"

#include <errno.h>

void cio_waitlist_init(cio_waitlist *l)
{
    l->head = l->tail = NULL;
    l->count = 0;
}

static void list_append(cio_waitlist *l, cio_waiter *w)
{
    w->list = l;
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    l->count++;
}

static void list_remove(cio_waiter *w)
{
    cio_waitlist *l = w->list;
    if (!l)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    l->count--;
    w->list = NULL;
    w->prev = w->next = NULL;
}

void cio_waiter_init(cio_waiter *w)
{
    w->prev = w->next = NULL;
    w->list = NULL;
    w->task = NULL;
    w->data = NULL;
    w->result = 0;
    w->state = CIO_WAITER_IDLE;
    w->why = CIO_WAIT_OTHER;
    w->why_obj = NULL;
    cio_timer_node_init(&w->timer, NULL);
}

/* Settle a parked waiter: off its list, result recorded, task ready. */
static void settle(cio_waiter *w, uint8_t state, int result)
{
    list_remove(w);
    w->state = state;
    w->result = result;
    cio_sched_ready(w->task);
}

static void on_deadline(cio_timer_node *n)
{
    cio_waiter *w = (cio_waiter *)((char *)n - offsetof(cio_waiter, timer));
    if (w->state == CIO_WAITER_PARKED)
        settle(w, CIO_WAITER_TIMED_OUT, -ETIMEDOUT);
}

int cio_wait_park(cio_waiter *w, cio_waitlist *list, int64_t deadline)
{
    cio_loop *L = cio_tls_loop;
    cio_task *t = L ? L->current : NULL;
    if (!t)
        return -EPERM;          /* blocking call outside any task */
    if (cio_task_is_cancelled(t))
        return cio_task_cancel_delivered(t);
    if (deadline <= L->now)
        return -ETIMEDOUT;
    w->task = t;
    w->state = CIO_WAITER_PARKED;
    w->result = 0;
    w->list = NULL;
    cio_timer_node_init(&w->timer, on_deadline);
    if (deadline != CIO_NEVER && cio_timer_arm(&L->timers, &w->timer, deadline) < 0)
        return -ENOMEM;
    if (list)
        list_append(list, w);
    t->wait = w;
    t->state = CIO_TASK_PARKED;
    cio_sched_switch_away(t);
    t->wait = NULL;
    cio_timer_disarm(&L->timers, &w->timer);
    return w->result;
}

bool cio_wait_wake(cio_waiter *w, int result)
{
    if (w->state != CIO_WAITER_PARKED)
        return false;
    settle(w, CIO_WAITER_WOKEN, result);
    return true;
}

bool cio_waitlist_wake_first(cio_waitlist *l, int result)
{
    cio_waiter *w = l->head;
    if (!w)
        return false;
    return cio_wait_wake(w, result);
}

size_t cio_waitlist_wake_all(cio_waitlist *l, int result)
{
    size_t n = 0;
    while (l->head) {
        cio_wait_wake(l->head, result);
        n++;
    }
    return n;
}

void cio_wait_interrupt(cio_task *t)
{
    if (!t || t->state != CIO_TASK_PARKED || !t->wait)
        return;
    if (t->wait->state == CIO_WAITER_PARKED && cio_task_is_cancelled(t))
        settle(t->wait, CIO_WAITER_CANCELLED, cio_task_cancel_delivered(t));
}

int cio_wait_until_zero(cio_waiter *w, const size_t *pending,
                        void (*on_cancel)(void *), void *ctx)
{
    int rc = 0;
    cio_scope shield;
    bool shielded = false;
    /* A cancellation point even when nothing is pending. */
    if (cio_cancelled() && !*pending)
        return cio_task_cancel_delivered(cio_task_current());
    while (*pending) {
        int r = cio_wait_park(w, NULL, CIO_NEVER);
        if (r == -ECANCELED && !shielded) {
            rc = -ECANCELED;
            if (on_cancel)
                on_cancel(ctx);
            cio_scope_enter_shielded(&shield, CIO_NEVER);
            shielded = true;
        } else if (r < 0 && r != -ECANCELED) {
            rc = r;             /* not in a task, or out of memory */
            break;
        }
    }
    if (shielded) {
        int ignored = cio_scope_leave(&shield);
        (void)ignored;
    }
    return rc;
}

int cio_wait_checkpoint(void)
{
    cio_task *t = cio_task_current();
    if (!t)
        return -EPERM;
    return cio_task_is_cancelled(t) ? cio_task_cancel_delivered(t) : 0;
}
