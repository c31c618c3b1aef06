/* test_context.c — the context switch: callee-saved registers and the
 * floating-point control state stay each task's own, the stack is aligned,
 * deep recursion works on a task stack, and many switches in a row.
 */
#include "helpers.h"

#include <fenv.h>
#include <float.h>

/* ---- callee-saved registers ---------------------------------------------
 *
 * probe(fn, seed) loads every callee-saved register with a value derived
 * from seed, calls fn (which switches to other tasks that load their own
 * values), and returns a bit mask of the registers that came back changed.
 * Written in assembly so that no compiler decision can hide a clobber.
 */
int cio_test_probe(void (*fn)(void), uint64_t seed);

#if defined(__x86_64__)
__asm__(
    "   .text\n"
    "   .globl  cio_test_probe\n"
    "   .hidden cio_test_probe\n"
    "   .type   cio_test_probe, @function\n"
    "cio_test_probe:\n"
    "   pushq   %rbp\n"
    "   pushq   %rbx\n"
    "   pushq   %r12\n"
    "   pushq   %r13\n"
    "   pushq   %r14\n"
    "   pushq   %r15\n"
    "   subq    $24, %rsp\n"            /* keeps the call 16-byte aligned */
    "   movq    %rdi, 0(%rsp)\n"
    "   movq    %rsi, 8(%rsp)\n"
    "   leaq    1(%rsi), %rbx\n"
    "   leaq    2(%rsi), %rbp\n"
    "   leaq    3(%rsi), %r12\n"
    "   leaq    4(%rsi), %r13\n"
    "   leaq    5(%rsi), %r14\n"
    "   leaq    6(%rsi), %r15\n"
    "   call    *0(%rsp)\n"
    "   movq    8(%rsp), %rsi\n"
    "   xorl    %eax, %eax\n"
    "   leaq    1(%rsi), %rdx\n"
    "   cmpq    %rdx, %rbx\n"
    "   je      1f\n"
    "   orl     $1, %eax\n"
    "1: leaq    2(%rsi), %rdx\n"
    "   cmpq    %rdx, %rbp\n"
    "   je      2f\n"
    "   orl     $2, %eax\n"
    "2: leaq    3(%rsi), %rdx\n"
    "   cmpq    %rdx, %r12\n"
    "   je      3f\n"
    "   orl     $4, %eax\n"
    "3: leaq    4(%rsi), %rdx\n"
    "   cmpq    %rdx, %r13\n"
    "   je      4f\n"
    "   orl     $8, %eax\n"
    "4: leaq    5(%rsi), %rdx\n"
    "   cmpq    %rdx, %r14\n"
    "   je      5f\n"
    "   orl     $16, %eax\n"
    "5: leaq    6(%rsi), %rdx\n"
    "   cmpq    %rdx, %r15\n"
    "   je      6f\n"
    "   orl     $32, %eax\n"
    "6: addq    $24, %rsp\n"
    "   popq    %r15\n"
    "   popq    %r14\n"
    "   popq    %r13\n"
    "   popq    %r12\n"
    "   popq    %rbx\n"
    "   popq    %rbp\n"
    "   ret\n"
    "   .size   cio_test_probe, .-cio_test_probe\n");
#define PROBE_REGS "rbx rbp r12 r13 r14 r15"
#elif defined(__aarch64__)
/* x19-x28 and the low halves d8-d15 of v8-v15. */
#define CHECK_X(reg, k, bit)                                \
    "   add     x10, x1, #" #k "\n"                          \
    "   cmp     " #reg ", x10\n"                             \
    "   b.eq    " #k "f\n"                                   \
    "   orr     w0, w0, #" #bit "\n"                         \
    #k ":\n"
#define CHECK_D(reg, k, bit)                                \
    "   add     x10, x1, #" #k "\n"                          \
    "   fmov    x11, " #reg "\n"                             \
    "   cmp     x11, x10\n"                                  \
    "   b.eq    " #k "f\n"                                   \
    "   orr     w0, w0, #" #bit "\n"                         \
    #k ":\n"
