/* test_process.c — subprocesses (cio/process.h): spawn, pipes as streams,
 * exit status, signals, process groups, communicate, deadlines, exec
 * errors, SIGPIPE, and that no zombie is ever left. Runs on both backends
 * (scripts/run-tests). Children are /bin/sh, cat, true, sleep; the tests
 * synchronise with pipes and waits, never with sleeps.
 */
#include "helpers.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static cio_process *spawn_or_fail(char *const argv[], const cio_process_opts *o)
{
    cio_process *p = NULL;
    int rc = cio_process_spawn(&p, argv, o);
    cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], cio_strerror(rc));
    return p;
}

static cio_process *sh(const char *script, const cio_process_opts *o)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    return spawn_or_fail(argv, o);
}

/* No child of this process is left, not even a zombie. */
static void assert_no_children(void)
{
    siginfo_t si;
    int rc = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
    cr_assert(rc < 0 && errno == ECHILD, "a child is left (pid %d)", rc == 0 ? si.si_pid : 0);
}

static const cio_process_opts out_pipe = { .stdout_mode = CIO_STDIO_PIPE };
static const cio_process_opts in_out_pipes = { .stdin_mode = CIO_STDIO_PIPE,
                                               .stdout_mode = CIO_STDIO_PIPE };

/* ---- exit status ------------------------------------------------------------ */

static int exit_code_main(void *arg)
{
    (void)arg;
    cio_process *p = sh("exit 7", NULL);
    cr_assert_gt(cio_process_pid(p), 0);
    cr_assert_not(cio_process_done(p));
    cr_assert_eq(cio_process_exit_code(p), -1, "not reaped yet");
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 7);
    cr_assert(cio_process_done(p));
    cr_assert_eq(cio_process_exit_code(p), 7);
    cr_assert_eq(cio_process_exit_signal(p), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 7, "a second wait gives the same");
    cr_assert_eq(cio_process_send_signal(p, SIGTERM), -ESRCH, "reaped: nothing to signal");
    cio_process_close(p);

    char *t[] = { "true", NULL };   /* found in PATH */
    p = spawn_or_fail(t, NULL);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 0);
    cio_process_close(p);
    assert_no_children();
    return 0;
}

Test(process, exit_code_is_returned_and_kept)
{
    cr_assert_eq(run_virtual(exit_code_main, NULL), 0);
}

static int killed_main(void *arg)
{
    (void)arg;
    cio_process *p = sh("kill -TERM $$", NULL);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 128 + SIGTERM);
    cr_assert_eq(cio_process_exit_code(p), -1);
    cr_assert_eq(cio_process_exit_signal(p), SIGTERM);
    cio_process_close(p);
    return 0;
}

Test(process, death_by_signal_is_reported)
{
    cr_assert_eq(run_virtual(killed_main, NULL), 0);
}

/* ---- environment, cwd, stdio modes -------------------------------------------- */

static int env_cwd_main(void *arg)
{
    (void)arg;
    char *env[] = { "FOO=bar baz", NULL };
    cio_process *p = sh("echo \"$FOO\"; pwd; echo \"${HOME-unset}\"", &(cio_process_opts){
        .env = env, .cwd = "/", .stdout_mode = CIO_STDIO_PIPE });
    cio_communicate c = { 0 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 0);
    cr_assert_str_eq(c.out, "bar baz\n/\nunset\n");
    cr_assert_null(c.err, "stderr is inherited");
    free(c.out);
    cio_process_close(p);
    return 0;
}

Test(process, environment_and_working_directory)
{
    cr_assert_eq(run_virtual(env_cwd_main, NULL), 0);
}

static int stdio_modes_main(void *arg)
{
    (void)arg;
    /* 2>&1 into the stdout pipe. */
    cio_process *p = sh("echo out; echo err >&2", &(cio_process_opts){
        .stdout_mode = CIO_STDIO_PIPE, .stderr_mode = CIO_STDIO_STDOUT });
    cr_assert_null(cio_process_stderr(p));
    cio_communicate c = { 0 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 0);
    cr_assert_str_eq(c.out, "out\nerr\n");
    free(c.out);
    cio_process_close(p);

    /* stdin from /dev/null: cat ends at once; stderr to its own pipe. */
    char *cat[] = { "cat", NULL };
    p = spawn_or_fail(cat, &(cio_process_opts){ .stdin_mode = CIO_STDIO_DEVNULL,
        .stdout_mode = CIO_STDIO_PIPE, .stderr_mode = CIO_STDIO_PIPE });
    cr_assert_null(cio_process_stdin(p));
    cr_assert_not_null(cio_process_stderr(p));
    c = (cio_communicate){ 0 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 0);
    cr_assert_eq(c.out_len, 0);
    cr_assert_str_eq(c.out, "");
    cr_assert_eq(c.err_len, 0);
    free(c.out);
    free(c.err);
    cio_process_close(p);

    /* stdout to /dev/null: nothing comes back, the child runs normally. */
    p = sh("echo lost; exit 3", &(cio_process_opts){ .stdout_mode = CIO_STDIO_DEVNULL });
    cr_assert_null(cio_process_stdout(p));
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 3);
    cio_process_close(p);
    return 0;
}

