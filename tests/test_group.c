/* test_group.c — task groups: wait for all, first failure cancels the
 * siblings, statuses kept, out=NULL children freed as they end, cancelling
 * the waiter, closing, nesting, destroy with children alive.
 */
#include "helpers.h"
#include "crash.h"

static cio_loop_stats stats(void)
{
    cio_loop_stats s;
    cio_loop_get_stats(cio_loop_current(), &s);
    return s;
}

/* Sleeps arg ms, returns arg. */
static int nap(void *arg)
{
    int ms = (int)(intptr_t)arg;
    int rc = cio_sleep(ms * CIO_MS);
    return rc < 0 ? rc : ms;
}

/* Sleeps arg ms, then fails with -EIO. */
static int fail_after(void *arg)
{
    int rc = cio_sleep((int)(intptr_t)arg * CIO_MS);
    return rc < 0 ? rc : -EIO;
}

static cio_task *gspawn(cio_group *g, cio_task_fn *fn, intptr_t arg,
                        const char *name)
{
    cio_task *t = NULL;
    int rc = cio_group_spawn(g, &t, fn, (void *)arg, &(cio_task_opts){ .name = name });
    cr_assert_eq(rc, 0, "group spawn: %d", rc);
    return t;
}

/* ---- waiting for all ---------------------------------------------------- */

static int wait_all_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_task *t[3];
    t[0] = gspawn(&g, nap, 30, "a");
    t[1] = gspawn(&g, nap, 10, "b");
    t[2] = gspawn(&g, nap, 20, "c");
    cr_assert_eq(cio_group_alive(&g), 3);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(cio_now(), 30 * CIO_MS, "the longest child, not the sum");
    cr_assert_eq(cio_group_alive(&g), 0);
    cr_assert_eq(cio_group_failed(&g), 0);
    int expect[] = { 30, 10, 20 };
    for (int i = 0; i < 3; i++) {
        cr_assert(cio_task_done(t[i]));
        cr_assert_eq(cio_task_status(t[i]), expect[i]);
    }
    cio_group_destroy(&g);
    return 0;
}

Test(group, wait_returns_when_every_child_has_ended)
{
    cr_assert_eq(run_virtual(wait_all_main, NULL), 0);
}

static int empty_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(cio_group_spawn(&g, NULL, nap, NULL, NULL), -ESHUTDOWN);
    cio_group_destroy(&g);
    return 0;
}

Test(group, an_empty_group_waits_for_nothing)
{
    cr_assert_eq(run_virtual(empty_main, NULL), 0);
}

static int empty_cancelled_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_group_wait(&g), -ECANCELED,
                 "a cancellation point even with nothing to wait for");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cio_group_destroy(&g);
    return 0;
}

Test(group, waiting_on_an_empty_group_is_still_a_cancellation_point)
{
    cr_assert_eq(run_virtual(empty_cancelled_main, NULL), 0);
}

static int set_result_and_return(void *arg)
{
    cio_task_set_result(arg);
    return 9;
}

static int results_main(void *arg)
{
    (void)arg;
    static int value;
    cio_group g;
    cio_group_init(&g);
    cio_task *t = NULL;
    cr_assert_eq(cio_group_spawn(&g, &t, set_result_and_return, &value, NULL), 0);
    cr_assert_eq(cio_task_join(t, NULL), -EINVAL, "children are the group's");
    cio_task *arr[1] = { t };
    cr_assert_eq(cio_gather(arr, 1, NULL, NULL, 0), -EINVAL);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(cio_task_status(t), 9);
    cr_assert_eq(cio_task_result(t), &value);
    cio_group_destroy(&g);
    return 0;
}

Test(group, children_keep_status_and_result_and_cannot_be_joined)
{
    cr_assert_eq(run_virtual(results_main, NULL), 0);
}

/* ---- failure -------------------------------------------------------------- */

struct child_log {
    int rc;             /* what its sleep returned */
    int64_t at;         /* when */
};

static int long_child(void *arg)
{
    struct child_log *log = arg;
    log->rc = cio_sleep(100 * CIO_SEC);
    log->at = cio_now();
    return log->rc < 0 ? log->rc : 0;
}

