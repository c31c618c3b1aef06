/* test_lock.c — cio_lock: states, FIFO hand-off, no barging, cancellation
 * at every blocking point, wake/cancel and wake/deadline races. */
#include "helpers.h"

static int order[16], n_order;

/* A task that takes the lock, logs its id, holds it for hold_ns (0: one
 * yield), then releases it. */
typedef struct locker {
    cio_lock *lock;
    int id;
    int64_t hold_ns;
    int acquire_rc;     /* what cio_lock_acquire returned */
    int hold_rc;        /* what the blocking call made while holding returned */
    cio_scope *scope;   /* optional: acquire under this scope's deadline */
    int64_t deadline;
    int leave_rc;
} locker;

static int locker_run(void *arg)
{
    locker *k = arg;
    cio_scope s;
    if (k->deadline) {
        cio_scope_enter(&s, k->deadline);
        k->scope = &s;
    }
    k->acquire_rc = cio_lock_acquire(k->lock);
    if (k->deadline) {
        k->scope = NULL;
        k->leave_rc = cio_scope_leave(&s);
    }
    if (k->acquire_rc < 0)
        return k->acquire_rc;
    order[n_order++] = k->id;
    k->hold_rc = cio_sleep(k->hold_ns);
    cr_assert(cio_lock_locked(k->lock));
    cr_assert_eq(cio_lock_release(k->lock), 0);
    return 0;
}

static cio_task *spawn_locker(locker *k, cio_lock *l, int id)
{
    k->lock = l;
    k->id = id;
    return spawn(locker_run, k, NULL);
}

/* ---- states -------------------------------------------------------------- */

static int states_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    cr_assert(!cio_lock_locked(&l));
    cr_assert_eq(cio_lock_try_acquire(&l), 0);
    cr_assert(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_try_acquire(&l), -EAGAIN);
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert(!cio_lock_locked(&l));
    cr_assert_eq(cio_lock_release(&l), -EPERM, "release when unlocked");
    cr_assert(!cio_lock_locked(&l));
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_release(&l), 0);
    return 0;
}

Test(lock, try_acquire_release_and_eperm)
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

static int fast_path_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    other_ran = false;
    cio_task *t = spawn(set_other_ran, NULL, "other");
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert(!other_ran, "a free lock is taken without giving up the CPU");
    cr_assert_eq(cio_lock_release(&l), 0);
    return cio_task_join(t, NULL);
}

Test(lock, free_lock_is_taken_without_switching)
{
    cr_assert_eq(run_virtual(fast_path_main, NULL), 0);
}

Test(lock, acquire_outside_a_task_is_eperm)
{
    cio_lock l;
    cio_lock_init(&l);
    cr_assert_eq(cio_lock_acquire(&l), -EPERM);
    cr_assert(!cio_lock_locked(&l));
}

/* ---- fairness ------------------------------------------------------------ */

static int fifo_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    locker k[5] = {0};
    cio_task *t[5];
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    for (int i = 0; i < 5; i++)
        t[i] = spawn_locker(&k[i], &l, i);
    cr_assert_eq(cio_yield(), 0);       /* all five queue, in spawn order */
    cr_assert_eq(n_order, 0);
    cr_assert_eq(cio_lock_release(&l), 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cr_assert_eq(n_order, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(order[i], i, "waiters must get the lock in FIFO order");
    cr_assert(!cio_lock_locked(&l));
    return 0;
}

Test(lock, waiters_get_the_lock_in_fifo_order)
{
    cr_assert_eq(run_virtual(fifo_main, NULL), 0);
}

static int no_barging_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    locker a = {0}, c = {0};
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cio_task *ta = spawn_locker(&a, &l, 1);
    cr_assert_eq(cio_yield(), 0);       /* a waits */
    cr_assert_eq(cio_lock_release(&l), 0);
    /* The lock went straight to a, which has not run yet. */
    cr_assert(cio_lock_locked(&l), "release hands the lock to the waiter");
    cr_assert_eq(cio_lock_try_acquire(&l), -EAGAIN, "no barging");
    cio_task *tc = spawn_locker(&c, &l, 3);
    /* main queues behind a; c, spawned now, queues behind main. */
    cr_assert_eq(cio_lock_acquire(&l), 0);
    order[n_order++] = 2;
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0);
    cr_assert_eq(cio_task_join(tc, NULL), 0);
    cr_assert_eq(n_order, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(order[i], i + 1);
    return 0;
}

Test(lock, no_barging_past_a_woken_waiter)
{
    cr_assert_eq(run_virtual(no_barging_main, NULL), 0);
}

/* ---- cancellation -------------------------------------------------------- */

static int cancelled_fast_path_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_lock_acquire(&l), -ECANCELED,
                 "a cancelled task cannot take even a free lock");
    cr_assert(!cio_lock_locked(&l));
    cr_assert_eq(cio_lock_try_acquire(&l), 0, "try_acquire never blocks");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    return cio_lock_release(&l);
}

Test(lock, acquire_is_a_cancellation_point_on_its_fast_path)
{
    cr_assert_eq(run_virtual(cancelled_fast_path_main, NULL), 0);
}

