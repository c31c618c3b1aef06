/* timer.h — the loop's timers: a 4-ary min-heap of cio_timer_node pointers.
 *
 * Ordered by (deadline, seq): equal deadlines fire in the order they were
 * armed (FIFO; CPython leaves that order undefined). Each node remembers its
 * slot, so disarming is O(log n) with no search. Why a 4-ary heap: see
 * docs/decisions.md (measured against a binary heap by bench_timer_heap).
 */
#ifndef CIO_CORE_TIMER_H
#define CIO_CORE_TIMER_H

#include "cio/base.h"

typedef struct cio_timer_heap {
    cio_timer_node **nodes;
    uint32_t count, cap;
    uint64_t seq;
} cio_timer_heap;

void cio_timer_heap_init(cio_timer_heap *h);
void cio_timer_heap_free(cio_timer_heap *h);

static inline void cio_timer_node_init(cio_timer_node *n,
                                       void (*fire)(cio_timer_node *))
{
    n->index = UINT32_MAX;
    n->fire = fire;
}

static inline bool cio_timer_armed(const cio_timer_node *n)
{
    return n->index != UINT32_MAX;
}

/* Arm n at deadline (re-arming moves it). Returns 0 or -ENOMEM. */
int cio_timer_arm(cio_timer_heap *h, cio_timer_node *n, int64_t deadline);

/* Disarm n if armed. */
void cio_timer_disarm(cio_timer_heap *h, cio_timer_node *n);

/* The earliest deadline, or CIO_NEVER. */
static inline int64_t cio_timer_next(const cio_timer_heap *h)
{
    return h->count ? h->nodes[0]->deadline : CIO_NEVER;
}

/* Fire (disarm, then call) every timer due at or before now, in order.
 * Returns how many fired. */
size_t cio_timer_run_due(cio_timer_heap *h, int64_t now);

#endif
