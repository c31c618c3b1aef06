/* cio/signal.h — signals as events a task waits for (asyncio's
 * loop.add_signal_handler), and what cio_run does with SIGINT and SIGTERM.
 *
 *     cio_signal_set *s;
 *     rc = cio_signal_open(&s, (int[]){ SIGHUP, SIGUSR1 }, 2);
 *     for (;;) {
 *         int sig = cio_signal_wait(s, NULL, CIO_NEVER);
 *         if (sig < 0) break;                  // -ECANCELED...
 *         if (sig == SIGHUP) reload_config();
 *     }
 *     cio_signal_close(s);
 *
 * A set reads its signals from a signalfd, so they must not be delivered
 * the ordinary way: opening a set blocks them in the calling (loop) thread,
 * and closing the last set of the thread that waits for a signal unblocks
 * it again (a signal still pending then gets its normal disposition). cio's
 * thread-pool workers block every signal, so a signal sent to the process
 * waits for the loop thread's signalfd. Other threads of the program must
 * block these signals too (block them before creating the threads), or the
 * kernel may deliver a process-directed signal to one of them. Several
 * sets of one thread may share a signal: each arrival goes to one of them.
 *
 * cio_run and cio_run_with turn SIGINT and SIGTERM into the cancellation of
 * the main task, so its scopes, groups and cleanup run (asyncio.run turns
 * Ctrl-C into a KeyboardInterrupt raised in the main task). cio_run then
 * returns CIO_EINTERRUPTED and cio_run_signal() tells which signal it was.
 * A second SIGINT or SIGTERM while the program shuts down kills it at once
 * (the signals' default disposition is back as soon as the first one
 * arrived). This applies only to a signal whose disposition is the default
 * when cio_run starts (a program that installed its own handler, or
 * ignores SIGINT as a background job does, keeps that), and not with the
 * loop option .no_signal_handlers. Everything is restored when cio_run
 * returns. A program that wants the shell to see the signal re-raises it:
 *
 *     int rc = cio_run(main_task, NULL);
 *     if (rc == CIO_EINTERRUPTED) { signal(cio_run_signal(), SIG_DFL); raise(cio_run_signal()); }
 */
#ifndef CIO_SIGNAL_H
#define CIO_SIGNAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_signal_set cio_signal_set;

/* Start catching the n signals listed (SIGKILL and SIGSTOP cannot be):
 * block them in this thread and open a signalfd on the current loop.
 * Returns 0, -EINVAL (no signal, or one that cannot be caught), -ENOMEM,
 * -EMFILE, -EPERM outside a loop. Never blocks. */
CIO_MUST_CHECK int cio_signal_open(cio_signal_set **out, const int *signals, size_t n);

/* The same with a sigset_t. */
CIO_MUST_CHECK int cio_signal_open_set(cio_signal_set **out, const sigset_t *set);

/* Wait until one of the set's signals arrives (or is already pending):
 * returns its number, and fills *info (may be NULL) with what the kernel
 * says of it (ssi_pid, ssi_uid, ssi_code...). -ETIMEDOUT when deadline
 * (absolute; CIO_NEVER: none) passes, -ECANCELED. One task at a time should
 * wait on a set. Blocks: a cancellation point, even when a signal is
 * pending. */
CIO_MUST_CHECK int cio_signal_wait(cio_signal_set *s, struct signalfd_siginfo *info,
                                   int64_t deadline);

/* Stop catching: close the signalfd, unblock the signals no other set of
 * this thread catches (those cio blocked). Call it when no task waits on s.
 * Never blocks. */
void cio_signal_close(cio_signal_set *s);

/* The signal (SIGINT or SIGTERM) that cancelled the main task of the last
 * cio_run of this thread, or 0 if none did. */
int cio_run_signal(void);

#pragma GCC visibility pop

#endif
