/* test_time.c — cio_now, the virtual clock, sleep, sleep_until, yield, FIFO
 * on equal deadlines, and the fairness budget.
 */
#include "helpers.h"

#include <time.h>

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CIO_SEC + ts.tv_nsec;
}

/* ---- the virtual clock ------------------------------------------------- */

static int sequential_sleeps_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_now(), 0, "the virtual clock starts at 0");
    cr_assert_eq(cio_sleep(3 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert_eq(cio_sleep(250 * CIO_MS), 0);
    cr_assert_eq(cio_now(), 3 * CIO_SEC + 250 * CIO_MS);
    cr_assert_eq(cio_sleep(1), 0);
    cr_assert_eq(cio_now(), 3 * CIO_SEC + 250 * CIO_MS + 1);
    return 0;
}

Test(time, virtual_clock_advances_exactly_by_each_sleep)
{
    int64_t before = real_ns();
    cr_assert_eq(run_virtual(sequential_sleeps_main, NULL), 0);
    cr_assert_lt(real_ns() - before, 2 * CIO_SEC, "3 s of virtual sleep is instant");
}

static int sleep_arg(void *arg)
{
    int rc = cio_sleep((int64_t)(intptr_t)arg);
    cr_assert_eq(rc, 0);
    return (int)(cio_now() / CIO_MS);   /* the time it woke, in ms */
}

static int concurrent_sleeps_main(void *arg)
{
    (void)arg;
    cio_task *a = spawn(sleep_arg, (void *)(intptr_t)(5 * CIO_MS), "a");
    cio_task *b = spawn(sleep_arg, (void *)(intptr_t)(2 * CIO_MS), "b");
    cio_task *c = spawn(sleep_arg, (void *)(intptr_t)(9 * CIO_MS), "c");
    cr_assert_eq(cio_task_join(a, NULL), 5);
    cr_assert_eq(cio_task_join(b, NULL), 2, "b woke at its own deadline");
    cr_assert_eq(cio_task_join(c, NULL), 9);
    cr_assert_eq(cio_now(), 9 * CIO_MS, "the longest, not the sum");
    return 0;
}

Test(time, time_jumps_to_the_next_deadline_when_all_tasks_wait)
{
    cr_assert_eq(run_virtual(concurrent_sleeps_main, NULL), 0);
}

static int spin_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(sleep_arg, (void *)(intptr_t)CIO_MS, "sleeper");
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(cio_yield(), 0);
        cr_assert_eq(cio_now(), 0, "time must not jump while a task is ready");
        cr_assert(!cio_task_done(t));
    }
    cr_assert_eq(cio_task_join(t, NULL), 1);
    cr_assert_eq(cio_now(), CIO_MS);
    return 0;
}

Test(time, virtual_time_stands_still_while_a_task_is_ready)
{
    cr_assert_eq(run_virtual(spin_main, NULL), 0);
}

static int env_virtual_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_now(), 0);
    cr_assert_eq(cio_sleep(100 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), 100 * CIO_SEC);
    return 0;
}

Test(time, environment_turns_the_virtual_clock_on)
{
    setenv("CIO_VIRTUAL_CLOCK", "1", 1);
    cr_assert_eq(cio_run(env_virtual_main, NULL), 0);
}

/* ---- cio_now is cached per loop iteration ------------------------------- */

static int cached_main(void *arg)
{
    (void)arg;
    int64_t t0 = cio_now();
    cr_assert_gt(t0, 0, "the real clock is the monotonic clock");
    int64_t start = real_ns();
    while (real_ns() - start < 2 * CIO_MS)
        ;                               /* run without blocking */
    cr_assert_eq(cio_now(), t0, "cio_now must not move while a task runs");
    /* The deadline counts from the cached time, already past in real time. */
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_geq(cio_now() - t0, 2 * CIO_MS, "and catches up at the next pass");
    cr_assert_leq(cio_now(), real_ns());
    return 0;
}

Test(time, now_is_cached_and_advances_on_the_real_clock)
{
    cr_assert_eq(run_real(cached_main, NULL), 0);
}

