/* sigquit.c — the opt-in SIGQUIT task dump (cio_dump_on_sigquit).
 *
 * The handler only raises a flag on each registered loop and wakes it (an
 * atomic store and an eventfd write: async-signal-safe); the loop prints
 * the dump at its next pass, where walking the tasks is safe. A loop stuck
 * in a task cannot print until it yields: its watchdog (debug mode) reports
 * that task meanwhile.
 *
 * Loops register in a fixed table, so the handler never allocates or locks.
 * A closing loop empties its slot, then waits until no handler is inside
 * the table before its memory goes.
 */
#include "debug.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../core/internal.h"
#include "cio/debug.h"

#define SLOTS 64

static _Atomic(cio_debug *) slots[SLOTS];
static atomic_int handlers_inside;

static void on_sigquit(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add(&handlers_inside, 1);
    for (int i = 0; i < SLOTS; i++) {
        cio_debug *d = atomic_load(&slots[i]);
        if (d) {
            atomic_store(&d->dump_requested, true);
            cio_poller_wake(&d->loop->poller);
        }
    }
    atomic_fetch_sub(&handlers_inside, 1);
    errno = saved;
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
}

int cio_dump_on_sigquit(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    cio_loop *L = cio_tls_loop;
    if (!L)
        return -EINVAL;
    cio_debug *d = cio_debug_get(L);
    if (!d)
        return -ENOMEM;
    if (d->sigquit_slot >= 0)
        return 0;
    for (int i = 0; i < SLOTS; i++) {
        cio_debug *empty = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &empty, d)) {
            d->sigquit_slot = i;
            pthread_once(&once, install);
            return 0;
        }
    }
    return -ENOSPC;
}

void cio_sigquit_unregister(cio_debug *d)
{
    if (d->sigquit_slot < 0)
        return;
    atomic_store(&slots[d->sigquit_slot], NULL);
    d->sigquit_slot = -1;
    /* A handler running on another thread may still hold d: wait it out
     * (it does a few stores; on this thread it cannot be mid-way here). */
    while (atomic_load(&handlers_inside))
        ;
}

void cio_debug_pass(cio_loop *L)
{
    cio_debug *d = L->dbg;
    if (atomic_load_explicit(&d->dump_requested, memory_order_relaxed) &&
        atomic_exchange(&d->dump_requested, false))
        cio_dump_tasks(stderr);
}
