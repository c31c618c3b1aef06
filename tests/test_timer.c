/* test_timer.c — the loop's 4-ary timer heap (src/core/timer.c), directly:
 * random arm / disarm / re-arm against a reference model, FIFO on equal
 * deadlines, the order of cio_timer_run_due.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "core/timer.h"

#define ARITY 4

/* A timer under test, with the reference model's view of it. */
struct ref_timer {
    cio_timer_node node;
    bool armed;
    int64_t deadline;
    uint64_t armed_at;  /* model's arm counter: equal deadlines fire FIFO */
};

static struct ref_timer *fired[4096];
static size_t n_fired;

static void record_fire(cio_timer_node *n)
{
    fired[n_fired++] = (struct ref_timer *)n;
}

/* Every node knows its slot and no child fires before its parent. */
static void check_heap(const cio_timer_heap *h)
{
    for (uint32_t i = 0; i < h->count; i++) {
        cr_assert_eq(h->nodes[i]->index, i, "slot %u", i);
        if (i == 0)
            continue;
        const cio_timer_node *p = h->nodes[(i - 1) / ARITY], *c = h->nodes[i];
        cr_assert(p->deadline < c->deadline ||
                  (p->deadline == c->deadline && p->seq < c->seq),
                  "heap order broken at slot %u", i);
    }
}

static void init_timers(struct ref_timer *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cio_timer_node_init(&t[i].node, record_fire);
        t[i].armed = false;
    }
}

/* The model's earliest armed timer, or NULL. */
static struct ref_timer *model_first(struct ref_timer *t, size_t n)
{
    struct ref_timer *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].armed)
            continue;
        if (!best || t[i].deadline < best->deadline ||
            (t[i].deadline == best->deadline && t[i].armed_at < best->armed_at))
            best = &t[i];
    }
    return best;
}

static size_t model_count(struct ref_timer *t, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += t[i].armed;
    return c;
}

Test(timer, empty_heap)
{
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    cr_assert_eq(cio_timer_next(&h), CIO_NEVER);
    cr_assert_eq(cio_timer_run_due(&h, INT64_MAX), 0);
    cio_timer_node n;
    cio_timer_node_init(&n, record_fire);
    cr_assert(!cio_timer_armed(&n));
    cio_timer_disarm(&h, &n);           /* disarming an unarmed node: no-op */
    cr_assert_eq(h.count, 0);
    cio_timer_heap_free(&h);
}

Test(timer, random_arm_disarm_rearm_match_the_model)
{
    enum { N = 300, STEPS = 60000 };
    static struct ref_timer t[N];
    init_timers(t, N);
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    uint64_t clock = 0;
    srand(12345);
    for (int step = 0; step < STEPS; step++) {
        struct ref_timer *x = &t[rand() % N];
        int op = rand() % 10;
        if (op < 6) {
            /* arm or re-arm; a small range makes equal deadlines common */
            int64_t d = rand() % 50;
            cr_assert_eq(cio_timer_arm(&h, &x->node, d), 0);
            x->armed = true;
            x->deadline = d;
            x->armed_at = clock++;
        } else if (op < 9) {
            cio_timer_disarm(&h, &x->node);
            x->armed = false;
        } else {
            /* pop the first due timer (if the earliest is at most 10) */
            n_fired = 0;
            size_t n = cio_timer_run_due(&h, 10);
            struct ref_timer *expect;
            for (size_t k = 0; k < n; k++) {
                expect = model_first(t, N);
                cr_assert_not_null(expect);
                cr_assert_eq(fired[k], expect, "step %d: fire %zu out of order",
                             step, k);
                expect->armed = false;
            }
            expect = model_first(t, N);
            cr_assert(!expect || expect->deadline > 10, "a due timer was left");
        }
        cr_assert_eq(cio_timer_armed(&x->node), x->armed);
        cr_assert_eq(h.count, model_count(t, N));
        struct ref_timer *first = model_first(t, N);
        cr_assert_eq(cio_timer_next(&h), first ? first->deadline : CIO_NEVER);
        if (step % 97 == 0)
            check_heap(&h);
    }
    check_heap(&h);
    cio_timer_heap_free(&h);
    for (size_t i = 0; i < N; i++)
        cr_assert(!cio_timer_armed(&t[i].node), "free disarms every node");
}

Test(timer, equal_deadlines_fire_in_arm_order)
{
    enum { N = 1000 };
    static struct ref_timer t[N];
    init_timers(t, N);
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    /* Arm in a scrambled order; all at the same deadline. */
    size_t order[N];
    for (size_t i = 0; i < N; i++)
        order[i] = (i * 7919) % N;
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(cio_timer_arm(&h, &t[order[i]].node, 500), 0);
    n_fired = 0;
    cr_assert_eq(cio_timer_run_due(&h, 500), N);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(fired[i], &t[order[i]], "fire %zu not FIFO", i);
    cio_timer_heap_free(&h);
}

