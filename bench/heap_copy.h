/* heap_copy.h — a copy of the timer heap of src/core/timer.c with its arity
 * as a parameter, for bench_timer_heap only (the library keeps its own).
 *
 * Before including, define HEAP_ARITY (children per node) and HEAP_FN(name)
 * (how to name the functions, e.g. heap2_##name); include it once per arity.
 * The nodes and the heap are the library's types, so the copies and the
 * library run on the very same data.
 */
#include "core/timer.h"

#include <errno.h>
#include <stdlib.h>

static inline bool HEAP_FN(before)(const cio_timer_node *a,
                                   const cio_timer_node *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void HEAP_FN(place)(cio_timer_heap *h, uint32_t i,
                                  cio_timer_node *n)
{
    h->nodes[i] = n;
    n->index = i;
}

static void HEAP_FN(sift_up)(cio_timer_heap *h, uint32_t i, cio_timer_node *n)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / HEAP_ARITY;
        if (!HEAP_FN(before)(n, h->nodes[parent]))
            break;
        HEAP_FN(place)(h, i, h->nodes[parent]);
        i = parent;
    }
    HEAP_FN(place)(h, i, n);
}

static void HEAP_FN(sift_down)(cio_timer_heap *h, uint32_t i, cio_timer_node *n)
{
    for (;;) {
        uint32_t first = i * HEAP_ARITY + 1;
        if (first >= h->count)
            break;
        uint32_t last = first + HEAP_ARITY < h->count ? first + HEAP_ARITY
                                                      : h->count;
        uint32_t best = first;
        for (uint32_t c = first + 1; c < last; c++)
            if (HEAP_FN(before)(h->nodes[c], h->nodes[best]))
                best = c;
        if (!HEAP_FN(before)(h->nodes[best], n))
            break;
        HEAP_FN(place)(h, i, h->nodes[best]);
        i = best;
    }
    HEAP_FN(place)(h, i, n);
}

static int HEAP_FN(grow)(cio_timer_heap *h)
{
    uint32_t cap = h->cap ? h->cap * 2 : 64;
    cio_timer_node **nodes = realloc(h->nodes, cap * sizeof *nodes);
    if (!nodes)
        return -ENOMEM;
    h->nodes = nodes;
    h->cap = cap;
    return 0;
}

static void HEAP_FN(remove_at)(cio_timer_heap *h, uint32_t i)
{
    cio_timer_node *gone = h->nodes[i];
    gone->index = UINT32_MAX;
    cio_timer_node *last = h->nodes[--h->count];
    if (i == h->count)
        return;
    if (i > 0 && HEAP_FN(before)(last, h->nodes[(i - 1) / HEAP_ARITY]))
        HEAP_FN(sift_up)(h, i, last);
    else
        HEAP_FN(sift_down)(h, i, last);
}

/* Like the library's, not inlined into the benchmark loop (the library's
 * are calls into libcio too). */
static __attribute__((noinline)) int HEAP_FN(arm)(cio_timer_heap *h,
                                                  cio_timer_node *n,
                                                  int64_t deadline)
{
    if (cio_timer_armed(n))
        HEAP_FN(remove_at)(h, n->index);
    if (h->count == h->cap && HEAP_FN(grow)(h) < 0)
        return -ENOMEM;
    n->deadline = deadline;
    n->seq = h->seq++;
    HEAP_FN(sift_up)(h, h->count++, n);
    return 0;
}

static __attribute__((noinline)) void HEAP_FN(disarm)(cio_timer_heap *h,
                                                      cio_timer_node *n)
{
    if (cio_timer_armed(n))
        HEAP_FN(remove_at)(h, n->index);
}

static __attribute__((noinline)) size_t HEAP_FN(run_due)(cio_timer_heap *h,
                                                         int64_t now)
{
    size_t fired = 0;
    while (h->count && h->nodes[0]->deadline <= now) {
        cio_timer_node *n = h->nodes[0];
        HEAP_FN(remove_at)(h, 0);
        n->fire(n);
        fired++;
    }
    return fired;
}
