/* test_signal.c — signal sets (cio/signal.h) and what cio_run does with
 * SIGINT and SIGTERM. Signals are sent to the loop thread itself
 * (pthread_kill) or to the process (kill); while a set catches them they
 * stay pending for its signalfd, so the order is explicit, never timed.
 * The second-SIGINT test forks, so the dying program is not the test's.
 */
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static bool blocked_here(int sig)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig) == 1;
}

/* ---- signal sets -------------------------------------------------------------- */

static int wait_self_main(void *arg)
{
    (void)arg;
    cio_signal_set *s;
    cr_assert_eq(cio_signal_open(&s, (int[]){ SIGUSR1, SIGUSR2 }, 2), 0);
    cr_assert(blocked_here(SIGUSR1));
    cr_assert(blocked_here(SIGUSR2));
    cr_assert_eq(pthread_kill(pthread_self(), SIGUSR2), 0);
    struct signalfd_siginfo si;
    cr_assert_eq(cio_signal_wait(s, &si, CIO_NEVER), SIGUSR2);
    cr_assert_eq(si.ssi_signo, (uint32_t)SIGUSR2);
    /* Process-directed: every thread blocks it (the pool's workers too). */
    cr_assert_eq(kill(getpid(), SIGUSR1), 0);
    cr_assert_eq(cio_signal_wait(s, &si, CIO_NEVER), SIGUSR1);
    cr_assert_eq(si.ssi_pid, (uint32_t)getpid());
    cio_signal_close(s);
    cr_assert_not(blocked_here(SIGUSR1), "unblocked again");
    cr_assert_not(blocked_here(SIGUSR2));
    return 0;
}

Test(signal, task_receives_signals_sent_to_the_thread_and_the_process)
{
    cr_assert_eq(run_virtual(wait_self_main, NULL), 0);
}

static cio_signal_set *shared_set;

static int waits_for_signal(void *arg)
{
    (void)arg;
    return cio_signal_wait(shared_set, NULL, CIO_NEVER);
}

static int wait_blocks_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_signal_open(&shared_set, (int[]){ SIGHUP }, 1), 0);
    cio_task *t = spawn(waits_for_signal, NULL, "waiter");
    /* A waiter is parked before anything is sent; the signal wakes it. */
    cr_assert_eq(cio_yield(), 0);
    cr_assert_not(cio_task_done(t));
    cr_assert_eq(pthread_kill(pthread_self(), SIGHUP), 0);
    cr_assert_eq(cio_task_join(t, NULL), SIGHUP);
    /* The deadline, and cancellation. */
    int64_t t0 = cio_now();
    cr_assert_eq(cio_signal_wait(shared_set, NULL, t0 + CIO_SEC), -ETIMEDOUT);
    cr_assert_eq(cio_now(), t0 + CIO_SEC);
    t = spawn(waits_for_signal, NULL, "cancelled");
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cio_signal_close(shared_set);
    return 0;
}

Test(signal, wait_parks_until_the_signal_with_deadline_and_cancel)
{
    /* A real request in flight (the signalfd poll): no false deadlock, and
     * the virtual clock still jumps to the deadline. */
    cr_assert_eq(run_virtual(wait_blocks_main, NULL), 0);
}

static int nesting_main(void *arg)
{
    (void)arg;
    /* SIGUSR2 was blocked by the program before: it stays blocked. */
    sigset_t u2;
    sigemptyset(&u2);
    sigaddset(&u2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &u2, NULL);
    cio_signal_set *a, *b;
    cr_assert_eq(cio_signal_open(&a, (int[]){ SIGUSR1, SIGUSR2 }, 2), 0);
    cr_assert_eq(cio_signal_open(&b, (int[]){ SIGUSR1 }, 1), 0);
    cio_signal_close(a);
    cr_assert(blocked_here(SIGUSR1), "b still catches it");
    cr_assert(blocked_here(SIGUSR2), "the program's own block");
    cio_signal_close(b);
    cr_assert_not(blocked_here(SIGUSR1));
    cr_assert(blocked_here(SIGUSR2));
    pthread_sigmask(SIG_UNBLOCK, &u2, NULL);

    cio_signal_set *s;
    cr_assert_eq(cio_signal_open(&s, (int[]){ SIGKILL }, 1), -EINVAL);
    cr_assert_eq(cio_signal_open(&s, (int[]){ SIGSTOP }, 1), -EINVAL);
    cr_assert_eq(cio_signal_open(&s, NULL, 0), -EINVAL);
    cr_assert_eq(cio_signal_open(&s, (int[]){ 0 }, 1), -EINVAL);
    return 0;
}

Test(signal, sets_nest_and_restore_only_what_they_blocked)
{
    cr_assert_eq(run_virtual(nesting_main, NULL), 0);
    cio_signal_set *s;
    cr_assert_eq(cio_signal_open(&s, (int[]){ SIGUSR1 }, 1), -EPERM, "outside a loop");
}

