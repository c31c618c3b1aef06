/* cio/process.h — subprocesses: asyncio.create_subprocess_exec.
 *
 *     char *argv[] = { "sort", "-u", NULL };
 *     cio_process *p;
 *     rc = cio_process_spawn(&p, argv, &(cio_process_opts){
 *         .stdin_mode = CIO_STDIO_PIPE, .stdout_mode = CIO_STDIO_PIPE });
 *     cio_communicate c = { .input = text, .input_len = n };
 *     int status = cio_process_communicate(p, &c, cio_deadline_after(5 * CIO_SEC));
 *     ... c.out, c.out_len ...
 *     free(c.out);
 *     cio_process_close(p);
 *
 * The child is spawned with posix_spawnp (argv[0] looked up in PATH like
 * execvp, unless it holds a '/'); the parent then holds a pidfd, waits for
 * the exit through the loop's poller and signals through the pidfd, so a
 * reused pid is never signalled by mistake. The child starts with no signal
 * blocked and SIGPIPE at its default action, whatever cio did in the parent.
 *
 * Pipes are cio streams (cio/stream.h): read the child's stdout with
 * cio_stream_read_line, write its stdin with cio_stream_write. Writing to a
 * child that has closed its stdin gives -EPIPE, never SIGPIPE: cio ignores
 * SIGPIPE process-wide if it was at its default when the first pipe is made
 * (docs/decisions.md).
 *
 * No zombie is left: a child is reaped when a wait sees it exit; a process
 * closed while its child runs is reaped by the loop in the background when
 * the child exits; a child still running when the loop closes is killed
 * (SIGKILL) and reaped then (asyncio kills a subprocess whose transport is
 * closed while it runs), even one whose process was never closed (a leak
 * debug mode reports; such a process, if it has no pipes, may still be
 * closed after the loop to free it). A process is used from the loop that
 * spawned it.
 *
 * Do not set SIGCHLD to SIG_IGN or reap children with waitpid(-1) elsewhere:
 * the kernel (or that code) would reap cio's children first.
 */
#ifndef CIO_PROCESS_H
#define CIO_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base.h"
#include "stream.h"

#pragma GCC visibility push(default)

typedef struct cio_process cio_process;

/* Where a child's stdin, stdout or stderr goes. */
typedef enum cio_stdio {
    CIO_STDIO_INHERIT = 0,  /* the parent's descriptor (the default) */
    CIO_STDIO_PIPE,         /* a pipe, a cio_stream in the parent */
    CIO_STDIO_DEVNULL,      /* /dev/null */
    CIO_STDIO_STDOUT,       /* stderr only: wherever stdout goes (2>&1) */
} cio_stdio;

typedef struct cio_process_opts {
    const char *cwd;            /* the child's working directory; NULL: ours */
    char *const *env;           /* its environment ("K=V", NULL-ended);
                                   NULL: ours. PATH is searched with ours */
    cio_stdio stdin_mode, stdout_mode, stderr_mode;
    /* Put the child in a new process group (its pid is the group's id), so
     * cio_process_signal_group reaches it and everything it spawned, and a
     * Ctrl-C at the terminal does not. */
    bool new_group;
    const cio_stream_opts *stream_opts; /* for the pipes' streams; NULL: defaults */
} cio_process_opts;

/* Spawn argv[0] with arguments argv (NULL-ended). opts may be NULL
 * (everything inherited). Returns 0, or a negative errno: the exec's error
 * (-ENOENT no such program, -EACCES not executable, -ENOEXEC...), the
 * chdir's (cwd), -EINVAL (empty argv, CIO_STDIO_STDOUT other than for
 * stderr), -EMFILE, -ENOMEM, -EPERM outside a loop. The child never runs
 * when an error is returned. Never blocks the loop for long (the kernel's
 * vfork-style spawn) and is not a cancellation point. */
CIO_MUST_CHECK int cio_process_spawn(cio_process **out, char *const argv[],
                                     const cio_process_opts *opts);

/* The parent's ends of the pipes: NULL where the mode was not
 * CIO_STDIO_PIPE, or after communicate, or after cio_process_close_stdin.
 * Owned by the process (closed by cio_process_close). */
cio_stream *cio_process_stdin(cio_process *p);
cio_stream *cio_process_stdout(cio_process *p);
cio_stream *cio_process_stderr(cio_process *p);

