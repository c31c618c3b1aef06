/* criterion/criterion.h — a stand-in for Criterion, for the TSan build only.
 *
 * Criterion cannot start under ThreadSanitizer: its inheritable arena is
 * mapped where TSan keeps its shadow memory ("Could not initialize
 * inheritable arena", Snaipe/Criterion issue 274). So `make test-tsan`
 * compiles the same test files against this header (tests/tsan comes first
 * on the include path) and tests/tsan/runner.c, which implement the part
 * of Criterion the suite uses: Test() with .init/.fini/.signal/.timeout,
 * the cr_assert family, cr_skip, cr_log_info and stderr redirection. Each
 * test runs in its own forked process, one after the other, and the run
 * ends with Criterion's "Synthesis:" line, so scripts/run-tests reads it.
 */
#ifndef CIO_TSAN_CRITERION_SHIM_H
#define CIO_TSAN_CRITERION_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cri_shim_test {
    const char *suite, *name;
    void (*fn)(void);
    void (*init)(void);
    void (*fini)(void);
    int signal;                 /* the test must die of this signal */
    int exit_code;              /* the test must exit with this code */
    double timeout;             /* seconds; 0: none */
    const char *description;
    bool disabled;
    struct cri_shim_test *next_;
};

/* TestSuite(S, ...): defaults for the tests of suite S. */
struct cri_shim_suite {
    const char *name;
    void (*init)(void);
    void (*fini)(void);
    double timeout;
    const char *description;
    bool disabled;
    struct cri_shim_suite *next_;
};

void cri_shim_register(struct cri_shim_test *t);
void cri_shim_register_suite(struct cri_shim_suite *s);
__attribute__((noreturn)) void cri_shim_fail(const char *file, int line,
                                             const char *expr, const char *fmt, ...);
__attribute__((noreturn)) void cri_shim_skip(const char *fmt, ...);
void cri_shim_log(const char *fmt, ...);

#define Test(S, N, ...)                                                        \
    static void S##_##N##_impl(void);                                          \
    static struct cri_shim_test S##_##N##_desc = {                             \
        .suite = #S, .name = #N, .fn = S##_##N##_impl, __VA_ARGS__ };          \
    __attribute__((constructor)) static void S##_##N##_reg(void)               \
    {                                                                          \
        cri_shim_register(&S##_##N##_desc);                                    \
    }                                                                          \
    static void S##_##N##_impl(void)

#define TestSuite(S, ...)                                                      \
    static struct cri_shim_suite cri_suite_##S = { .name = #S, __VA_ARGS__ }; \
    __attribute__((constructor)) static void cri_suite_reg_##S(void)          \
    {                                                                          \
        cri_shim_register_suite(&cri_suite_##S);                               \
    }

/* The optional message is a printf format and its arguments; "" before it
 * makes an absent one an empty format. */
#define CRI_SHIM_CHECK(cond, expr, ...)                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            cri_shim_fail(__FILE__, __LINE__, expr, "" __VA_ARGS__);          \
    } while (0)

#define cr_assert(c, ...)          CRI_SHIM_CHECK((c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...)      CRI_SHIM_CHECK(!(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_eq(a, b, ...)    CRI_SHIM_CHECK((a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...)   CRI_SHIM_CHECK((a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)    CRI_SHIM_CHECK((a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...)   CRI_SHIM_CHECK((a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)    CRI_SHIM_CHECK((a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...)   CRI_SHIM_CHECK((a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_null(p, ...)     CRI_SHIM_CHECK((p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) CRI_SHIM_CHECK((p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)                                            \
    CRI_SHIM_CHECK(strcmp((a), (b)) == 0, #a " equals " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...)                                           \
    CRI_SHIM_CHECK(strcmp((a), (b)) != 0, #a " differs from " #b, __VA_ARGS__)

#define cr_assert_fail(...)                                                    \
    cri_shim_fail(__FILE__, __LINE__, "cr_assert_fail", "" __VA_ARGS__)

#define cr_skip(...)      cri_shim_skip("" __VA_ARGS__)
#define cr_log_info(...)  cri_shim_log("" __VA_ARGS__)
#define cr_log_error(...) cri_shim_log("" __VA_ARGS__)

#endif
