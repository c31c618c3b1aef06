/* test_semaphore.c — cio_semaphore, plain and bounded: values, FIFO hand-off,
 * no barging, cancellation at every blocking point, races with wake-ups. */
#include "helpers.h"

static int order[16], n_order;

/* A task that takes a permit, logs its id, makes one blocking call while
 * holding it, and gives it back. */
typedef struct holder {
    cio_semaphore *sem;
    int id;
    int acquire_rc;
    int hold_rc;
} holder;

static int holder_run(void *arg)
{
    holder *h = arg;
    h->acquire_rc = cio_semaphore_acquire(h->sem);
    if (h->acquire_rc < 0)
        return h->acquire_rc;
    order[n_order++] = h->id;
    h->hold_rc = cio_yield();
    return cio_semaphore_release(h->sem);
}

static cio_task *spawn_holder(holder *h, cio_semaphore *s, int id)
{
    h->sem = s;
    h->id = id;
    return spawn(holder_run, h, NULL);
}

/* ---- values -------------------------------------------------------------- */

static int values_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 2);
    cr_assert_eq(cio_semaphore_value(&s), 2);
    cr_assert(!cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_try_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_value(&s), 0);
    cr_assert(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_try_acquire(&s), -EAGAIN);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    /* A plain semaphore may be released past its initial value (asyncio). */
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_value(&s), 3);
    return 0;
}

Test(semaphore, values_try_acquire_and_unbounded_release)
{
    cr_assert_eq(run_virtual(values_main, NULL), 0);
}

static int bounded_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init_bounded(&s, 2);
    cr_assert_eq(cio_semaphore_release(&s), -EOVERFLOW);
    cr_assert_eq(cio_semaphore_value(&s), 2, "a failed release changes nothing");
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), -EOVERFLOW);
    cr_assert_eq(cio_semaphore_value(&s), 2);

    cio_semaphore z;
    cio_semaphore_init_bounded(&z, 0);
    cr_assert(cio_semaphore_locked(&z));
    cr_assert_eq(cio_semaphore_release(&z), -EOVERFLOW);
    cr_assert_eq(cio_semaphore_value(&z), 0);
    return 0;
}

Test(semaphore, bounded_over_release_is_eoverflow)
{
    cr_assert_eq(run_virtual(bounded_main, NULL), 0);
}

static int bounded_waiters_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init_bounded(&s, 1);
    holder h[3] = {0};
    cio_task *t[3];
    n_order = 0;
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    for (int i = 0; i < 3; i++)
        t[i] = spawn_holder(&h[i], &s, i);
    cr_assert_eq(cio_yield(), 0);
    /* Hand-offs keep the count exact: every holder's release succeeds. */
    cr_assert_eq(cio_semaphore_release(&s), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cr_assert_eq(cio_semaphore_value(&s), 1);
    cr_assert_eq(cio_semaphore_release(&s), -EOVERFLOW);
    return 0;
}

Test(semaphore, bounded_hand_offs_never_overflow)
{
    cr_assert_eq(run_virtual(bounded_waiters_main, NULL), 0);
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
    cio_semaphore s;
    cio_semaphore_init(&s, 1);
    other_ran = false;
    cio_task *t = spawn(set_other_ran, NULL, "other");
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert(!other_ran, "a free permit is taken without switching");
    cr_assert_eq(cio_semaphore_release(&s), 0);
    return cio_task_join(t, NULL);
}

Test(semaphore, free_permit_is_taken_without_switching)
{
    cr_assert_eq(run_virtual(fast_path_main, NULL), 0);
}

Test(semaphore, acquire_outside_a_task_is_eperm)
{
    cio_semaphore s;
    cio_semaphore_init(&s, 1);
    cr_assert_eq(cio_semaphore_acquire(&s), -EPERM);
    cr_assert_eq(cio_semaphore_value(&s), 1);
}

/* ---- fairness ------------------------------------------------------------ */

static int fifo_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 0);
    holder h[5] = {0};
    cio_task *t[5];
    n_order = 0;
    for (int i = 0; i < 5; i++)
        t[i] = spawn_holder(&h[i], &s, i);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(n_order, 0);
    cr_assert(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cr_assert_eq(n_order, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(order[i], i, "permits go out in FIFO order");
    cr_assert_eq(cio_semaphore_value(&s), 2);
    return 0;
}

Test(semaphore, waiters_get_permits_in_fifo_order)
{
    cr_assert_eq(run_virtual(fifo_main, NULL), 0);
}

static int no_barging_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 0);
    holder a = {0}, c = {0};
    n_order = 0;
    cio_task *ta = spawn_holder(&a, &s, 1);
    cr_assert_eq(cio_yield(), 0);               /* a waits */
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_value(&s), 0, "the permit went to the waiter");
    cr_assert(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_try_acquire(&s), -EAGAIN, "no barging");
    cio_task *tc = spawn_holder(&c, &s, 3);
    cr_assert_eq(cio_semaphore_release(&s), 0); /* value 1, nobody queued */
    cr_assert_eq(cio_semaphore_acquire(&s), 0); /* taken before c runs */
    order[n_order++] = 2;
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0);
    cr_assert_eq(cio_task_join(tc, NULL), 0);
    cr_assert_eq(n_order, 3);
    cr_assert_eq(order[0], 2);
    cr_assert_eq(order[1], 1);
    cr_assert_eq(order[2], 3);
    cr_assert_eq(cio_semaphore_value(&s), 2);
    return 0;
}

