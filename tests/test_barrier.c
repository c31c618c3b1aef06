/* test_barrier.c — cio_barrier: rounds, arrival indexes, withdrawal on
 * cancel, wake/cancel races, abort, reset and the broken state, timeouts. */
#include "helpers.h"

typedef struct party {
    cio_barrier *bar;
    int rc;         /* cio_barrier_wait's result */
    int next_rc;    /* the next blocking call's result */
    bool passed;
} party;

static int party_run(void *arg)
{
    party *p = arg;
    p->rc = cio_barrier_wait(p->bar);
    p->passed = true;
    p->next_rc = cio_yield();
    return p->rc;
}

static cio_task *spawn_party(party *p, cio_barrier *b)
{
    p->bar = b;
    p->rc = 1000;
    p->passed = false;
    return spawn(party_run, p, NULL);
}

/* True if rcs[0..n) is a permutation of 0..n-1. */
static bool is_permutation(const int *rcs, int n)
{
    bool seen[64] = {0};
    for (int i = 0; i < n; i++) {
        if (rcs[i] < 0 || rcs[i] >= n || seen[rcs[i]])
            return false;
        seen[rcs[i]] = true;
    }
    return true;
}

static int accessors_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    cr_assert_eq(cio_barrier_parties(&b), 3);
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    cr_assert(!cio_barrier_broken(&b));
    cio_barrier one;
    cio_barrier_init(&one, 1);
    cr_assert_eq(cio_barrier_wait(&one), 0, "one party passes at once");
    cr_assert_eq(cio_barrier_wait(&one), 0);
    return 0;
}

Test(barrier, accessors_and_a_single_party)
{
    cr_assert_eq(run_virtual(accessors_main, NULL), 0);
}

Test(barrier, wait_outside_a_task_is_eperm)
{
    cio_barrier b;
    cio_barrier_init(&b, 1);
    cr_assert_eq(cio_barrier_wait(&b), -EPERM);
}

static int round_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    party p[2];
    cio_task *t[2];
    for (int i = 0; i < 2; i++) {
        t[i] = spawn_party(&p[i], &b);
        cr_assert_eq(cio_sleep(CIO_MS), 0);
        cr_assert_eq(cio_barrier_n_waiting(&b), (size_t)i + 1);
        cr_assert(!p[i].passed, "nobody passes before all parties arrive");
    }
    int mine = cio_barrier_wait(&b);    /* the third arrival: passes at once */
    cr_assert_eq(mine, 2, "the last arrival gets parties-1");
    cr_assert_eq(cio_barrier_n_waiting(&b), 0, "ready for the next round");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), i, "arrival index");
        cr_assert_eq(p[i].next_rc, 0);
    }
    return 0;
}

Test(barrier, parties_pass_together_with_arrival_indexes)
{
    cr_assert_eq(run_virtual(round_main, NULL), 0);
}

static int rounds_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    party p[9];
    cio_task *t[9];
    for (int i = 0; i < 9; i++)
        t[i] = spawn_party(&p[i], &b);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i % 3, "round %d", i / 3);
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    return 0;
}

Test(barrier, reusable_for_many_rounds)
{
    cr_assert_eq(run_virtual(rounds_main, NULL), 0);
}

/* ---- cancellation -------------------------------------------------------- */

static int cancelled_fast_path_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 2);
    party p;
    cio_task *t = spawn_party(&p, &b);
    cr_assert_eq(cio_yield(), 0);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_barrier_wait(&b), -ECANCELED,
                 "a cancelled last arrival does not release the round");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(cio_barrier_n_waiting(&b), 1);
    cr_assert(!p.passed);
    cr_assert_eq(cio_barrier_wait(&b), 1);
    cr_assert_eq(cio_task_join(t, NULL), 0);

    cio_barrier one;
    cio_barrier_init(&one, 1);
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_barrier_wait(&one), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    return 0;
}

Test(barrier, wait_is_a_cancellation_point_on_its_fast_path)
{
    cr_assert_eq(run_virtual(cancelled_fast_path_main, NULL), 0);
}

static int withdraw_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    party p[4];
    cio_task *t[4];
    t[0] = spawn_party(&p[0], &b);
    t[1] = spawn_party(&p[1], &b);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_barrier_n_waiting(&b), 2);
    cio_task_cancel(t[0]);
    cr_assert_eq(cio_task_join(t[0], NULL), -ECANCELED);
    cr_assert_eq(cio_barrier_n_waiting(&b), 1, "the cancelled task withdrew");
    cr_assert(!cio_barrier_broken(&b), "the barrier stays whole");
    t[2] = spawn_party(&p[2], &b);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!p[1].passed && !p[2].passed);
    t[3] = spawn_party(&p[3], &b);
    int rcs[3];
    for (int i = 1; i < 4; i++)
        rcs[i - 1] = cio_task_join(t[i], NULL);
    cr_assert(is_permutation(rcs, 3), "unique indexes: %d %d %d",
              rcs[0], rcs[1], rcs[2]);
    cr_assert_eq(rcs[0], 0);
    cr_assert_eq(rcs[1], 1);
    cr_assert_eq(rcs[2], 2);
    return 0;
}