Test(timer, rearming_moves_to_the_back_of_equal_deadlines)
{
    struct ref_timer t[3];
    init_timers(t, 3);
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_timer_arm(&h, &t[i].node, 7), 0);
    cr_assert_eq(cio_timer_arm(&h, &t[0].node, 7), 0);  /* same deadline again */
    cr_assert_eq(h.count, 3, "re-arming must not add a second entry");
    n_fired = 0;
    cr_assert_eq(cio_timer_run_due(&h, 7), 3);
    cr_assert_eq(fired[0], &t[1]);
    cr_assert_eq(fired[1], &t[2]);
    cr_assert_eq(fired[2], &t[0]);
    cio_timer_heap_free(&h);
}

Test(timer, run_due_fires_by_deadline_and_stops_at_now)
{
    int64_t deadlines[] = { 50, 10, 40, 10, 30, 20, 60, 5 };
    enum { N = sizeof deadlines / sizeof deadlines[0] };
    struct ref_timer t[N];
    init_timers(t, N);
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_timer_arm(&h, &t[i].node, deadlines[i]), 0);
    cr_assert_eq(cio_timer_next(&h), 5);
    n_fired = 0;
    cr_assert_eq(cio_timer_run_due(&h, 4), 0, "nothing is due before 5");
    cr_assert_eq(cio_timer_run_due(&h, 30), 5);
    struct ref_timer *expect[] = { &t[7], &t[1], &t[3], &t[5], &t[4] };
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(fired[i], expect[i], "fire %d", i);
        cr_assert(!cio_timer_armed(&fired[i]->node), "disarmed before fire");
    }
    cr_assert_eq(cio_timer_next(&h), 40);
    cr_assert_eq(cio_timer_run_due(&h, INT64_MAX - 1), 3);
    cr_assert_eq(fired[5], &t[2]);
    cr_assert_eq(fired[6], &t[0]);
    cr_assert_eq(fired[7], &t[6]);
    cr_assert_eq(cio_timer_next(&h), CIO_NEVER);
    cio_timer_heap_free(&h);
}

/* A fire callback may arm and disarm other timers (a scope's deadline
 * wakes a task whose own wait timer is then disarmed). */
static cio_timer_heap *cb_heap;
static struct ref_timer *cb_victim, *cb_rearm;

static void fire_and_meddle(cio_timer_node *n)
{
    record_fire(n);
    if (cb_victim) {
        cio_timer_disarm(cb_heap, &cb_victim->node);
        cb_victim = NULL;
    }
    if (cb_rearm) {
        cr_assert_eq(cio_timer_arm(cb_heap, &cb_rearm->node, 15), 0);
        cb_rearm = NULL;
    }
}

Test(timer, callbacks_may_arm_and_disarm_during_run_due)
{
    struct ref_timer t[4];
    init_timers(t, 4);
    t[0].node.fire = fire_and_meddle;
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    cb_heap = &h;
    cb_victim = &t[1];          /* due too, but disarmed before it fires */
    cb_rearm = &t[2];           /* moved from 100 to 15: fires in this pass */
    cr_assert_eq(cio_timer_arm(&h, &t[0].node, 10), 0);
    cr_assert_eq(cio_timer_arm(&h, &t[1].node, 12), 0);
    cr_assert_eq(cio_timer_arm(&h, &t[2].node, 100), 0);
    cr_assert_eq(cio_timer_arm(&h, &t[3].node, 20), 0);
    n_fired = 0;
    cr_assert_eq(cio_timer_run_due(&h, 20), 3);
    cr_assert_eq(fired[0], &t[0]);
    cr_assert_eq(fired[1], &t[2]);
    cr_assert_eq(fired[2], &t[3]);
    cr_assert(!cio_timer_armed(&t[1].node));
    cr_assert_eq(h.count, 0);
    cio_timer_heap_free(&h);
}

Test(timer, many_timers_grow_the_heap_and_drain_in_order)
{
    enum { N = 20000 };
    struct ref_timer *t = calloc(N, sizeof *t);
    init_timers(t, N);
    cio_timer_heap h;
    cio_timer_heap_init(&h);
    srand(99);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(cio_timer_arm(&h, &t[i].node, rand() % 1000000), 0);
    /* Disarm every third one from the middle of the heap. */
    for (size_t i = 0; i < N; i += 3)
        cio_timer_disarm(&h, &t[i].node);
    check_heap(&h);
    int64_t last = INT64_MIN;
    uint64_t last_seq = 0;
    size_t popped = 0;
    while (h.count) {
        cio_timer_node *first = h.nodes[0];
        cr_assert(first->deadline > last ||
                  (first->deadline == last && first->seq > last_seq));
        last = first->deadline;
        last_seq = first->seq;
        n_fired = 0;
        cr_assert_eq(cio_timer_run_due(&h, first->deadline) >= 1, true);
        popped += n_fired;
    }
    cr_assert_eq(popped, N - (N + 2) / 3);
    cio_timer_heap_free(&h);
    free(t);
}
