/* test_event.c — cio_event: set/clear/is_set, waking every waiter, waits
 * that see a set even if cleared or cancelled before they run, cancellation
 * and timeouts. */
#include "helpers.h"

static int order[16], n_order;

typedef struct waiter {
    cio_event *ev;
    int id;
    int rc;         /* cio_event_wait's result */
    int next_rc;    /* the next blocking call's result */
} waiter;

static int waiter_run(void *arg)
{
    waiter *w = arg;
    w->rc = cio_event_wait(w->ev);
    if (w->rc == 0)
        order[n_order++] = w->id;
    w->next_rc = cio_yield();
    return w->rc;
}

static cio_task *spawn_waiter(waiter *w, cio_event *e, int id)
{
    w->ev = e;
    w->id = id;
    return spawn(waiter_run, w, NULL);
}

static int states_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    cr_assert(!cio_event_is_set(&e));
    cio_event_set(&e);
    cr_assert(cio_event_is_set(&e));
    cio_event_set(&e);
    cr_assert(cio_event_is_set(&e));
    cio_event_clear(&e);
    cr_assert(!cio_event_is_set(&e));
    cio_event_clear(&e);
    cr_assert(!cio_event_is_set(&e));
    return 0;
}

Test(event, set_clear_is_set)
{
    cr_assert_eq(run_virtual(states_main, NULL), 0);
}

static bool other_ran;

static int set_other_ran(void *arg)
{
    (void)arg;
    other_ran = true;
    return 0;
}

static int set_fast_path_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    cio_event_set(&e);
    other_ran = false;
    cio_task *t = spawn(set_other_ran, NULL, "other");
    cr_assert_eq(cio_event_wait(&e), 0);
    cr_assert(!other_ran, "waiting on a set event does not switch");
    return cio_task_join(t, NULL);
}

Test(event, wait_on_a_set_event_returns_at_once)
{
    cr_assert_eq(run_virtual(set_fast_path_main, NULL), 0);
}

Test(event, wait_outside_a_task_is_eperm)
{
    cio_event e;
    cio_event_init(&e);
    cr_assert_eq(cio_event_wait(&e), -EPERM);
}

static int set_wakes_all_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    waiter w[4] = {0};
    cio_task *t[4];
    n_order = 0;
    for (int i = 0; i < 4; i++)
        t[i] = spawn_waiter(&w[i], &e, i);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(n_order, 0, "nobody passes before the set");
    cio_event_set(&e);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(n_order, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(order[i], i, "woken waiters run in the order they waited");
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    }
    /* Cleared: a new wait blocks again until the next set. */
    cio_event_clear(&e);
    waiter x = {0};
    cio_task *tx = spawn_waiter(&x, &e, 9);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(n_order, 4);
    cio_event_set(&e);
    cr_assert_eq(cio_task_join(tx, NULL), 0);
    cr_assert_eq(order[4], 9);
    return 0;
}

Test(event, set_wakes_every_waiter_in_fifo_order)
{
    cr_assert_eq(run_virtual(set_wakes_all_main, NULL), 0);
}

static int set_then_clear_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    waiter w = {0};
    n_order = 0;
    cio_task *t = spawn_waiter(&w, &e, 1);
    cr_assert_eq(cio_yield(), 0);
    cio_event_set(&e);
    cio_event_clear(&e);    /* before the waiter runs */
    cr_assert_eq(cio_task_join(t, NULL), 0, "a woken waiter returns 0");
    cr_assert_eq(n_order, 1);
    return 0;
}

Test(event, waiter_woken_then_cleared_still_returns_0)
{
    cr_assert_eq(run_virtual(set_then_clear_main, NULL), 0);
}

/* ---- cancellation -------------------------------------------------------- */

static int cancelled_fast_path_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    cio_event_set(&e);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_event_wait(&e), -ECANCELED,
                 "a cancelled task gets -ECANCELED even if the event is set");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(cio_event_wait(&e), 0);
    return 0;
}

Test(event, wait_is_a_cancellation_point_on_its_fast_path)
{
    cr_assert_eq(run_virtual(cancelled_fast_path_main, NULL), 0);
}

static int cancel_then_set_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    waiter a = {0}, b = {0};
    n_order = 0;
    cio_task *ta = spawn_waiter(&a, &e, 1);
    cio_task *tb = spawn_waiter(&b, &e, 2);
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(ta);
    cio_event_set(&e);
    cr_assert_eq(cio_task_join(ta, NULL), -ECANCELED);
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    cr_assert_eq(n_order, 1);
    cr_assert_eq(order[0], 2);
    return 0;
}

Test(event, cancel_then_set_cancels_only_that_waiter)
{
    cr_assert_eq(run_virtual(cancel_then_set_main, NULL), 0);
}

static int set_then_cancel_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    waiter a = {0};
    n_order = 0;
    cio_task *ta = spawn_waiter(&a, &e, 1);
    cr_assert_eq(cio_yield(), 0);
    cio_event_set(&e);
    cio_task_cancel(ta);    /* woken, not yet run */
    cr_assert_eq(cio_task_join(ta, NULL), 0, "the set came first");
    cr_assert_eq(a.next_rc, -ECANCELED, "the cancel is seen by the next call");
    cr_assert_eq(n_order, 1);
    return 0;
}

Test(event, set_then_cancel_before_the_waiter_runs_returns_0)
{
    cr_assert_eq(run_virtual(set_then_cancel_main, NULL), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

static int wait_fn(void *arg) { return cio_event_wait(arg); }

typedef struct timed {
    cio_event *ev;
    int64_t timeout;
} timed;

static int timed_wait(void *arg)
{
    timed *t = arg;
    return cio_wait_for(wait_fn, t->ev, t->timeout);
}

static int timeout_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_wait_for(wait_fn, &e, 10 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 10 * CIO_MS);

    timed early = { &e, 10 * CIO_MS }, late = { &e, 3 * CIO_MS };
    cio_task *te = spawn(timed_wait, &early, "early");
    cio_task *tl = spawn(timed_wait, &late, "late");
    cr_assert_eq(cio_sleep(5 * CIO_MS), 0);
    cio_event_set(&e);
    cr_assert_eq(cio_task_join(te, NULL), 0, "set before its deadline");
    cr_assert_eq(cio_task_join(tl, NULL), -ETIMEDOUT, "deadline before set");
    return 0;
}

Test(event, wait_timeouts_racing_set)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}

static int set_then_deadline_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    timed t = { &e, 10 * CIO_MS };
    cio_task *tt = spawn(timed_wait, &t, "t");
    cr_assert_eq(cio_yield(), 0);
    /* Wake at exactly the deadline: both orders must give a clean answer. */
    cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cio_event_set(&e);
    int rc = cio_task_join(tt, NULL);
    cr_assert(rc == 0 || rc == -ETIMEDOUT, "rc %d", rc);
    return 0;
}

Test(event, set_at_the_deadline_gives_a_clean_answer)
{
    cr_assert_eq(run_virtual(set_then_deadline_main, NULL), 0);
}
