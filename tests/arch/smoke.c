/* smoke.c — a self-checking smoke test of the context switch and the core.
 *
 * Plain C with its own checks (no Criterion), so scripts/check-aarch64 can
 * cross-compile it statically for aarch64 and run it under qemu-user, and run
 * the same program natively on x86-64. Build it at -O2 with -frounding-math.
 * Prints one line per check and exits 0 only if every check passed.
 */
#include <cio.h>

#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- checking ----------------------------------------------------------- */

static int failed_checks;       /* in the current section */
static int sections_passed, sections_failed;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failed_checks++;                                                \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

static void section(const char *name, void (*fn)(void))
{
    failed_checks = 0;
    fn();
    if (failed_checks == 0) {
        sections_passed++;
        printf("ok    %s\n", name);
    } else {
        sections_failed++;
        printf("FAIL  %s (%d failed checks)\n", name, failed_checks);
    }
    fflush(stdout);
}

/* Run main_fn as the main task of a fresh loop on the virtual clock and
 * check that it returned 0. */
static void run_virtual(cio_task_fn *main_fn, void *arg)
{
    cio_loop_options o = { .virtual_clock = true };
    int rc = cio_run_with(&o, main_fn, arg);
    CHECK(rc == 0, "cio_run_with returned %d", rc);
}

static cio_task *spawn_named(cio_task_fn *fn, void *arg, const char *name,
                             size_t stack_size)
{
    cio_task *t = NULL;
    cio_task_opts o = { .name = name, .stack_size = stack_size };
    int rc = cio_task_spawn(&t, fn, arg, &o);
    CHECK(rc == 0 && t, "spawn '%s' failed: %d", name ? name : "?", rc);
    return t;
}

static int join_status(cio_task *t)
{
    return t ? cio_task_join(t, NULL) : -EINVAL;
}

/* ---- spawn and join many tasks ------------------------------------------ */

enum { MANY = 3000 };
static int many_ran[MANY];

static int many_child(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (cio_yield() != 0)
        return -1;
    many_ran[i]++;
    cio_task_set_result(&many_ran[i]);
    return i % 1000;
}

static int many_main(void *arg)
{
    (void)arg;
    static cio_task *tasks[MANY];
    for (int round = 0; round < 2; round++) {       /* round 2 hits the pool */
        for (int i = 0; i < MANY; i++)
            tasks[i] = spawn_named(many_child, (void *)(intptr_t)i, NULL, 0);
        cio_loop_stats st;
        cio_loop_get_stats(cio_loop_current(), &st);
        CHECK(st.live_tasks == MANY + 1, "live %zu", st.live_tasks);
        for (int i = 0; i < MANY; i++) {
            void *res = NULL;
            int status = tasks[i] ? cio_task_join(tasks[i], &res) : -EINVAL;
            CHECK(status == i % 1000, "task %d status %d", i, status);
            CHECK(res == &many_ran[i], "task %d result %p", i, res);
        }
    }
    for (int i = 0; i < MANY; i++)
        CHECK(many_ran[i] == 2, "task %d ran %d times", i, many_ran[i]);
    return 0;
}

static void test_spawn_join_many(void) { run_virtual(many_main, NULL); }

/* ---- yield ping-pong ---------------------------------------------------- */

enum { ROUNDS = 200 };
static char pp_log[2 * ROUNDS + 8];
static size_t pp_len;

static int ping_pong(void *arg)
{
    char me = *(const char *)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pp_log[pp_len++] = me;
        if (cio_yield() != 0)
            return -1;
    }
    return 0;
}

static int ping_pong_main(void *arg)
{
    (void)arg;
    pp_len = 0;
    cio_task *a = spawn_named(ping_pong, "a", "ping", 0);
    cio_task *b = spawn_named(ping_pong, "b", "pong", 0);
    pp_log[pp_len++] = 'm';     /* spawned tasks wait until main blocks */
    CHECK(join_status(a) == 0, "ping failed");
    CHECK(join_status(b) == 0, "pong failed");
    CHECK(pp_len == 2 * ROUNDS + 1, "log length %zu", pp_len);
    CHECK(pp_log[0] == 'm', "log starts with %c", pp_log[0]);
    for (size_t i = 1; i < pp_len; i++)
        CHECK(pp_log[i] == ((i % 2) ? 'a' : 'b'), "log[%zu] = %c", i, pp_log[i]);
    return 0;
}

