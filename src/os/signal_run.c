/* signal_run.c — cio_run turns SIGINT and SIGTERM into the cancellation of
 * the main task (see cio/signal.h).
 *
 * No task is needed: a background poll on a signal set's signalfd; its
 * done callback (loop context) reads the signal, cancels the main task and
 * releases the set at once, which unblocks both signals again with their
 * default disposition, so a second one kills the program even if the
 * cleanup hangs (Python: a second Ctrl-C while asyncio.run shuts down).
 */
#include "signal_internal.h"
#include "daemon_req.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>

static __thread int last_run_signal;

int cio_run_signal(void) { return last_run_signal; }

/* Ours to take: at its default disposition and not blocked by the program. */
static bool ours(int sig, const sigset_t *mask)
{
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) < 0)
        return false;
    return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL &&
           sigismember(mask, sig) != 1;
}

static void arm(cio_run_signals *rs);

/* Both signals back to their default disposition, unblocked: a second
 * one is delivered the ordinary way. The set itself is freed by
 * cio_run_signals_stop (not here: the poller may be walking its cio_fd). */
static void stop_watching(cio_run_signals *rs)
{
    cio_signal_release(rs->set);
    rs->watching = false;
}

/* The signalfd polled ready (or the poll ended with res < 0). */
static void handle(cio_run_signals *rs, int64_t res)
{
    if (res < 0 || !rs->watching)
        return;                 /* cancelled: cio_run_signals_stop */
    int sig = cio_signal_take(rs->set, NULL);
    if (sig <= 0) {
        arm(rs);                /* nothing there after all */
        return;
    }
    rs->got = sig;
    stop_watching(rs);          /* a second signal now kills at once */
    cio_task_cancel(rs->main);
}

static void on_signal(cio_io_req *r)
{
    cio_daemon_done(&cio_tls_loop->poller);
    handle(r->ctx, r->res);
}

static void arm(cio_run_signals *rs)
{
    cio_io_req *r = &rs->req;
    *r = (cio_io_req){ .op = CIO_OP_POLL, .flags = POLLIN, .fd = cio_signal_fd(rs->set),
                       .done = on_signal, .ctx = rs };
    int rc = cio_daemon_submit(&cio_tls_loop->poller, r);
    if (rc == 1)
        handle(rs, r->res);     /* finished at once: not counted */
    else if (rc < 0)
        stop_watching(rs);      /* cannot watch: signals keep their default */
}

void cio_run_signals_start(cio_run_signals *rs, const cio_loop_options *opts, cio_task *main)
{
    *rs = (cio_run_signals){ .main = main };
    if (opts && opts->no_signal_handlers)
        return;
    sigset_t mask, set;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    sigemptyset(&set);
    if (ours(SIGINT, &mask))
        sigaddset(&set, SIGINT);
    if (ours(SIGTERM, &mask))
        sigaddset(&set, SIGTERM);
    if (sigisemptyset(&set) || cio_signal_open_set(&rs->set, &set) < 0)
        return;
    rs->watching = true;
    arm(rs);
}

int cio_run_signals_stop(cio_run_signals *rs)
{
    if (rs->set) {
        cio_poller *p = &cio_tls_loop->poller;
        cio_poller_cancel(p, &rs->req);
        while (rs->req.state == CIO_REQ_PENDING)
            cio_poller_wait(p, -1);
        cio_signal_close(rs->set);
        rs->set = NULL;
    }
    last_run_signal = rs->got;
    return rs->got;
}
