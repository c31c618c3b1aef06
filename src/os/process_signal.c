/* process_signal.c — signalling a child through its pidfd, or its group. */
#include "process_internal.h"

#include <errno.h>
#include <signal.h>
#include <sys/pidfd.h>

int cio_process_send_signal(cio_process *p, int sig)
{
    if (p->reaped)
        return -ESRCH;          /* the pidfd would still work: refuse */
    return pidfd_send_signal(p->pidfd.fd, sig, NULL, 0) < 0 ? -errno : 0;
}

int cio_process_terminate(cio_process *p) { return cio_process_send_signal(p, SIGTERM); }
int cio_process_kill(cio_process *p) { return cio_process_send_signal(p, SIGKILL); }

/* The group's id is the child's pid. While the child is not reaped its pid
 * (so the id) cannot be reused; after, the group lives on as long as one
 * member does, and a new group cannot take an id still in use. */
int cio_process_signal_group(cio_process *p, int sig)
{
    if (!p->new_group)
        return -EINVAL;
    return killpg(p->pid, sig) < 0 ? -errno : 0;
}