static void test_ping_pong(void) { run_virtual(ping_pong_main, NULL); }

/* ---- sleep on the virtual clock ----------------------------------------- */

static int64_t woke_at[3];
static int wake_order[3], n_woke;
static int64_t start_ns;

static int sleeper(void *arg)
{
    int i = (int)(intptr_t)arg;
    static const int64_t delays[3] = { 3 * CIO_SEC, 1 * CIO_SEC, 2 * CIO_SEC };
    int rc = cio_sleep(delays[i]);
    woke_at[i] = cio_now() - start_ns;
    wake_order[n_woke++] = i;
    return rc;
}

static int sleep_main(void *arg)
{
    (void)arg;
    n_woke = 0;
    start_ns = cio_now();
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn_named(sleeper, (void *)(intptr_t)i, NULL, 0);
    for (int i = 0; i < 3; i++)
        CHECK(join_status(t[i]) == 0, "sleeper %d failed", i);
    CHECK(n_woke == 3, "%d woke", n_woke);
    CHECK(wake_order[0] == 1 && wake_order[1] == 2 && wake_order[2] == 0,
          "order %d %d %d", wake_order[0], wake_order[1], wake_order[2]);
    CHECK(woke_at[1] == 1 * CIO_SEC, "1 s sleeper woke at %lld", (long long)woke_at[1]);
    CHECK(woke_at[2] == 2 * CIO_SEC, "2 s sleeper woke at %lld", (long long)woke_at[2]);
    CHECK(woke_at[0] == 3 * CIO_SEC, "3 s sleeper woke at %lld", (long long)woke_at[0]);
    return 0;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CIO_SEC + ts.tv_nsec;
}

static void test_virtual_sleep(void)
{
    int64_t t0 = real_ns();
    run_virtual(sleep_main, NULL);
    int64_t spent = real_ns() - t0;
    /* 6 s of sleeps on the virtual clock: far under a real second. */
    CHECK(spent < CIO_SEC, "took %lld ns of real time", (long long)spent);
}

/* ---- cancelling a sleeping task ----------------------------------------- */

static int cancel_sleep_rc;
static int64_t cancelled_at;

static int long_sleeper(void *arg)
{
    (void)arg;
    cancel_sleep_rc = cio_sleep(10 * CIO_SEC);
    cancelled_at = cio_now();
    return cancel_sleep_rc;
}

static int cancel_main(void *arg)
{
    (void)arg;
    int64_t t0 = cio_now();
    cancel_sleep_rc = 1;
    cio_task *t = spawn_named(long_sleeper, NULL, "long-sleeper", 0);
    CHECK(cio_sleep(1 * CIO_SEC) == 0, "main's sleep failed");
    CHECK(t && !cio_task_done(t), "sleeper finished early");
    cio_task_cancel(t);
    int status = join_status(t);
    CHECK(status == -ECANCELED, "sleeper status %d", status);
    CHECK(cancel_sleep_rc == -ECANCELED, "sleep returned %d", cancel_sleep_rc);
    CHECK(cancelled_at - t0 == 1 * CIO_SEC, "cancelled at %lld",
          (long long)(cancelled_at - t0));
    CHECK(cio_now() - t0 == 1 * CIO_SEC, "main at %lld", (long long)(cio_now() - t0));
    return 0;
}

static void test_cancel_sleeping(void) { run_virtual(cancel_main, NULL); }

/* ---- callee-saved registers survive switches ----------------------------- */

/* Many values live across the pause() calls: at -O2 the compiler keeps them
 * in callee-saved registers (x19-x28, d8-d15 / rbx, rbp, r12-r15), which the
 * other tasks, running the same code with other seeds, fill with their own
 * values in between. pause is cio_yield in a task, a no-op for the
 * reference. */
static int no_pause(void) { return 0; }