static int cancel_waiter_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    locker b = {0}, c = {0};
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cio_task *tb = spawn_locker(&b, &l, 1);
    cio_task *tc = spawn_locker(&c, &l, 2);
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(tb);                /* cancel first ... */
    cr_assert_eq(cio_lock_release(&l), 0);  /* ... then wake: c gets it */
    cr_assert_eq(cio_task_join(tb, NULL), -ECANCELED);
    cr_assert_eq(b.acquire_rc, -ECANCELED);
    cr_assert_eq(cio_task_join(tc, NULL), 0);
    cr_assert_eq(n_order, 1);
    cr_assert_eq(order[0], 2);
    cr_assert(!cio_lock_locked(&l));
    return 0;
}

Test(lock, cancel_then_release_passes_the_lock_to_the_next_waiter)
{
    cr_assert_eq(run_virtual(cancel_waiter_main, NULL), 0);
}

static int wake_then_cancel_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    locker b = {0}, c = {0};
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cio_task *tb = spawn_locker(&b, &l, 1);
    cio_task *tc = spawn_locker(&c, &l, 2);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_lock_release(&l), 0);  /* wake b first ... */
    cio_task_cancel(tb);                    /* ... then cancel it */
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    cr_assert_eq(b.acquire_rc, 0, "the hand-off came first: b owns the lock");
    cr_assert_eq(b.hold_rc, -ECANCELED, "b sees the cancel at its next call");
    cr_assert_eq(cio_task_join(tc, NULL), 0);
    cr_assert_eq(n_order, 2);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
    cr_assert(!cio_lock_locked(&l));
    return 0;
}

Test(lock, release_then_cancel_before_the_waiter_runs_keeps_the_lock)
{
    cr_assert_eq(run_virtual(wake_then_cancel_main, NULL), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

static int acquire_fn(void *arg) { return cio_lock_acquire(arg); }

static int timeout_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_wait_for(acquire_fn, &l, 10 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 10 * CIO_MS);
    cr_assert(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert(!cio_lock_locked(&l), "the timed-out waiter left the queue");
    return 0;
}

Test(lock, acquire_under_wait_for_times_out)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}

/* release at `release_at`, b's deadline at `deadline` */
static void deadline_race(int64_t release_at, int64_t deadline, bool b_first)
{
    cio_lock l;
    cio_lock_init(&l);
    locker b = { .deadline = deadline };
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cio_task *tb = spawn_locker(&b, &l, 1);
    if (b_first)
        cr_assert_eq(cio_yield(), 0);   /* b's deadline timer is armed first */
    cr_assert_eq(cio_sleep_until(release_at), 0);
    cr_assert_eq(cio_lock_release(&l), 0);
    bool handed = cio_lock_locked(&l);
    int rc = cio_task_join(tb, NULL);
    if (release_at < deadline) {
        cr_assert(handed);
        cr_assert_eq(rc, 0);
        cr_assert_eq(b.leave_rc, 0);
    } else if (release_at > deadline) {
        cr_assert(!handed);
        cr_assert_eq(rc, -ECANCELED);
        cr_assert_eq(b.leave_rc, -ETIMEDOUT);
    } else {
        /* Same instant: either outcome, but it must be consistent. */
        cr_assert_eq(handed, rc == 0);
        cr_assert_eq(b.leave_rc, handed ? 0 : -ETIMEDOUT);
    }
    cr_assert_eq(n_order, handed ? 1 : 0);
    cr_assert(!cio_lock_locked(&l), "nothing lost, nothing stuck");
}

static int deadline_race_main(void *arg)
{
    (void)arg;
    int64_t ms = CIO_MS;
    deadline_race(cio_now() + 5 * ms, cio_now() + 10 * ms, false);
    deadline_race(cio_now() + 15 * ms, cio_now() + 10 * ms, false);
    deadline_race(cio_now() + 10 * ms, cio_now() + 10 * ms, false);
    deadline_race(cio_now() + 10 * ms, cio_now() + 10 * ms, true);
    return 0;
}

Test(lock, release_racing_a_deadline)
{
    cr_assert_eq(run_virtual(deadline_race_main, NULL), 0);
}

static int wake_then_deadline_main(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_lock_init(&l);
    locker b = { .deadline = CIO_NEVER - 1 };
    n_order = 0;
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cio_task *tb = spawn_locker(&b, &l, 1);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_not_null(b.scope);
    cr_assert_eq(cio_lock_release(&l), 0);          /* hand-off ... */
    cio_scope_set_deadline(b.scope, cio_now());     /* ... then the deadline */
    cr_assert_eq(cio_task_join(tb, NULL), 0);
    cr_assert_eq(b.acquire_rc, 0, "the wake came first");
    cr_assert_eq(b.leave_rc, 0, "the deadline interrupted nothing");
    cr_assert_eq(n_order, 1);
    cr_assert(!cio_lock_locked(&l));
    return 0;
}

Test(lock, release_then_deadline_before_the_waiter_runs_keeps_the_lock)
{
    cr_assert_eq(run_virtual(wake_then_deadline_main, NULL), 0);
}