static void *worker_mask(void *arg)
{
    (void)arg;
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return (void *)(intptr_t)(sigismember(&now, SIGINT) == 1 && sigismember(&now, SIGTERM) == 1 &&
                              sigismember(&now, SIGUSR1) == 1);
}

static int worker_main(void *arg)
{
    (void)arg;
    void *res = NULL;
    cr_assert_eq(cio_to_thread(worker_mask, NULL, &res), 0);
    cr_assert_eq((intptr_t)res, 1, "pool workers block every signal");
    return 0;
}

Test(signal, thread_pool_workers_block_signals)
{
    cr_assert_eq(run_virtual(worker_main, NULL), 0);
}

/* ---- cio_run and SIGINT / SIGTERM ---------------------------------------------- */

static bool cleaned_up;

static int interrupted_main(void *arg)
{
    int sig = *(int *)arg;
    cr_assert(blocked_here(SIGINT), "cio_run catches SIGINT");
    cr_assert(blocked_here(SIGTERM));
    cr_assert_eq(pthread_kill(pthread_self(), sig), 0);
    /* Real clock: the loop sleeps in its poller, where the signal is seen. */
    int rc = cio_sleep(1000 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert(cio_cancelled());
    cleaned_up = true;          /* cleanup runs in the cancelled task */
    return rc;
}

static void assert_interrupted_by(int sig)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    cleaned_up = false;
    cr_assert_eq(cio_run(interrupted_main, &sig), CIO_EINTERRUPTED);
    cr_assert(cleaned_up);
    cr_assert_eq(cio_run_signal(), sig);
    cr_assert_not(blocked_here(SIGINT), "restored when cio_run returns");
    cr_assert_not(blocked_here(SIGTERM));
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_DFL);
}

Test(signal, sigint_cancels_the_main_task)
{
    assert_interrupted_by(SIGINT);
}

Test(signal, sigterm_cancels_the_main_task)
{
    assert_interrupted_by(SIGTERM);
}

static int quiet_main(void *arg)
{
    (void)arg;
    return 42;
}

Test(signal, cio_run_without_a_signal_returns_main_status)
{
    signal(SIGINT, SIG_DFL);
    cr_assert_eq(cio_run(quiet_main, NULL), 42);
    cr_assert_eq(cio_run_signal(), 0);
    cr_assert_not(blocked_here(SIGINT));
}

/* The child of a fork: the first SIGINT cancels main, whose cleanup hangs;
 * the second kills the program at once. */
static int second_sigint_main(void *arg)
{
    (void)arg;
    pthread_kill(pthread_self(), SIGINT);
    int rc = cio_sleep(1000 * CIO_SEC);
    if (rc != -ECANCELED)
        _exit(10);
    /* Shutting down: a second Ctrl-C. */
    pthread_kill(pthread_self(), SIGINT);
    _exit(11);                  /* not reached: SIGINT kills at once */
}

Test(signal, second_sigint_while_shutting_down_exits_at_once)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        cio_run(second_sigint_main, NULL);
        _exit(12);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "exited with %d instead", WEXITSTATUS(status));
    cr_assert_eq(WTERMSIG(status), SIGINT);
}

static int opted_out_main(void *arg)
{
    (void)arg;
    cr_assert_not(blocked_here(SIGINT), "no_signal_handlers: left alone");
    cr_assert_not(blocked_here(SIGTERM));
    return 0;
}

Test(signal, no_signal_handlers_opts_out)
{
    signal(SIGINT, SIG_DFL);
    cio_loop_options o = { .no_signal_handlers = true };
    cr_assert_eq(cio_run_with(&o, opted_out_main, NULL), 0);
}

static volatile sig_atomic_t own_handler_ran;

static void own_handler(int sig)
{
    (void)sig;
    own_handler_ran = 1;
}

static int own_handler_main(void *arg)
{
    (void)arg;
    cr_assert_not(blocked_here(SIGINT), "the program's handler is kept");
    cr_assert_eq(pthread_kill(pthread_self(), SIGINT), 0);
    cr_assert_eq(own_handler_ran, 1);
    cr_assert_not(cio_cancelled());
    return 0;
}

Test(signal, program_with_its_own_handler_keeps_it)
{
    signal(SIGINT, own_handler);
    cr_assert_eq(cio_run(own_handler_main, NULL), 0);
    cr_assert_eq(cio_run_signal(), 0);
    signal(SIGINT, SIG_DFL);
}

/* A program blocked for ever is still told so: the watch on SIGINT does not
 * count as something that could wake a task. */
static int forever_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    return cio_event_wait(&e);
}

Test(signal, deadlock_still_reported_with_signals_watched)
{
    signal(SIGINT, SIG_DFL);
    cr_assert_eq(run_real(forever_main, NULL), -EDEADLK);
    cr_assert_not(blocked_here(SIGINT));
}
