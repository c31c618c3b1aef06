/* test_stats.c — task statistics: exact counts in any mode; lifetimes
 * (exact under the virtual clock) and run times in debug mode only;
 * quantiles; printing, and the print at loop close in debug mode. */
#include "helpers.h"

#include <time.h>

#define MS (1000 * 1000LL)

static int sleep_then(int64_t ns, int status)
{
    int rc = cio_sleep(ns);
    return rc < 0 ? rc : status;
}

static int ok_task(void *arg) { return sleep_then((int64_t)(intptr_t)arg * MS, 0); }
static int bad_task(void *arg) { return sleep_then((int64_t)(intptr_t)arg * MS, -EIO); }
static int long_task(void *arg) { (void)arg; return sleep_then(1000 * MS, 0); }
static int returns_arg(void *arg) { return (int)(intptr_t)arg; }

static cio_task_stats seen;

/* 10 tasks: 6 finish after 1..6 ms, 2 fail after 7 and 8 ms, 2 are
 * cancelled at 10 ms. */
static int workload_main(void *arg)
{
    (void)arg;
    cio_task *t[10];
    for (int i = 0; i < 6; i++)
        t[i] = spawn(ok_task, (void *)(intptr_t)(i + 1), "ok");
    t[6] = spawn(bad_task, (void *)(intptr_t)7, "bad");
    t[7] = spawn(bad_task, (void *)(intptr_t)8, "bad");
    t[8] = spawn(long_task, NULL, "long");
    t[9] = spawn(long_task, NULL, "long");
    cr_assert_eq(cio_sleep(10 * MS), 0);
    cio_task_cancel(t[8]);
    cio_task_cancel(t[9]);
    for (int i = 0; i < 10; i++) {
        int want = i < 6 ? 0 : i < 8 ? -EIO : -ECANCELED;
        cr_assert_eq(cio_task_join(t[i], NULL), want);
    }
    cio_loop_task_stats(NULL, &seen);
    return 0;
}

static void check_counts(void)
{
    cr_assert_eq(seen.created, 11);     /* main too */
    cr_assert_eq(seen.finished, 6);
    cr_assert_eq(seen.failed, 2);
    cr_assert_eq(seen.cancelled, 2);
    cr_assert_eq(seen.live, 1);         /* main */
}

static void check_lifetimes(void)
{
    const cio_duration_stats *l = &seen.lifetime;
    cr_assert_eq(l->count, 10);
    cr_assert_eq(l->min_ns, 1 * MS);
    cr_assert_eq(l->max_ns, 10 * MS);
    cr_assert_eq(l->sum_ns, (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 10 + 10) * MS);
    uint64_t in_buckets = 0;
    for (int i = 0; i < CIO_DURATION_BUCKETS; i++)
        in_buckets += l->buckets[i];
    cr_assert_eq(in_buckets, 10);
    /* 1 ms = 1e6 ns lies in [2^19, 2^20): bucket 19. */
    cr_assert_eq(l->buckets[19], 1);
}

Test(stats, counts_are_exact_and_cost_no_timing_when_debug_mode_is_off)
{
    unsetenv("CIO_DEBUG");
    memset(&seen, 0xff, sizeof seen);
    cr_assert_eq(run_virtual(workload_main, NULL), 0);
    check_counts();
    cr_assert_not(seen.timed);
    cr_assert_eq(seen.lifetime.count, 0);
    cr_assert_eq(seen.run_time.count, 0);
}

Test(stats, debug_mode_measures_exact_lifetimes_and_run_times,
     .init = cr_redirect_stderr)
{
    memset(&seen, 0xff, sizeof seen);
    cio_loop_options o = { .virtual_clock = true, .debug = true };
    cr_assert_eq(cio_run_with(&o, workload_main, NULL), 0);
    check_counts();
    check_lifetimes();
    cr_assert(seen.timed);
    cr_assert_eq(seen.run_time.count, 10);
    cr_assert_gt(seen.run_time.sum_ns, 0);
    cr_assert_leq(seen.run_time.min_ns, seen.run_time.max_ns);
}

/* A task that holds the loop for 20 ms of real time (a blocking call) is
 * charged for it, however many times it switches out. */
static int hog(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        struct timespec d = { 0, 10 * MS };
        nanosleep(&d, NULL);
        cr_assert_eq(cio_yield(), 0);
    }
    return 0;
}

static int hog_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_task_join(spawn(hog, NULL, "hog"), NULL), 0);
    cio_loop_task_stats(NULL, &seen);
    return 0;
}

Test(stats, run_time_sums_a_tasks_runs, .init = cr_redirect_stderr)
{
    cio_loop_options o = { .virtual_clock = true, .debug = true };
    cr_assert_eq(cio_run_with(&o, hog_main, NULL), 0);
    cr_assert_eq(seen.run_time.count, 1);
    cr_assert_geq(seen.run_time.max_ns, 20 * MS);
    cr_assert_lt(seen.run_time.max_ns, 2000 * MS);
}

Test(stats, no_loop_gives_zeroes)
{
    cio_task_stats s;
    memset(&s, 0xff, sizeof s);
    cio_loop_task_stats(NULL, &s);
    cr_assert_eq(s.created, 0);
    cr_assert_eq(s.lifetime.count, 0);
    cr_assert_eq(cio_duration_quantile(&s.lifetime, 0.5), 0);
    cr_assert_eq(cio_duration_mean(&s.lifetime), 0);
}

