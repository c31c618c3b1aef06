/* heap_keyed.h — a variant of the timer heap for bench_timer_heap only: a
 * 4-ary heap whose array holds each timer's key (deadline, seq) beside the
 * node pointer, so that comparisons read only the array. The library's heap
 * (src/core/timer.c) holds bare pointers: every comparison reads a node,
 * and nodes live in waiters on task stacks, a cache miss each.
 *
 * Same contract as the library's: nodes remember their slot (for disarm),
 * equal deadlines fire in arming order.
 */
#include "core/timer.h"

#include <errno.h>
#include <stdlib.h>

#define KEYED_ARITY 4

typedef struct keyed_entry {
    int64_t deadline;
    uint64_t seq;
    cio_timer_node *node;
} keyed_entry;

typedef struct keyed_heap {
    keyed_entry *e;
    uint32_t count, cap;
    uint64_t seq;
} keyed_heap;

static inline bool keyed_before(const keyed_entry *a, const keyed_entry *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void keyed_place(keyed_heap *h, uint32_t i, keyed_entry x)
{
    h->e[i] = x;
    x.node->index = i;
}

static void keyed_sift_up(keyed_heap *h, uint32_t i, keyed_entry x)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / KEYED_ARITY;
        if (!keyed_before(&x, &h->e[parent]))
            break;
        keyed_place(h, i, h->e[parent]);
        i = parent;
    }
    keyed_place(h, i, x);
}

static void keyed_sift_down(keyed_heap *h, uint32_t i, keyed_entry x)
{
    for (;;) {
        uint32_t first = i * KEYED_ARITY + 1;
        if (first >= h->count)
            break;
        uint32_t last = first + KEYED_ARITY < h->count ? first + KEYED_ARITY
                                                       : h->count;
        uint32_t best = first;
        for (uint32_t c = first + 1; c < last; c++)
            if (keyed_before(&h->e[c], &h->e[best]))
                best = c;
        if (!keyed_before(&h->e[best], &x))
            break;
        keyed_place(h, i, h->e[best]);
        i = best;
    }
    keyed_place(h, i, x);
}

static void keyed_remove_at(keyed_heap *h, uint32_t i)
{
    h->e[i].node->index = UINT32_MAX;
    keyed_entry last = h->e[--h->count];
    if (i == h->count)
        return;
    if (i > 0 && keyed_before(&last, &h->e[(i - 1) / KEYED_ARITY]))
        keyed_sift_up(h, i, last);
    else
        keyed_sift_down(h, i, last);
}

static __attribute__((noinline)) int keyed_arm(keyed_heap *h,
                                               cio_timer_node *n,
                                               int64_t deadline)
{
    if (cio_timer_armed(n))
        keyed_remove_at(h, n->index);
    if (h->count == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        keyed_entry *e = realloc(h->e, cap * sizeof *e);
        if (!e)
            return -ENOMEM;
        h->e = e;
        h->cap = cap;
    }
    n->deadline = deadline;
    n->seq = h->seq;
    keyed_sift_up(h, h->count++,
                  (keyed_entry){ deadline, h->seq++, n });
    return 0;
}

static __attribute__((noinline)) void keyed_disarm(keyed_heap *h,
                                                   cio_timer_node *n)
{
    if (cio_timer_armed(n))
        keyed_remove_at(h, n->index);
}

static __attribute__((noinline)) size_t keyed_run_due(keyed_heap *h,
                                                      int64_t now)
{
    size_t fired = 0;
    while (h->count && h->e[0].deadline <= now) {
        cio_timer_node *n = h->e[0].node;
        keyed_remove_at(h, 0);
        n->fire(n);
        fired++;
    }
    return fired;
}
