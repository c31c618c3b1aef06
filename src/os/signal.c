/* signal.c — signal sets: a signalfd a task waits on through the poller.
 *
 * The signals of a set must stay pending for the signalfd rather than be
 * delivered, so they are blocked in the thread that opens the set. Each
 * thread counts the sets that catch each signal and unblocks, when the
 * last of them closes, only what it blocked itself: a signal the program
 * had blocked before stays blocked.
 */
#include "signal_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../io/io.h"

struct cio_signal_set {
    cio_fd io;
    sigset_t set;
    bool released;              /* cio_signal_release ran */
};

static __thread unsigned catchers[_NSIG];   /* open sets per signal */
static __thread sigset_t blocked_by_cio;    /* what the sets blocked */

static bool catchable(int sig)
{
    return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP;
}

/* Count s's signals in; block those this thread did not block yet. */
static void catch_signals(const sigset_t *set)
{
    sigset_t now, block;
    sigemptyset(&block);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sigismember(set, sig) != 1 || catchers[sig]++ > 0)
            continue;
        if (sigismember(&now, sig) != 1) {
            sigaddset(&block, sig);
            sigaddset(&blocked_by_cio, sig);
        }
    }
    pthread_sigmask(SIG_BLOCK, &block, NULL);
}

static void release_signals(const sigset_t *set)
{
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sigismember(set, sig) != 1 || --catchers[sig] > 0)
            continue;
        if (sigismember(&blocked_by_cio, sig) == 1) {
            sigdelset(&blocked_by_cio, sig);
            sigaddset(&unblock, sig);
        }
    }
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

int cio_signal_open_set(cio_signal_set **out, const sigset_t *set)
{
    if (!cio_tls_loop)
        return -EPERM;
    int count = 0;
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sigismember(set, sig) == 1) {
            if (!catchable(sig))
                return -EINVAL;
            count++;
        }
    }
    if (!count)
        return -EINVAL;
    cio_signal_set *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->set = *set;
    catch_signals(set);
    int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    int rc = fd < 0 ? -errno : cio_fd_open(&s->io, fd, 0);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        release_signals(set);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int cio_signal_open(cio_signal_set **out, const int *signals, size_t n)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++) {
        if (!catchable(signals[i]))
            return -EINVAL;
        sigaddset(&set, signals[i]);
    }
    return cio_signal_open_set(out, &set);
}

int cio_signal_take(cio_signal_set *s, struct signalfd_siginfo *info)
{
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(s->io.fd, &si, sizeof si);
        if (n == (ssize_t)sizeof si) {
            if (info)
                *info = si;
            return (int)si.ssi_signo;
        }
        if (n >= 0)
            return -EIO;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

int cio_signal_wait(cio_signal_set *s, struct signalfd_siginfo *info, int64_t deadline)
{
    int rc = cio_wait_checkpoint();
    while (rc >= 0) {
        rc = cio_signal_take(s, info);
        if (rc != 0)
            return rc;
        rc = cio_io_poll(&s->io, POLLIN, deadline);
    }
    return rc;
}

cio_fd *cio_signal_fd(cio_signal_set *s) { return &s->io; }

void cio_signal_release(cio_signal_set *s)
{
    if (!s->released)
        release_signals(&s->set);
    s->released = true;
}

void cio_signal_close(cio_signal_set *s)
{
    if (!s)
        return;
    cio_fd_abort(&s->io);
    cio_fd_release(&s->io);
    close(s->io.fd);
    cio_signal_release(s);
    free(s);
}
