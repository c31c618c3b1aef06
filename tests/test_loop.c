/* test_loop.c — cio_run, the embedding API (create, spawn from outside,
 * run_until, close), deadlock detection, the report of unjoined failures,
 * one loop per thread, statistics.
 */
#include "helpers.h"

#include <pthread.h>

static cio_loop *virtual_loop(void)
{
    cio_loop_options o = { .virtual_clock = true };
    cio_loop *L = cio_loop_create(&o);
    cr_assert_not_null(L);
    return L;
}

static cio_loop_stats stats_of(cio_loop *L)
{
    cio_loop_stats s;
    cio_loop_get_stats(L, &s);
    return s;
}

static int ret_arg(void *arg) { return (int)(intptr_t)arg; }

static int nap_ms(void *arg)
{
    int rc = cio_sleep((int64_t)(intptr_t)arg * CIO_MS);
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

/* ---- cio_run ----------------------------------------------------------- */

Test(loop, cio_run_returns_mains_status)
{
    cr_assert_eq(run_virtual(ret_arg, (void *)0), 0);
    cr_assert_eq(run_virtual(ret_arg, (void *)17), 17);
    cr_assert_eq(run_virtual(ret_arg, (void *)(intptr_t)-EPIPE), -EPIPE);
    cr_assert_null(cio_loop_current(), "the loop is gone after cio_run");
    cr_assert_eq(cio_run(ret_arg, (void *)3), 3, "default options");
}

static int name_main(void *arg)
{
    (void)arg;
    cr_assert_str_eq(cio_task_name(cio_task_current()), "main");
    cr_assert_not_null(cio_loop_current());
    return 0;
}

Test(loop, the_main_task_is_named_main)
{
    cr_assert_eq(run_virtual(name_main, NULL), 0);
}

struct leftover {
    int rc;
    int64_t cleaned_at;
};

static int leftover_sleeper(void *arg)
{
    struct leftover *l = arg;
    l->rc = cio_sleep(100 * CIO_SEC);
    cr_assert_eq(cio_shield(nap_ms, (void *)500), 500, "cleanup may block");
    l->cleaned_at = cio_now();
    return l->rc;
}

static int leave_behind_main(void *arg)
{
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, leftover_sleeper, arg, NULL), 0);
    return cio_sleep(CIO_SEC);
}

Test(loop, cio_run_cancels_and_joins_leftover_tasks, .init = cr_redirect_stderr)
{
    struct leftover l = { 1, -1 };
    cr_assert_eq(run_virtual(leave_behind_main, &l), 0);
    cr_assert_eq(l.rc, -ECANCELED);
    cr_assert_eq(l.cleaned_at, CIO_SEC + 500 * CIO_MS, "its cleanup ran to its end");
    cr_assert_str_eq(captured_stderr(), "", "a cancelled task is not reported");
}

static int cancel_self_main(void *arg)
{
    (void)arg;
    cio_task_cancel(cio_task_current());
    return cio_sleep(CIO_SEC);
}

Test(loop, a_main_that_cancels_itself_returns_ecanceled)
{
    cr_assert_eq(run_virtual(cancel_self_main, NULL), -ECANCELED);
}

static int nested_run_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_run(ret_arg, (void *)1), -EBUSY, "one loop per thread");
    cr_assert_null(cio_loop_create(NULL));
    cr_assert_eq(errno, EBUSY);
    cio_loop *L = cio_loop_current();
    cr_assert_eq(cio_loop_run_until(L, cio_task_current()), -EPERM,
                 "run_until is for outside any task");
    cio_loop_close(L);              /* refused inside a task: no effect */
    cr_assert_eq(cio_loop_current(), L);
    cr_assert_eq(cio_sleep(CIO_MS), 0, "the loop still works");
    return 0;
}

Test(loop, a_second_loop_on_the_same_thread_is_refused)
{
    cr_assert_eq(run_virtual(nested_run_main, NULL), 0);
}