static int first_failure_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    struct child_log log = { 1, -1 };
    cio_task *ok = gspawn(&g, nap, 5, "ok");
    cio_task *bad = gspawn(&g, fail_after, 10, "bad");
    cio_task *slow = NULL;
    cr_assert_eq(cio_group_spawn(&g, &slow, long_child, &log, NULL), 0);
    cr_assert_eq(cio_group_wait(&g), -EIO);
    cr_assert_eq(cio_now(), 10 * CIO_MS, "the sibling was cancelled at once");
    cr_assert_eq(log.rc, -ECANCELED);
    cr_assert_eq(log.at, 10 * CIO_MS);
    cr_assert_eq(cio_task_status(ok), 5, "finished before the failure");
    cr_assert_eq(cio_task_status(bad), -EIO);
    cr_assert_eq(cio_task_status(slow), -ECANCELED);
    cr_assert_eq(cio_group_failed(&g), 1, "a cancellation is not a failure");
    cio_group_destroy(&g);
    return 0;
}

Test(group, the_first_failure_cancels_the_siblings)
{
    cr_assert_eq(run_virtual(first_failure_main, NULL), 0);
}

static int fail_on_cancel(void *arg)
{
    int rc = cio_sleep((int)(intptr_t)arg * CIO_MS);
    return rc == -ECANCELED ? -EPIPE : 0;   /* its cleanup fails too */
}

static int many_failures_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_task *a = gspawn(&g, fail_on_cancel, 1000, "a");
    cio_task *b = gspawn(&g, fail_after, 20, "b");
    cio_task *c = gspawn(&g, fail_on_cancel, 1000, "c");
    cr_assert_eq(cio_group_wait(&g), -EIO, "the first failure is returned");
    cr_assert_eq(cio_group_failed(&g), 3);
    cr_assert_eq(cio_task_status(a), -EPIPE, "every child's error is kept");
    cr_assert_eq(cio_task_status(b), -EIO);
    cr_assert_eq(cio_task_status(c), -EPIPE);
    cio_group_destroy(&g);
    return 0;
}

Test(group, every_failure_is_counted_and_kept)
{
    cr_assert_eq(run_virtual(many_failures_main, NULL), 0);
}

static int cancelled_child_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_task *victim = gspawn(&g, nap, 1000, "victim");
    cio_task *other = gspawn(&g, nap, 20, "other");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(victim);
    cr_assert_eq(cio_group_wait(&g), 0, "a cancelled child is no failure");
    cr_assert_eq(cio_now(), 20 * CIO_MS, "the sibling ran to its end");
    cr_assert_eq(cio_task_status(victim), -ECANCELED);
    cr_assert_eq(cio_task_status(other), 20);
    cio_group_destroy(&g);
    return 0;
}

Test(group, cancelling_one_child_does_not_stop_the_others)
{
    cr_assert_eq(run_virtual(cancelled_child_main, NULL), 0);
}

static int unreported_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cr_assert_eq(cio_group_spawn(&g, NULL, fail_after, (void *)1,
                                 &(cio_task_opts){ .name = "kid" }), 0);
    cr_assert_eq(cio_group_wait(&g), -EIO);
    cio_group_destroy(&g);
    return 0;
}

Test(group, a_childs_failure_is_seen_by_the_group_not_reported,
     .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(unreported_main, NULL), 0);
    cr_assert_str_eq(captured_stderr(), "");
}

/* ---- out=NULL children are freed as they end ----------------------------- */