Test(process, stdio_modes)
{
    cr_assert_eq(run_virtual(stdio_modes_main, NULL), 0);
}

static int bad_opts_main(void *arg)
{
    (void)arg;
    cio_process *p = NULL;
    char *none[] = { NULL };
    cr_assert_eq(cio_process_spawn(&p, none, NULL), -EINVAL);
    char *t[] = { "true", NULL };
    cr_assert_eq(cio_process_spawn(&p, t, &(cio_process_opts){
        .stdout_mode = CIO_STDIO_STDOUT }), -EINVAL);
    cr_assert_null(p);
    return 0;
}

Test(process, invalid_arguments)
{
    cr_assert_eq(run_virtual(bad_opts_main, NULL), 0);
    char *t[] = { "true", NULL };
    cio_process *p;
    cr_assert_eq(cio_process_spawn(&p, t, NULL), -EPERM, "outside a loop");
}

/* ---- exec errors ------------------------------------------------------------- */

static int exec_error_main(void *arg)
{
    (void)arg;
    cio_process *p = NULL;
    char *missing[] = { "/nonexistent/program", NULL };
    cr_assert_eq(cio_process_spawn(&p, missing, NULL), -ENOENT);
    char *not_in_path[] = { "cio-no-such-program-here", NULL };
    cr_assert_eq(cio_process_spawn(&p, not_in_path, NULL), -ENOENT);
    char *not_exec[] = { "/etc/passwd", NULL };
    cr_assert_eq(cio_process_spawn(&p, not_exec, NULL), -EACCES);
    char *t[] = { "true", NULL };
    cr_assert_eq(cio_process_spawn(&p, t, &(cio_process_opts){ .cwd = "/nonexistent" }),
                 -ENOENT, "a cwd that does not exist");
    /* With pipes asked for: nothing leaks, no child was left behind. */
    cr_assert_eq(cio_process_spawn(&p, missing, &in_out_pipes), -ENOENT);
    cr_assert_null(p);
    assert_no_children();
    return 0;
}

Test(process, exec_failure_is_an_errno_not_exit_127)
{
    cr_assert_eq(run_virtual(exec_error_main, NULL), 0);
}

/* ---- pipes as streams ----------------------------------------------------------- */

static int cat_lines_main(void *arg)
{
    (void)arg;
    char *cat[] = { "cat", NULL };
    cio_process *p = spawn_or_fail(cat, &in_out_pipes);
    cio_stream *in = cio_process_stdin(p), *out = cio_process_stdout(p);
    cr_assert_not_null(in);
    cr_assert_not_null(out);
    cio_addr a;
    cr_assert_eq(cio_stream_peer_addr(out, &a), -ENOTSOCK);
    cr_assert_null(cio_stream_socket(out));
    char line[64];
    cr_assert_eq(cio_stream_write(in, "hello\n", 6), 0);
    cr_assert_eq(cio_stream_read_line(out, line, sizeof line), 6, "cat echoes at once");
    cr_assert_str_eq(line, "hello\n");
    cr_assert_eq(cio_stream_write(in, "world\nlast", 10), 0);
    cr_assert_eq(cio_process_close_stdin(p), 0);
    cr_assert_null(cio_process_stdin(p));
    cr_assert_eq(cio_stream_read_line(out, line, sizeof line), 6);
    cr_assert_str_eq(line, "world\n");
    cr_assert_eq(cio_stream_read_line(out, line, sizeof line), 4);
    cr_assert_str_eq(line, "last");
    cr_assert_eq(cio_stream_read_line(out, line, sizeof line), 0, "end of stream");
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 0);
    cio_process_close(p);
    return 0;
}

Test(process, stdin_and_stdout_pipes_are_streams)
{
    cr_assert_eq(run_virtual(cat_lines_main, NULL), 0);
}

