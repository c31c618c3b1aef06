/* poller.h — the narrow interface between the loop and the OS's readiness
 * or completion machinery (like Redis's ae.c backends).
 *
 * The core needs only: sleep until a deadline or a wake-up from another
 * thread, and know whether anything is registered that could wake it. The
 * I/O layer adds descriptor registration on top of the same structure.
 */
#ifndef CIO_POLLER_H
#define CIO_POLLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cio_poller {
    int epfd;
    int wakefd;                 /* eventfd: other threads wake the loop */
    size_t registered;          /* descriptors watched for tasks */
    atomic_bool sleeping;       /* inside epoll_wait: a wake must write */
    atomic_bool woken;          /* a wake is pending */
} cio_poller;

/* Returns 0 or a negative errno. */
int cio_poller_open(cio_poller *p);
void cio_poller_close(cio_poller *p);

/* Wait at most timeout_ns (0: just look; < 0: until woken) and dispatch what
 * is ready. Returns how many events were handled, or a negative errno. */
int cio_poller_wait(cio_poller *p, int64_t timeout_ns);

/* Wake a loop blocked in cio_poller_wait. Safe from any thread. A producer
 * publishes its work (e.g. a queued call, counted with a seq_cst atomic)
 * before it wakes; cio_poller_wait clears the wake flag with a seq_cst store
 * so the loop's later seq_cst check of that work cannot miss it. */
void cio_poller_wake(cio_poller *p);

/* True if a wake is pending (consumed by the next cio_poller_wait). */
static inline int cio_poller_wake_pending(cio_poller *p)
{
    return atomic_load_explicit(&p->woken, memory_order_acquire);
}

#endif