Test(loop, a_second_loop_create_is_refused)
{
    cio_loop *L = virtual_loop();
    errno = 0;
    cr_assert_null(cio_loop_create(NULL));
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(cio_run(ret_arg, (void *)1), -EBUSY);
    cio_loop_close(L);
    cr_assert_null(cio_loop_current());
    L = virtual_loop();             /* free again after close */
    cio_loop_close(L);
}

static void *thread_run(void *arg)
{
    (void)arg;
    cio_loop_options o = { .virtual_clock = true };
    return (void *)(intptr_t)cio_run_with(&o, nap_ms, (void *)25);
}

static int two_threads_main(void *arg)
{
    (void)arg;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, thread_run, NULL), 0);
    void *ret;
    cr_assert_eq(pthread_join(th, &ret), 0);  /* blocks this loop: fine here */
    cr_assert_eq((int)(intptr_t)ret, 25, "each thread has its own loop");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    return 0;
}

Test(loop, every_thread_has_its_own_loop)
{
    cr_assert_eq(run_virtual(two_threads_main, NULL), 0);
}

/* ---- the embedding API ------------------------------------------------- */

Test(loop, embed_spawn_from_outside_and_run_until)
{
    cr_assert_eq(cio_task_spawn(NULL, ret_arg, NULL, NULL), -EINVAL, "no loop");
    cio_loop *L = virtual_loop();
    cr_assert_eq(cio_loop_current(), L);
    cr_assert_null(cio_task_current());
    cio_task *a, *b;
    cr_assert_eq(cio_task_spawn(&a, nap_ms, (void *)10, NULL), 0);
    cr_assert_eq(cio_task_spawn(&b, nap_ms, (void *)30, NULL), 0);
    cr_assert(!cio_task_done(a));
    cr_assert_eq(cio_loop_run_until(L, a), 0);
    cr_assert(cio_task_done(a));
    cr_assert(!cio_task_done(b), "run_until stops when a is done");
    cr_assert_eq(cio_now(), 10 * CIO_MS);
    cr_assert_eq(cio_task_join(a, NULL), 10, "joinable from outside once done");
    cr_assert_eq(cio_loop_run_until(L, b), 0);
    cr_assert_eq(cio_now(), 30 * CIO_MS);
    cr_assert_eq(cio_loop_run_until(L, b), 0, "already done: returns at once");
    cr_assert_eq(cio_task_join(b, NULL), 30);
    cr_assert_eq(stats_of(L).live_tasks, 0);
    cio_loop_close(L);
    cr_assert_null(cio_loop_current());
}

Test(loop, embed_join_of_a_running_task_from_outside_is_refused)
{
    cio_loop *L = virtual_loop();
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, nap_ms, (void *)10, NULL), 0);
    cr_assert_eq(cio_task_join(t, NULL), -EPERM, "joining would block");
    cr_assert_eq(cio_loop_run_until(L, t), 0);
    cr_assert_eq(cio_task_join(t, NULL), 10, "still joinable");
    cio_loop_close(L);
}

Test(loop, embed_close_cancels_and_joins_leftovers, .init = cr_redirect_stderr)
{
    cio_loop *L = virtual_loop();
    struct leftover l1 = { 1, -1 }, l2 = { 1, -1 };
    cio_task *t, *quick;
    cr_assert_eq(cio_task_spawn(&t, leftover_sleeper, &l1, NULL), 0);
    cr_assert_eq(cio_task_spawn(&t, leftover_sleeper, &l2, NULL), 0);
    cr_assert_eq(cio_task_spawn(&quick, nap_ms, (void *)5, NULL), 0);
    cr_assert_eq(cio_loop_run_until(L, quick), 0);
    cr_assert_eq(l1.rc, 1, "still sleeping");
    cio_loop_close(L);
    cr_assert_eq(l1.rc, -ECANCELED);
    cr_assert_eq(l2.rc, -ECANCELED);
    cr_assert_eq(l1.cleaned_at, 505 * CIO_MS, "close waited for the cleanup");
    cr_assert_eq(l2.cleaned_at, 505 * CIO_MS);
    cr_assert_str_eq(captured_stderr(), "");
    cr_assert_null(cio_loop_current());
}