static int lines_main(void *arg)
{
    (void)arg;
    cio_process *p = sh("i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done", &out_pipe);
    char line[32], want[32];
    for (int i = 0; i < 500; i++) {
        cr_assert_gt(cio_stream_read_line(cio_process_stdout(p), line, sizeof line), 0);
        snprintf(want, sizeof want, "line%d\n", i);
        cr_assert_str_eq(line, want);
    }
    cr_assert_eq(cio_stream_read_line(cio_process_stdout(p), line, sizeof line), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 0);
    cio_process_close(p);
    return 0;
}

Test(process, output_streamed_line_by_line)
{
    cr_assert_eq(run_virtual(lines_main, NULL), 0);
}

/* ---- communicate ------------------------------------------------------------- */

#define BIG (16u << 20)

static char *pattern(size_t n)
{
    char *b = malloc(n);
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    return b;
}

static int big_main(void *arg)
{
    (void)arg;
    char *input = pattern(BIG);
    /* The child writes 4 MiB to stderr before it reads stdin, then echoes
     * 16 MiB: only concurrent feeding and reading gets through. */
    cio_process *p = sh("head -c 4194304 /dev/zero >&2; cat", &(cio_process_opts){
        .stdin_mode = CIO_STDIO_PIPE, .stdout_mode = CIO_STDIO_PIPE,
        .stderr_mode = CIO_STDIO_PIPE });
    cio_communicate c = { .input = input, .input_len = BIG };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 0);
    cr_assert_eq(c.out_len, BIG);
    cr_assert(memcmp(c.out, input, BIG) == 0, "stdout is stdin");
    cr_assert_eq(c.err_len, 4u << 20);
    cr_assert_eq(c.err[0], 0);
    cr_assert_eq(c.err[c.err_len - 1], 0);
    cr_assert_null(cio_process_stdin(p), "communicate closed the pipes");
    cr_assert_null(cio_process_stdout(p));
    free(c.out);
    free(c.err);
    free(input);
    cio_process_close(p);
    return 0;
}

Test(process, communicate_16_mib_both_ways_without_deadlock)
{
    cr_assert_eq(run_virtual(big_main, NULL), 0);
}

static int limit_main(void *arg)
{
    (void)arg;
    cio_process *p = sh("head -c 100000 /dev/zero", &out_pipe);
    cio_communicate c = { .max_output = 1000 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), CIO_ELIMIT);
    cr_assert_null(c.out);
    cr_assert_eq(c.out_len, 0);
    cr_assert_geq(cio_process_wait(p, CIO_NEVER), 0, "no pipe left to block the child");
    cio_process_close(p);

    /* A child that exits without reading its input is not an error. */
    p = sh("exit 4", &in_out_pipes);
    char *input = pattern(1u << 20);
    c = (cio_communicate){ .input = input, .input_len = 1u << 20 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 4);
    cr_assert_eq(c.out_len, 0);
    free(c.out);
    free(input);
    cio_process_close(p);
    return 0;
}

Test(process, communicate_limit_and_unread_input)
{
    cr_assert_eq(run_virtual(limit_main, NULL), 0);
}

static int communicate_timeout_main(void *arg)
{
    (void)arg;
    char *slp[] = { "sleep", "1000", NULL };
    cio_process *p = spawn_or_fail(slp, &out_pipe);
    int64_t t0 = cio_now();
    cio_communicate c = { 0 };
    cr_assert_eq(cio_process_communicate(p, &c, cio_deadline_after(2 * CIO_SEC)), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, 2 * CIO_SEC, "virtual clock: exactly the deadline");
    cr_assert_null(c.out);
    cr_assert_null(cio_process_stdout(p));
    cr_assert_eq(cio_process_kill(p), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 128 + SIGKILL);
    cio_process_close(p);
    return 0;
}

Test(process, communicate_deadline)
{
    cr_assert_eq(run_virtual(communicate_timeout_main, NULL), 0);
}

/* ---- waiting with a deadline, killing ------------------------------------------ */

