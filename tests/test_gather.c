/* test_gather.c — cio_gather, cio_wait and cio_as_completed. */
#include "helpers.h"

static cio_loop_stats stats(void)
{
    cio_loop_stats s;
    cio_loop_get_stats(cio_loop_current(), &s);
    return s;
}

/* A task's plan: sleep ms (not at all if 0), then return status (and set
 * result). */
struct plan {
    int ms;
    int status;
};

static int follow(void *arg)
{
    struct plan *p = arg;
    int rc = p->ms ? cio_sleep(p->ms * CIO_MS) : 0;
    if (rc < 0)
        return rc;
    cio_task_set_result(p);
    return p->status;
}

static void spawn_plans(cio_task **t, struct plan *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = spawn(follow, &p[i], NULL);
}

/* ---- gather -------------------------------------------------------------- */

static int gather_ok_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 30, 1 }, { 10, 2 }, { 20, 3 } };
    cio_task *t[3];
    spawn_plans(t, p, 3);
    size_t live = stats().live_tasks;
    int st[3];
    void *res[3];
    cr_assert_eq(cio_gather(t, 3, st, res, 0), 0);
    cr_assert_eq(cio_now(), 30 * CIO_MS);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(st[i], p[i].status, "argument order, not completion order");
        cr_assert_eq(res[i], &p[i]);
    }
    cr_assert_eq(stats().live_tasks, live - 3);
    cr_assert_eq(cio_task_list(NULL, 0), 1, "joined and freed");
    return 0;
}

Test(gather, returns_every_status_and_result_in_argument_order)
{
    cr_assert_eq(run_virtual(gather_ok_main, NULL), 0);
}

static int gather_first_error_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 30, -EIO }, { 10, -EPIPE }, { 20, 4 } };
    cio_task *t[3];
    spawn_plans(t, p, 3);
    int st[3];
    cr_assert_eq(cio_gather(t, 3, st, NULL, 0), -EPIPE,
                 "the first failure to happen, not the first argument");
    cr_assert_eq(cio_now(), 30 * CIO_MS, "gather still waits for all");
    cr_assert_eq(st[0], -EIO);
    cr_assert_eq(st[1], -EPIPE);
    cr_assert_eq(st[2], 4, "a failure does not cancel the others");
    return 0;
}

Test(gather, returns_the_first_error_in_completion_order)
{
    cr_assert_eq(run_virtual(gather_first_error_main, NULL), 0);
}

static int gather_done_before_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 20, -EIO }, { 0, -ENOENT }, { 0, 6 } };
    cio_task *t[3];
    spawn_plans(t, p, 3);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(cio_task_done(t[1]) && cio_task_done(t[2]));
    int st[3];
    cr_assert_eq(cio_gather(t, 3, st, NULL, 0), -ENOENT,
                 "a task that failed before the gather failed first");
    cr_assert_eq(st[0], -EIO);
    cr_assert_eq(st[2], 6);
    return 0;
}

Test(gather, tasks_done_before_the_call_count_first)
{
    cr_assert_eq(run_virtual(gather_done_before_main, NULL), 0);
}

static int gather_all_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 5, -EIO }, { 10, 2 }, { 1, -ECANCELED } };
    cio_task *t[3];
    spawn_plans(t, p, 3);
    int st[3];
    void *res[3];
    cr_assert_eq(cio_gather(t, 3, st, res, CIO_GATHER_RETURN_ALL), 0);
    cr_assert_eq(st[0], -EIO);
    cr_assert_eq(st[1], 2);
    cr_assert_eq(st[2], -ECANCELED);
    cr_assert_eq(res[1], &p[1]);
    cr_assert_eq(cio_now(), 10 * CIO_MS);
    return 0;
}

Test(gather, return_all_reports_every_status_and_returns_zero)
{
    cr_assert_eq(run_virtual(gather_all_main, NULL), 0);
}

static int gather_edge_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_gather(NULL, 0, NULL, NULL, 0), 0);
    cr_assert_eq(cio_gather(NULL, 2, NULL, NULL, 0), -EINVAL);
    struct plan p = { 1, 3 };
    cio_task *t[2] = { spawn(follow, &p, "x"), NULL };
    cr_assert_eq(cio_gather(t, 2, NULL, NULL, 0), -EINVAL, "NULL task");
    cr_assert_eq(cio_task_join(t[0], NULL), 3, "untouched by the refusal");
    return 0;
}

