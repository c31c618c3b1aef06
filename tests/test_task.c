/* test_task.c — spawn, join, cancel, names, order, live list, results. */
#include "helpers.h"
#include "arch/sanitizer.h"   /* CIO_TSAN */

#include <string.h>

static int order[16], n_order;

static int record(void *arg)
{
    order[n_order++] = (int)(intptr_t)arg;
    return (int)(intptr_t)arg;
}

static int spawn_order_main(void *arg)
{
    (void)arg;
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn(record, (void *)(intptr_t)(i + 1), NULL);
    /* A spawned task does not run until its spawner blocks or yields. */
    cr_assert_eq(n_order, 0);
    order[n_order++] = 0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), i + 1);
    return 7;
}

Test(task, spawned_tasks_run_fifo_after_spawner_blocks)
{
    n_order = 0;
    cr_assert_eq(run_virtual(spawn_order_main, NULL), 7);
    cr_assert_eq(n_order, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(order[i], i);
}

static int set_result(void *arg)
{
    cio_task_set_result(arg);
    return 3;
}

static int result_main(void *arg)
{
    (void)arg;
    static int value;
    cio_task *t = spawn(set_result, &value, "res");
    void *r = NULL;
    cr_assert_eq(cio_task_join(t, &r), 3);
    cr_assert_eq(r, &value);
    return 0;
}

Test(task, join_returns_status_and_result)
{
    cr_assert_eq(run_virtual(result_main, NULL), 0);
}

static bool ran;

static int mark_ran(void *arg)
{
    (void)arg;
    ran = true;
    return 0;
}

static int cancel_before_run_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(mark_ran, NULL, "never");
    cio_task_cancel(t);
    cr_assert(cio_task_cancel_requested(t));
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    return 0;
}

Test(task, cancelled_before_first_run_never_runs)
{
    ran = false;
    cr_assert_eq(run_virtual(cancel_before_run_main, NULL), 0);
    cr_assert(!ran);
}

static int sleeper(void *arg)
{
    (void)arg;
    int rc = cio_sleep(10 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    /* Level-triggered: every later blocking call fails at once too. */
    cr_assert_eq(cio_sleep(1), -ECANCELED);
    cr_assert_eq(cio_yield(), -ECANCELED);
    return rc;
}

static int cancel_sleeping_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(sleeper, NULL, "sleeper");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(t);
    int64_t before = cio_now();
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), before, "cancellation must not wait for the sleep");
    return 0;
}

Test(task, cancel_wakes_a_sleeping_task_and_stays_in_force)
{
    cr_assert_eq(run_virtual(cancel_sleeping_main, NULL), 0);
}

static int names_main(void *arg)
{
    (void)arg;
    cr_assert_str_eq(cio_task_name(cio_task_current()), "main");
    cio_task *a = spawn(record, NULL, "alpha");
    cio_task *b;
    cr_assert_eq(cio_task_spawn(&b, record, NULL, NULL), 0);
    cr_assert_str_eq(cio_task_name(a), "alpha");
    char expect[32];
    snprintf(expect, sizeof expect, "task-%llu", (unsigned long long)cio_task_id(b));
    cr_assert_str_eq(cio_task_name(b), expect);
    cr_assert_gt(cio_task_id(b), cio_task_id(a));
    cio_task_set_name(b, "beta");
    cr_assert_str_eq(cio_task_name(b), "beta");
    cio_task *live[8];
    cr_assert_eq(cio_task_list(live, 8), 3);
    cr_assert_eq(live[0], cio_task_current());
    cr_assert_eq(live[1], a);
    cr_assert_eq(live[2], b);
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cr_assert_eq(cio_task_list(live, 8), 1);
    return 0;
}

Test(task, names_ids_and_live_list)
{
    n_order = 0;
    cr_assert_eq(run_virtual(names_main, NULL), 0);
}

static int ping_count;

static int pinger(void *arg)
{
    int *log = arg;
    for (int i = 0; i < 3; i++) {
        log[ping_count++] = 1;
        cr_assert_eq(cio_yield(), 0);
    }
    return 0;
}

static int ponger(void *arg)
{
    int *log = arg;
    for (int i = 0; i < 3; i++) {
        log[ping_count++] = 2;
        cr_assert_eq(cio_yield(), 0);
    }
    return 0;
}

static int yield_main(void *arg)
{
    (void)arg;
    int log[6];
    ping_count = 0;
    cio_task *a = spawn(pinger, log, "ping");
    cio_task *b = spawn(ponger, log, "pong");
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(log[i], i % 2 ? 2 : 1, "yield must alternate FIFO");
    return 0;
}

Test(task, yield_alternates_in_fifo_order)
{
    cr_assert_eq(run_virtual(yield_main, NULL), 0);
}

static int join_twice_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(record, (void *)1, "x");
    cr_assert_eq(cio_task_join(cio_task_current(), NULL), -EINVAL);
    n_order = 0;
    cr_assert_eq(cio_task_join(t, NULL), 1);
    return 0;
}

Test(task, joining_self_is_an_error)
{
    cr_assert_eq(run_virtual(join_twice_main, NULL), 0);
}

static int joiner_cancelled(void *arg)
{
    cio_task *target = arg;
    int rc = cio_task_join(target, NULL);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert(!cio_task_done(target), "target keeps running");
    return 0;
}

static int long_sleeper(void *arg)
{
    (void)arg;
    return cio_sleep(CIO_SEC) == 0 ? 5 : -1;
}

static int join_cancel_main(void *arg)
{
    (void)arg;
    cio_task *target = spawn(long_sleeper, NULL, "target");
    cio_task *j = spawn(joiner_cancelled, target, "joiner");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(j);
    cr_assert_eq(cio_task_join(j, NULL), 0);
    cr_assert_eq(cio_task_join(target, NULL), 5, "still joinable after");
    return 0;
}

Test(task, cancelled_join_leaves_target_joinable)
{
    cr_assert_eq(run_virtual(join_cancel_main, NULL), 0);
}

static int ident(void *arg) { return (int)(intptr_t)arg; }

static int many_main(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    cio_task **ts = calloc(n, sizeof *ts);
    for (size_t i = 0; i < n; i++)
        ts[i] = spawn(ident, (void *)(intptr_t)i, NULL);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(cio_task_join(ts[i], NULL), (int)i);
    free(ts);
    return 0;
}

/* TSan tracks each task as a fiber and dies past 8128 threads and fibers
 * alive at once: under it, the test holds fewer tasks. */
#if defined(CIO_TSAN)
#define MANY_TASKS 4000
#else
#define MANY_TASKS 10000
#endif

Test(task, ten_thousand_tasks_spawn_and_join)
{
    cr_assert_eq(run_virtual(many_main, (void *)(uintptr_t)MANY_TASKS), 0);
}

static int failing(void *arg)
{
    (void)arg;
    return -ECONNRESET;
}

static int stray_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, failing, NULL, &(cio_task_opts){ .name = "stray" }), 0);
    return cio_sleep(CIO_MS);
}

Test(task, unjoined_failure_is_reported_at_close, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(stray_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: task 'stray' (id "), "got: %s", err);
    cr_assert(strstr(err, ") failed with ECONNRESET (Connection reset by peer) "
                          "and was never joined\n"), "got: %s", err);
}
