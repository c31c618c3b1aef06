/* subprocess.c — asyncio.create_subprocess_exec in cio.
 *
 *     subprocess [-t SECONDS] COMMAND [ARG...]
 *
 * 1. Runs COMMAND with its stdout and stderr (2>&1) on a pipe, prints each
 *    line as it comes, numbered, and kills the command's whole process
 *    group if it runs longer than the timeout (default 10 s): asyncio's
 *    `async with asyncio.timeout(t): async for line in proc.stdout`.
 * 2. Then feeds what it printed to `sort | uniq -c` through communicate
 *    (stdin written while stdout is read: no deadlock however large).
 *
 * Ctrl-C cancels the main task (cio_run does that); the cleanup below
 * still kills and reaps the children. Try:
 *     subprocess -t 2 sh -c 'for i in 1 2 3 4 5; do echo tick; sleep 1; done'
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    char **argv;
    int64_t timeout;
    char *seen;                 /* every line, for the summary */
    size_t seen_len;
} job;

static int remember(job *j, const char *line, size_t len)
{
    char *more = realloc(j->seen, j->seen_len + len + 1);
    if (!more)
        return -ENOMEM;
    memcpy(more + j->seen_len, line, len);
    j->seen = more;
    j->seen_len += len;
    return 0;
}

/* Print the command's lines until its output ends. */
static int stream_lines(job *j, cio_process *p)
{
    const char *line;
    size_t len;
    for (int n = 1;; n++) {
        int rc = cio_stream_read_line_view(cio_process_stdout(p), &line, &len);
        if (rc < 0 || len == 0)
            return rc;
        printf("%4d | %.*s%s", n, (int)len, line, line[len - 1] == '\n' ? "" : "\n");
        fflush(stdout);
        if ((rc = remember(j, line, len)) < 0)
            return rc;
    }
}

/* Run the command under a deadline; its status, or an error. */
static int run_command(job *j)
{
    cio_process *p;
    int rc = cio_process_spawn(&p, j->argv, &(cio_process_opts){
        .stdout_mode = CIO_STDIO_PIPE, .stderr_mode = CIO_STDIO_STDOUT,
        .stdin_mode = CIO_STDIO_DEVNULL, .new_group = true });
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", j->argv[0], cio_strerror(rc));
        return rc;
    }
    cio_scope deadline;
    cio_scope_enter(&deadline, cio_deadline_after(j->timeout));
    rc = stream_lines(j, p);
    if (rc == 0)
        rc = cio_process_wait(p, CIO_NEVER);
    int src = cio_scope_leave(&deadline);
    if (rc < 0) {
        /* Timed out or cancelled (Ctrl-C): the group goes, children too. */
        int ignored = cio_process_signal_group(p, SIGKILL);
        (void)ignored;
        fprintf(stderr, "%s: %s, killed\n", j->argv[0],
                src == -ETIMEDOUT ? "timed out" : cio_strerror(rc));
        rc = src < 0 ? src : rc;
    } else {
        printf("%s exited with status %d\n", j->argv[0], rc);
    }
    cio_process_close(p);      /* reaped now, or by the loop */
    return rc;
}

/* Count the distinct lines with sort | uniq -c, through communicate. */
static int summarize(job *j)
{
    char *argv[] = { "sh", "-c", "sort | uniq -c | sort -rn | head -5", NULL };
    cio_process *p;
    int rc = cio_process_spawn(&p, argv, &(cio_process_opts){
        .stdin_mode = CIO_STDIO_PIPE, .stdout_mode = CIO_STDIO_PIPE });
    if (rc < 0)
        return rc;
    cio_communicate c = { .input = j->seen, .input_len = j->seen_len };
    rc = cio_process_communicate(p, &c, cio_deadline_after(10 * CIO_SEC));
    if (rc >= 0)
        printf("most frequent lines:\n%s", c.out);
    free(c.out);
    cio_process_close(p);
    return rc;
}

static int main_task(void *arg)
{
    job *j = arg;
    int rc = run_command(j);
    if (rc >= 0 && j->seen_len)
        rc = summarize(j);
    free(j->seen);
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    job j = { .timeout = 10 * CIO_SEC };
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
        j.timeout = (int64_t)(atof(argv[i + 1]) * 1e9);
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [-t SECONDS] COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    j.argv = argv + i;
    int rc = cio_run(main_task, &j);
    if (rc == CIO_EINTERRUPTED) {
        /* Die by the signal, so the shell knows (Python does the same). */
        signal(cio_run_signal(), SIG_DFL);
        raise(cio_run_signal());
    }
    return rc < 0 ? 1 : 0;
}