Test(gather, rejects_bad_arguments)
{
    cr_assert_eq(run_virtual(gather_edge_main, NULL), 0);
}

static int gather_duplicate_main(void *arg)
{
    (void)arg;
    struct plan p = { 1, 3 };
    cio_task *x = spawn(follow, &p, "x");
    cio_task *t[3] = { x, spawn(follow, &p, "y"), x };
    cr_assert_eq(cio_gather(t, 3, NULL, NULL, 0), -EINVAL,
                 "a task twice would be joined (freed) twice");
    cr_assert_eq(cio_gather(t, 2, NULL, NULL, 0), 0, "both left joinable");
    cr_assert_eq(cio_task_list(NULL, 0), 1);
    return 0;
}

Test(gather, a_task_listed_twice_is_refused)
{
    cr_assert_eq(run_virtual(gather_duplicate_main, NULL), 0);
}

static int joiner(void *arg)
{
    return cio_task_join(arg, NULL);
}

static int gather_joined_main(void *arg)
{
    (void)arg;
    struct plan p = { 10, 3 };
    cio_task *t = spawn(follow, &p, "t");
    cio_task *j = spawn(joiner, t, "j");
    cr_assert_eq(cio_yield(), 0);               /* j is joining t now */
    cr_assert_eq(cio_gather(&t, 1, NULL, NULL, 0), -EINVAL);
    cr_assert_eq(cio_task_join(j, NULL), 3);
    return 0;
}

Test(gather, a_task_another_is_joining_is_refused)
{
    cr_assert_eq(run_virtual(gather_joined_main, NULL), 0);
}

static int cleanup_slowly(void *arg)
{
    (void)arg;
    int rc = cio_sleep(100 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    struct plan p = { 2000, 0 };
    cr_assert_eq(cio_shield(follow, &p), 0);
    return -ECONNABORTED;
}

struct gatherer_ctx {
    int st[3];
    int64_t returned_at;
    size_t live_after;
};

static int gatherer(void *arg)
{
    struct gatherer_ctx *g = arg;
    static struct plan quick = { 0, 8 };
    cio_task *t[3] = { spawn(cleanup_slowly, NULL, "a"),
                       spawn(follow, &quick, "b"),
                       spawn(cleanup_slowly, NULL, "c") };
    int rc = cio_gather(t, 3, g->st, NULL, 0);
    g->returned_at = cio_now();
    g->live_after = stats().live_tasks;
    return rc;
}

static int cancel_gatherer_main(void *arg)
{
    (void)arg;
    struct gatherer_ctx g = { { 0 }, 0, 0 };
    cio_task *t = spawn(gatherer, &g, "gatherer");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(g.returned_at, 3 * CIO_SEC, "it still joined them all");
    cr_assert_eq(g.st[0], -ECONNABORTED);
    cr_assert_eq(g.st[1], 8, "done before the cancellation");
    cr_assert_eq(g.st[2], -ECONNABORTED);
    cr_assert_eq(g.live_after, 2, "main and the gatherer: the rest are joined");
    cr_assert_eq(cio_task_list(NULL, 0), 1);
    return 0;
}

Test(gather, cancelling_the_gatherer_cancels_and_still_joins_all)
{
    cr_assert_eq(run_virtual(cancel_gatherer_main, NULL), 0);
}

static int gather_precancelled_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 0, 1 }, { 0, 2 } };
    cio_task *t[2];
    spawn_plans(t, p, 2);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(cio_task_done(t[0]) && cio_task_done(t[1]));
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    int st[2];
    cr_assert_eq(cio_gather(t, 2, st, NULL, 0), -ECANCELED,
                 "a cancellation point even when all are done");
    cr_assert_eq(st[0], 1, "but they are still joined");
    cr_assert_eq(st[1], 2);
    cr_assert_eq(cio_task_list(NULL, 0), 1);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    return 0;
}

