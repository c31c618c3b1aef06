/* test_condition.c — cio_condition: -EPERM without the lock, FIFO notify,
 * wait_for's predicate, the lock held on every return (a cancelled wait
 * re-acquires it first), notify/cancel races both ways, timeouts. */
#include "helpers.h"

static int order[16], n_order;

/* A task that waits on the condition once, recording what it saw. */
typedef struct waiter {
    cio_condition *cond;
    int id;
    int rc;             /* cio_condition_wait's result */
    bool held;          /* the lock was held when the wait returned */
    int next_rc;        /* the next blocking call's result */
} waiter;

static int waiter_run(void *arg)
{
    waiter *w = arg;
    cio_lock *l = cio_condition_lock(w->cond);
    int rc = cio_lock_acquire(l);
    if (rc < 0)
        return rc;
    w->rc = cio_condition_wait(w->cond);
    w->held = cio_lock_locked(l);
    order[n_order++] = w->id;
    w->next_rc = cio_yield();
    cr_assert_eq(cio_lock_release(l), 0);
    return w->rc;
}

static cio_task *spawn_waiter(waiter *w, cio_condition *c, int id)
{
    w->cond = c;
    w->id = id;
    return spawn(waiter_run, w, NULL);
}

static int lock_main(void *arg)
{
    (void)arg;
    cio_lock mine;
    cio_lock_init(&mine);
    cio_condition a, b;
    cio_condition_init(&a, &mine);
    cio_condition_init(&b, NULL);
    cr_assert_eq(cio_condition_lock(&a), &mine);
    cr_assert_not_null(cio_condition_lock(&b));
    cr_assert_neq(cio_condition_lock(&b), &mine);
    cr_assert(!cio_lock_locked(cio_condition_lock(&b)));
    return 0;
}

Test(condition, init_with_a_given_or_own_lock)
{
    cr_assert_eq(run_virtual(lock_main, NULL), 0);
}

static bool always(void *arg) { (void)arg; return true; }

static int eperm_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cr_assert_eq(cio_condition_wait(&c), -EPERM);
    cr_assert_eq(cio_condition_wait_for(&c, always, NULL), -EPERM);
    cr_assert_eq(cio_condition_notify(&c, 1), -EPERM);
    cr_assert_eq(cio_condition_notify_all(&c), -EPERM);
    cr_assert(!cio_lock_locked(cio_condition_lock(&c)));
    return 0;
}

Test(condition, calls_without_the_lock_are_eperm)
{
    cr_assert_eq(run_virtual(eperm_main, NULL), 0);
}

/* ---- notify -------------------------------------------------------------- */

static int notify_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter w[5] = {0};
    cio_task *t[5];
    n_order = 0;
    for (int i = 0; i < 5; i++)
        t[i] = spawn_waiter(&w[i], &c, i);
    cr_assert_eq(cio_yield(), 0);
    /* Every waiter released the lock while waiting: main can take it. */
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify(&c, 0), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cr_assert_eq(cio_condition_notify(&c, 2), 2);
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(n_order, 3, "only three were notified");
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify_all(&c), 2);
    cr_assert_eq(cio_condition_notify_all(&c), 0, "nobody left");
    cr_assert_eq(cio_lock_release(l), 0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
        cr_assert(w[i].held);
        cr_assert_eq(order[i], i, "notify wakes in the order they waited");
    }
    cr_assert(!cio_lock_locked(l));
    return 0;
}

Test(condition, notify_n_and_notify_all_wake_in_fifo_order)
{
    cr_assert_eq(run_virtual(notify_main, NULL), 0);
}

static int reacquire_queues_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter w = {0};
    n_order = 0;
    cio_task *t = spawn_waiter(&w, &c, 1);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(n_order, 0, "the notified waiter needs the lock to return");
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert(w.held);
    cr_assert_eq(n_order, 1);
    return 0;
}

