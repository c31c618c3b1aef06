/* signal_internal.h — signal sets inside cio: what cio_run uses to turn
 * SIGINT and SIGTERM into the main task's cancellation (signal_run.c). */
#ifndef CIO_OS_SIGNAL_INTERNAL_H
#define CIO_OS_SIGNAL_INTERNAL_H

#include "cio/loop.h"
#include "cio/signal.h"
#include "../core/internal.h"
#include "../poller/poller.h"

/* Take one pending signal of s without blocking: its number, 0 if none, or
 * a negative errno. */
int cio_signal_take(cio_signal_set *s, struct signalfd_siginfo *info);

/* Stop catching s's signals (unblock what cio blocked for it) but keep
 * the set: what a poller done callback may do (it must not free the
 * cio_fd the poller is walking). cio_signal_close then frees it. */
void cio_signal_release(cio_signal_set *s);

/* The set's descriptor, for a background poll. */
cio_fd *cio_signal_fd(cio_signal_set *s);

/* cio_run's watch on SIGINT and SIGTERM (loop context, no task needed). */
typedef struct cio_run_signals {
    cio_signal_set *set;        /* NULL: none opened */
    bool watching;              /* the signals are caught (until the first) */
    cio_io_req req;             /* the background poll on the signalfd */
    cio_task *main;
    int got;                    /* the signal that cancelled main, or 0 */
} cio_run_signals;

/* Start watching (unless opts->no_signal_handlers) the signals whose
 * disposition is the default and that this thread does not block. */
void cio_run_signals_start(cio_run_signals *rs, const cio_loop_options *opts, cio_task *main);

/* Stop watching and restore the signals. Returns the signal that cancelled
 * main, or 0; remembered for cio_run_signal(). */
int cio_run_signals_stop(cio_run_signals *rs);

#endif