Test(time, now_outside_a_loop_is_zero_and_blocking_is_refused)
{
    cr_assert_eq(cio_now(), 0);
    cr_assert_eq(cio_sleep(CIO_MS), -EPERM);
    cr_assert_eq(cio_sleep(0), -EPERM);
    cr_assert_eq(cio_yield(), -EPERM);
    cr_assert_eq(cio_sleep_until(CIO_NEVER), -EPERM);
}

/* ---- sleep(0), sleep_until --------------------------------------------- */

static int trace[32], n_trace;

static int note(void *arg)
{
    trace[n_trace++] = (int)(intptr_t)arg;
    return 0;
}

static int sleep_zero_main(void *arg)
{
    int64_t ns = (int64_t)(intptr_t)arg;
    cio_task *a = spawn(note, (void *)1, "a");
    cio_task *b = spawn(note, (void *)2, "b");
    cr_assert_eq(cio_sleep(ns), 0);
    trace[n_trace++] = 3;
    cr_assert_eq(cio_now(), 0, "sleep(0) takes no time");
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    return 0;
}

Test(time, sleep_zero_lets_every_ready_task_run_first)
{
    n_trace = 0;
    cr_assert_eq(run_virtual(sleep_zero_main, (void *)0), 0);
    cr_assert_eq(n_trace, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(trace[i], i + 1);
}

Test(time, negative_sleep_yields_like_sleep_zero)
{
    n_trace = 0;
    cr_assert_eq(run_virtual(sleep_zero_main, (void *)(intptr_t)-5), 0);
    cr_assert_eq(n_trace, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(trace[i], i + 1);
}

static int sleep_until_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_sleep_until(7 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), 7 * CIO_SEC);
    cr_assert_eq(cio_sleep_until(7 * CIO_SEC + 3), 0);
    cr_assert_eq(cio_now(), 7 * CIO_SEC + 3);
    /* A deadline already past (or now) only yields. */
    n_trace = 0;
    cio_task *t = spawn(note, (void *)9, "n");
    cr_assert_eq(cio_sleep_until(CIO_SEC), 0);
    cr_assert_eq(n_trace, 1, "a past deadline still yields");
    cr_assert_eq(cio_sleep_until(cio_now()), 0);
    cr_assert_eq(cio_now(), 7 * CIO_SEC + 3);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(time, sleep_until_wakes_at_the_absolute_deadline)
{
    cr_assert_eq(run_virtual(sleep_until_main, NULL), 0);
}

static int deadline_after_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_sleep(5), 0);
    cr_assert_eq(cio_deadline_after(10), 15);
    cr_assert_eq(cio_deadline_after(0), 5);
    cr_assert_eq(cio_deadline_after(-100), 5);
    cr_assert_eq(cio_deadline_after(CIO_NEVER), CIO_NEVER);
    cr_assert_eq(cio_deadline_after(CIO_NEVER - 5), CIO_NEVER, "saturates");
    cr_assert_eq(cio_deadline_after(CIO_NEVER - 6), CIO_NEVER - 1);
    return 0;
}

Test(time, deadline_after_saturates_at_never)
{
    cr_assert_eq(run_virtual(deadline_after_main, NULL), 0);
}

static int sleep_never_checked(void *arg)
{
    (void)arg;
    return cio_sleep(CIO_NEVER);
}

static int sleep_never_main2(void *arg)
{
    (void)arg;
    cio_task *t = spawn(sleep_never_checked, NULL, "forever");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    return 0;
}

Test(time, sleeping_forever_ends_only_by_cancellation)
{
    cr_assert_eq(run_virtual(sleep_never_main2, NULL), 0);
}

/* ---- equal deadlines wake in FIFO (arming) order ------------------------ */

struct fifo_arg {
    int id;
    int64_t first_sleep;    /* staggers the order in which tasks arm */
};

static int fifo_sleeper(void *arg)
{
    struct fifo_arg *a = arg;
    cr_assert_eq(cio_sleep(a->first_sleep), 0);
    cr_assert_eq(cio_sleep_until(CIO_SEC), 0);
    cr_assert_eq(cio_now(), CIO_SEC);
    trace[n_trace++] = a->id;
    return 0;
}