/* Send what is queued on stdin, then close it (the child reads end of
 * file). Returns 0 or the output's error (-EPIPE if the child closed its
 * end: not an error worth more than a note). Blocks while the queue
 * drains: a cancellation point. Does nothing (0) if stdin is not a pipe. */
CIO_MUST_CHECK int cio_process_close_stdin(cio_process *p);

/* The child's pid (still valid after it was reaped: the last one it had). */
pid_t cio_process_pid(const cio_process *p);

/* Wait until the child exits (asyncio's proc.wait()), at most until
 * deadline (absolute, cio_now()'s clock; CIO_NEVER: none besides the
 * caller's scopes). Returns the exit status as a shell's $? says it: the
 * exit code (0..255), or 128 + the signal number if a signal killed it
 * (see cio_process_exit_code and cio_process_exit_signal for the exact
 * cause). -ETIMEDOUT if the deadline passed or -ECANCELED if the task was
 * cancelled: the child still runs, and may be waited for again or closed
 * (no zombie either way). Any number of tasks may wait at once. A
 * cancellation point, even when the child has already exited. */
CIO_MUST_CHECK int cio_process_wait(cio_process *p, int64_t deadline);

/* Reap the child if it has exited, without blocking (Popen.poll()): its
 * status as cio_process_wait returns it, or -EAGAIN if it still runs. */
CIO_MUST_CHECK int cio_process_try_wait(cio_process *p);

/* After the child was reaped: its exit code (0..255), or -1 if a signal
 * killed it or it has not been reaped yet. */
int cio_process_exit_code(const cio_process *p);

/* After the child was reaped: the signal that killed it, or 0. */
int cio_process_exit_signal(const cio_process *p);

/* True once the child has been reaped (its status is known). */
bool cio_process_done(const cio_process *p);

/* Send sig to the child through its pidfd (never to a process that reused
 * its pid). Returns 0; -ESRCH once it has been reaped (or it is gone);
 * -EINVAL for a bad signal. Never blocks. terminate is SIGTERM, kill is
 * SIGKILL. */
CIO_MUST_CHECK int cio_process_send_signal(cio_process *p, int sig);
CIO_MUST_CHECK int cio_process_terminate(cio_process *p);
CIO_MUST_CHECK int cio_process_kill(cio_process *p);

/* Send sig to the child's whole process group (killpg): the child and
 * whatever it spawned that stayed in the group. Needs opts.new_group
 * (-EINVAL without it). -ESRCH if the group is empty. Never blocks. */
CIO_MUST_CHECK int cio_process_signal_group(cio_process *p, int sig);

/* What cio_process_communicate feeds and collects. */
typedef struct cio_communicate {
    const void *input;          /* written to stdin (a pipe), which is then */
    size_t input_len;           /*   closed; ignored if stdin is no pipe */
    size_t max_output;          /* 0: no limit; else each output's limit */
    /* Out: what the child wrote to stdout and stderr if they are pipes
     * (malloc'd, a '\0' after the bytes; the caller frees), else NULL, 0.
     * On failure both are NULL and 0. */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
} cio_communicate;

/* asyncio's proc.communicate(input): write input to stdin and close it
 * while reading stdout and stderr to their end, all at once (a task group:
 * no deadlock however much the child writes before it reads), then wait for
 * the child to exit. Returns its status as cio_process_wait does, or a
 * negative errno: -ETIMEDOUT when deadline (absolute; CIO_NEVER: none)
 * passed, -ECANCELED, CIO_ELIMIT if an output exceeded max_output, a read
 * error. The child may still run after an error: kill it or close the
 * process. A child that exits without reading its stdin is not an error
 * (-EPIPE on stdin is ignored). The pipes are closed in every case. Blocks:
 * a cancellation point. */
CIO_MUST_CHECK int cio_process_communicate(cio_process *p, cio_communicate *c,
                                           int64_t deadline);

/* Close the pipes (dropping what is queued for stdin) and free p. A child
 * still running is not killed: the loop reaps it when it exits (or kills it
 * with SIGKILL and reaps it when the loop closes). Call it from a task of
 * the loop that spawned p, when no task is blocked on p. Never blocks for
 * long (on io_uring it waits for the kernel to confirm a cancelled write). */
void cio_process_close(cio_process *p);

/* How many closed processes' children the current loop still has to reap. */
size_t cio_process_orphans(void);

#pragma GCC visibility pop

#endif
