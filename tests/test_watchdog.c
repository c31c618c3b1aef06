/* test_watchdog.c — debug mode's slow-task watchdog: a task that blocks the
 * loop is reported while it is stuck (name, id, time, symbolized stack),
 * then with the total once it yields; tasks that yield in time, and loops
 * outside debug mode, are not reported.
 *
 * These tests block the loop for real (nanosleep, a few hundred ms): that
 * is the behaviour under test. Nothing else is synchronised by sleeping. */
#include "helpers.h"

#include <signal.h>
#include <time.h>

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A blocking call in a task: the mistake the watchdog catches. Keeps
 * sleeping after an EINTR (the watchdog's signal interrupts nanosleep).
 * Non-static and noinline so it shows in the symbolized stack. */
__attribute__((noinline)) void watchdog_block_for_ms(int ms)
{
    int64_t until = real_ns() + (int64_t)ms * 1000000;
    for (int64_t now = real_ns(); now < until; now = real_ns()) {
        struct timespec left = { .tv_sec = (until - now) / 1000000000,
                                 .tv_nsec = (until - now) % 1000000000 };
        nanosleep(&left, NULL);
    }
    __asm__ volatile("" ::: "memory");  /* not a tail call */
}

__attribute__((noinline)) int watchdog_blocking_task(void *arg)
{
    watchdog_block_for_ms((int)(intptr_t)arg);
    return cio_yield();
}

static int blocker_main(void *arg)
{
    cr_assert(cio_debug_enabled());
    cio_task *t = spawn(watchdog_blocking_task, arg, "blocker");
    return cio_task_join(t, NULL);
}

/* The number after `prefix` in s, or -1. */
static long number_after(const char *s, const char *prefix)
{
    const char *p = strstr(s, prefix);
    return p ? strtol(p + strlen(prefix), NULL, 10) : -1;
}

static void assert_blocker_reported(const char *err, const char *threshold)
{
    cr_assert(strstr(err, "cio: watchdog: task 'blocker' (id "), "no report:\n%s", err);
    cr_assert(strstr(err, threshold), "%s", err);
    long stuck = number_after(err, "has been running for ");
    cr_assert_geq(stuck, 50, "reported after %ld ms:\n%s", stuck, err);
    /* The stack, symbolized, innermost first, while the task was stuck. */
    const char *block = strstr(err, "watchdog_block_for_ms+");
    const char *task = strstr(err, "watchdog_blocking_task+");
    cr_assert(block && task && block < task, "stack:\n%s", err);
    cr_assert(strstr(err, "test_watchdog.c:"), "no file:line:\n%s", err);
    long total = number_after(err, "yielded after blocking the loop for ");
    cr_assert(total >= 300 && total < 5000, "total %ld ms:\n%s", total, err);
    cr_assert_leq(stuck, total, "reported while stuck:\n%s", err);
    cr_assert(strstr(err, "has been running for") < strstr(err, "yielded after"));
}

Test(watchdog, reports_a_blocking_task_while_stuck_then_its_total,
     .init = cr_redirect_stderr)
{
    cio_loop_options o = { .debug = true, .slow_task_ms = 50 };
    cr_assert_eq(cio_run_with(&o, blocker_main, (void *)(intptr_t)300), 0);
    assert_blocker_reported(captured_stderr(), "(slow_task_ms 50)");
}

Test(watchdog, debug_mode_and_threshold_from_the_environment, .init = cr_redirect_stderr)
{
    setenv("CIO_DEBUG", "1", 1);
    setenv("CIO_SLOW_TASK_MS", "60", 1);
    cr_assert_eq(cio_run(blocker_main, (void *)(intptr_t)300), 0);
    assert_blocker_reported(captured_stderr(), "(slow_task_ms 60)");
}

/* Runs of 5 ms each, yielding between them: 100 ms of work in all, never
 * more than the 200 ms threshold at a time. */
static int polite_task(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        watchdog_block_for_ms(5);
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int polite_main(void *arg)
{
    (void)arg;
    cio_task *a = spawn(polite_task, NULL, "polite");
    cio_task *b = spawn(polite_task, NULL, "polite2");
    int rc = cio_task_join(a, NULL);
    return rc < 0 ? rc : cio_task_join(b, NULL);
}

Test(watchdog, tasks_that_yield_in_time_are_not_reported, .init = cr_redirect_stderr)
{
    cio_loop_options o = { .debug = true, .slow_task_ms = 200 };
    cr_assert_eq(cio_run_with(&o, polite_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: loop uses the"), "debug mode was on:\n%s", err);
    cr_assert_null(strstr(err, "watchdog"), "%s", err);
}

static int not_debug_main(void *arg)
{
    cr_assert_not(cio_debug_enabled());
    watchdog_block_for_ms((int)(intptr_t)arg);
    return cio_yield();
}

Test(watchdog, is_off_outside_debug_mode, .init = cr_redirect_stderr)
{
    unsetenv("CIO_DEBUG");
    cio_loop_options o = { .slow_task_ms = 20 };
    cr_assert_eq(cio_run_with(&o, not_debug_main, (void *)(intptr_t)100), 0);
    cr_assert_null(strstr(captured_stderr(), "watchdog"));
    cr_assert_not(cio_debug_enabled());     /* no loop at all now */
}

/* SIGQUIT while a task blocks the loop: the loop cannot print the dump
 * until the task yields; the watchdog says so with its report, then the
 * loop prints the dump. */
__attribute__((noinline)) int watchdog_quit_then_block(void *arg)
{
    cr_assert_eq(raise(SIGQUIT), 0);
    watchdog_block_for_ms((int)(intptr_t)arg);
    int rc = cio_sleep(1000000);    /* the loop makes a pass: the dump */
    __asm__ volatile("" : "+r"(rc) :: "memory");    /* not a tail call */
    return rc;
}

static int quit_main(void *arg)
{
    cr_assert_eq(cio_dump_on_sigquit(), 0);
    cio_task *t = spawn(watchdog_quit_then_block, arg, "stuck");
    return cio_task_join(t, NULL);
}

Test(watchdog, sigquit_while_stuck_dumps_once_the_task_yields, .init = cr_redirect_stderr)
{
    cio_loop_options o = { .debug = true, .slow_task_ms = 50 };
    cr_assert_eq(cio_run_with(&o, quit_main, (void *)(intptr_t)300), 0);
    const char *err = captured_stderr();
    const char *report = strstr(err, "cio: watchdog: task 'stuck'");
    const char *note = strstr(err, "a task dump was asked for");
    const char *total = strstr(err, "yielded after blocking the loop");
    const char *dump = strstr(err, "cio: task dump:");
    cr_assert(report && note && total && dump, "%s", err);
    cr_assert(report < note && note < total && total < dump, "%s", err);
    cr_assert(strstr(dump, "'stuck' waiting: sleep"), "%s", err);
    cr_assert(strstr(dump, "watchdog_quit_then_block+"), "%s", err);
}
