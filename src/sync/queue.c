/* queue.c — asyncio.Queue / LifoQueue / PriorityQueue: the waiting logic.
 * The storage (ring, stack, heap) is in queue_storage.c.
 *
 * Hand-off keeps the queue FIFO-fair and lossless (DESIGN §2). Two
 * invariants follow from it, and every function below preserves them:
 *   - getters wait only while the queue is empty: a put finding a waiting
 *     getter copies its item straight into that getter's buffer;
 *   - putters wait only while the queue is full: a get taking an item from a
 *     full queue moves the first waiting putter's item in.
 * So an item or a free slot is never left lying around for a woken task to
 * pick up later (asyncio's way, which lets others barge in meanwhile), a
 * cancelled waiter has either been served completely or not at all, and the
 * non-blocking forms cannot overtake a waiter: with getters waiting the queue
 * is empty, with putters waiting it is full.
 */
#include "cio/queue.h"
#include "core/internal.h"
#include "queue_storage.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

static int init(cio_queue *q, enum cio_queue_kind kind, size_t item_size,
                size_t maxsize, cio_queue_cmp *cmp)
{
    /* The size limit keeps the slot size arithmetic from overflowing. */
    if (item_size == 0 || item_size > SIZE_MAX / 2
        || (kind == CIO_QUEUE_PRIORITY && !cmp))
        return -EINVAL;
    cio_qstore_init(q, kind, item_size, maxsize, cmp);
    q->_unfinished = 0;
    q->_shutdown = false;
    cio_waitlist_init(&q->_getters);
    cio_waitlist_init(&q->_putters);
    cio_waitlist_init(&q->_joiners);
    return 0;
}

int cio_queue_init(cio_queue *q, size_t item_size, size_t maxsize)
{
    return init(q, CIO_QUEUE_FIFO, item_size, maxsize, NULL);
}

int cio_queue_init_lifo(cio_queue *q, size_t item_size, size_t maxsize)
{
    return init(q, CIO_QUEUE_LIFO, item_size, maxsize, NULL);
}

int cio_queue_init_priority(cio_queue *q, size_t item_size, size_t maxsize,
                            cio_queue_cmp *cmp)
{
    return init(q, CIO_QUEUE_PRIORITY, item_size, maxsize, cmp);
}

void cio_queue_destroy(cio_queue *q)
{
    assert(!q->_getters.head && !q->_putters.head && !q->_joiners.head);
    cio_qstore_free(q);
}

size_t cio_queue_size(const cio_queue *q) { return q->_count; }
size_t cio_queue_maxsize(const cio_queue *q) { return q->_maxsize; }
bool cio_queue_empty(const cio_queue *q) { return q->_count == 0; }
bool cio_queue_is_shutdown(const cio_queue *q) { return q->_shutdown; }

bool cio_queue_full(const cio_queue *q)
{
    return q->_maxsize != 0 && q->_count >= q->_maxsize;
}

/* ---- moving items -------------------------------------------------------- */

/* Wake w with result 0 after its item has been moved. The head of a wait
 * list is always still parked (a settled waiter leaves its list), so the
 * wake cannot fail. */
static void wake_served(cio_waiter *w)
{
    bool woken = cio_wait_wake(w, 0);
    assert(woken);
    (void)woken;
}

/* The queue may hold one more item (asyncio's put_nowait, minus the
 * shutdown and full checks): hand it to the first getter, or store it. */
static int put_now(cio_queue *q, const void *item)
{
    cio_waiter *getter = cio_waitlist_first(&q->_getters);
    if (getter) {
        assert(q->_count == 0);
        memcpy(getter->data, item, q->_item_size);
        wake_served(getter);
    } else {
        int rc = cio_qstore_reserve(q);
        if (rc < 0)
            return rc;
        cio_qstore_push(q, item);
    }
    q->_unfinished++;
    return 0;
}

/* The queue is not empty: take the next item, then let the first waiting
 * putter's item into the slot just freed. */
static void get_now(cio_queue *q, void *item)
{
    cio_qstore_pop(q, item);
    cio_waiter *putter = cio_waitlist_first(&q->_putters);
    if (putter) {
        /* Room is certain: the queue was full, and one item just left. */
        cio_qstore_push(q, putter->data);
        q->_unfinished++;
        wake_served(putter);
    }
}

static bool must_wait_to_put(const cio_queue *q)
{
    return q->_putters.head != NULL || cio_queue_full(q);
}

/* ---- put and get --------------------------------------------------------- */

int cio_queue_put(cio_queue *q, const void *item)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (q->_shutdown)
        return -ESHUTDOWN;
    if (!must_wait_to_put(q))
        return put_now(q, item);
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_QUEUE_PUT, q);
    w.data = (void *)item;              /* only read, by get_now */
    /* 0: a getter moved the item in; -ESHUTDOWN / -ECANCELED: it was not. */
    return cio_wait_park(&w, &q->_putters, CIO_NEVER);
}

int cio_queue_try_put(cio_queue *q, const void *item)
{
    if (q->_shutdown)
        return -ESHUTDOWN;
    if (must_wait_to_put(q))
        return -EAGAIN;
    return put_now(q, item);
}

int cio_queue_get(cio_queue *q, void *item)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (q->_count > 0) {
        get_now(q, item);
        return 0;
    }
    if (q->_shutdown)
        return -ESHUTDOWN;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_QUEUE_GET, q);
    w.data = item;                      /* a putter copies the item here */
    /* 0: *item was filled; -ESHUTDOWN / -ECANCELED: it was not touched. */
    return cio_wait_park(&w, &q->_getters, CIO_NEVER);
}

int cio_queue_try_get(cio_queue *q, void *item)
{
    if (q->_count == 0)
        return q->_shutdown ? -ESHUTDOWN : -EAGAIN;
    get_now(q, item);
    return 0;
}

/* ---- task_done, join, shutdown ------------------------------------------- */

int cio_queue_task_done(cio_queue *q)
{
    if (q->_unfinished == 0)
        return -EINVAL;
    if (--q->_unfinished == 0)
        cio_waitlist_wake_all(&q->_joiners, 0);
    return 0;
}

int cio_queue_join(cio_queue *q)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0 || q->_unfinished == 0)
        return rc;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_QUEUE_JOIN, q);
    return cio_wait_park(&w, &q->_joiners, CIO_NEVER);
}

void cio_queue_shutdown(cio_queue *q, bool immediate)
{
    q->_shutdown = true;
    if (immediate && q->_count > 0) {
        /* Each item dropped counts as done (asyncio calls task_done). */
        while (q->_count > 0) {
            cio_qstore_pop(q, NULL);
            if (q->_unfinished > 0)
                q->_unfinished--;
        }
        if (q->_unfinished == 0)
            cio_waitlist_wake_all(&q->_joiners, 0);
    }
    /* Getters wait only on an empty queue, so none has anything to drain. */
    cio_waitlist_wake_all(&q->_getters, -ESHUTDOWN);
    cio_waitlist_wake_all(&q->_putters, -ESHUTDOWN);
}