__attribute__((noinline)) static uint64_t many_locals(uint64_t seed,
                                                      int (*pause)(void))
{
    uint64_t a = seed * 3 + 1, b = seed ^ 0x5555, c = seed * seed, d = ~seed;
    uint64_t e = seed << 7, f = seed >> 3, g = a * b, h = c + d;
    uint64_t i = e ^ f, j = g - h, k = seed * 0x9e3779b97f4a7c15u, l = k >> 17;
    double x = (double)(seed & 0xffff) * 0.5, y = (double)(seed >> 48) + 0.25;
    double z = x * y + 1.0, w = x - y, u = z / 3.0, v = w * w;
    int bad = 0;
    for (int r = 0; r < 3; r++) {
        bad |= pause();
        a += b; c ^= d; e += f; g ^= h; i += j; k ^= l;
        x += y; z -= w; u *= 1.0001; v += 0.5;
    }
    return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l ^ (uint64_t)bad ^
           (uint64_t)(x * 7) ^ (uint64_t)(y * 11) ^ (uint64_t)(z * 13) ^
           (uint64_t)(w * 17 + 1e9) ^ (uint64_t)(u * 19) ^ (uint64_t)(v * 23);
}

typedef struct regs_job {
    uint64_t seed;
    uint64_t expect, got;
} regs_job;

static int many_locals_task(void *arg)
{
    regs_job *j = arg;
    j->got = many_locals(j->seed, cio_yield);
    return 0;
}

/* The exact check: an assembly helper loads a known pattern derived from
 * seed into every callee-saved register, calls fn (which yields), and stores
 * what the registers hold afterwards into out[]. */
void smoke_call_with_pattern(uint64_t seed, void (*fn)(void), uint64_t *out);

/* The stack pointer at a call site (assembly, per architecture). */
uintptr_t smoke_sp_at_call(void);

#if defined(__aarch64__)
/* out[0..9] x19-x28, out[10..17] d8-d15 (raw bits), out[18] x29 - sp. */
enum { N_PATTERN = 19 };
__asm__(
    "    .pushsection .text\n"
    "    .globl smoke_call_with_pattern\n"
    "    .type smoke_call_with_pattern, %function\n"
    "    .p2align 4\n"
    "smoke_call_with_pattern:\n"
    "    stp x29, x30, [sp, #-176]!\n"
    "    mov x29, sp\n"
    "    stp x19, x20, [sp, #16]\n"
    "    stp x21, x22, [sp, #32]\n"
    "    stp x23, x24, [sp, #48]\n"
    "    stp x25, x26, [sp, #64]\n"
    "    stp x27, x28, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    str x2, [sp, #160]\n"
    "    add x19, x0, #19\n"
    "    add x20, x0, #20\n"
    "    add x21, x0, #21\n"
    "    add x22, x0, #22\n"
    "    add x23, x0, #23\n"
    "    add x24, x0, #24\n"
    "    add x25, x0, #25\n"
    "    add x26, x0, #26\n"
    "    add x27, x0, #27\n"
    "    add x28, x0, #28\n"
    "    add x9, x0, #108\n fmov d8, x9\n"
    "    add x9, x0, #109\n fmov d9, x9\n"
    "    add x9, x0, #110\n fmov d10, x9\n"
    "    add x9, x0, #111\n fmov d11, x9\n"
    "    add x9, x0, #112\n fmov d12, x9\n"
    "    add x9, x0, #113\n fmov d13, x9\n"
    "    add x9, x0, #114\n fmov d14, x9\n"
    "    add x9, x0, #115\n fmov d15, x9\n"
    "    blr x1\n"
    "    ldr x2, [sp, #160]\n"
    "    stp x19, x20, [x2, #0]\n"
    "    stp x21, x22, [x2, #16]\n"
    "    stp x23, x24, [x2, #32]\n"
    "    stp x25, x26, [x2, #48]\n"
    "    stp x27, x28, [x2, #64]\n"
    "    stp d8, d9, [x2, #80]\n"
    "    stp d10, d11, [x2, #96]\n"
    "    stp d12, d13, [x2, #112]\n"
    "    stp d14, d15, [x2, #128]\n"
    "    mov x9, sp\n"
    "    sub x9, x29, x9\n"
    "    str x9, [x2, #144]\n"
    "    ldp x19, x20, [sp, #16]\n"
    "    ldp x21, x22, [sp, #32]\n"
    "    ldp x23, x24, [sp, #48]\n"
    "    ldp x25, x26, [sp, #64]\n"
    "    ldp x27, x28, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    ldp x29, x30, [sp], #176\n"
    "    ret\n"
    "    .size smoke_call_with_pattern, .-smoke_call_with_pattern\n"
    "    .popsection\n");