__asm__(
    "   .text\n"
    "   .globl  cio_test_probe\n"
    "   .hidden cio_test_probe\n"
    "   .type   cio_test_probe, %function\n"
    "cio_test_probe:\n"
    "   stp     x29, x30, [sp, #-176]!\n"
    "   mov     x29, sp\n"
    "   stp     x19, x20, [sp, #16]\n"
    "   stp     x21, x22, [sp, #32]\n"
    "   stp     x23, x24, [sp, #48]\n"
    "   stp     x25, x26, [sp, #64]\n"
    "   stp     x27, x28, [sp, #80]\n"
    "   stp     d8, d9, [sp, #96]\n"
    "   stp     d10, d11, [sp, #112]\n"
    "   stp     d12, d13, [sp, #128]\n"
    "   stp     d14, d15, [sp, #144]\n"
    "   str     x1, [sp, #160]\n"
    "   mov     x9, x0\n"
    "   add     x19, x1, #1\n"
    "   add     x20, x1, #2\n"
    "   add     x21, x1, #3\n"
    "   add     x22, x1, #4\n"
    "   add     x23, x1, #5\n"
    "   add     x24, x1, #6\n"
    "   add     x25, x1, #7\n"
    "   add     x26, x1, #8\n"
    "   add     x27, x1, #9\n"
    "   add     x28, x1, #10\n"
    "   add     x10, x1, #11\n"
    "   fmov    d8, x10\n"
    "   add     x10, x1, #12\n"
    "   fmov    d9, x10\n"
    "   add     x10, x1, #13\n"
    "   fmov    d10, x10\n"
    "   add     x10, x1, #14\n"
    "   fmov    d11, x10\n"
    "   add     x10, x1, #15\n"
    "   fmov    d12, x10\n"
    "   add     x10, x1, #16\n"
    "   fmov    d13, x10\n"
    "   add     x10, x1, #17\n"
    "   fmov    d14, x10\n"
    "   add     x10, x1, #18\n"
    "   fmov    d15, x10\n"
    "   blr     x9\n"
    "   ldr     x1, [sp, #160]\n"
    "   mov     w0, #0\n"
    CHECK_X(x19, 1, 0x1) CHECK_X(x20, 2, 0x2) CHECK_X(x21, 3, 0x4)
    CHECK_X(x22, 4, 0x8) CHECK_X(x23, 5, 0x10) CHECK_X(x24, 6, 0x20)
    CHECK_X(x25, 7, 0x40) CHECK_X(x26, 8, 0x80) CHECK_X(x27, 9, 0x100)
    CHECK_X(x28, 10, 0x200)
    CHECK_D(d8, 11, 0x400) CHECK_D(d9, 12, 0x800) CHECK_D(d10, 13, 0x1000)
    CHECK_D(d11, 14, 0x2000) CHECK_D(d12, 15, 0x4000) CHECK_D(d13, 16, 0x8000)
    CHECK_D(d14, 17, 0x10000) CHECK_D(d15, 18, 0x20000)
    "   ldp     x19, x20, [sp, #16]\n"
    "   ldp     x21, x22, [sp, #32]\n"
    "   ldp     x23, x24, [sp, #48]\n"
    "   ldp     x25, x26, [sp, #64]\n"
    "   ldp     x27, x28, [sp, #80]\n"
    "   ldp     d8, d9, [sp, #96]\n"
    "   ldp     d10, d11, [sp, #112]\n"
    "   ldp     d12, d13, [sp, #128]\n"
    "   ldp     d14, d15, [sp, #144]\n"
    "   ldp     x29, x30, [sp], #176\n"
    "   ret\n"
    "   .size   cio_test_probe, .-cio_test_probe\n");
#define PROBE_REGS "x19-x28 d8-d15"
#endif

static int switch_rc;
static int64_t probe_sleep;

/* Called by the probe with the test values loaded: switch away. */
static void switch_away(void)
{
    int rc = probe_sleep ? cio_sleep(probe_sleep) : cio_yield();
    if (rc != 0)
        switch_rc = rc;
}

static int probing_task(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg << 32;
    for (int i = 0; i < 200; i++) {
        int bad = cio_test_probe(switch_away, seed + (uint64_t)i * 64);
        cr_assert_eq(bad, 0, "registers clobbered (mask %#x of " PROBE_REGS ")", bad);
    }
    return 0;
}