Test(condition, notified_waiter_returns_only_with_the_lock)
{
    cr_assert_eq(run_virtual(reacquire_queues_main, NULL), 0);
}

/* ---- wait_for ------------------------------------------------------------ */

typedef struct counter {
    cio_condition *cond;
    int value, target;
    int calls;      /* predicate evaluations */
    bool locked_in_pred;
} counter;

static bool reached(void *arg)
{
    counter *k = arg;
    k->calls++;
    k->locked_in_pred &= cio_lock_locked(cio_condition_lock(k->cond));
    return k->value >= k->target;
}

static int wait_for_run(void *arg)
{
    counter *k = arg;
    cio_lock *l = cio_condition_lock(k->cond);
    cr_assert_eq(cio_lock_acquire(l), 0);
    int rc = cio_condition_wait_for(k->cond, reached, k);
    cr_assert(cio_lock_locked(l));
    cr_assert_eq(cio_lock_release(l), 0);
    return rc;
}

static int wait_for_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);

    /* True at once: no wait, one evaluation. */
    counter now = { .cond = &c, .value = 1, .target = 1, .locked_in_pred = true };
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_wait_for(&c, reached, &now), 0);
    cr_assert_eq(now.calls, 1);
    cr_assert_eq(cio_lock_release(l), 0);

    /* False: re-checked after each notify, returns once it holds. */
    counter k = { .cond = &c, .target = 3, .locked_in_pred = true };
    cio_task *t = spawn(wait_for_run, &k, "wait_for");
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(cio_sleep(CIO_MS), 0);
        cr_assert(!cio_task_done(t));
        cr_assert_eq(cio_lock_acquire(l), 0);
        k.value = i;
        cr_assert_eq(cio_condition_notify(&c, 1), 1);
        cr_assert_eq(cio_lock_release(l), 0);
    }
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(k.calls, 4, "once first, then after each of 3 notifies");
    cr_assert(k.locked_in_pred, "the predicate runs with the lock held");
    cr_assert(!cio_lock_locked(l));
    return 0;
}

Test(condition, wait_for_checks_the_predicate_first_and_after_each_wake)
{
    cr_assert_eq(run_virtual(wait_for_main, NULL), 0);
}

/* ---- cancellation -------------------------------------------------------- */

static int cancelled_fast_path_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_condition_wait(&c), -ECANCELED);
    cr_assert(cio_lock_locked(l));
    counter k = { .cond = &c, .value = 1, .target = 1 };
    cr_assert_eq(cio_condition_wait_for(&c, reached, &k), -ECANCELED,
                 "a cancellation point even when the predicate holds");
    cr_assert(cio_lock_locked(l));
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    return cio_lock_release(l);
}

Test(condition, wait_and_wait_for_are_cancellation_points_on_their_fast_path)
{
    cr_assert_eq(run_virtual(cancelled_fast_path_main, NULL), 0);
}

static int cancel_reacquires_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter w = {0};
    n_order = 0;
    cio_task *t = spawn_waiter(&w, &c, 1);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(n_order, 0, "the cancelled wait waits for the lock");
    cr_assert(!cio_task_done(t));
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert(w.held, "a cancelled wait returns with the lock");
    cr_assert_eq(w.next_rc, -ECANCELED);
    cr_assert(!cio_lock_locked(l));
    return 0;
}

Test(condition, cancelled_wait_reacquires_the_lock_before_returning)
{
    cr_assert_eq(run_virtual(cancel_reacquires_main, NULL), 0);
}

static int cancel_then_notify_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter a = {0}, b = {0};
    n_order = 0;
    cio_task *ta = spawn_waiter(&a, &c, 1);
    cio_task *tb = spawn_waiter(&b, &c, 2);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cio_task_cancel(ta);
    cr_assert_eq(cio_condition_notify(&c, 1), 1, "a withdrew: b is woken");
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(ta, NULL), -ECANCELED);
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    cr_assert(a.held && b.held);
    return 0;
}