/* The stack pointer at the call: AAPCS64 keeps sp 16-byte aligned. */
__asm__(
    "    .pushsection .text\n"
    "    .globl smoke_sp_at_call\n"
    "    .type smoke_sp_at_call, %function\n"
    "smoke_sp_at_call:\n"
    "    mov x0, sp\n"
    "    ret\n"
    "    .size smoke_sp_at_call, .-smoke_sp_at_call\n"
    "    .popsection\n");

static uint64_t pattern_expected(uint64_t seed, int k)
{
    if (k < 10)
        return seed + 19 + (uint64_t)k;
    if (k < 18)
        return seed + 108 + (uint64_t)(k - 10);
    return 0;                   /* x29 still equals sp */
}
#elif defined(__x86_64__)
/* out[0] rbx, out[1] rbp, out[2..5] r12-r15. */
enum { N_PATTERN = 6 };
__asm__(
    "    .pushsection .text\n"
    "    .globl smoke_call_with_pattern\n"
    "    .type smoke_call_with_pattern, @function\n"
    "    .p2align 4\n"
    "smoke_call_with_pattern:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    pushq %rdx\n"             /* out; also makes rsp 16-byte aligned */
    "    leaq 1(%rdi), %rbx\n"
    "    leaq 2(%rdi), %rbp\n"
    "    leaq 12(%rdi), %r12\n"
    "    leaq 13(%rdi), %r13\n"
    "    leaq 14(%rdi), %r14\n"
    "    leaq 15(%rdi), %r15\n"
    "    call *%rsi\n"
    "    popq %rdx\n"
    "    movq %rbx, 0(%rdx)\n"
    "    movq %rbp, 8(%rdx)\n"
    "    movq %r12, 16(%rdx)\n"
    "    movq %r13, 24(%rdx)\n"
    "    movq %r14, 32(%rdx)\n"
    "    movq %r15, 40(%rdx)\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    "    .size smoke_call_with_pattern, .-smoke_call_with_pattern\n"
    "    .popsection\n");

/* The stack pointer at the call, before it pushed the return address: the
 * SysV ABI has it 16-byte aligned there. */
__asm__(
    "    .pushsection .text\n"
    "    .globl smoke_sp_at_call\n"
    "    .type smoke_sp_at_call, @function\n"
    "smoke_sp_at_call:\n"
    "    leaq 8(%rsp), %rax\n"
    "    ret\n"
    "    .size smoke_sp_at_call, .-smoke_sp_at_call\n"
    "    .popsection\n");

static uint64_t pattern_expected(uint64_t seed, int k)
{
    static const int add[N_PATTERN] = { 1, 2, 12, 13, 14, 15 };
    return seed + (uint64_t)add[k];
}
#else
#error "smoke.c checks registers on x86-64 and aarch64 only"
#endif

static int yields_failed;

static void yield_a_few(void)
{
    for (int i = 0; i < 4; i++)
        if (cio_yield() != 0)
            yields_failed++;
}

typedef struct pattern_job {
    uint64_t seed;
    uint64_t out[N_PATTERN];
} pattern_job;

static int pattern_task(void *arg)
{
    pattern_job *j = arg;
    smoke_call_with_pattern(j->seed, yield_a_few, j->out);
    return 0;
}

