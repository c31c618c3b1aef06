/* cio/queue.h — asyncio.Queue, LifoQueue and PriorityQueue (3.13 semantics,
 * shutdown included).
 *
 * Items are copied in and out by value, item_size bytes each (a queue of
 * pointers has item_size sizeof(void *)). FIFO-fair: a put into a queue with
 * waiting getters hands the item straight to the longest waiter, and a get
 * from a full queue admits the longest waiting putter. An item is never lost:
 * a get that returns -ECANCELED took nothing, a put that returns -ECANCELED
 * left nothing in the queue.
 */
#ifndef CIO_QUEUE_H
#define CIO_QUEUE_H

#include "base.h"

enum cio_queue_kind { CIO_QUEUE_FIFO, CIO_QUEUE_LIFO, CIO_QUEUE_PRIORITY };

/* Priority order: negative if a comes out before b (a min-heap, as heapq).
 * Equal items come out in the order they were put. */
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
 * Returns 0 or -EINVAL (item_size 0). Never blocks. */
CIO_MUST_CHECK int cio_queue_init(cio_queue *q, size_t item_size, size_t maxsize);

/* LIFO (asyncio.LifoQueue). */
CIO_MUST_CHECK int cio_queue_init_lifo(cio_queue *q, size_t item_size,
                                       size_t maxsize);

/* Priority (asyncio.PriorityQueue): smallest item first by cmp. */
CIO_MUST_CHECK int cio_queue_init_priority(cio_queue *q, size_t item_size,
                                           size_t maxsize, cio_queue_cmp *cmp);

/* Free the queue's storage. No task may be waiting on it. */
void cio_queue_destroy(cio_queue *q);

/* Copy *item into the queue, waiting while it is full. Returns 0,
 * -ECANCELED (nothing was put), -ESHUTDOWN (shut down; nothing was put) or
 * -ENOMEM (an unbounded queue could not grow). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_put(cio_queue *q, const void *item);

/* Take the next item into *item, waiting while the queue is empty. Returns
 * 0, -ECANCELED (nothing was taken) or -ESHUTDOWN (shut down, and nothing
 * is left to drain). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_get(cio_queue *q, void *item);

/* Non-blocking forms: -EAGAIN when full (put) or empty (get), -ESHUTDOWN,
 * -ENOMEM. Never block. */
CIO_MUST_CHECK int cio_queue_try_put(cio_queue *q, const void *item);
CIO_MUST_CHECK int cio_queue_try_get(cio_queue *q, void *item);

/* Mark one item taken with get as processed. Returns 0, or -EINVAL if called
 * more times than items were put. Never blocks. */
int cio_queue_task_done(cio_queue *q);

/* Wait until every item put has been marked done. Returns 0 or -ECANCELED.
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_queue_join(cio_queue *q);

/* Shut the queue down: puts fail with -ESHUTDOWN; blocked putters are woken
 * with -ESHUTDOWN. Without immediate, getters drain what is left and then
 * get -ESHUTDOWN. With immediate, the queue is emptied at once (each item
 * removed counts as done, so join returns) and every getter gets
 * -ESHUTDOWN. Never blocks. */
void cio_queue_shutdown(cio_queue *q, bool immediate);

size_t cio_queue_size(const cio_queue *q);
size_t cio_queue_maxsize(const cio_queue *q);
bool cio_queue_empty(const cio_queue *q);
bool cio_queue_full(const cio_queue *q);
bool cio_queue_is_shutdown(const cio_queue *q);

#endif
