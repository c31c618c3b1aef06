/* threadsafe.c — the loop's thread-safe call queue (call_soon_threadsafe),
 * and the references other threads hold on a loop.
 *
 * Producers append under a mutex, count the call in `pending`, and wake
 * the poller (its eventfd, written only if the loop sleeps). The loop takes
 * the whole list at once at the top of each scheduler pass and runs it in
 * order; calls queued while it runs wait for the next pass, so a call that
 * queues a call cannot starve the loop.
 */
#include "internal.h"
#include "cio/thread.h"

#include <errno.h>
#include <stdlib.h>

int cio_threadsafe_init(cio_loop *L)
{
    cio_ts_queue *q = &L->ts;
    q->head = q->tail = NULL;
    q->closed = false;
    q->futures = NULL;
    atomic_init(&q->pending, 0);
    atomic_init(&q->unrefs, 0);
    int rc = pthread_mutex_init(&q->lock, NULL);
    return -rc;
}

int cio_threadsafe_post(cio_loop *L, cio_ts_call *c, bool external)
{
    cio_ts_queue *q = &L->ts;
    c->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (external && q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -ESHUTDOWN;
    }
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    atomic_fetch_add(&q->pending, 1);
    /* Wake under the lock: the loop takes the lock to run c, so it cannot
     * finish closing (and free itself) while this call still touches it. */
    cio_poller_wake(&L->poller);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int cio_call_threadsafe(cio_loop *loop, void (*fn)(void *), void *arg)
{
    if (!loop || !fn)
        return -EINVAL;
    cio_ts_call *c = malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->heap = true;
    int rc = cio_threadsafe_post(loop, c, true);
    if (rc < 0)
        free(c);
    return rc;
}

static void apply_unrefs(cio_loop *L)
{
    size_t n = atomic_exchange(&L->ts.unrefs, 0);
    L->refs -= n;
}

void cio_threadsafe_drain(cio_loop *L)
{
    cio_ts_queue *q = &L->ts;
    apply_unrefs(L);
    pthread_mutex_lock(&q->lock);
    cio_ts_call *c = q->head;
    q->head = q->tail = NULL;
    size_t n = 0;
    for (cio_ts_call *p = c; p; p = p->next)
        n++;
    atomic_fetch_sub(&q->pending, n);
    pthread_mutex_unlock(&q->lock);
    while (c) {
        cio_ts_call *next = c->next;
        void (*fn)(void *) = c->fn;
        void *arg = c->arg;
        if (c->heap)
            free(c);
        fn(arg);                /* may free an embedded c's record */
        c = next;
    }
}

void cio_threadsafe_close(cio_loop *L)
{
    pthread_mutex_lock(&L->ts.lock);
    L->ts.closed = true;
    pthread_mutex_unlock(&L->ts.lock);
}

void cio_threadsafe_finish(cio_loop *L)
{
    cio_future_abandon_all(L);
    /* Only internal posts can still arrive, and only before this point
     * (the pool is joined, every future is complete): drain them all. */
    while (cio_threadsafe_pending(L))
        cio_threadsafe_drain(L);
    /* A call refused during the close may still be unlocking. */
    pthread_mutex_lock(&L->ts.lock);
    pthread_mutex_unlock(&L->ts.lock);
    pthread_mutex_destroy(&L->ts.lock);
}

/* ---- references ------------------------------------------------------------ */

void cio_loop_ref(cio_loop *loop)
{
    if (loop)
        loop->refs++;
}

void cio_loop_unref(cio_loop *loop)
{
    if (!loop)
        return;
    if (loop == cio_tls_loop) {
        loop->refs--;
        return;
    }
    pthread_mutex_lock(&loop->ts.lock);     /* as in cio_threadsafe_post */
    atomic_fetch_add(&loop->ts.unrefs, 1);
    cio_poller_wake(&loop->poller);
    pthread_mutex_unlock(&loop->ts.lock);
}
