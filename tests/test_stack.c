/* test_stack.c — task stacks: an overflow is reported with the task's name
 * and aborts (guard page, or the canary when stacks run unguarded), stacks
 * are reused from the pool, the guard budget falls back to unguarded stacks.
 *
 * The overflow tests fork (crash.h) so they can check both the signal and
 * the exact message.
 */
#include "helpers.h"
#include "crash.h"
#include "core/internal.h"

static cio_loop_stats stats(void)
{
    cio_loop_stats s;
    cio_loop_get_stats(cio_loop_current(), &s);
    return s;
}

/* ---- overflowing a guarded stack ----------------------------------------- */

static volatile unsigned long sink;
static volatile unsigned long no_limit = ~0ul;   /* never reached */

/* Unbounded recursion with 1 KiB of locals per frame: less than the guard
 * page, so the first write past the stack lands in the guard. */
static __attribute__((noinline)) unsigned long overflow(unsigned long n)
{
    volatile unsigned char buf[1024];
    for (size_t i = 0; i < sizeof buf; i += 64)
        buf[i] = (unsigned char)n;
    if (n == no_limit)
        return 0;
    return overflow(n + 1) + buf[n % sizeof buf];
}

static int overflow_task(void *arg)
{
    (void)arg;
    sink = overflow(0);
    return 0;
}

static int overflow_main(void *arg)
{
    cio_task *t;
    cio_task_opts o = { .name = arg, .stack_size = 32 * 1024 };
    if (cio_task_spawn(&t, overflow_task, NULL, &o) < 0)
        return 1;
    return cio_task_join(t, NULL);
}

static void run_overflow(void *name)
{
    int rc = cio_run(overflow_main, name);
    fprintf(stderr, "survived: %d\n", rc);
}

Test(stack, an_overflow_is_reported_with_the_task_name_and_aborts)
{
    child_result r;
    run_in_child(run_overflow, "deep", &r);
    cr_assert_eq(r.signal, SIGABRT, "signal %d exit %d, stderr: %s", r.signal,
                 r.exit_code, r.err);
    cr_assert_str_eq(r.err, "cio: task 'deep' overflowed its 32 KiB stack\n");
}

Test(stack, an_overflow_dies_with_sigabrt, .signal = SIGABRT,
     .init = cr_redirect_stderr)
{
    run_overflow("crash");
}

static int unnamed_overflow_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cio_task_opts o = { .stack_size = 64 * 1024 };
    if (cio_task_spawn(&t, overflow_task, NULL, &o) < 0)
        return 1;
    fprintf(stderr, "id=%llu\n", (unsigned long long)cio_task_id(t));
    return cio_task_join(t, NULL);
}

static void run_unnamed_overflow(void *arg)
{
    (void)arg;
    int rc = cio_run(unnamed_overflow_main, NULL);
    fprintf(stderr, "survived: %d\n", rc);
}

Test(stack, an_unnamed_task_is_reported_by_its_default_name)
{
    child_result r;
    run_in_child(run_unnamed_overflow, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "stderr: %s", r.err);
    unsigned long long id = 0;
    cr_assert_eq(sscanf(r.err, "id=%llu\n", &id), 1, "stderr: %s", r.err);
    char expect[128];
    snprintf(expect, sizeof expect,
             "id=%llu\ncio: task 'task-%llu' overflowed its 64 KiB stack\n", id, id);
    cr_assert_str_eq(r.err, expect);
}

/* A fault that is not an overflow is left to the default handling. */
static int null_task(void *arg)
{
    volatile int *p = arg;
    return *p;
}

static int null_main(void *arg)
{
    (void)arg;
    cio_task *t;
    if (cio_task_spawn(&t, null_task, NULL, &(cio_task_opts){ .name = "null" }) < 0)
        return 1;
    return cio_task_join(t, NULL);
}

static void run_null(void *arg)
{
    (void)arg;
    int rc = cio_run(null_main, NULL);
    fprintf(stderr, "survived: %d\n", rc);
}

Test(stack, a_fault_that_is_not_an_overflow_is_not_reported_as_one)
{
    child_result r;
    run_in_child(run_null, NULL, &r);
    cr_assert(!strstr(r.err, "overflowed"), "stderr: %s", r.err);
    cr_assert(!strstr(r.err, "survived"), "stderr: %s", r.err);
#if !defined(CIO_ASAN)
    cr_assert_eq(r.signal, SIGSEGV, "stderr: %s", r.err);
#endif
}