static int freed_main(void *arg)
{
    (void)arg;
    cio_loop_stats s0 = stats();
    cio_group g;
    cio_group_init(&g);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(cio_group_spawn(&g, NULL, nap, (void *)(intptr_t)(i + 1), NULL), 0);
    cio_task *slow = gspawn(&g, nap, 100, "slow");
    cr_assert_eq(stats().live_tasks, s0.live_tasks + 11);
    cr_assert_eq(cio_sleep(50 * CIO_MS), 0);
    /* The ten quick ones ended and went back to the pool already. */
    cio_loop_stats s1 = stats();
    cr_assert_eq(s1.live_tasks, s0.live_tasks + 1);
    cr_assert_eq(s1.pooled_stacks, s0.pooled_stacks + 10);
    cr_assert_eq(cio_group_alive(&g), 1);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(cio_task_status(slow), 100);
    /* The kept child is freed only by destroy. */
    cr_assert_eq(stats().pooled_stacks, s0.pooled_stacks + 10);
    cio_group_destroy(&g);
    cr_assert_eq(stats().pooled_stacks, s0.pooled_stacks + 11);
    cr_assert_eq(stats().live_tasks, s0.live_tasks);
    return 0;
}

Test(group, children_spawned_without_handle_are_freed_as_they_end)
{
    cr_assert_eq(run_virtual(freed_main, NULL), 0);
}

static int server_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_loop_stats s0 = stats();
    /* A server spawning without end keeps constant memory. */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 50; i++)
            cr_assert_eq(cio_group_spawn(&g, NULL, nap, (void *)1, NULL), 0);
        cr_assert_eq(cio_sleep(2 * CIO_MS), 0);
        cio_loop_stats s = stats();
        cr_assert_eq(s.live_tasks, s0.live_tasks);
        cr_assert_leq(s.guarded_stacks + s.unguarded_stacks,
                      s0.guarded_stacks + s0.unguarded_stacks + 50);
    }
    cr_assert_eq(cio_group_spawn(&g, NULL, fail_after, (void *)1, NULL), 0);
    cr_assert_eq(cio_group_wait(&g), -EIO, "a freed child's failure counts");
    cio_group_destroy(&g);
    return 0;
}

Test(group, an_endless_spawner_keeps_constant_memory)
{
    cr_assert_eq(run_virtual(server_main, NULL), 0);
}

/* ---- cancelling the waiter ------------------------------------------------ */

static int cleanup_child(void *arg)
{
    struct child_log *log = arg;
    int rc = cio_sleep(100 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    /* Cleanup that takes time, shielded from the cancellation. */
    cr_assert_eq(cio_shield(nap, (void *)2000), 2000);
    log->at = cio_now();
    return rc;
}

struct waiter_ctx {
    struct child_log log[2];
    int64_t returned_at;
};

static int group_waiter(void *arg)
{
    struct waiter_ctx *w = arg;
    cio_group g;
    cio_group_init(&g);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_group_spawn(&g, NULL, cleanup_child, &w->log[i], NULL), 0);
    int rc = cio_group_wait(&g);
    w->returned_at = cio_now();
    cr_assert_eq(cio_group_alive(&g), 0, "still waited for every child");
    cr_assert(cio_cancelled());
    cr_assert_eq(cio_group_spawn(&g, NULL, nap, NULL, NULL), -ESHUTDOWN);
    cio_group_destroy(&g);
    return rc;
}

static int cancel_waiter_main(void *arg)
{
    (void)arg;
    struct waiter_ctx w = { 0 };
    cio_task *t = spawn(group_waiter, &w, "waiter");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(w.log[0].at, 3 * CIO_SEC, "the children were cancelled at 1 s");
    cr_assert_eq(w.log[1].at, 3 * CIO_SEC);
    cr_assert_eq(w.returned_at, 3 * CIO_SEC, "the wait waited for their cleanup");
    return 0;
}

Test(group, cancelling_the_waiter_cancels_the_children_and_still_waits)
{
    cr_assert_eq(run_virtual(cancel_waiter_main, NULL), 0);
}

static int precancelled_waiter(void *arg)
{
    struct child_log *log = arg;
    cio_group g;
    cio_group_init(&g);
    cio_task *child = NULL;
    cr_assert_eq(cio_group_spawn(&g, &child, long_child, log, NULL), 0);
    cio_task_cancel(cio_task_current());
    int rc = cio_group_wait(&g);
    cr_assert_eq(cio_group_alive(&g), 0);
    cr_assert_eq(cio_task_status(child), -ECANCELED);
    cio_group_destroy(&g);
    return rc;
}