Test(gather, a_cancelled_gatherer_of_finished_tasks_joins_them)
{
    cr_assert_eq(run_virtual(gather_precancelled_main, NULL), 0);
}

static int gather_many_main(void *arg)
{
    (void)arg;
    enum { N = 100 };   /* more than fit in gather's on-stack hooks */
    static struct plan p[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        p[i] = (struct plan){ (i * 37) % 50, i };
        t[i] = spawn(follow, &p[i], NULL);
    }
    int st[N];
    cr_assert_eq(cio_gather(t, N, st, NULL, 0), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(st[i], i);
    cr_assert_eq(cio_now(), 49 * CIO_MS);
    return 0;
}

Test(gather, many_tasks)
{
    cr_assert_eq(run_virtual(gather_many_main, NULL), 0);
}

/* ---- wait ---------------------------------------------------------------- */

struct wait_case {
    enum cio_wait_mode mode;
    int64_t timeout;
    struct plan p[3];
    int expect_done;
    int64_t expect_at;
};

static int wait_case_main(void *arg)
{
    struct wait_case *c = arg;
    cio_task *t[3];
    spawn_plans(t, c->p, 3);
    int rc = cio_wait(t, 3, c->mode, c->timeout);
    cr_assert_eq(rc, c->expect_done, "mode %d timeout %lld", c->mode,
                 (long long)c->timeout);
    cr_assert_eq(cio_now(), c->expect_at);
    int done = 0;
    for (int i = 0; i < 3; i++)
        done += cio_task_done(t[i]);
    cr_assert_eq(done, rc, "the count matches cio_task_done");
    /* Nothing was joined or cancelled: join them all now. */
    for (int i = 0; i < 3; i++) {
        cr_assert(!cio_task_cancel_requested(t[i]));
        cr_assert_eq(cio_task_join(t[i], NULL), c->p[i].status);
    }
    return 0;
}

#define MS CIO_MS
static struct wait_case cases[] = {
    /* FIRST_COMPLETED */
    { CIO_FIRST_COMPLETED, CIO_NEVER, { { 30, 1 }, { 10, 2 }, { 20, 3 } }, 1, 10 * MS },
    { CIO_FIRST_COMPLETED, 5 * MS,    { { 30, 1 }, { 10, 2 }, { 20, 3 } }, 0, 5 * MS },
    /* every task done by the time the waiter runs is counted */
    { CIO_FIRST_COMPLETED, CIO_NEVER, { { 30, 1 }, { 10, 2 }, { 10, 3 } }, 2, 10 * MS },
    /* a tie: the wait armed its timeout before the tasks armed theirs, and
     * equal deadlines fire in arming order, so the timeout settles it */
    { CIO_FIRST_COMPLETED, 10 * MS,   { { 30, 1 }, { 10, 2 }, { 10, 3 } }, 0, 10 * MS },
    /* FIRST_EXCEPTION */
    { CIO_FIRST_EXCEPTION, CIO_NEVER, { { 10, 1 }, { 20, -EIO }, { 30, 3 } }, 2, 20 * MS },
    { CIO_FIRST_EXCEPTION, CIO_NEVER, { { 10, 1 }, { 20, 2 }, { 30, 3 } }, 3, 30 * MS },
    { CIO_FIRST_EXCEPTION, 15 * MS,   { { 10, 1 }, { 20, -EIO }, { 30, 3 } }, 1, 15 * MS },
    /* ALL_COMPLETED */
    { CIO_ALL_COMPLETED, CIO_NEVER,   { { 10, -EIO }, { 30, 2 }, { 20, 3 } }, 3, 30 * MS },
    { CIO_ALL_COMPLETED, 25 * MS,     { { 10, 1 }, { 30, 2 }, { 20, 3 } }, 2, 25 * MS },
    { CIO_ALL_COMPLETED, 0,           { { 10, 1 }, { 30, 2 }, { 20, 3 } }, 0, 0 },
};

Test(gather, wait_first_completed)
{
    for (int i = 0; i < 4; i++)
        cr_assert_eq(run_virtual(wait_case_main, &cases[i]), 0);
}

Test(gather, wait_first_exception)
{
    for (int i = 4; i < 7; i++)
        cr_assert_eq(run_virtual(wait_case_main, &cases[i]), 0);
}

Test(gather, wait_all_completed)
{
    for (int i = 7; i < 10; i++)
        cr_assert_eq(run_virtual(wait_case_main, &cases[i]), 0);
}

static int wait_already_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 0, -EIO }, { 10, 2 } };
    cio_task *t[2];
    spawn_plans(t, p, 2);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_wait(t, 2, CIO_FIRST_COMPLETED, CIO_NEVER), 1);
    cr_assert_eq(cio_wait(t, 2, CIO_FIRST_EXCEPTION, CIO_NEVER), 1,
                 "a failure already there satisfies it at once");
    cr_assert_eq(cio_now(), 0);
    cr_assert_eq(cio_wait(t, 0, CIO_ALL_COMPLETED, CIO_NEVER), 0);
    cr_assert_eq(cio_wait(t, 0, CIO_FIRST_COMPLETED, CIO_NEVER), 0);
    cr_assert_eq(cio_wait(t, 2, CIO_ALL_COMPLETED, CIO_NEVER), 2);
    cr_assert_eq(cio_now(), 10 * CIO_MS);
    cr_assert_eq(cio_wait(t, 2, CIO_ALL_COMPLETED, 0), 2, "polling");
    cr_assert_eq(cio_task_join(t[0], NULL), -EIO);
    cr_assert_eq(cio_task_join(t[1], NULL), 2);
    return 0;
}