static int fail_with(void *arg)
{
    return (int)(intptr_t)arg;
}

Test(loop, embed_close_reports_unjoined_failures, .init = cr_redirect_stderr)
{
    cio_loop *L = virtual_loop();
    cio_task *bad, *fine, *cancelled, *joined;
    cio_task_opts o = { .name = "bad" };
    cr_assert_eq(cio_task_spawn(&bad, fail_with, (void *)(intptr_t)-EMSGSIZE, &o), 0);
    o.name = "fine";
    cr_assert_eq(cio_task_spawn(&fine, fail_with, (void *)4, &o), 0);
    o.name = "cancelled";
    cr_assert_eq(cio_task_spawn(&cancelled, fail_with, (void *)(intptr_t)-ECANCELED, &o), 0);
    o.name = "joined";
    cr_assert_eq(cio_task_spawn(&joined, fail_with, (void *)(intptr_t)-EIO, &o), 0);
    cr_assert_eq(cio_loop_run_until(L, joined), 0);
    cr_assert_eq(cio_task_join(joined, NULL), -EIO);
    unsigned long long bad_id = cio_task_id(bad);
    cio_loop_close(L);
    char expect[256];
    snprintf(expect, sizeof expect, "cio: task 'bad' (id %llu) failed with EMSGSIZE "
             "(%s) and was never joined\n", bad_id, strerror(EMSGSIZE));
    /* Only the unjoined failure is reported: not the success, not the
     * cancellation, not the joined failure. */
    cr_assert_str_eq(captured_stderr(), expect);
}

/* ---- deadlock ------------------------------------------------------------- */

static cio_task *main_task;

static int join_main_task(void *arg)
{
    (void)arg;
    return cio_task_join(main_task, NULL);
}

static int join_cycle_main(void *arg)
{
    (void)arg;
    main_task = cio_task_current();
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, join_main_task, NULL,
                                &(cio_task_opts){ .name = "joins-main" }), 0);
    return cio_task_join(t, NULL);
}

Test(loop, every_task_blocked_forever_is_a_deadlock, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(join_cycle_main, NULL), -EDEADLK);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: deadlock: every task is blocked and nothing can "
                          "wake any of them\n"), "got: %s", err);
    cr_assert(strstr(err, "cio:   task 'main' (id "), "got: %s", err);
    cr_assert(strstr(err, "cio:   task 'joins-main' (id "), "got: %s", err);
}

static int sleep_forever(void *arg)
{
    (void)arg;
    return cio_sleep(CIO_NEVER);
}

Test(loop, sleeping_forever_alone_is_a_deadlock_on_the_real_clock_too,
     .init = cr_redirect_stderr, .timeout = 30)
{
    cr_assert_eq(run_real(sleep_forever, NULL), -EDEADLK);
}

static int wake_main_later(void *arg)
{
    cr_assert_eq(cio_sleep(3 * CIO_SEC), 0);
    cio_task_cancel(arg);
    return 0;
}

static int not_deadlocked_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, wake_main_later, cio_task_current(), NULL), 0);
    cr_assert_eq(cio_sleep(CIO_NEVER), -ECANCELED, "a timer could wake it");
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    return 0;
}

Test(loop, a_pending_timer_is_no_deadlock)
{
    cr_assert_eq(run_virtual(not_deadlocked_main, NULL), 0);
}