static int precancelled_main(void *arg)
{
    (void)arg;
    struct child_log log = { 1, -1 };
    cio_task *t = spawn(precancelled_waiter, &log, "w");
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(log.rc, 1, "cancelled before it ran: its function never ran");
    cr_assert_eq(cio_now(), 0);
    return 0;
}

Test(group, a_waiter_cancelled_before_it_waits_cancels_the_children)
{
    cr_assert_eq(run_virtual(precancelled_main, NULL), 0);
}

/* ---- closing ------------------------------------------------------------- */

struct spawner_ctx {
    cio_group *g;
    int late_rc;
};

static int late_spawner(void *arg)
{
    struct spawner_ctx *c = arg;
    cr_assert_eq(cio_sleep(100 * CIO_SEC), -ECANCELED);
    /* Cancelled, but spawning is not blocking: it must be refused anyway. */
    c->late_rc = cio_group_spawn(c->g, NULL, nap, (void *)1, NULL);
    return 0;
}

static int closing_main(void *arg)
{
    (void)arg;
    /* After a failure: a sibling's spawn is refused. */
    cio_group g;
    cio_group_init(&g);
    struct spawner_ctx c = { &g, 1 };
    cr_assert_eq(cio_group_spawn(&g, NULL, late_spawner, &c, NULL), 0);
    cr_assert_eq(cio_group_spawn(&g, NULL, fail_after, (void *)5, NULL), 0);
    cr_assert_eq(cio_group_wait(&g), -EIO);
    cr_assert_eq(c.late_rc, -ESHUTDOWN);
    cr_assert_eq(cio_group_spawn(&g, NULL, nap, NULL, NULL), -ESHUTDOWN,
                 "and after the wait");
    cio_group_destroy(&g);
    /* After cio_group_cancel. */
    cio_group_init(&g);
    cio_task *t = gspawn(&g, nap, 1000, "t");
    cio_group_cancel(&g);
    cr_assert_eq(cio_group_spawn(&g, NULL, nap, NULL, NULL), -ESHUTDOWN);
    cr_assert_eq(cio_group_wait(&g), 0, "cancelled children are no failure");
    cr_assert_eq(cio_task_status(t), -ECANCELED);
    cr_assert_eq(cio_now(), 5 * CIO_MS);
    cio_group_destroy(&g);
    return 0;
}

Test(group, spawning_into_a_closing_group_returns_eshutdown)
{
    cr_assert_eq(run_virtual(closing_main, NULL), 0);
}

struct grow_ctx {
    cio_group *g;
    int depth;
};

static int grower(void *arg)
{
    struct grow_ctx *c = arg;
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    if (c->depth < 5) {
        c->depth++;
        cr_assert_eq(cio_group_spawn(c->g, NULL, grower, c, NULL), 0);
    }
    return 0;
}

static int grow_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    struct grow_ctx c = { &g, 0 };
    cr_assert_eq(cio_group_spawn(&g, NULL, grower, &c, NULL), 0);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(c.depth, 5);
    cr_assert_eq(cio_now(), 6 * CIO_MS, "waited for children spawned late");
    cio_group_destroy(&g);
    return 0;
}

Test(group, children_may_spawn_siblings_while_the_group_waits)
{
    cr_assert_eq(run_virtual(grow_main, NULL), 0);
}

/* ---- nesting ------------------------------------------------------------ */

struct nest {
    int inner_rc;
    struct child_log grandchild;
    struct child_log sibling;
    int fail_ms;        /* a grandchild fails after this, 0: none fails */
};

static int inner_group_child(void *arg)
{
    struct nest *n = arg;
    cio_group inner;
    cio_group_init(&inner);
    cr_assert_eq(cio_group_spawn(&inner, NULL, long_child, &n->grandchild, NULL), 0);
    if (n->fail_ms)
        cr_assert_eq(cio_group_spawn(&inner, NULL, fail_after,
                                     (void *)(intptr_t)n->fail_ms, NULL), 0);
    n->inner_rc = cio_group_wait(&inner);
    cio_group_destroy(&inner);
    return n->inner_rc;
}