Test(barrier, cancelled_waiter_withdraws_and_indexes_stay_unique)
{
    cr_assert_eq(run_virtual(withdraw_main, NULL), 0);
}

static int pass_then_cancel_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    party p[2];
    cio_task *t[2];
    for (int i = 0; i < 2; i++)
        t[i] = spawn_party(&p[i], &b);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_barrier_wait(&b), 2);  /* releases the round ... */
    cio_task_cancel(t[0]);                  /* ... then cancel before it runs */
    cr_assert_eq(cio_task_join(t[0], NULL), 0, "the passage came first");
    cr_assert_eq(p[0].next_rc, -ECANCELED, "the cancel is seen next");
    cr_assert_eq(cio_task_join(t[1], NULL), 1);
    return 0;
}

Test(barrier, pass_then_cancel_before_the_waiter_runs_returns_its_index)
{
    cr_assert_eq(run_virtual(pass_then_cancel_main, NULL), 0);
}

/* ---- abort, reset, broken ------------------------------------------------ */

static int abort_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 3);
    party p[2];
    cio_task *t[2];
    for (int i = 0; i < 2; i++)
        t[i] = spawn_party(&p[i], &b);
    cr_assert_eq(cio_yield(), 0);
    cio_barrier_abort(&b);
    cr_assert(cio_barrier_broken(&b));
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), CIO_EBROKEN);
    cr_assert_eq(cio_barrier_wait(&b), CIO_EBROKEN, "broken until reset");
    cr_assert_eq(cio_barrier_wait(&b), CIO_EBROKEN);
    cio_barrier_reset(&b);
    cr_assert(!cio_barrier_broken(&b));
    for (int i = 0; i < 2; i++)
        t[i] = spawn_party(&p[i], &b);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_barrier_wait(&b), 2, "works again after reset");
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i);
    return 0;
}

Test(barrier, abort_breaks_waiters_and_later_waits_until_reset)
{
    cr_assert_eq(run_virtual(abort_main, NULL), 0);
}

static int reset_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 2);
    party p, q;
    cio_task *t = spawn_party(&p, &b);
    cr_assert_eq(cio_yield(), 0);
    cio_barrier_reset(&b);
    cr_assert(!cio_barrier_broken(&b), "reset does not leave it broken");
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    cr_assert_eq(cio_task_join(t, NULL), CIO_EBROKEN, "waiters are broken out");
    t = spawn_party(&q, &b);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_barrier_wait(&b), 1);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(barrier, reset_breaks_current_waiters_only)
{
    cr_assert_eq(run_virtual(reset_main, NULL), 0);
}

static int abort_then_cancel_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 2);
    party p;
    cio_task *t = spawn_party(&p, &b);
    cr_assert_eq(cio_yield(), 0);
    cio_barrier_abort(&b);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), CIO_EBROKEN, "the abort came first");
    cr_assert_eq(p.next_rc, -ECANCELED);
    /* A cancelled task gets -ECANCELED even from a broken barrier. */
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_barrier_wait(&b), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    return 0;
}

Test(barrier, abort_then_cancel_returns_ebroken)
{
    cr_assert_eq(run_virtual(abort_then_cancel_main, NULL), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

static int wait_fn(void *arg) { return cio_barrier_wait(arg); }

static int timed_party(void *arg) { return cio_wait_for(wait_fn, arg, 10 * CIO_MS); }

static int timeout_main(void *arg)
{
    (void)arg;
    cio_barrier b;
    cio_barrier_init(&b, 2);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_wait_for(wait_fn, &b, 10 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 10 * CIO_MS);
    cr_assert_eq(cio_barrier_n_waiting(&b), 0, "the timed-out task withdrew");
    cr_assert(!cio_barrier_broken(&b));

    /* Arrival before the deadline: both pass. */
    cio_task *t = spawn(timed_party, &b, "early");
    cr_assert_eq(cio_sleep(5 * CIO_MS), 0);
    cr_assert_eq(cio_barrier_wait(&b), 1);
    cr_assert_eq(cio_task_join(t, NULL), 0);

    /* Arrival at the deadline: the party either passed or withdrew. */
    t = spawn(timed_party, &b, "exact");
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_MS));
    int mine = cio_barrier_wait(&b);
    cr_assert_eq(cio_scope_leave(&s), mine == 1 ? 0 : -ETIMEDOUT);
    int theirs = cio_task_join(t, NULL);
    cr_assert((mine == 1 && theirs == 0) || (mine == -ECANCELED && theirs == -ETIMEDOUT),
              "mine %d theirs %d", mine, theirs);
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    return 0;
}

Test(barrier, wait_timeouts_racing_arrivals)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}