Test(gather, wait_returns_at_once_when_already_satisfied)
{
    cr_assert_eq(run_virtual(wait_already_main, NULL), 0);
}

static int cancelled_waiter(void *arg)
{
    cio_task **t = arg;
    return cio_wait(t, 2, CIO_ALL_COMPLETED, CIO_NEVER);
}

static int wait_cancel_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 50, 1 }, { 60, 2 } };
    cio_task *t[2];
    spawn_plans(t, p, 2);
    cio_task *w = spawn(cancelled_waiter, t, "w");
    cr_assert_eq(cio_sleep(10 * CIO_MS), 0);
    cio_task_cancel(w);
    cr_assert_eq(cio_task_join(w, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), 10 * CIO_MS);
    cr_assert(!cio_task_cancel_requested(t[0]), "the tasks are not cancelled");
    cr_assert_eq(cio_task_join(t[0], NULL), 1);
    cr_assert_eq(cio_task_join(t[1], NULL), 2);
    return 0;
}

Test(gather, cancelling_a_wait_leaves_the_tasks_alone)
{
    cr_assert_eq(run_virtual(wait_cancel_main, NULL), 0);
}

static int wait_many_main(void *arg)
{
    (void)arg;
    enum { N = 40 };
    static struct plan p[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        p[i] = (struct plan){ 10 + i, i };
        t[i] = spawn(follow, &p[i], NULL);
    }
    cr_assert_eq(cio_wait(t, N, CIO_ALL_COMPLETED, 20 * CIO_MS + 1), 11);
    cr_assert_eq(cio_wait(t, N, CIO_FIRST_COMPLETED, CIO_NEVER), 11,
                 "already satisfied");
    cr_assert_eq(cio_wait(t, N, CIO_ALL_COMPLETED, CIO_NEVER), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i);
    return 0;
}

Test(gather, wait_on_many_tasks)
{
    cr_assert_eq(run_virtual(wait_many_main, NULL), 0);
}

/* ---- as_completed --------------------------------------------------------- */

static int as_completed_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 30, 0 }, { 10, 1 }, { 0, 2 }, { 20, 3 }, { 0, 4 } };
    cio_task *t[5];
    spawn_plans(t, p, 5);
    cr_assert_eq(cio_yield(), 0);           /* t[2] and t[4] end now */
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, t, 5), 0);
    int expect[] = { 2, 4, 1, 3, 0 };       /* done ones first, in array order */
    int64_t when[] = { 0, 0, 10, 20, 30 };
    for (int i = 0; i < 5; i++) {
        cio_task *out = NULL;
        cr_assert_eq(cio_as_completed_next(&ac, &out), 1);
        cr_assert_eq(out, t[expect[i]], "step %d", i);
        cr_assert_eq(cio_now(), when[i] * CIO_MS);
        cr_assert(cio_task_done(out));
    }
    cio_task *out = NULL;
    cr_assert_eq(cio_as_completed_next(&ac, &out), 0, "all yielded");
    cr_assert_eq(cio_as_completed_next(&ac, &out), 0);
    cio_as_completed_destroy(&ac);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i, "not joined by it");
    return 0;
}

