/* process.c — the process object: its pipes, status and closing. */
#include "process_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

cio_stream *cio_process_stdin(cio_process *p) { return p->in; }
cio_stream *cio_process_stdout(cio_process *p) { return p->out; }
cio_stream *cio_process_stderr(cio_process *p) { return p->err; }
pid_t cio_process_pid(const cio_process *p) { return p->pid; }
bool cio_process_done(const cio_process *p) { return p->reaped; }
int cio_process_exit_code(const cio_process *p) { return p->reaped ? p->code : -1; }
int cio_process_exit_signal(const cio_process *p) { return p->reaped ? p->sig : 0; }

int cio_process_status(const cio_process *p)
{
    return p->sig ? 128 + p->sig : p->code;
}

int cio_process_close_stdin(cio_process *p)
{
    if (!p->in)
        return 0;
    int rc = cio_stream_close(p->in);
    p->in = NULL;
    return rc;
}

static void abort_stream(cio_stream **s)
{
    if (*s)
        cio_stream_abort(*s);
    *s = NULL;
}

void cio_process_free(cio_process *p)
{
    cio_handle_untrack(&p->handle);
    if (p->pidfd.fd >= 0) {
        cio_fd_abort(&p->pidfd);
        cio_fd_release(&p->pidfd);
        close(p->pidfd.fd);
    }
    free(p);
}

void cio_process_close(cio_process *p)
{
    if (!p)
        return;
    abort_stream(&p->in);
    abort_stream(&p->out);
    abort_stream(&p->err);
    if (p->reaped || p->pidfd.fd < 0 || cio_process_reap(p, false) != 0)
        cio_process_free(p);    /* reaped (or an error: nothing to wait for) */
    else
        cio_process_orphan(p);
}
