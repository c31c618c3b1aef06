/* process_wait.c — waiting for a child's exit: the pidfd becomes readable
 * (a POLL request on the loop's poller), then waitid(P_PIDFD) reaps it. */
#include "process_internal.h"

#include <errno.h>
#include <poll.h>
#include <sys/wait.h>

int cio_process_reap(cio_process *p, bool block)
{
    if (p->reaped)
        return 1;
    siginfo_t si = { 0 };
    int flags = WEXITED | (block ? 0 : WNOHANG);
    while (waitid(P_PIDFD, (id_t)p->pidfd.fd, &si, flags) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    if (si.si_pid == 0)
        return 0;               /* still running */
    cio_process_set_status(p, &si);
    cio_handle_untrack(&p->handle);
    return 1;
}

void cio_process_set_status(cio_process *p, const siginfo_t *si)
{
    p->reaped = true;
    if (si->si_code == CLD_EXITED) {
        p->code = si->si_status;
        p->sig = 0;
    } else {
        p->code = -1;
        p->sig = si->si_status; /* CLD_KILLED or CLD_DUMPED */
    }
}

int cio_process_try_wait(cio_process *p)
{
    int rc = cio_process_reap(p, false);
    if (rc < 0)
        return rc;
    return rc ? cio_process_status(p) : -EAGAIN;
}

int cio_process_wait(cio_process *p, int64_t deadline)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    for (;;) {
        rc = cio_process_reap(p, false);
        if (rc < 0)
            return rc;
        if (rc)
            return cio_process_status(p);
        rc = cio_io_poll(&p->pidfd, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
}
