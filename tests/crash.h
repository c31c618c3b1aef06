/* crash.h — run code that is meant to die (abort, overflow) in a forked
 * child and collect how it died and everything it wrote on stderr.
 *
 * Criterion's .signal checks the signal but cannot show a crashed test's
 * captured stderr, so tests that must check the exact message fork
 * themselves. The child must not use cr_assert (it would report to the
 * runner as if it were the test): it signals failure by exiting non-zero.
 */
#ifndef CIO_TEST_CRASH_H
#define CIO_TEST_CRASH_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct child_result {
    int signal;         /* the signal that killed it, or 0 */
    int exit_code;      /* its exit status if it exited, or -1 */
    char err[16384];    /* what it wrote on stderr */
} child_result;

/* Run fn(arg) in a child process; it exits 0 if fn returns. */
static inline void run_in_child(void (*fn)(void *), void *arg, child_result *r)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn(arg);
        fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (n < sizeof r->err - 1 &&
           (got = read(fds[0], r->err + n, sizeof r->err - 1 - n)) > 0)
        n += (size_t)got;
    r->err[n] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