static int registers_main(void *arg)
{
    (void)arg;
    enum { N = 4 };
    regs_job rj[N];
    pattern_job pj[N];
    cio_task *t[2 * N];
    for (int i = 0; i < N; i++) {
        rj[i].seed = 0x0123456789abcdefu * (uint64_t)(i + 1) + (uint64_t)i;
        rj[i].expect = many_locals(rj[i].seed, no_pause);
        rj[i].got = 0;
        pj[i].seed = 0x1000000000000000u * (uint64_t)(i + 1) + 0x10000u * (uint64_t)i;
        memset(pj[i].out, 0, sizeof pj[i].out);
    }
    for (int i = 0; i < N; i++) {
        t[2 * i] = spawn_named(many_locals_task, &rj[i], NULL, 0);
        t[2 * i + 1] = spawn_named(pattern_task, &pj[i], NULL, 0);
    }
    for (int i = 0; i < 2 * N; i++)
        CHECK(join_status(t[i]) == 0, "task %d failed", i);
    CHECK(yields_failed == 0, "%d yields failed", yields_failed);
    for (int i = 0; i < N; i++) {
        CHECK(rj[i].got == rj[i].expect, "task %d: many_locals %llx, expected %llx",
              i, (unsigned long long)rj[i].got, (unsigned long long)rj[i].expect);
        for (int k = 0; k < N_PATTERN; k++)
            CHECK(pj[i].out[k] == pattern_expected(pj[i].seed, k),
                  "task %d: register slot %d holds %llx, expected %llx", i, k,
                  (unsigned long long)pj[i].out[k],
                  (unsigned long long)pattern_expected(pj[i].seed, k));
    }
    return 0;
}

static void test_callee_saved(void) { run_virtual(registers_main, NULL); }

/* ---- floating-point control: rounding mode per task ---------------------- */

/* Infer the rounding mode from arithmetic (not from fegetround, which only
 * reads the control register): each quotient is compared with its value
 * under round-to-nearest, computed at start-up. The set holds, for double
 * and for long double, values that round-to-nearest rounds up and values it
 * rounds down, so each mode leaves a distinct pattern. Long double is the
 * x87 on x86-64 (its own control word) and software on aarch64 (FPCR). */
static const int nums[] = { 1, 2, 5, -1, -2, -5 };
enum { N_Q = sizeof nums / sizeof nums[0] };
static double ref_d[N_Q];
static long double ref_ld[N_Q];
static volatile double three_d = 3.0;
static volatile long double three_ld = 3.0L;

static void quotients(double *d, long double *ld)
{
    for (int i = 0; i < N_Q; i++) {
        volatile double n = nums[i];
        volatile long double nl = nums[i];
        d[i] = n / three_d;
        ld[i] = nl / three_ld;
    }
}

/* The mode that maps ref to got, or -1 if none does. */
static int classify(int n, const long double *got, const long double *ref)
{
    int up = 1, down = 1, zero = 1, same = 1;
    for (int i = 0; i < n; i++) {
        if (got[i] != ref[i])
            same = 0;
        if (got[i] < ref[i])
            up = 0;
        if (got[i] > ref[i])
            down = 0;
        if ((ref[i] > 0 && got[i] > ref[i]) || (ref[i] < 0 && got[i] < ref[i]))
            zero = 0;
    }
    if (same)
        return FE_TONEAREST;
    if (up)
        return FE_UPWARD;
    if (down)
        return FE_DOWNWARD;
    if (zero)
        return FE_TOWARDZERO;
    return -1;
}

/* The mode the arithmetic shows, for double and long double; -1 if the two
 * disagree or match no mode. */
static int arithmetic_rounding_mode(void)
{
    double d[N_Q];
    long double ld[N_Q], dl[N_Q], refdl[N_Q];
    quotients(d, ld);
    for (int i = 0; i < N_Q; i++) {
        dl[i] = d[i];
        refdl[i] = ref_d[i];
    }
    int by_d = classify(N_Q, dl, refdl);
    int by_ld = classify(N_Q, ld, ref_ld);
    return by_d == by_ld ? by_d : -1;
}

static const char *mode_name(int m)
{
    switch (m) {
    case FE_TONEAREST: return "to-nearest";
    case FE_UPWARD: return "upward";
    case FE_DOWNWARD: return "downward";
    case FE_TOWARDZERO: return "toward-zero";
    default: return "?";
    }
}

static void check_mode(const char *who, int want)
{
    int reg = fegetround(), arith = arithmetic_rounding_mode();
    CHECK(reg == want, "%s: fegetround says %s, expected %s", who,
          mode_name(reg), mode_name(want));
    CHECK(arith == want, "%s: arithmetic rounds %s, expected %s", who,
          mode_name(arith), mode_name(want));
}