Test(condition, cancel_then_notify_wakes_the_next_waiter)
{
    cr_assert_eq(run_virtual(cancel_then_notify_main, NULL), 0);
}

static int notify_then_cancel_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter a = {0}, b = {0};
    n_order = 0;
    cio_task *ta = spawn_waiter(&a, &c, 1);
    cio_task *tb = spawn_waiter(&b, &c, 2);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cio_task_cancel(ta);            /* notified, has not run */
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0, "a keeps its notification");
    cr_assert(a.held);
    cr_assert_eq(a.next_rc, -ECANCELED, "and sees the cancel next");
    cr_assert(!cio_task_done(tb), "b was not notified");
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify_all(&c), 1);
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    return 0;
}

Test(condition, notify_then_cancel_before_the_waiter_runs_returns_0)
{
    cr_assert_eq(run_virtual(notify_then_cancel_main, NULL), 0);
}

static int cancel_during_reacquire_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    waiter a = {0};
    n_order = 0;
    cio_task *ta = spawn_waiter(&a, &c, 1);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cr_assert_eq(cio_sleep(CIO_MS), 0);  /* a now queues for the lock */
    cio_task_cancel(ta);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert(!cio_task_done(ta), "the re-acquire is shielded");
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0, "notified before the cancel");
    cr_assert(a.held);
    cr_assert_eq(a.next_rc, -ECANCELED);
    cr_assert(!cio_lock_locked(l));
    return 0;
}

Test(condition, cancel_during_the_reacquire_still_returns_with_the_lock)
{
    cr_assert_eq(run_virtual(cancel_during_reacquire_main, NULL), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

static int wait_fn(void *arg) { return cio_condition_wait(arg); }

static int timeout_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    cr_assert_eq(cio_lock_acquire(l), 0);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_wait_for(wait_fn, &c, 10 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 10 * CIO_MS);
    cr_assert(cio_lock_locked(l), "the timed-out wait holds the lock");
    cr_assert_eq(cio_condition_notify_all(&c), 0, "and left the queue");

    /* The same through a scope opened by the caller. */
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(5 * CIO_MS));
    cr_assert_eq(cio_condition_wait(&c), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert(cio_lock_locked(l));
    return cio_lock_release(l);
}

Test(condition, wait_times_out_holding_the_lock)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}

typedef struct timed_waiter {
    cio_condition *cond;
    int rc;
    bool held;
} timed_waiter;

static int timed_wait(void *arg)
{
    timed_waiter *t = arg;
    cio_lock *l = cio_condition_lock(t->cond);
    cr_assert_eq(cio_lock_acquire(l), 0);
    t->rc = cio_wait_for(wait_fn, t->cond, 10 * CIO_MS);
    t->held = cio_lock_locked(l);
    return cio_lock_release(l);
}

static int notify_at_deadline_main(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_condition_init(&c, NULL);
    cio_lock *l = cio_condition_lock(&c);
    timed_waiter a = { &c, 1, false }, b = { &c, 1, false };
    cio_task *ta = spawn(timed_wait, &a, "a");
    cio_task *tb = spawn(timed_wait, &b, "b");
    cr_assert_eq(cio_yield(), 0);
    /* The deadline and a notify(1) at the same instant: whatever a got, the
     * notify is not lost, b stays untouched until its own deadline. */
    cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cr_assert_eq(cio_lock_acquire(l), 0);
    int n = cio_condition_notify(&c, 1);
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0);
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    cr_assert(a.held && b.held);
    cr_assert(a.rc == 0 || a.rc == -ETIMEDOUT);
    cr_assert_eq(n, (a.rc == 0) + (b.rc == 0), "each notify reached a waiter");
    return 0;
}

Test(condition, notify_at_the_deadline_is_not_lost)
{
    cr_assert_eq(run_virtual(notify_at_deadline_main, NULL), 0);
}