Test(stats, quantiles_are_exact_for_equal_samples_and_bounded_otherwise)
{
    cio_duration_stats d = { 0 };
    for (int i = 0; i < 7; i++)
        cio_duration_add(&d, 3000);
    cr_assert_eq(cio_duration_quantile(&d, 0.0), 3000);
    cr_assert_eq(cio_duration_quantile(&d, 0.5), 3000);
    cr_assert_eq(cio_duration_quantile(&d, 1.0), 3000);
    cr_assert_eq(cio_duration_mean(&d), 3000);

    cio_duration_stats e = { 0 };
    for (int i = 1; i <= 100; i++)
        cio_duration_add(&e, i * 1000);          /* 1 us .. 100 us */
    int64_t p50 = cio_duration_quantile(&e, 0.5);
    int64_t p99 = cio_duration_quantile(&e, 0.99);
    /* Within the log2 bucket of the true value (50 us and 99 us). */
    cr_assert(p50 >= 32768 && p50 < 65536, "p50 %lld", (long long)p50);
    cr_assert(p99 >= 65536 && p99 <= 100000, "p99 %lld", (long long)p99);
    cr_assert_eq(cio_duration_quantile(&e, 1.0), 100000);
    cr_assert_eq(cio_duration_quantile(&e, 0.0), 1000);
    cr_assert_eq(cio_duration_mean(&e), 50500);
}

Test(stats, print_shows_counts_quantiles_and_buckets, .init = cr_redirect_stderr)
{
    memset(&seen, 0, sizeof seen);
    cio_loop_options o = { .virtual_clock = true, .debug = true };
    cr_assert_eq(cio_run_with(&o, workload_main, NULL), 0);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cr_assert_not_null(f);
    cio_task_stats_print(&seen, f, "> ");
    fclose(f);
    cr_assert(strstr(text, "> tasks: 11 created, 6 finished, 2 failed, 2 cancelled, 1 live\n"),
              "%s", text);
    cr_assert(strstr(text, "> lifetime (10 tasks): min 1ms  mean 5.6ms"), "%s", text);
    cr_assert(strstr(text, "max 10ms\n"), "%s", text);
    /* The 2 tasks of 10 ms are alone in [2^23, 2^24) ns. */
    cr_assert(strstr(text, "[ 8.39ms,  16.8ms) ####################"
                           "                     2\n"), "%s", text);
    cr_assert(strstr(text, "> run time (10 tasks): min "), "%s", text);
    free(text);
}

Test(stats, print_without_debug_mode_has_the_counts_only)
{
    unsetenv("CIO_DEBUG");
    cr_assert_eq(run_virtual(workload_main, NULL), 0);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cr_assert_not_null(f);
    cio_task_stats_print(&seen, f, NULL);
    fclose(f);
    cr_assert_str_eq(text, "tasks: 11 created, 6 finished, 2 failed, 2 cancelled, 1 live\n"
                           "lifetime, run time: not measured (debug mode is off)\n");
    free(text);
}

/* Created is derived from the task ids a loop takes in blocks of 1024: it
 * stays exact across blocks. */
static int many_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2500; i++) {
        cio_task *t;
        cr_assert_eq(cio_task_spawn(&t, returns_arg, (void *)(intptr_t)(i % 3 ? 0 : -EIO),
                                    NULL), 0);
        cr_assert_eq(cio_task_join(t, NULL), i % 3 ? 0 : -EIO);
    }
    cio_loop_task_stats(NULL, &seen);
    return 0;
}

Test(stats, counts_stay_exact_over_thousands_of_tasks)
{
    cr_assert_eq(run_virtual(many_main, NULL), 0);
    cr_assert_eq(seen.created, 2501);
    cr_assert_eq(seen.failed, 834);
    cr_assert_eq(seen.finished, 2501 - 834 - 1);
    cr_assert_eq(seen.live, 1);
}

static int trivial_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_task_join(spawn(ok_task, (void *)(intptr_t)2, "x"), NULL), 0);
    return 0;
}

Test(stats, debug_mode_prints_them_at_loop_close, .init = cr_redirect_stderr)
{
    cio_loop_options o = { .virtual_clock = true, .debug = true };
    cr_assert_eq(cio_run_with(&o, trivial_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: debug: task statistics at loop close:\n"), "%s", err);
    cr_assert(strstr(err, "cio: debug:   tasks: 2 created, 2 finished, 0 failed, "
                          "0 cancelled, 0 live\n"), "%s", err);
    cr_assert(strstr(err, "cio: debug:   lifetime (2 tasks): min 2ms "), "%s", err);
    cr_assert(strstr(err, "cio: debug:   run time (2 tasks): "), "%s", err);
}

Test(stats, no_print_when_debug_mode_is_off, .init = cr_redirect_stderr)
{
    unsetenv("CIO_DEBUG");
    cr_assert_eq(run_virtual(trivial_main, NULL), 0);
    cr_assert_str_eq(captured_stderr(), "");
}

Test(stats, a_programs_own_durations)
{
    cio_duration_stats d = { 0 };
    cio_duration_add(&d, 5000);
    cio_duration_add(&d, 1000);
    cio_duration_add(&d, -7);           /* a clock step back counts as 0 */
    cr_assert_eq(d.count, 3);
    cr_assert_eq(d.min_ns, 0);
    cr_assert_eq(d.max_ns, 5000);
    cr_assert_eq(d.sum_ns, 6000);
    cr_assert_eq(d.buckets[0], 1);      /* [0, 2) */
    cr_assert_eq(d.buckets[9], 1);      /* [512, 1024) */
    cr_assert_eq(d.buckets[12], 1);     /* [4096, 8192) */
    cr_assert_eq(cio_duration_mean(&d), 2000);
}
