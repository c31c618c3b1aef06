/* queue_storage.h — where a cio_queue keeps its items: a ring (FIFO), a
 * stack (LIFO) or a binary min-heap (priority). No waiting logic here; see
 * queue.c for that.
 */
#ifndef CIO_SYNC_QUEUE_STORAGE_H
#define CIO_SYNC_QUEUE_STORAGE_H

#include "cio/queue.h"

/* Set up empty storage of the given kind (allocates nothing yet). */
void cio_qstore_init(cio_queue *q, enum cio_queue_kind kind, size_t item_size,
                     size_t maxsize, cio_queue_cmp *cmp);

/* Make sure one more item fits, growing the buffer geometrically (never past
 * maxsize). Returns 0 or -ENOMEM. */
int cio_qstore_reserve(cio_queue *q);

/* Store a copy of *item; room must have been reserved. */
void cio_qstore_push(cio_queue *q, const void *item);

/* Remove the next item (per the queue's kind) and copy it into *out, or
 * drop it when out is NULL. The queue must not be empty. */
void cio_qstore_pop(cio_queue *q, void *out);

/* Release the buffer. */
void cio_qstore_free(cio_queue *q);

#endif
