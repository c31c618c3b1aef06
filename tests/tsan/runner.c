/* runner.c — main() of the TSan stand-in for Criterion (see
 * criterion/criterion.h beside this file): runs each registered test in a
 * forked child, checks how it ended, prints Criterion's summary line.
 *   --filter=GLOB   run the tests whose "suite/name" matches GLOB
 * Other options (-j, --verbose...) are accepted and ignored.
 */
#include "criterion/criterion.h"
#include "criterion/redirect.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_ASSERT 97          /* a cr_assert failed */
#define EXIT_SKIP 98            /* cr_skip */

static struct cri_shim_test *tests;
static int report_fd = -1;      /* the real stderr, kept for failure reports */
static FILE *redirected;

void cri_shim_register(struct cri_shim_test *t)
{
    t->next_ = tests;
    tests = t;
}

static struct cri_shim_suite *suites;

void cri_shim_register_suite(struct cri_shim_suite *s)
{
    s->next_ = suites;
    suites = s;
}

static const struct cri_shim_suite *suite_of(const struct cri_shim_test *t)
{
    for (const struct cri_shim_suite *s = suites; s; s = s->next_)
        if (strcmp(s->name, t->suite) == 0)
            return s;
    return NULL;
}

static void report(const char *fmt, va_list ap)
{
    char buf[4096];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    ssize_t w = write(report_fd >= 0 ? report_fd : STDERR_FILENO, buf, len);
    (void)w;
}

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(fmt, ap);
    va_end(ap);
}

void cri_shim_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    say("[----] %s:%d: Assertion failed: %s", file, line, expr);
    if (*fmt) {
        say(": ");
        va_list ap;
        va_start(ap, fmt);
        report(fmt, ap);
        va_end(ap);
    }
    say("\n");
    fflush(stdout);
    _exit(EXIT_ASSERT);
}

void cri_shim_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("[SKIP] ");
    report(fmt, ap);
    say("\n");
    va_end(ap);
    fflush(stdout);
    _exit(EXIT_SKIP);
}

void cri_shim_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void cr_redirect_stderr(void)
{
    char path[] = "/tmp/cio-tsan-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        cri_shim_fail(__FILE__, __LINE__, "mkstemp", "");
    redirected = fopen(path, "r");
    unlink(path);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

FILE *cr_get_redirected_stderr(void) { return redirected; }

static void run_child(const struct cri_shim_test *t)
{
    const struct cri_shim_suite *s = suite_of(t);
    void (*init)(void) = t->init ? t->init : s ? s->init : NULL;
    void (*fini)(void) = t->fini ? t->fini : s ? s->fini : NULL;
    double timeout = t->timeout > 0 ? t->timeout : s ? s->timeout : 0;
    report_fd = dup(STDERR_FILENO);
    if (timeout > 0)
        alarm((unsigned)timeout + 1);
    if (init)
        init();
    t->fn();
    if (fini)
        fini();
    fflush(stdout);
    fflush(stderr);
    exit(0);                    /* exit, not _exit: TSan reports at exit */
}

enum outcome { PASSED, FAILED, CRASHED, SKIPPED };

static enum outcome judge(const struct cri_shim_test *t, int status)
{
    if (WIFSIGNALED(status)) {
        if (t->signal && WTERMSIG(status) == t->signal)
            return PASSED;
        say("[----] %s::%s: died of signal %d\n", t->suite, t->name, WTERMSIG(status));
        return CRASHED;
    }
    int code = WEXITSTATUS(status);
    if (code == EXIT_SKIP)
        return SKIPPED;
    if (t->signal) {
        say("[----] %s::%s: exited %d, expected signal %d\n", t->suite, t->name,
            code, t->signal);
        return FAILED;
    }
    if (code == t->exit_code)
        return PASSED;
    if (code != EXIT_ASSERT)
        say("[----] %s::%s: exited with %d\n", t->suite, t->name, code);
    return FAILED;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--filter=", 9) == 0)
            filter = argv[i] + 9;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int tested = 0, passing = 0, failing = 0, crashing = 0;
    for (struct cri_shim_test *t = tests; t; t = t->next_) {
        char full[256];
        snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
        if (t->disabled || (filter && fnmatch(filter, full, 0) != 0))
            continue;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0)
            run_child(t);
        int status;
        while (waitpid(pid, &status, 0) < 0)
            ;
        enum outcome o = judge(t, status);
        if (o == SKIPPED)
            continue;
        tested++;
        passing += o == PASSED;
        failing += o == FAILED;
        crashing += o == CRASHED;
        if (o != PASSED)
            say("[FAIL] %s::%s\n", t->suite, t->name);
    }
    printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d\n",
           tested, passing, failing, crashing);
    return failing + crashing ? 1 : 0;
}