static int probe_main(void *arg)
{
    (void)arg;
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(probing_task, (void *)(uintptr_t)(i + 1), NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cr_assert_eq(switch_rc, 0);
    return 0;
}

Test(context, callee_saved_registers_survive_task_to_task_switches)
{
    probe_sleep = 0;
    cr_assert_eq(run_virtual(probe_main, NULL), 0);
}

Test(context, callee_saved_registers_survive_switches_through_the_loop)
{
    /* A budget of 1 sends every other switch through the loop context. */
    probe_sleep = 0;
    cio_loop_options o = { .virtual_clock = true, .fairness_budget = 1 };
    cr_assert_eq(cio_run_with(&o, probe_main, NULL), 0);
    /* Sleeping goes through the loop and its timers every time. */
    probe_sleep = CIO_MS;
    cr_assert_eq(run_virtual(probe_main, NULL), 0);
}

/* ---- floating-point control state ---------------------------------------- */

/* 1/3 and -1/3 as rounded in the current mode, double (SSE on x86-64) and
 * long double (x87 on x86-64): each mode gives a distinct combination. */
struct rounded {
    double pos, neg;
    long double lpos, lneg;
};

static struct rounded round_now(void)
{
    volatile double one = 1.0, three = 3.0;
    volatile long double lone = 1.0L, lthree = 3.0L;
    return (struct rounded){ one / three, -one / three, lone / lthree, -lone / lthree };
}

static const int modes[] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
static struct rounded expected[4];

/* Computed on the thread before any loop exists. */
static void compute_expected(void)
{
    int saved = fegetround();
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(fesetround(modes[i]), 0);
        expected[i] = round_now();
    }
    fesetround(saved);
    cr_assert_neq(expected[1].pos, expected[2].pos, "modes must be told apart");
    cr_assert_neq(expected[1].neg, expected[2].neg);
}

static void check_mode(int i, const char *when)
{
    cr_assert_eq(fegetround(), modes[i], "task %d %s", i, when);
    struct rounded r = round_now();
    cr_assert_eq(r.pos, expected[i].pos, "task %d %s: SSE rounding", i, when);
    cr_assert_eq(r.neg, expected[i].neg, "task %d %s", i, when);
    cr_assert_eq(r.lpos, expected[i].lpos, "task %d %s: x87 rounding", i, when);
    cr_assert_eq(r.lneg, expected[i].lneg, "task %d %s", i, when);
}

static int rounding_task(void *arg)
{
    int i = (int)(intptr_t)arg;
    cr_assert_eq(fegetround(), FE_TONEAREST, "a task starts in the ABI's default");
    cr_assert_eq(fesetround(modes[i]), 0);
    for (int k = 0; k < 100; k++) {
        cr_assert_eq(k % 10 == 9 ? cio_sleep(CIO_MS) : cio_yield(), 0);
        check_mode(i, "after a switch");
    }
    return 0;
}

static int rounding_main(void *arg)
{
    (void)arg;
    cr_assert_eq(fesetround(FE_UPWARD), 0); /* the spawner's mode is not inherited */
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(rounding_task, (void *)(intptr_t)i, NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    check_mode(1, "main after joins");
    return 0;
}

Test(context, every_task_keeps_its_own_rounding_mode)
{
    compute_expected();
    cr_assert_eq(fesetround(FE_TOWARDZERO), 0);
    cr_assert_eq(run_virtual(rounding_main, NULL), 0);
    cr_assert_eq(fegetround(), FE_TOWARDZERO, "the thread's own mode is restored");
    fesetround(FE_TONEAREST);
}

/* Flush-to-zero: MXCSR's FTZ and DAZ bits on x86-64, FPCR.FZ on aarch64. */
#if defined(__x86_64__)
#include <xmmintrin.h>
#define FZ_BITS 0x8040u                     /* FTZ | DAZ */
static unsigned get_fz(void) { return _mm_getcsr() & FZ_BITS; }
static void set_fz(bool on)
{
    _mm_setcsr(on ? _mm_getcsr() | FZ_BITS : _mm_getcsr() & ~FZ_BITS);
}
#define HAVE_FZ 1
#elif defined(__aarch64__)
#define FZ_BITS (1u << 24)
static unsigned get_fz(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpcr" : "=r"(v));
    return (unsigned)v & FZ_BITS;
}
static void set_fz(bool on)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpcr" : "=r"(v));
    v = on ? v | FZ_BITS : v & ~(uint64_t)FZ_BITS;
    __asm__ volatile("msr fpcr, %0" : : "r"(v));
}
#define HAVE_FZ 1
#endif

#if defined(HAVE_FZ)
static bool flushes(void)
{
    volatile double tiny = DBL_MIN, four = 4.0;
    return tiny / four == 0.0;              /* a subnormal result, or zero */
}

