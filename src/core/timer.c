/* timer.c — a 4-ary min-heap keyed by (deadline, seq). */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>

#define ARITY 4

void cio_timer_heap_init(cio_timer_heap *h)
{
    h->nodes = NULL;
    h->count = h->cap = 0;
    h->seq = 0;
}

void cio_timer_heap_free(cio_timer_heap *h)
{
    for (uint32_t i = 0; i < h->count; i++)
        h->nodes[i]->index = UINT32_MAX;
    free(h->nodes);
    cio_timer_heap_init(h);
}

static inline bool before(const cio_timer_node *a, const cio_timer_node *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void place(cio_timer_heap *h, uint32_t i, cio_timer_node *n)
{
    h->nodes[i] = n;
    n->index = i;
}

static void sift_up(cio_timer_heap *h, uint32_t i, cio_timer_node *n)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / ARITY;
        if (!before(n, h->nodes[parent]))
            break;
        place(h, i, h->nodes[parent]);
        i = parent;
    }
    place(h, i, n);
}

static void sift_down(cio_timer_heap *h, uint32_t i, cio_timer_node *n)
{
    for (;;) {
        uint32_t first = i * ARITY + 1;
        if (first >= h->count)
            break;
        uint32_t last = first + ARITY < h->count ? first + ARITY : h->count;
        uint32_t best = first;
        for (uint32_t c = first + 1; c < last; c++)
            if (before(h->nodes[c], h->nodes[best]))
                best = c;
        if (!before(h->nodes[best], n))
            break;
        place(h, i, h->nodes[best]);
        i = best;
    }
    place(h, i, n);
}

static int grow(cio_timer_heap *h)
{
    uint32_t cap = h->cap ? h->cap * 2 : 64;
    cio_timer_node **nodes = realloc(h->nodes, cap * sizeof *nodes);
    if (!nodes)
        return -ENOMEM;
    h->nodes = nodes;
    h->cap = cap;
    return 0;
}

/* Take the node at slot i out, filling the hole with the last node. */
static void remove_at(cio_timer_heap *h, uint32_t i)
{
    cio_timer_node *gone = h->nodes[i];
    gone->index = UINT32_MAX;
    cio_timer_node *last = h->nodes[--h->count];
    if (i == h->count)
        return;
    if (i > 0 && before(last, h->nodes[(i - 1) / ARITY]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

int cio_timer_arm(cio_timer_heap *h, cio_timer_node *n, int64_t deadline)
{
    if (cio_timer_armed(n))
        remove_at(h, n->index);
    if (h->count == h->cap && grow(h) < 0)
        return -ENOMEM;
    n->deadline = deadline;
    n->seq = h->seq++;
    sift_up(h, h->count++, n);
    return 0;
}

void cio_timer_disarm(cio_timer_heap *h, cio_timer_node *n)
{
    if (cio_timer_armed(n))
        remove_at(h, n->index);
}

size_t cio_timer_run_due(cio_timer_heap *h, int64_t now)
{
    size_t fired = 0;
    while (h->count && h->nodes[0]->deadline <= now) {
        cio_timer_node *n = h->nodes[0];
        remove_at(h, 0);
        n->fire(n);
        fired++;
    }
    return fired;
}
