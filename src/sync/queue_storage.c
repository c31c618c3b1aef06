/* queue_storage.c — the three ways a queue keeps its items, all in one
 * growable buffer of fixed-size slots:
 *   FIFO      a ring: _head is the oldest slot, _count slots follow it.
 *   LIFO      a stack: slots [0, _count), the top last.
 *   priority  a binary min-heap. A slot holds the item, then the 64-bit
 *             insertion number that breaks ties, so equal items come out in
 *             the order they went in (heapq with (item, seq) pairs).
 * The buffer grows by doubling (capped at maxsize), so a put allocates only
 * when the queue reaches a size it has never had: amortised O(1), and no
 * malloc at all in steady state.
 */
#include "queue_storage.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 8

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* Priority slots: the item at offset 0, its sequence number after it. The
 * slot size keeps every item maximally aligned, since the comparator gets
 * pointers into the buffer. */
static size_t seq_offset(const cio_queue *q) { return round_up(q->_item_size, 8); }

static unsigned char *slot(const cio_queue *q, size_t i)
{
    return q->_buf + i * q->_slot_size;
}

void cio_qstore_init(cio_queue *q, enum cio_queue_kind kind, size_t item_size,
                     size_t maxsize, cio_queue_cmp *cmp)
{
    q->_kind = kind;
    q->_item_size = item_size;
    q->_slot_size = item_size;
    if (kind == CIO_QUEUE_PRIORITY)
        q->_slot_size = round_up(seq_offset(q) + sizeof(uint64_t),
                                 alignof(max_align_t));
    q->_maxsize = maxsize;
    q->_buf = NULL;
    q->_cap = q->_head = q->_count = 0;
    q->_seq = 0;
    q->_cmp = cmp;
}

void cio_qstore_free(cio_queue *q)
{
    free(q->_buf);
    q->_buf = NULL;
    q->_cap = q->_head = q->_count = 0;
}

/* ---- growth -------------------------------------------------------------- */

static size_t next_capacity(const cio_queue *q)
{
    size_t cap = q->_cap ? q->_cap * 2 : FIRST_CAPACITY;
    if (cap < q->_cap)
        return 0;                       /* overflow */
    if (q->_maxsize && cap > q->_maxsize)
        cap = q->_maxsize;
    return cap;
}

/* The ring's items are moved to the front of the new buffer, in order. */
static void unwrap_ring(cio_queue *q, unsigned char *to)
{
    size_t first = q->_cap - q->_head;  /* slots from _head to the end */
    if (first > q->_count)
        first = q->_count;
    memcpy(to, slot(q, q->_head), first * q->_slot_size);
    memcpy(to + first * q->_slot_size, q->_buf,
           (q->_count - first) * q->_slot_size);
    q->_head = 0;
}

int cio_qstore_reserve(cio_queue *q)
{
    if (q->_count < q->_cap)
        return 0;
    size_t cap = next_capacity(q);
    if (cap <= q->_cap || cap > SIZE_MAX / q->_slot_size)
        return -ENOMEM;
    unsigned char *buf;
    if (q->_kind == CIO_QUEUE_FIFO && q->_head != 0) {
        buf = malloc(cap * q->_slot_size);
        if (!buf)
            return -ENOMEM;
        unwrap_ring(q, buf);
        free(q->_buf);
    } else {
        /* A stack, a heap, or a ring that does not wrap: a plain realloc. */
        buf = realloc(q->_buf, cap * q->_slot_size);
        if (!buf)
            return -ENOMEM;
    }
    q->_buf = buf;
    q->_cap = cap;
    return 0;
}

/* ---- the heap ------------------------------------------------------------ */

static uint64_t slot_seq(const cio_queue *q, const unsigned char *s)
{
    uint64_t seq;
    memcpy(&seq, s + seq_offset(q), sizeof seq);
    return seq;
}

/* Does item a (inserted as number sa) come out before item b (number sb)? */
static bool before(const cio_queue *q, const void *a, uint64_t sa,
                   const void *b, uint64_t sb)
{
    int c = q->_cmp(a, b);
    return c < 0 || (c == 0 && sa < sb);
}

static bool slot_before(const cio_queue *q, const unsigned char *a,
                        const unsigned char *b)
{
    return before(q, a, slot_seq(q, a), b, slot_seq(q, b));
}

/* Sift up with a hole: parents larger than the new item move down, and the
 * item is written once, where the hole stops. */
static void heap_push(cio_queue *q, const void *item)
{
    uint64_t seq = q->_seq++;
    size_t i = q->_count;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        unsigned char *p = slot(q, parent);
        if (!before(q, item, seq, p, slot_seq(q, p)))
            break;
        memcpy(slot(q, i), p, q->_slot_size);
        i = parent;
    }
    memcpy(slot(q, i), item, q->_item_size);
    memcpy(slot(q, i) + seq_offset(q), &seq, sizeof seq);
}

/* Remove the root: the last slot sifts down from the root, again with a
 * hole. The last slot itself is never overwritten while the hole moves
 * (every index visited is below it), so it is read in place. */
static void heap_pop(cio_queue *q, void *out)
{
    if (out)
        memcpy(out, slot(q, 0), q->_item_size);
    size_t n = q->_count - 1;           /* items left after the pop */
    const unsigned char *last = slot(q, n);
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && slot_before(q, slot(q, c + 1), slot(q, c)))
            c++;
        if (!slot_before(q, slot(q, c), last))
            break;
        memcpy(slot(q, i), slot(q, c), q->_slot_size);
        i = c;
    }
    if (i != n)
        memcpy(slot(q, i), last, q->_slot_size);
}

/* ---- push and pop -------------------------------------------------------- */

void cio_qstore_push(cio_queue *q, const void *item)
{
    switch (q->_kind) {
    case CIO_QUEUE_FIFO: {
        size_t tail = q->_head + q->_count;
        if (tail >= q->_cap)
            tail -= q->_cap;
        memcpy(slot(q, tail), item, q->_item_size);
        break;
    }
    case CIO_QUEUE_LIFO:
        memcpy(slot(q, q->_count), item, q->_item_size);
        break;
    case CIO_QUEUE_PRIORITY:
        heap_push(q, item);
        break;
    }
    q->_count++;
}

void cio_qstore_pop(cio_queue *q, void *out)
{
    switch (q->_kind) {
    case CIO_QUEUE_FIFO:
        if (out)
            memcpy(out, slot(q, q->_head), q->_item_size);
        if (++q->_head == q->_cap)
            q->_head = 0;
        break;
    case CIO_QUEUE_LIFO:
        if (out)
            memcpy(out, slot(q, q->_count - 1), q->_item_size);
        break;
    case CIO_QUEUE_PRIORITY:
        heap_pop(q, out);
        break;
    }
    q->_count--;
}