static int wait_deadline_main(void *arg)
{
    (void)arg;
    char *slp[] = { "sleep", "1000", NULL };
    cio_process *p = spawn_or_fail(slp, NULL);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_process_wait(p, t0 + 500 * CIO_MS), -ETIMEDOUT);
    cr_assert_eq(cio_now(), t0 + 500 * CIO_MS);
    cr_assert_eq(cio_process_try_wait(p), -EAGAIN);
    cr_assert_not(cio_process_done(p));
    cr_assert_eq(cio_process_terminate(p), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 128 + SIGTERM);
    cr_assert_eq(cio_process_try_wait(p), 128 + SIGTERM);
    cio_process_close(p);

    p = spawn_or_fail(slp, NULL);
    cr_assert_eq(cio_process_send_signal(p, 0), 0, "signal 0: it exists");
    cr_assert_eq(cio_process_kill(p), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 128 + SIGKILL);
    cr_assert_eq(cio_process_exit_signal(p), SIGKILL);
    cr_assert_eq(cio_process_signal_group(p, SIGKILL), -EINVAL, "not its own group");
    cio_process_close(p);
    assert_no_children();
    return 0;
}

Test(process, wait_deadline_then_terminate_and_kill)
{
    cr_assert_eq(run_virtual(wait_deadline_main, NULL), 0);
}

static int waiter(void *arg)
{
    return cio_process_wait(arg, CIO_NEVER);
}

static int many_waiters_main(void *arg)
{
    (void)arg;
    cio_process *p = sh("read x; exit 5", &(cio_process_opts){ .stdin_mode = CIO_STDIO_PIPE });
    cio_task *a = spawn(waiter, p, "a"), *b = spawn(waiter, p, "b"), *c = spawn(waiter, p, "c");
    cr_assert_eq(cio_yield(), 0);
    /* c is cancelled: the child is not touched, the others still wait. */
    cio_task_cancel(c);
    cr_assert_eq(cio_task_join(c, NULL), -ECANCELED);
    cr_assert_not(cio_process_done(p));
    cr_assert_eq(cio_stream_write(cio_process_stdin(p), "go\n", 3), 0);
    cr_assert_eq(cio_task_join(a, NULL), 5);
    cr_assert_eq(cio_task_join(b, NULL), 5);
    cio_process_close(p);
    assert_no_children();
    return 0;
}

Test(process, cancelled_waiter_leaves_the_child_to_the_others)
{
    cr_assert_eq(run_virtual(many_waiters_main, NULL), 0);
}

/* ---- process groups ------------------------------------------------------------ */

static int group_main(void *arg)
{
    (void)arg;
    /* The shell starts a grandchild in its group and says its pid. */
    cio_process *p = sh("sleep 1000 & echo $!; wait", &(cio_process_opts){
        .stdout_mode = CIO_STDIO_PIPE, .new_group = true });
    char line[32];
    cr_assert_gt(cio_stream_read_line(cio_process_stdout(p), line, sizeof line), 0);
    pid_t grandchild = atoi(line);
    cr_assert_gt(grandchild, 0);
    cr_assert_eq(getpgid(grandchild), cio_process_pid(p), "same group, led by the child");
    int gfd = pidfd_open(grandchild, 0);
    cr_assert_geq(gfd, 0);
    cr_assert_eq(cio_process_signal_group(p, SIGKILL), 0);
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 128 + SIGKILL);
    /* The grandchild is not ours to reap: its pidfd says it has exited. */
    struct pollfd pfd = { .fd = gfd, .events = POLLIN };
    cr_assert_eq(poll(&pfd, 1, 10000), 1, "the grandchild died too");
    close(gfd);
    cio_process_close(p);
    return 0;
}

Test(process, process_group_kill_reaches_grandchildren)
{
    cr_assert_eq(run_virtual(group_main, NULL), 0);
}

/* ---- no zombie --------------------------------------------------------------- */

static int orphan_main(void *arg)
{
    (void)arg;
    char *cat[] = { "cat", NULL };
    cio_process *p = spawn_or_fail(cat, &(cio_process_opts){ .stdin_mode = CIO_STDIO_PIPE });
    /* Closing drops stdin: cat sees end of file and exits, later. */
    cio_process_close(p);
    cr_assert_leq(cio_process_orphans(), 1);
    /* Real clock: each sleep lets the loop poll the orphan's pidfd. */
    for (int i = 0; i < 10000 && cio_process_orphans(); i++)
        cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(cio_process_orphans(), 0, "reaped when it exited");
    assert_no_children();
    return 0;
}

Test(process, closed_process_is_reaped_when_it_exits)
{
    cr_assert_eq(run_real(orphan_main, NULL), 0);
}

static pid_t sleeper_pid;

static int orphan_at_close_main(void *arg)
{
    (void)arg;
    char *slp[] = { "sleep", "1000", NULL };
    cio_process *p = spawn_or_fail(slp, NULL);
    sleeper_pid = cio_process_pid(p);
    cio_task *w = spawn(waiter, p, "waiter");
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(w);
    cr_assert_eq(cio_task_join(w, NULL), -ECANCELED);
    cio_process_close(p);
    cr_assert_eq(cio_process_orphans(), 1, "sleep 1000 still runs");
    return 0;                   /* the loop closes with the child running */
}