Test(loop, embed_run_until_reports_a_deadlock_then_close_ends_it,
     .init = cr_redirect_stderr)
{
    cio_loop *L = virtual_loop();
    cio_task *t, *other;
    cr_assert_eq(cio_task_spawn(&t, sleep_forever, NULL, NULL), 0);
    cr_assert_eq(cio_task_spawn(&other, nap_ms, (void *)7, NULL), 0);
    cr_assert_eq(cio_loop_run_until(L, t), -EDEADLK);
    cr_assert(cio_task_done(other), "everything else ran first");
    cr_assert_eq(cio_now(), 7 * CIO_MS);
    cr_assert_eq(cio_task_join(other, NULL), 7);
    cio_loop_close(L);              /* cancels t: its sleep returns */
    cr_assert_str_eq(captured_stderr(), "");
}

static int stubborn(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter_shielded(&s, CIO_NEVER);
    int rc = cio_sleep(CIO_NEVER);  /* ignores cancellation: never returns */
    int left = cio_scope_leave(&s);
    return rc + left;
}

Test(loop, close_reports_tasks_that_ignore_cancellation, .init = cr_redirect_stderr)
{
    cio_loop *L = virtual_loop();
    cio_task *t, *quick;
    cr_assert_eq(cio_task_spawn(&t, stubborn, NULL,
                                &(cio_task_opts){ .name = "stubborn" }), 0);
    cr_assert_eq(cio_task_spawn(&quick, ret_arg, NULL, NULL), 0);
    cr_assert_eq(cio_loop_run_until(L, quick), 0);   /* stubborn has started */
    cr_assert_eq(cio_task_join(quick, NULL), 0);
    cio_loop_close(L);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: loop closed with tasks that ignore cancellation; "
                          "their memory is leaked\n"), "got: %s", err);
    cr_assert(strstr(err, "cio:   task 'stubborn' (id "), "got: %s", err);
    cr_assert_null(cio_loop_current());
}

/* ---- statistics ------------------------------------------------------------ */

static int stats_main(void *arg)
{
    (void)arg;
    cio_loop *L = cio_loop_current();
    cio_loop_stats s0 = stats_of(L);
    cr_assert_eq(s0.live_tasks, 1, "main");
    cr_assert_geq(s0.guarded_stacks + s0.unguarded_stacks, 1);
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_task_spawn(&t[i], nap_ms, (void *)(intptr_t)(i + 1), NULL), 0);
    cio_loop_stats s1 = stats_of(L);
    cr_assert_eq(s1.live_tasks, 5);
    cr_assert_eq(s1.guarded_stacks + s1.unguarded_stacks,
                 s0.guarded_stacks + s0.unguarded_stacks + 4);
    cr_assert_eq(s1.pooled_stacks, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i + 1);
    cio_loop_stats s2 = stats_of(L);
    cr_assert_eq(s2.live_tasks, 1);
    cr_assert_eq(s2.pooled_stacks, 4, "freed stacks go to the pool");
    cr_assert_eq(s2.guarded_stacks + s2.unguarded_stacks,
                 s1.guarded_stacks + s1.unguarded_stacks, "kept mapped");
    cr_assert_gt(s2.switches, s1.switches);
    cr_assert_gt(s2.iterations, s1.iterations, "time jumps are loop passes");
    cr_assert_eq(cio_task_list(NULL, 0), 1);
    return 0;
}

Test(loop, stats_count_tasks_stacks_switches_and_passes)
{
    cr_assert_eq(run_virtual(stats_main, NULL), 0);
}

Test(loop, close_unmaps_every_stack)
{
    cio_loop *L = virtual_loop();
    cio_loop_stats s0 = stats_of(L);
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_task_spawn(&t[i], nap_ms, (void *)1, NULL), 0);
    cr_assert_eq(cio_loop_run_until(L, t[0]), 0);
    cr_assert_eq(cio_task_join(t[0], NULL), 1);
    cr_assert_eq(stats_of(L).pooled_stacks, 1);
    cio_loop_close(L);
    /* The counts are process-wide: check them through a new loop. */
    L = virtual_loop();
    cio_loop_stats s1 = stats_of(L);
    cr_assert_eq(s1.guarded_stacks + s1.unguarded_stacks,
                 s0.guarded_stacks + s0.unguarded_stacks, "nothing left mapped");
    cr_assert_eq(s1.pooled_stacks, 0);
    cr_assert_eq(s1.live_tasks, 0);
    cio_loop_close(L);
}