static int rounding_task(void *arg)
{
    int mode = *(const int *)arg;
    check_mode("new task", FE_TONEAREST);
    CHECK(fesetround(mode) == 0, "fesetround(%s)", mode_name(mode));
    for (int i = 0; i < 5; i++) {
        if (cio_yield() != 0)
            return -1;
        check_mode(mode_name(mode), mode);
    }
    return 0;
}

static int rounding_main(void *arg)
{
    (void)arg;
    check_mode("main task", FE_TONEAREST);
    /* A spawner's mode is not inherited: every task starts with the ABI's
     * default, round-to-nearest. */
    CHECK(fesetround(FE_UPWARD) == 0, "fesetround");
    static const int modes[] = { FE_DOWNWARD, FE_TOWARDZERO, FE_UPWARD,
                                 FE_TONEAREST };
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn_named(rounding_task, (void *)&modes[i], NULL, 0);
    for (int i = 0; i < 3; i++) {
        CHECK(cio_yield() == 0, "yield");
        check_mode("main task", FE_UPWARD);
    }
    for (int i = 0; i < 4; i++)
        CHECK(join_status(t[i]) == 0, "rounding task %d failed", i);
    check_mode("main task", FE_UPWARD);
    return 0;
}

static void test_rounding_per_task(void)
{
    fesetround(FE_TONEAREST);
    quotients(ref_d, ref_ld);
    /* The classifier itself, on the thread, before any task. */
    static const int all[] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
    for (int i = 0; i < 4; i++) {
        fesetround(all[i]);
        int seen = arithmetic_rounding_mode();
        fesetround(FE_TONEAREST);
        CHECK(seen == all[i], "classifier sees %s under %s", mode_name(seen),
              mode_name(all[i]));
    }
    /* The thread's own mode comes back when the loop returns. */
    fesetround(FE_TOWARDZERO);
    cio_loop_options o = { .virtual_clock = true };
    int rc = cio_run_with(&o, rounding_main, NULL);
    int after = fegetround();
    fesetround(FE_TONEAREST);
    CHECK(rc == 0, "cio_run_with returned %d", rc);
    CHECK(after == FE_TOWARDZERO, "thread's mode after the loop: %s",
          mode_name(after));
}

/* ---- stack alignment ---------------------------------------------------- */

/* cio_ctx_make must leave the first frame 16-byte aligned at every call, as
 * the ABIs require. qemu-user does not fault on a misaligned sp (real
 * aarch64 Linux does, SIGBUS), so look at it directly. */
static int misaligned;

static int alignment_task(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        if (smoke_sp_at_call() % 16 != 0)
            misaligned++;
        if (cio_yield() != 0)
            return -1;
    }
    return 0;
}

static int alignment_main(void *arg)
{
    (void)arg;
    if (smoke_sp_at_call() % 16 != 0)
        misaligned++;
    /* Odd stack sizes too: the stack top is rounded, the frame aligned. */
    static const size_t sizes[] = { 0, 20000, 65536 + 8, 100003 };
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn_named(alignment_task, (void *)(intptr_t)i, NULL, sizes[i]);
    for (int i = 0; i < 4; i++)
        CHECK(join_status(t[i]) == 0, "alignment task %d failed", i);
    CHECK(misaligned == 0, "%d calls with a misaligned stack pointer", misaligned);
    return 0;
}

static void test_alignment(void) { run_virtual(alignment_main, NULL); }

/* ---- deep recursion on a task's stack ----------------------------------- */

/* Each frame holds a buffer stamped with its depth; the recursion yields on
 * the way down and up, while a sibling recurses on its own stack, and every
 * frame checks its buffer on the way back. Returns the sum of the depths. */
__attribute__((noinline)) static uint64_t recurse(int depth, int max, int *bad)
{
    volatile unsigned char buf[96];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(depth + (int)i);
    if (depth % 256 == 0 && cio_yield() != 0)
        (*bad)++;
    uint64_t sum = depth < max ? recurse(depth + 1, max, bad) : 0;
    if (depth % 300 == 0 && cio_yield() != 0)
        (*bad)++;
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != (unsigned char)(depth + (int)i))
            (*bad)++;
    return sum + (uint64_t)depth;
}

