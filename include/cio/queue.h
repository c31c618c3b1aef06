/* cio/queue.h — asyncio.Queue, LifoQueue and PriorityQueue (3.13 semantics,
 * shutdown included).
 *
 * Items are copied in and out by value, item_size bytes each (a queue of
 * pointers has item_size sizeof(void *)). The storage grows by doubling (a
 * bounded queue's never past maxsize) and is kept until destroy, so puts
 * allocate only while the queue reaches sizes it never had: amortised O(1),
 * no allocation in steady state.
 *
 * FIFO-fair and lossless, by hand-off: a put into a queue with waiting
 * getters copies the item straight into the longest waiting getter's buffer,
 * and a get from a full queue moves the longest waiting putter's item into
 * the queue. A get that returns -ECANCELED took nothing; a put that returns
 * -ECANCELED left nothing in the queue. Getters are served, and putters
 * admitted, in the order they started waiting.
 *
 * No barging (a deliberate difference from asyncio): asyncio wakes a waiter
 * and leaves the item or free slot for it to take when it runs, so a
 * get_nowait / put_nowait made in between can take it first and send the
 * woken task back to wait. Here the hand-off happens at wake time, so while
 * getters wait the queue is empty and cio_queue_try_get returns -EAGAIN;
 * while putters wait it is full and cio_queue_try_put returns -EAGAIN. Like
 * the blocking forms, the non-blocking ones never overtake a waiter.
 *
 * Every blocking call checks for cancellation first, even when it need not
 * wait (-ECANCELED, before any other outcome), and returns -EPERM outside a
 * task. Timeouts: wrap the call in a cancel scope or cio_wait_for.
 */
#ifndef CIO_QUEUE_H
#define CIO_QUEUE_H

#include "base.h"

#pragma GCC visibility push(default)

enum cio_queue_kind { CIO_QUEUE_FIFO, CIO_QUEUE_LIFO, CIO_QUEUE_PRIORITY };

/* Priority order: negative if a comes out before b (a min-heap, as heapq).
 * Equal items come out in the order they entered the queue (a put that had
 * to wait enters when a get admits it). a and b point into the queue's
 * storage, aligned for any type. */
typedef int cio_queue_cmp(const void *a, const void *b);

typedef struct cio_queue {
    enum cio_queue_kind _kind;
    size_t _item_size, _slot_size;
    size_t _maxsize;            /* 0: unbounded */
    unsigned char *_buf;        /* ring (FIFO), stack (LIFO) or heap */
    size_t _cap, _head, _count;
    uint64_t _seq;              /* priority: insertion order for ties */
    cio_queue_cmp *_cmp;
    size_t _unfinished;         /* items put and not yet task_done */
    bool _shutdown;
    cio_waitlist _getters, _putters, _joiners;
} cio_queue;

/* Make an empty FIFO queue holding up to maxsize items (0: unbounded).
 * Returns 0 or -EINVAL (item_size 0, or above SIZE_MAX / 2). Allocates
 * nothing yet (storage comes with the first put). Never blocks. */
CIO_MUST_CHECK int cio_queue_init(cio_queue *q, size_t item_size, size_t maxsize);

/* LIFO (asyncio.LifoQueue). */
CIO_MUST_CHECK int cio_queue_init_lifo(cio_queue *q, size_t item_size,
                                       size_t maxsize);

/* Priority (asyncio.PriorityQueue): smallest item first by cmp (-EINVAL if
 * cmp is NULL). */
CIO_MUST_CHECK int cio_queue_init_priority(cio_queue *q, size_t item_size,
                                           size_t maxsize, cio_queue_cmp *cmp);

/* Free the queue's storage. No task may be waiting on it. */
void cio_queue_destroy(cio_queue *q);

/* Copy *item into the queue, waiting while it is full (or other putters
 * wait). *item must stay valid until the call returns. Returns 0,
 * -ECANCELED (nothing was put), -ESHUTDOWN (shut down, before or while
 * waiting; nothing was put) or -ENOMEM (the storage could not grow).
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_put(cio_queue *q, const void *item);

/* Take the next item into *item, waiting while the queue is empty. Returns
 * 0, -ECANCELED (nothing was taken; *item untouched) or -ESHUTDOWN (shut
 * down, and nothing is left to drain). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_get(cio_queue *q, void *item);

/* Non-blocking forms (put_nowait, get_nowait): 0, -EAGAIN when the queue
 * is full or putters wait (put) or it is empty (get), -ESHUTDOWN (put after
 * shutdown; get after shutdown once empty), -ENOMEM (put). Not cancellation
 * points; callable outside a task. Never block. */
CIO_MUST_CHECK int cio_queue_try_put(cio_queue *q, const void *item);
CIO_MUST_CHECK int cio_queue_try_get(cio_queue *q, void *item);

/* Mark one item taken with get as processed; when every item put has been
 * marked (or dropped by an immediate shutdown), joiners are woken. Returns
 * 0, or -EINVAL if called more times than items were put. Never blocks. */
int cio_queue_task_done(cio_queue *q);

/* Wait until every item put has been marked done (at once if none is
 * pending). Returns 0 or -ECANCELED. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_join(cio_queue *q);

/* Shut the queue down: puts fail with -ESHUTDOWN; blocked putters are woken
 * with -ESHUTDOWN (their items were not put). Blocked getters (the queue is
 * empty while any wait) are woken with -ESHUTDOWN. Without immediate, later
 * gets drain what is left and then return -ESHUTDOWN. With immediate, the
 * queue is emptied at once and each item removed counts as done (as if
 * task_done were called for it), so join returns once the items already
 * taken are marked done too. May be called again (e.g. immediate after a
 * draining shutdown). Never blocks. */
void cio_queue_shutdown(cio_queue *q, bool immediate);

size_t cio_queue_size(const cio_queue *q);
size_t cio_queue_maxsize(const cio_queue *q);
bool cio_queue_empty(const cio_queue *q);
bool cio_queue_full(const cio_queue *q);
bool cio_queue_is_shutdown(const cio_queue *q);

#pragma GCC visibility pop

#endif