Test(process, loop_close_kills_and_reaps_what_still_runs)
{
    cr_assert_eq(run_virtual(orphan_at_close_main, NULL), 0);
    assert_no_children();
    cr_assert_eq(kill(sleeper_pid, 0), -1);
    cr_assert_eq(errno, ESRCH);
}

/* A task cancelled while it waits, then the process closed by its owner's
 * cleanup: the same path as a task group cancelled with children running. */
static int cancelled_owner(void *arg)
{
    (void)arg;
    char *slp[] = { "sleep", "1000", NULL };
    cio_process *p = spawn_or_fail(slp, NULL);
    int rc = cio_process_wait(p, CIO_NEVER);
    cio_process_close(p);
    return rc;
}

static int cancelled_owner_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(cancelled_owner, NULL, "owner");
    cr_assert_eq(cio_yield(), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_process_orphans(), 1);
    return 0;
}

Test(process, cancelled_owner_leaves_no_zombie)
{
    cr_assert_eq(run_virtual(cancelled_owner_main, NULL), 0);
    assert_no_children();
}

/* ---- SIGPIPE ----------------------------------------------------------------- */

static int sigpipe_main(void *arg)
{
    (void)arg;
    char *t[] = { "true", NULL };
    cio_process *p = spawn_or_fail(t, &(cio_process_opts){ .stdin_mode = CIO_STDIO_PIPE });
    cr_assert_eq(cio_process_wait(p, CIO_NEVER), 0, "the reader is gone");
    cio_stream *in = cio_process_stdin(p);
    static char block[256 * 1024];
    int rc = cio_stream_write(in, block, sizeof block);
    if (rc == 0)
        rc = cio_stream_drain(in);
    cr_assert_eq(rc, -EPIPE, "got %s", cio_errname(rc));
    cr_assert_eq(cio_stream_write(in, "x", 1), -EPIPE, "the error stays");
    cr_assert_eq(cio_process_close_stdin(p), -EPIPE);
    cio_process_close(p);
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_IGN, "ignored here (docs/decisions.md)");
    return 0;
}

Test(process, write_to_a_closed_pipe_is_epipe_not_sigpipe)
{
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(run_virtual(sigpipe_main, NULL), 0);
}

/* The child's signal mask is empty even though the loop thread blocks
 * signals (for signalfd), and SIGPIPE is at its default. */
static int child_mask_main(void *arg)
{
    (void)arg;
    cio_signal_set *s;
    cr_assert_eq(cio_signal_open(&s, (int[]){ SIGUSR1 }, 1), 0);
    char *argv[] = { "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
    cio_process *p = spawn_or_fail(argv, &out_pipe);  /* no shell between */
    cio_communicate c = { 0 };
    cr_assert_eq(cio_process_communicate(p, &c, CIO_NEVER), 0);
    cr_assert_not_null(strstr(c.out, "SigBlk:\t0000000000000000"), "%s", c.out);
    /* SIGPIPE is bit 12 (value 0x1000) of SigIgn. */
    char *ign = strstr(c.out, "SigIgn:\t");
    cr_assert_not_null(ign);
    unsigned long long mask = strtoull(ign + 8, NULL, 16);
    cr_assert_eq(mask & (1ull << (SIGPIPE - 1)), 0, "SIGPIPE not ignored in the child");
    free(c.out);
    cio_process_close(p);
    cio_signal_close(s);
    return 0;
}

Test(process, child_starts_with_no_blocked_signal)
{
    cr_assert_eq(run_virtual(child_mask_main, NULL), 0);
}

/* A process the program never closed: its child is killed and reaped when
 * the loop closes (it stays an open handle for debug mode's report); the
 * object can still be closed (freed) afterwards. */
static cio_process *leaked;

static int unclosed_main(void *arg)
{
    (void)arg;
    char *slp[] = { "sleep", "1000", NULL };
    leaked = spawn_or_fail(slp, NULL);
    return 0;
}

Test(process, loop_close_reaps_the_child_of_a_process_never_closed)
{
    cr_assert_eq(run_virtual(unclosed_main, NULL), 0);
    assert_no_children();
    cr_assert(cio_process_done(leaked));
    cr_assert_eq(cio_process_exit_signal(leaked), SIGKILL);
    cio_process_close(leaked);
}
