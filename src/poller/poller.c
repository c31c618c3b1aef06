/* poller.c — choosing a loop's backend, and waking a loop from another
 * thread (an eventfd both backends watch). */
#include "poller.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int open_backend(cio_poller *p, const cio_poller_backend *be)
{
    p->be = be;
    p->file_ops = be->file_ops;     /* open may clear it */
    int rc = be->open(p);
    if (rc < 0) {
        p->be = NULL;
        p->file_ops = false;
    }
    return rc;
}

static int choose_backend(cio_poller *p, const char *want)
{
    if (!want || !*want)
        want = getenv("CIO_BACKEND");
    if (!want || !*want || strcmp(want, "auto") == 0) {
        if (open_backend(p, &cio_backend_uring) == 0)
            return 0;
        return open_backend(p, &cio_backend_epoll);
    }
    if (strcmp(want, "epoll") == 0)
        return open_backend(p, &cio_backend_epoll);
    if (strcmp(want, "io_uring") == 0 || strcmp(want, "uring") == 0)
        return open_backend(p, &cio_backend_uring);
    return -EINVAL;
}

int cio_poller_open(cio_poller *p, const char *want)
{
    memset(p, 0, sizeof *p);
    atomic_init(&p->sleeping, false);
    atomic_init(&p->woken, false);
    p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->wakefd < 0)
        return -errno;
    int rc = choose_backend(p, want);
    if (rc < 0) {
        close(p->wakefd);
        return rc;
    }
    return 0;
}

void cio_poller_close(cio_poller *p)
{
    p->be->close(p);
    close(p->wakefd);
}

int cio_poller_wait(cio_poller *p, int64_t timeout_ns)
{
    if (timeout_ns != 0) {
        atomic_store_explicit(&p->sleeping, true, memory_order_seq_cst);
        if (atomic_load_explicit(&p->woken, memory_order_seq_cst))
            timeout_ns = 0;     /* a wake raced in: don't sleep */
    }
    int n = p->be->wait(p, timeout_ns);
    atomic_store_explicit(&p->sleeping, false, memory_order_relaxed);
    /* seq_cst: pairs with the loads of the thread-safe call queue that
     * follow, so a wake cleared here cannot hide a call queued before it. */
    atomic_store_explicit(&p->woken, false, memory_order_seq_cst);
    return n == -EINTR ? 0 : n;
}

void cio_poller_drain_wake(cio_poller *p)
{
    uint64_t v;
    ssize_t n = read(p->wakefd, &v, sizeof v);
    (void)n;
}

void cio_poller_wake(cio_poller *p)
{
    if (atomic_exchange_explicit(&p->woken, true, memory_order_seq_cst))
        return;                 /* already pending */
    if (atomic_load_explicit(&p->sleeping, memory_order_seq_cst)) {
        uint64_t one = 1;
        ssize_t n = write(p->wakefd, &one, sizeof one);
        (void)n;
    }
}