static int fifo_main(void *arg)
{
    bool reversed = arg != NULL;
    enum { N = 8 };
    struct fifo_arg args[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        args[i].id = i;
        args[i].first_sleep = reversed ? (N - i) * CIO_MS : 0;
        t[i] = spawn(fifo_sleeper, &args[i], NULL);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    return 0;
}

Test(time, equal_deadlines_wake_in_fifo_order)
{
    n_trace = 0;
    cr_assert_eq(run_virtual(fifo_main, NULL), 0);
    cr_assert_eq(n_trace, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(trace[i], i);
}

Test(time, equal_deadlines_follow_arming_order_not_spawn_order)
{
    n_trace = 0;
    cr_assert_eq(run_virtual(fifo_main, (void *)1), 0);
    cr_assert_eq(n_trace, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(trace[i], 7 - i, "the last to arm wakes last");
}

static int different_deadlines_main(void *arg)
{
    (void)arg;
    int64_t ms[] = { 30, 10, 50, 20, 40 };
    cio_task *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = spawn(sleep_arg, (void *)(intptr_t)(ms[i] * CIO_MS), NULL);
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, t, 5), 0);
    cio_task *done;
    int64_t last = 0;
    int n = 0;
    while (cio_as_completed_next(&ac, &done) > 0) {
        cr_assert_gt(cio_now(), last, "earlier deadlines wake first");
        last = cio_now();
        cr_assert_eq(cio_task_status(done), (int)(last / CIO_MS));
        n++;
    }
    cio_as_completed_destroy(&ac);
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), (int)ms[i]);
    return 0;
}

Test(time, sleepers_wake_in_deadline_order)
{
    cr_assert_eq(run_virtual(different_deadlines_main, NULL), 0);
}

/* ---- fairness: a task that only yields cannot starve timers ------------- */

static int budget_main(void *arg)
{
    unsigned budget = (unsigned)(uintptr_t)arg;
    enum { YIELDS = 900 };
    cio_loop_stats s0, s1;
    cio_loop_get_stats(cio_loop_current(), &s0);
    for (int i = 0; i < YIELDS; i++)
        cr_assert_eq(cio_yield(), 0);
    cio_loop_get_stats(cio_loop_current(), &s1);
    uint64_t passes = s1.iterations - s0.iterations;
    /* Every budget's worth of switches is followed by one pass through
     * the timers and the poller. */
    cr_assert_geq(passes, YIELDS / (budget + 1) - 1, "only %llu passes",
                  (unsigned long long)passes);
    cr_assert_leq(passes, YIELDS / budget + 1, "%llu passes",
                  (unsigned long long)passes);
    cr_assert_geq(s1.switches - s0.switches, YIELDS);
    return 0;
}

Test(time, a_yielding_task_passes_through_the_loop_every_budget)
{
    cio_loop_options o = { .virtual_clock = true, .fairness_budget = 8 };
    cr_assert_eq(cio_run_with(&o, budget_main, (void *)(uintptr_t)8), 0);
}

Test(time, the_default_budget_is_64)
{
    cio_loop_options o = { .virtual_clock = true };
    cr_assert_eq(cio_run_with(&o, budget_main, (void *)(uintptr_t)64), 0);
}

static volatile bool sleeper_woke;

static int short_sleeper(void *arg)
{
    (void)arg;
    int rc = cio_sleep(200 * CIO_US);
    sleeper_woke = true;
    return rc;
}

static int spinner_main(void *arg)
{
    (void)arg;
    sleeper_woke = false;
    cio_task *t = spawn(short_sleeper, NULL, "sleeper");
    cr_assert_eq(cio_yield(), 0);       /* let it arm its timer */
    unsigned long spins = 0;
    /* Ends only if the timer fires while this task keeps the CPU busy with
     * yields: the budget forces a pass through the timers. */
    while (!sleeper_woke) {
        cr_assert_eq(cio_yield(), 0);
        spins++;
    }
    cr_assert_gt(spins, 0);
    return cio_task_join(t, NULL);
}

Test(time, a_spinning_task_does_not_starve_a_sleeper, .timeout = 60)
{
    cr_assert_eq(run_real(spinner_main, NULL), 0);
}
