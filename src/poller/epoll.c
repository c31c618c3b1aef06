/* epoll.c — the epoll backend: sleeping, and the cross-thread wake-up. */
#include "poller.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WAKE_TAG UINT64_MAX

int cio_poller_open(cio_poller *p)
{
    p->registered = 0;
    atomic_init(&p->sleeping, false);
    atomic_init(&p->woken, false);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0)
        return -errno;
    p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->wakefd < 0) {
        int err = -errno;
        close(p->epfd);
        return err;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKE_TAG };
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) < 0) {
        int err = -errno;
        close(p->wakefd);
        close(p->epfd);
        return err;
    }
    return 0;
}

void cio_poller_close(cio_poller *p)
{
    close(p->wakefd);
    close(p->epfd);
}

static void drain_wakefd(cio_poller *p)
{
    uint64_t v;
    ssize_t n = read(p->wakefd, &v, sizeof v);
    (void)n;
}

int cio_poller_wait(cio_poller *p, int64_t timeout_ns)
{
    struct epoll_event events[64];
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    atomic_store_explicit(&p->sleeping, timeout_ns != 0, memory_order_seq_cst);
    if (timeout_ns != 0 && atomic_load(&p->woken))
        tsp = &(struct timespec){ 0, 0 };   /* a wake raced in: don't sleep */
    int n = epoll_pwait2(p->epfd, events, 64, tsp, NULL);
    atomic_store_explicit(&p->sleeping, false, memory_order_relaxed);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        if (events[i].data.u64 == WAKE_TAG)
            drain_wakefd(p);
    /* seq_cst: pairs with the loads of the thread-safe call queue that
     * follow, so a wake cleared here cannot hide a call queued before it. */
    atomic_store_explicit(&p->woken, false, memory_order_seq_cst);
    return n;
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