/* ---- the unguarded fallback: the canary ---------------------------------- */

/* Scribble on the lowest bytes of the running task's stack, where the zero
 * canary is: what an overflow that just reached the end of the stack does
 * (frames hold return addresses and saved registers, not zeros). Only memory
 * of this stack is written. */
__attribute__((noinline, no_sanitize("address")))
static void smash_bottom(void)
{
    volatile unsigned char *lo = cio_task_current()->stack.lo;
    for (int i = 0; i < 64; i++)
        lo[i] = 0xA5;
}

/* Recurse until the frame is within 4 KiB of the stack's end, then smash the
 * bottom from there: a real deep stack, as an overflow would have. */
static __attribute__((noinline)) unsigned long descend(unsigned long n)
{
    volatile unsigned char buf[512];
    buf[0] = (unsigned char)n;
    const char *lo = cio_task_current()->stack.lo;
    if ((const char *)buf - lo < 4096) {
        smash_bottom();
        return buf[0];
    }
    return descend(n + 1) + buf[0];
}

static int canary_task(void *arg)
{
    (void)arg;
    sink = descend(0);
    fprintf(stderr, "returned from the depths\n");
    int rc = cio_yield();           /* the next switch checks the canary */
    fprintf(stderr, "survived the switch: %d\n", rc);
    return 0;
}

static int canary_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cio_task_opts o = { .name = "unguarded", .stack_size = 32 * 1024 };
    if (cio_task_spawn(&t, canary_task, NULL, &o) < 0)
        return 1;
    if (t->stack.guarded) {
        fprintf(stderr, "stack is guarded\n");
        return 2;
    }
    return cio_task_join(t, NULL);
}

static void run_canary(void *arg)
{
    (void)arg;
    /* Before the first stack is mapped: the budget is read once. */
    setenv("CIO_GUARDED_STACKS_MAX", "0", 1);
    int rc = cio_run(canary_main, NULL);
    fprintf(stderr, "survived: %d\n", rc);
}

Test(stack, an_overwritten_canary_is_reported_at_the_next_switch)
{
    child_result r;
    run_in_child(run_canary, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "signal %d exit %d, stderr: %s", r.signal,
                 r.exit_code, r.err);
    cr_assert_str_eq(r.err, "returned from the depths\n"
                            "cio: task 'unguarded' overflowed its 32 KiB stack "
                            "(canary overwritten)\n");
}

static int finish_task(void *arg)
{
    (void)arg;
    sink = descend(0);
    return 0;                       /* finishing is a switch too */
}

static int canary_finish_main(void *arg)
{
    (void)arg;
    cio_task *t;
    cio_task_opts o = { .name = "ender", .stack_size = 32 * 1024 };
    if (cio_task_spawn(&t, finish_task, NULL, &o) < 0)
        return 1;
    return cio_task_join(t, NULL);
}

static void run_canary_finish(void *arg)
{
    (void)arg;
    setenv("CIO_GUARDED_STACKS_MAX", "0", 1);
    int rc = cio_run(canary_finish_main, NULL);
    fprintf(stderr, "survived: %d\n", rc);
}

Test(stack, an_overwritten_canary_is_reported_when_the_task_ends)
{
    child_result r;
    run_in_child(run_canary_finish, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "stderr: %s", r.err);
    cr_assert_str_eq(r.err, "cio: task 'ender' overflowed its 32 KiB stack "
                            "(canary overwritten)\n");
}

static int deep_but_fine(void *arg)
{
    (void)arg;
    /* Use most of a 32 KiB stack without overflowing it. */
    volatile unsigned char buf[20 * 1024];
    for (size_t i = 0; i < sizeof buf; i += 256)
        buf[i] = (unsigned char)i;
    int rc = cio_yield();
    return rc < 0 ? rc : buf[256];
}

static int unguarded_main(void *arg)
{
    (void)arg;
    cio_loop_stats s = stats();
    cr_assert_eq(s.guarded_stacks, 0);
    cr_assert_geq(s.unguarded_stacks, 1, "main's stack");
    cio_task *t[8];
    cio_task_opts o = { .stack_size = 32 * 1024 };
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(cio_task_spawn(&t[i], deep_but_fine, NULL, &o), 0);
        cr_assert(!t[i]->stack.guarded);
    }
    cr_assert_eq(stats().unguarded_stacks, s.unguarded_stacks + 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0, "an intact canary passes");
    cr_assert_eq(stats().unguarded_stacks, s.unguarded_stacks, "not pooled: unmapped");
    cr_assert_eq(stats().guarded_stacks, 0);
    return 0;
}