typedef struct deep_job {
    int depth;
    int bad;
    uint64_t sum;
} deep_job;

static int deep_task(void *arg)
{
    deep_job *j = arg;
    j->sum = recurse(1, j->depth, &j->bad);
    return 0;
}

static int deep_main(void *arg)
{
    (void)arg;
    /* ~600 KiB of frames on a 1 MiB stack, and ~80 KiB on the default
     * 128 KiB stack (frames are ~150-200 bytes). */
    deep_job jobs[3] = { { .depth = 4000 }, { .depth = 3000 }, { .depth = 400 } };
    cio_task *t[3];
    t[0] = spawn_named(deep_task, &jobs[0], "deep-1m", 1024 * 1024);
    t[1] = spawn_named(deep_task, &jobs[1], "deep-1m-b", 1024 * 1024);
    t[2] = spawn_named(deep_task, &jobs[2], "deep-default", 0);
    for (int i = 0; i < 3; i++) {
        CHECK(join_status(t[i]) == 0, "deep task %d failed", i);
        uint64_t n = (uint64_t)jobs[i].depth;
        CHECK(jobs[i].sum == n * (n + 1) / 2, "deep task %d sum %llu", i,
              (unsigned long long)jobs[i].sum);
        CHECK(jobs[i].bad == 0, "deep task %d: %d bad bytes or yields", i,
              jobs[i].bad);
    }
    return 0;
}

static void test_deep_recursion(void) { run_virtual(deep_main, NULL); }

/* ---- stack overflow is reported ----------------------------------------- */

static volatile int overflow_limit = 1 << 30;   /* never reached */

__attribute__((noinline)) static int overflow(int depth)
{
    volatile char buf[200];
    buf[0] = (char)depth;
    buf[sizeof buf - 1] = (char)depth;
    if (depth >= overflow_limit)
        return 0;
    return overflow(depth + 1) + buf[0] + buf[sizeof buf - 1];
}

static int overflow_task(void *arg)
{
    (void)arg;
    return overflow(0);
}

static int overflow_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn_named(overflow_task, NULL, "overflower", 64 * 1024);
    return join_status(t);
}

/* Fork a child whose task overflows; collect its stderr and how it died. */
static void run_overflow_child(char *err, size_t cap, int *wstatus)
{
    int fds[2];
    err[0] = '\0';
    *wstatus = 0;
    if (pipe(fds) != 0) {
        CHECK(0, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        cio_loop_options o = { .virtual_clock = true };
        int rc = cio_run_with(&o, overflow_main, NULL);
        fprintf(stderr, "child: cio_run_with returned %d\n", rc);
        _exit(3);
    }
    close(fds[1]);
    CHECK(pid > 0, "fork: %s", strerror(errno));
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], err + len, cap - 1 - len)) > 0 && len + (size_t)n < cap - 1)
        len += (size_t)n;
    if (n > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, wstatus, 0);
}

static void test_stack_overflow(void)
{
    char err[4096];
    int ws;
    run_overflow_child(err, sizeof err, &ws);
    CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT,
          "child did not die of SIGABRT (status %#x)", ws);
    CHECK(strstr(err, "cio: task 'overflower' overflowed its 64 KiB stack\n"),
          "child's stderr: \"%s\"", err);
}

/* ------------------------------------------------------------------------- */

int main(void)
{
#if defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "x86-64";
#endif
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("cio smoke test (%s)\n", arch);
    section("spawn and join 2 x 3000 tasks", test_spawn_join_many);
    section("yield ping-pong order", test_ping_pong);
    section("sleep on the virtual clock", test_virtual_sleep);
    section("cancel a sleeping task", test_cancel_sleeping);
    section("callee-saved registers across switches", test_callee_saved);
    section("rounding mode (FP control) kept per task", test_rounding_per_task);
    section("stack pointer 16-byte aligned in tasks", test_alignment);
    section("deep recursion on task stacks", test_deep_recursion);
    section("stack overflow reported, SIGABRT", test_stack_overflow);
    printf("smoke (%s): %d passed, %d failed\n", arch, sections_passed,
           sections_failed);
    return sections_failed == 0 ? 0 : 1;
}
