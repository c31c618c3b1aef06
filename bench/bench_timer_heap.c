/* bench_timer_heap.c — which heap for the loop's timers: binary or 4-ary?
 *
 * usage: bench_timer_heap [heap2|heap4|cio|heap4-keyed|all] [TIMERS] [OPS]
 * Runs the same operations on a binary (heap2) and a 4-ary (heap4) copy of
 * the timer heap (heap_copy.h), on the library's own (cio: 4-ary, in
 * src/core/timer.c), or on a 4-ary heap that keeps the keys in its array
 * (heap_keyed.h), with TIMERS (1,000,000) pending timers at random
 * deadlines (bench/run runs each heap in a process of its own, in turn):
 *   heap_insert      arm TIMERS timers into an empty heap, ns per insert
 *   heap_arm_disarm  with TIMERS pending, arm and disarm one more, OPS times
 *   heap_cancel      disarm the TIMERS pending ones in random order
 *   heap_fire        arm them again, then fire them all (run_due)
 * The nodes live in one array but are visited in a shuffled order, so (as
 * with waiters spread over task stacks) a heap step costs a cache miss.
 */
#include <cio.h>

#include "bench.h"

#define HEAP_ARITY 2
#define HEAP_FN(name) heap2_##name
#include "heap_copy.h"
#undef HEAP_ARITY
#undef HEAP_FN

#define HEAP_ARITY 4
#define HEAP_FN(name) heap4_##name
#include "heap_copy.h"
#undef HEAP_ARITY
#undef HEAP_FN

#include "heap_keyed.h"

/* One heap to measure, behind a common interface. */
typedef struct heap_impl {
    const char *name;
    int (*arm)(void *, cio_timer_node *, int64_t);
    void (*disarm)(void *, cio_timer_node *);
    size_t (*run_due)(void *, int64_t);
    bool keyed;                 /* a keyed_heap, not a cio_timer_heap */
} heap_impl;

#define WRAP(prefix, fn, heap_type)                                         \
    static int prefix##_arm_any(void *h, cio_timer_node *n, int64_t d)      \
    { return fn##arm((heap_type *)h, n, d); }                               \
    static void prefix##_disarm_any(void *h, cio_timer_node *n)             \
    { fn##disarm((heap_type *)h, n); }                                      \
    static size_t prefix##_run_due_any(void *h, int64_t now)                \
    { return fn##run_due((heap_type *)h, now); }

WRAP(h2, heap2_, cio_timer_heap)
WRAP(h4, heap4_, cio_timer_heap)
WRAP(lib, cio_timer_, cio_timer_heap)
WRAP(k4, keyed_, keyed_heap)

static const heap_impl impls[] = {
    { "heap2", h2_arm_any, h2_disarm_any, h2_run_due_any, false },
    { "heap4", h4_arm_any, h4_disarm_any, h4_run_due_any, false },
    { "cio", lib_arm_any, lib_disarm_any, lib_run_due_any, false },
    { "heap4-keyed", k4_arm_any, k4_disarm_any, k4_run_due_any, true },
};

static size_t fired;
static void count_fire(cio_timer_node *n) { (void)n; fired++; }

static int64_t random_deadline(uint64_t *rng)
{
    return (int64_t)(bench_rand(rng) % (uint64_t)(3600 * CIO_SEC));
}

static double per_op(int64_t t0, long ops)
{
    return (double)(bench_now_ns() - t0) / (double)ops;
}

static void arm_all(const heap_impl *im, void *h,
                    cio_timer_node **order, long n, uint64_t *rng)
{
    for (long i = 0; i < n; i++)
        BENCH_CHECK(im->arm(h, order[i], random_deadline(rng)));
}

static void run_impl(const heap_impl *im, cio_timer_node **order, long n,
                     long ops)
{
    uint64_t rng = 7;
    cio_timer_heap lib_heap;
    keyed_heap keyed = { 0 };
    cio_timer_heap_init(&lib_heap);
    void *h = im->keyed ? (void *)&keyed : (void *)&lib_heap;

    int64_t t0 = bench_now_ns();
    arm_all(im, h, order, n, &rng);
    bench_emit_impl("heap_insert", im->name, per_op(t0, n), "ns/timer");

    cio_timer_node extra;
    cio_timer_node_init(&extra, count_fire);
    t0 = bench_now_ns();
    for (long i = 0; i < ops; i++) {
        BENCH_CHECK(im->arm(h, &extra, random_deadline(&rng)));
        im->disarm(h, &extra);
    }
    bench_emit_impl("heap_arm_disarm", im->name, per_op(t0, ops), "ns/timer");

    t0 = bench_now_ns();
    for (long i = n - 1; i >= 0; i--)     /* any order: deadlines are random */
        im->disarm(h, order[i]);
    bench_emit_impl("heap_cancel", im->name, per_op(t0, n), "ns/timer");

    arm_all(im, h, order, n, &rng);
    fired = 0;
    t0 = bench_now_ns();
    im->run_due(h, CIO_NEVER);
    bench_emit_impl("heap_fire", im->name, per_op(t0, n), "ns/timer");
    if (fired != (size_t)n || lib_heap.count || keyed.count)
        exit(1);
    cio_timer_heap_free(&lib_heap);
    free(keyed.e);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    long n = bench_arg(argc, argv, 2, 1000 * 1000);
    long ops = bench_arg(argc, argv, 3, 2 * 1000 * 1000);
    if (n < 1 || ops < 1)
        return 2;
    cio_timer_node *nodes = calloc((size_t)n, sizeof *nodes);
    cio_timer_node **order = calloc((size_t)n, sizeof *order);
    if (!nodes || !order)
        return 1;
    uint64_t rng = 1;
    for (long i = 0; i < n; i++) {
        cio_timer_node_init(&nodes[i], count_fire);
        order[i] = &nodes[i];
    }
    for (long i = n - 1; i > 0; i--) {     /* Fisher-Yates */
        long j = (long)(bench_rand(&rng) % (uint64_t)(i + 1));
        cio_timer_node *tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    bool found = false;
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        if (strcmp(which, "all") == 0 || strcmp(which, impls[i].name) == 0) {
            run_impl(&impls[i], order, n, ops);
            found = true;
        }
    }
    if (!found)
        fprintf(stderr, "bench_timer_heap: no heap named '%s'\n", which);
    free(order);
    free(nodes);
    return !found;
}
