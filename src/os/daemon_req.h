/* daemon_req.h — background poller requests that wake no task (cio_run's
 * signal watch, the reaper's polls on orphaned children's pidfds).
 *
 * The scheduler reports a deadlock (-EDEADLK) only when no request is in
 * flight (poller.inflight), since a finished request may wake a task. These
 * requests never do, so they are not counted: submit takes the count back,
 * and the done callback, which cio_poller_complete calls just after
 * decrementing it, first restores it (size_t arithmetic: no harm in the
 * instant it wraps). A program blocked for ever still gets its -EDEADLK.
 */
#ifndef CIO_OS_DAEMON_REQ_H
#define CIO_OS_DAEMON_REQ_H

#include "../poller/poller.h"

static inline int cio_daemon_submit(cio_poller *p, cio_io_req *r)
{
    int rc = cio_poller_submit(p, r);
    if (rc == 0)
        p->inflight--;
    return rc;
}

/* The first thing a daemon request's done callback does. */
static inline void cio_daemon_done(cio_poller *p) { p->inflight++; }

#endif