static int pool_bound_main(void *arg)
{
    (void)arg;
    cio_loop *L = cio_loop_current();
    cio_loop_stats s0 = stats_of(L);
    enum { N = 10 };
    cio_task *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_spawn(&t[i], ret_arg, NULL, NULL), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cio_loop_stats s1 = stats_of(L);
    cr_assert_eq(s1.pooled_stacks, 3, "the pool is bounded");
    cr_assert_eq(s1.guarded_stacks + s1.unguarded_stacks,
                 s0.guarded_stacks + s0.unguarded_stacks + 3,
                 "stacks beyond the bound are unmapped");
    return 0;
}

Test(loop, the_stack_pool_is_bounded)
{
    cio_loop_options o = { .virtual_clock = true, .stack_pool_max = 3 };
    cr_assert_eq(cio_run_with(&o, pool_bound_main, NULL), 0);
}

static int stack_size_probe(void *arg)
{
    /* A task can use most of its stack: 200 KiB of a 256 KiB default. */
    size_t n = (size_t)(uintptr_t)arg;
    volatile char *buf = __builtin_alloca(n);
    for (size_t i = 0; i < n; i += 512)
        buf[i] = (char)i;
    return buf[n - n % 512 - 512] == (char)(n - n % 512 - 512) ? 0 : -1;
}

static int stack_option_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, stack_size_probe, (void *)(uintptr_t)(200 * 1024),
                                NULL), 0);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(loop, the_default_stack_size_is_an_option)
{
    cio_loop_options o = { .virtual_clock = true, .stack_size = 256 * 1024 };
    cr_assert_eq(cio_run_with(&o, stack_option_main, NULL), 0);
}

/* ---- pool trimming ------------------------------------------------------- */

static int trivial(void *arg) { (void)arg; return 0; }

static int trim_main(void *arg)
{
    (void)arg;
    enum { N = 400 };
    cio_task *ts[N];
    cr_assert_eq(cio_sleep(CIO_SEC), 0);    /* the first period ends */
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_spawn(&ts[i], trivial, NULL, NULL), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_join(ts[i], NULL), 0);
    cio_loop_stats s;
    cio_loop_get_stats(cio_loop_current(), &s);
    size_t burst = s.pooled_stacks;
    cr_assert_geq(burst, N - 1, "the burst's stacks are pooled");
    /* Idle passes within one period trim nothing: the stacks may be wanted
     * again at once (a crawl's next batch). */
    for (int i = 0; i < 20; i++)
        cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_loop_get_stats(cio_loop_current(), &s);
    cr_assert_eq(s.pooled_stacks, burst, "kept within the period");
    /* A stack taken during a period is not surplus at its end. */
    cr_assert_eq(cio_task_spawn(&ts[0], trivial, NULL, NULL), 0);
    cr_assert_eq(cio_task_join(ts[0], NULL), 0);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_loop_get_stats(cio_loop_current(), &s);
    size_t unused = burst - 1;              /* the fewest pooled in the period */
    cr_assert_eq(s.pooled_stacks, burst - (unused - 64 + 1) / 2,
                 "half the stacks unused for a whole period go");
    for (int i = 0; i < 20; i++)
        cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_loop_get_stats(cio_loop_current(), &s);
    cr_assert_eq(s.pooled_stacks, 64, "decays to the floor and stays there");
    return 0;
}

Test(loop, stacks_unused_for_a_period_are_trimmed_to_a_floor)
{
    cr_assert_eq(run_virtual(trim_main, NULL), 0);
}