static int fz_task(void *arg)
{
    bool on = arg != NULL;
    cr_assert_eq(get_fz(), 0, "a task starts without flush-to-zero");
    set_fz(on);
    for (int k = 0; k < 100; k++) {
        cr_assert_eq(cio_yield(), 0);
        cr_assert_eq(get_fz(), on ? FZ_BITS : 0, "k=%d", k);
        cr_assert_eq(flushes(), on, "k=%d", k);
    }
    return 0;
}

static int fz_main(void *arg)
{
    (void)arg;
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(fz_task, (void *)(intptr_t)(i % 2), NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    return 0;
}
#endif

Test(context, every_task_keeps_its_own_flush_to_zero_bits)
{
#if defined(HAVE_FZ)
    cr_assert(!flushes());
    cr_assert_eq(run_virtual(fz_main, NULL), 0);
    cr_assert_eq(get_fz(), 0);
#else
    cr_skip("no flush-to-zero control on this architecture");
#endif
}

/* ---- stack alignment, deep recursion, many switches ---------------------- */

static int alignment_task(void *arg)
{
    (void)arg;
    /* The ABI gives every function a 16-byte aligned frame. */
    cr_assert_eq((uintptr_t)__builtin_frame_address(0) % 16, 0);
    _Alignas(16) volatile long double x = 1.5L;
    cr_assert_eq((uintptr_t)&x % 16, 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq((uintptr_t)__builtin_frame_address(0) % 16, 0);
    return x == 1.5L ? 0 : -1;
}

static int alignment_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(alignment_task, NULL, "aligned");
    return cio_task_join(t, NULL);
}

Test(context, a_task_starts_on_an_aligned_stack)
{
    cr_assert_eq(run_virtual(alignment_main, NULL), 0);
}

/* Recurses depth levels with a 256-byte array per frame; yields at the
 * bottom so another task runs while this stack is deep. */
static __attribute__((noinline)) uint64_t recurse(int depth, uint64_t seed)
{
    volatile unsigned char buf[256];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(seed + i);
    uint64_t below;
    if (depth == 0) {
        cr_assert_eq(cio_yield(), 0);
        below = 0;
    } else {
        below = recurse(depth - 1, seed * 31 + 7);
    }
    uint64_t sum = below;
    for (size_t i = 0; i < sizeof buf; i++)
        sum += buf[i];
    return sum;
}

static uint64_t expected_sum(int depth, uint64_t seed)
{
    uint64_t sum = 0;
    for (int d = depth; d >= 0; d--) {
        for (size_t i = 0; i < 256; i++)
            sum += (unsigned char)(seed + i);
        seed = seed * 31 + 7;
    }
    return sum;
}

static int deep_task(void *arg)
{
    int depth = (int)(intptr_t)arg;
    uint64_t got = recurse(depth, (uint64_t)depth);
    return got == expected_sum(depth, (uint64_t)depth) ? 0 : -1;
}

static int deep_main(void *arg)
{
    (void)arg;
    cio_task_opts o = { .name = "deep", .stack_size = 16u << 20 };
    cio_task *a, *b;
    cr_assert_eq(cio_task_spawn(&a, deep_task, (void *)(intptr_t)6000, &o), 0);
    cr_assert_eq(cio_task_spawn(&b, deep_task, (void *)(intptr_t)5000, &o), 0);
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    return 0;
}

Test(context, deep_recursion_on_task_stacks)
{
    /* About 2 MB of stack each (up to 3 times that under ASan at -O0), two
     * at once, on 16 MiB stacks (committed only as touched). */
    cr_assert_eq(run_virtual(deep_main, NULL), 0);
}

enum { PINGPONG = 1000000 };
static int turn, pp_errors;

static int pingpong(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < PINGPONG; i++) {
        if (turn != me)
            pp_errors++;
        turn = !me;
        if (cio_yield() != 0)
            pp_errors++;
    }
    return 0;
}

static int many_switches_main(void *arg)
{
    (void)arg;
    cio_loop_stats s0, s1;
    cio_loop_get_stats(cio_loop_current(), &s0);
    turn = 0;
    pp_errors = 0;
    cio_task *a = spawn(pingpong, (void *)0, "ping");
    cio_task *b = spawn(pingpong, (void *)1, "pong");
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cio_loop_get_stats(cio_loop_current(), &s1);
    cr_assert_eq(pp_errors, 0, "the two tasks must strictly alternate");
    cr_assert_geq(s1.switches - s0.switches, 2 * PINGPONG);
    return 0;
}

Test(context, two_million_switches_alternate_strictly)
{
    cr_assert_eq(run_virtual(many_switches_main, NULL), 0);
}