Test(semaphore, no_barging_past_a_woken_waiter)
{
    cr_assert_eq(run_virtual(no_barging_main, NULL), 0);
}

static int queued_blocks_fast_path_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 0);
    holder a = {0};
    n_order = 0;
    cio_task *ta = spawn_holder(&a, &s, 1);
    cr_assert_eq(cio_yield(), 0);               /* a waits */
    /* While a waits, a new acquire queues behind it. */
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_acquire(&s), 0); /* a releases it to main */
    order[n_order++] = 2;
    cr_assert_eq(order[0], 1, "main queued behind a");
    cr_assert_eq(cio_semaphore_release(&s), 0);
    return cio_task_join(ta, NULL);
}

Test(semaphore, acquire_queues_behind_waiters)
{
    cr_assert_eq(run_virtual(queued_blocks_fast_path_main, NULL), 0);
}

/* ---- cancellation -------------------------------------------------------- */

static int cancelled_fast_path_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 1);
    cio_scope sc;
    cio_scope_enter(&sc, CIO_NEVER);
    cio_scope_cancel(&sc);
    cr_assert_eq(cio_semaphore_acquire(&s), -ECANCELED);
    cr_assert_eq(cio_semaphore_value(&s), 1, "no permit taken");
    cr_assert_eq(cio_scope_leave(&sc), -ECANCELED);
    return 0;
}

Test(semaphore, acquire_is_a_cancellation_point_on_its_fast_path)
{
    cr_assert_eq(run_virtual(cancelled_fast_path_main, NULL), 0);
}

static int cancel_then_release_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init_bounded(&s, 1);
    holder b = {0}, c = {0};
    n_order = 0;
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cio_task *tb = spawn_holder(&b, &s, 1);
    cio_task *tc = spawn_holder(&c, &s, 2);
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(tb);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_task_join(tb, NULL), -ECANCELED);
    cr_assert_eq(cio_task_join(tc, NULL), 0);
    cr_assert_eq(n_order, 1);
    cr_assert_eq(order[0], 2, "the permit skipped the cancelled waiter");
    cr_assert_eq(cio_semaphore_value(&s), 1);
    return 0;
}

Test(semaphore, cancel_then_release_passes_the_permit_on)
{
    cr_assert_eq(run_virtual(cancel_then_release_main, NULL), 0);
}

static int release_then_cancel_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init_bounded(&s, 1);
    holder b = {0};
    n_order = 0;
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cio_task *tb = spawn_holder(&b, &s, 1);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cio_task_cancel(tb);
    cr_assert_eq(cio_task_join(tb, NULL), 0, "b released its permit: 0");
    cr_assert_eq(b.acquire_rc, 0, "the hand-off came first");
    cr_assert_eq(b.hold_rc, -ECANCELED);
    cr_assert_eq(cio_semaphore_value(&s), 1);
    return 0;
}

Test(semaphore, release_then_cancel_before_the_waiter_runs_keeps_the_permit)
{
    cr_assert_eq(run_virtual(release_then_cancel_main, NULL), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

static int acquire_fn(void *arg) { return cio_semaphore_acquire(arg); }

typedef struct timed {
    cio_semaphore *sem;
    int64_t timeout;
    int rc;
} timed;

static int timed_acquire(void *arg)
{
    timed *t = arg;
    t->rc = cio_wait_for(acquire_fn, t->sem, t->timeout);
    return t->rc;
}

static int timeout_main(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cio_semaphore_init(&s, 0);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_wait_for(acquire_fn, &s, 10 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 10 * CIO_MS);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_value(&s), 1, "the timed-out waiter left");

    /* A release before the deadline wins. */
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    timed a = { &s, 10 * CIO_MS, 1 };
    cio_task *ta = spawn(timed_acquire, &a, "a");
    cr_assert_eq(cio_sleep(5 * CIO_MS), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_task_join(ta, NULL), 0);
    cr_assert_eq(cio_semaphore_value(&s), 0, "a holds the permit");

    /* Release and deadline at the same instant: consistent either way. */
    timed b = { &s, 10 * CIO_MS, 1 };
    cio_task *tb = spawn(timed_acquire, &b, "b");
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    int rc = cio_task_join(tb, NULL);
    cr_assert(rc == 0 || rc == -ETIMEDOUT, "rc %d", rc);
    cr_assert_eq(cio_semaphore_value(&s), rc == 0 ? 0 : 1, "nothing lost");
    return 0;
}

Test(semaphore, acquire_timeouts_racing_releases)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}