Test(stack, with_no_guard_budget_every_stack_is_unguarded)
{
    setenv("CIO_GUARDED_STACKS_MAX", "0", 1);
    cr_assert_eq(run_virtual(unguarded_main, NULL), 0);
}

static int budget_main(void *arg)
{
    (void)arg;
    cio_loop_stats s0 = stats();
    cr_assert_eq(s0.guarded_stacks, 1, "main took one of the three");
    cio_task *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = spawn(deep_but_fine, NULL, NULL);
    cio_loop_stats s1 = stats();
    cr_assert_eq(s1.guarded_stacks, 3, "guards while the budget lasts");
    cr_assert_eq(s1.unguarded_stacks, s0.unguarded_stacks + 3, "then canaries");
    cr_assert(t[0]->stack.guarded && t[1]->stack.guarded);
    cr_assert(!t[2]->stack.guarded && !t[4]->stack.guarded);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    return 0;
}

Test(stack, past_the_guard_budget_stacks_fall_back_to_canaries)
{
    setenv("CIO_GUARDED_STACKS_MAX", "3", 1);
    cr_assert_eq(run_virtual(budget_main, NULL), 0);
}

Test(stack, released_guards_return_to_the_budget)
{
    setenv("CIO_GUARDED_STACKS_MAX", "3", 1);
    cr_assert_eq(run_virtual(budget_main, NULL), 0);
    /* The first loop unmapped its stacks: the budget is whole again. */
    cr_assert_eq(run_virtual(budget_main, NULL), 0);
}

/* ---- the pool ---------------------------------------------------------------- */

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

static int pool_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(nothing, NULL, NULL);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cio_loop_stats s0 = stats();
    cr_assert_eq(s0.pooled_stacks, 1);
    size_t mapped = s0.guarded_stacks + s0.unguarded_stacks;
    void *first_stack = NULL;
    for (int i = 0; i < 10000; i++) {
        t = spawn(nothing, NULL, NULL);
        if (!first_stack)
            first_stack = t->stack.lo;
        cr_assert_eq(t->stack.lo, first_stack, "the same stack every time");
        cio_loop_stats s = stats();
        cr_assert_eq(s.pooled_stacks, 0, "taken from the pool");
        cr_assert_eq(s.guarded_stacks + s.unguarded_stacks, mapped, "no new map");
        cr_assert_eq(cio_task_join(t, NULL), 0);
        cr_assert_eq(stats().pooled_stacks, 1, "given back");
    }
    return 0;
}

Test(stack, stacks_are_reused_from_the_pool)
{
    cr_assert_eq(run_virtual(pool_main, NULL), 0);
}

static int pool_sizes_main(void *arg)
{
    (void)arg;
    cio_loop_stats s0 = stats();
    size_t mapped = s0.guarded_stacks + s0.unguarded_stacks;
    cio_task *t;
    cio_task_opts big = { .stack_size = 1024 * 1024 };
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(cio_task_spawn(&t, nothing, NULL, &big), 0);
        cr_assert_eq(stats().guarded_stacks + stats().unguarded_stacks, mapped + 1);
        cr_assert_eq(cio_task_join(t, NULL), 0);
        /* Only default-size stacks are pooled: this one is unmapped. */
        cr_assert_eq(stats().pooled_stacks, s0.pooled_stacks);
        cr_assert_eq(stats().guarded_stacks + stats().unguarded_stacks, mapped);
    }
    return 0;
}

Test(stack, stacks_of_other_sizes_are_unmapped_not_pooled)
{
    cr_assert_eq(run_virtual(pool_sizes_main, NULL), 0);
}

static int fresh_after_reuse(void *arg)
{
    int *round = arg;
    /* The canary of a recycled stack is intact, whatever ran there. */
    cr_assert(cio_stack_canary_ok(&cio_task_current()->stack));
    volatile unsigned char buf[8192];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(*round + (int)i);
    return buf[100] == (unsigned char)(*round + 100) ? 0 : -1;
}

static int reuse_main(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        cio_task *t = spawn(fresh_after_reuse, &round, NULL);
        cr_assert_eq(cio_task_join(t, NULL), 0);
    }
    return 0;
}

Test(stack, a_recycled_stack_works_like_a_fresh_one)
{
    cr_assert_eq(run_virtual(reuse_main, NULL), 0);
}