static int nested_failure_main(void *arg)
{
    (void)arg;
    struct nest n = { .fail_ms = 7 };
    cio_group outer;
    cio_group_init(&outer);
    cr_assert_eq(cio_group_spawn(&outer, NULL, inner_group_child, &n, NULL), 0);
    cr_assert_eq(cio_group_spawn(&outer, NULL, long_child, &n.sibling, NULL), 0);
    cr_assert_eq(cio_group_wait(&outer), -EIO, "the failure rises level by level");
    cr_assert_eq(n.inner_rc, -EIO);
    cr_assert_eq(n.grandchild.rc, -ECANCELED);
    cr_assert_eq(n.grandchild.at, 7 * CIO_MS);
    cr_assert_eq(n.sibling.rc, -ECANCELED, "the outer siblings are cancelled");
    cr_assert_eq(n.sibling.at, 7 * CIO_MS);
    cio_group_destroy(&outer);
    return 0;
}

Test(group, a_failure_in_a_nested_group_cancels_the_outer_siblings)
{
    cr_assert_eq(run_virtual(nested_failure_main, NULL), 0);
}

static int nested_cancel_main(void *arg)
{
    (void)arg;
    struct nest n = { 0 };
    cio_group outer;
    cio_group_init(&outer);
    cr_assert_eq(cio_group_spawn(&outer, NULL, inner_group_child, &n, NULL), 0);
    cr_assert_eq(cio_group_spawn(&outer, NULL, long_child, &n.sibling, NULL), 0);
    cr_assert_eq(cio_sleep(3 * CIO_MS), 0);
    cio_group_cancel(&outer);
    cr_assert_eq(cio_group_wait(&outer), 0);
    cr_assert_eq(n.inner_rc, -ECANCELED, "the inner waiter was cancelled");
    cr_assert_eq(n.grandchild.rc, -ECANCELED, "and it cancelled its children");
    cr_assert_eq(n.grandchild.at, 3 * CIO_MS);
    cr_assert_eq(n.sibling.at, 3 * CIO_MS);
    cio_group_destroy(&outer);
    return 0;
}

Test(group, cancelling_an_outer_group_reaches_the_grandchildren)
{
    cr_assert_eq(run_virtual(nested_cancel_main, NULL), 0);
}

/* ---- destroy with children alive ----------------------------------------- */

static int destroy_alive_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    if (cio_group_spawn(&g, NULL, nap, (void *)10, NULL) < 0 ||
        cio_group_spawn(&g, NULL, nap, (void *)10, NULL) < 0)
        return 1;
    cio_group_destroy(&g);
    return 0;
}

static void run_destroy_alive(void *arg)
{
    (void)arg;
    cio_loop_options o = { .virtual_clock = true };
    int rc = cio_run_with(&o, destroy_alive_main, NULL);
    fprintf(stderr, "returned %d\n", rc);
}

Test(group, destroying_a_group_with_children_alive_aborts)
{
    child_result r;
    run_in_child(run_destroy_alive, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "exit %d, stderr: %s", r.exit_code, r.err);
    cr_assert_str_eq(r.err, "cio: cio_group_destroy: 2 children still running "
                            "(call cio_group_wait first)\n");
}

Test(group, destroy_alive_dies_with_sigabrt, .signal = SIGABRT,
     .init = cr_redirect_stderr)
{
    run_destroy_alive(NULL);
}

static int wait_group(void *arg)
{
    return cio_group_wait(arg);
}

static int second_waiter_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    cio_task *child = gspawn(&g, nap, 5, "child");
    cio_task *first = spawn(wait_group, &g, "first");
    cr_assert_eq(cio_yield(), 0);                   /* first is waiting now */
    cr_assert_eq(cio_group_wait(&g), -EBUSY, "a second waiter is refused");
    cr_assert_eq(cio_task_join(first, NULL), 0, "the first still gets woken");
    cr_assert_eq(cio_task_status(child), 5);
    cr_assert(cio_task_done(child));
    cio_group_destroy(&g);
    return 0;
}

Test(group, a_second_waiter_is_refused_and_the_first_is_woken)
{
    cr_assert_eq(run_virtual(second_waiter_main, NULL), 0);
}