Test(gather, as_completed_yields_in_completion_order)
{
    cr_assert_eq(run_virtual(as_completed_main, NULL), 0);
}

static int as_completed_join_main(void *arg)
{
    (void)arg;
    enum { N = 8 };
    struct plan p[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++)
        p[i] = (struct plan){ N - i, i };
    spawn_plans(t, p, N);
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, t, N), 0);
    cio_task *out;
    int n = 0, rc;
    /* The natural loop: join each task as it comes (frees it). */
    while ((rc = cio_as_completed_next(&ac, &out)) > 0) {
        int expect = N - 1 - n;
        cr_assert_eq(cio_task_join(out, NULL), expect);
        n++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, N);
    /* The tasks are freed (their stacks unmapped: the pool holds one):
     * destroy must not look at them. */
    cio_as_completed_destroy(&ac);
    return 0;
}

Test(gather, as_completed_tasks_may_be_joined_before_destroy)
{
    cio_loop_options o = { .virtual_clock = true, .stack_pool_max = 1 };
    cr_assert_eq(cio_run_with(&o, as_completed_join_main, NULL), 0);
}

static int as_completed_cancel_main(void *arg)
{
    (void)arg;
    struct plan p[] = { { 10, 1 }, { 20, 2 } };
    cio_task *t[2];
    spawn_plans(t, p, 2);
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, t, 2), 0);
    cio_task *out = NULL;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(5 * CIO_MS));
    cr_assert_eq(cio_as_completed_next(&ac, &out), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now(), 5 * CIO_MS);
    /* Cancelled, not broken: carry on. */
    cr_assert_eq(cio_as_completed_next(&ac, &out), 1);
    cr_assert_eq(out, t[0]);
    cr_assert_eq(cio_now(), 10 * CIO_MS);
    /* Stop early: the unfinished task must not touch the watcher later. */
    cio_as_completed_destroy(&ac);
    cr_assert_eq(cio_task_join(t[1], NULL), 2);
    cr_assert_eq(cio_task_join(t[0], NULL), 1);
    return 0;
}

Test(gather, as_completed_is_cancellable_and_may_stop_early)
{
    cr_assert_eq(run_virtual(as_completed_cancel_main, NULL), 0);
}

static int as_completed_empty_main(void *arg)
{
    (void)arg;
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, NULL, 0), 0);
    cio_task *out;
    cr_assert_eq(cio_as_completed_next(&ac, &out), 0);
    cio_as_completed_destroy(&ac);
    cr_assert_eq(cio_as_completed_init(&ac, NULL, 3), -EINVAL);
    return 0;
}

Test(gather, as_completed_of_nothing)
{
    cr_assert_eq(run_virtual(as_completed_empty_main, NULL), 0);
}

static int as_completed_many_main(void *arg)
{
    (void)arg;
    enum { N = 500 };
    static struct plan p[N];
    cio_task **t = calloc(N, sizeof *t);
    for (int i = 0; i < N; i++) {
        p[i] = (struct plan){ (i * 7) % 100, i };
        t[i] = spawn(follow, &p[i], NULL);
    }
    cio_as_completed ac;
    cr_assert_eq(cio_as_completed_init(&ac, t, N), 0);
    cio_task *out;
    int64_t last = -1;
    int n = 0;
    while (cio_as_completed_next(&ac, &out) > 0) {
        struct plan *pl = cio_task_result(out);
        cr_assert_geq(pl->ms * CIO_MS, last, "completion order");
        cr_assert_eq(cio_now(), pl->ms * CIO_MS);
        last = pl->ms * CIO_MS;
        n++;
    }
    cr_assert_eq(n, N);
    cio_as_completed_destroy(&ac);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i);
    free(t);
    return 0;
}

Test(gather, as_completed_many)
{
    cr_assert_eq(run_virtual(as_completed_many_main, NULL), 0);
}
