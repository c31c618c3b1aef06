/* test_queue.c — FIFO, LIFO and priority queues: order, maxsize, the
 * non-blocking forms, task_done/join, both shutdown modes, cancellation at
 * every blocking point, wake-vs-cancel races, timeouts, fairness.
 */
#include "helpers.h"

#include <stdalign.h>

static cio_queue q;

/* One queue operation run by a task, and what came of it. */
typedef struct op {
    cio_queue *q;
    int value;      /* put: the item; get: where the item lands */
    int rc;         /* what the queue call returned */
    int after;      /* what a cio_yield() right after returned */
    bool done;
} op;

#define UNTOUCHED (-12345)

static int getter(void *arg)
{
    op *o = arg;
    o->rc = cio_queue_get(o->q, &o->value);
    o->after = cio_yield();
    o->done = true;
    return 0;
}

static int putter(void *arg)
{
    op *o = arg;
    o->rc = cio_queue_put(o->q, &o->value);
    o->after = cio_yield();
    o->done = true;
    return 0;
}

static int joiner(void *arg)
{
    op *o = arg;
    o->rc = cio_queue_join(o->q);
    o->done = true;
    return 0;
}

static op get_op(void) { return (op){ .q = &q, .value = UNTOUCHED, .rc = 1 }; }
static op put_op(int v) { return (op){ .q = &q, .value = v, .rc = 1 }; }

/* Let every task that is ready run until it blocks. */
static void settle(void)
{
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_yield(), 0);
}

static void join_task(cio_task *t) { cr_assert_eq(cio_task_join(t, NULL), 0); }

static void put_ok(int v) { cr_assert_eq(cio_queue_try_put(&q, &v), 0, "put %d", v); }

static int get_ok(void)
{
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_try_get(&q, &v), 0);
    return v;
}

/* Run fn as main on the virtual clock and require it to succeed. */
static void run(cio_task_fn *fn)
{
    cr_assert_eq(run_virtual(fn, NULL), 0);
}

/* ---- init ---------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

Test(queue, init_rejects_bad_arguments)
{
    cr_assert_eq(cio_queue_init(&q, 0, 0), -EINVAL);
    cr_assert_eq(cio_queue_init_lifo(&q, 0, 4), -EINVAL);
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(int), 0, NULL), -EINVAL);
    cr_assert_eq(cio_queue_init_priority(&q, 0, 0, cmp_int), -EINVAL);
    cr_assert_eq(cio_queue_init_priority(&q, SIZE_MAX, 0, cmp_int), -EINVAL);
    cr_assert_eq(cio_queue_init(&q, SIZE_MAX / 2 + 1, 0), -EINVAL);
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 3), 0);
    cr_assert_eq(cio_queue_maxsize(&q), 3);
    cr_assert(cio_queue_empty(&q));
    cr_assert(!cio_queue_full(&q));
    cr_assert(!cio_queue_is_shutdown(&q));
    cio_queue_destroy(&q);
}

/* ---- order of each kind -------------------------------------------------- */

static int fifo_order_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    /* Interleave so the ring wraps, then grows while wrapped. */
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7 + round; i++) {
            int v = next_in++;
            cr_assert_eq(cio_queue_put(&q, &v), 0);
        }
        for (int i = 0; i < 5 + round / 2; i++) {
            int v = UNTOUCHED;
            cr_assert_eq(cio_queue_get(&q, &v), 0);
            cr_assert_eq(v, next_out++);
        }
        cr_assert_eq(cio_queue_size(&q), (size_t)(next_in - next_out));
    }
    while (!cio_queue_empty(&q))
        cr_assert_eq(get_ok(), next_out++);
    cr_assert_eq(next_out, next_in);
    cr_assert(!cio_queue_full(&q), "an unbounded queue is never full");
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, fifo_order_across_wrap_and_growth) { run(fifo_order_main); }

static int lifo_order_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_lifo(&q, sizeof(int), 0), 0);
    for (int i = 0; i < 100; i++)
        put_ok(i);
    for (int i = 99; i >= 50; i--)
        cr_assert_eq(get_ok(), i);
    put_ok(1000);
    cr_assert_eq(get_ok(), 1000);
    for (int i = 49; i >= 0; i--)
        cr_assert_eq(get_ok(), i);
    cr_assert(cio_queue_empty(&q));
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, lifo_order) { run(lifo_order_main); }

typedef struct job {
    int prio;
    int id;
} job;

static int cmp_job(const void *a, const void *b)
{
    const job *x = a, *y = b;
    return (x->prio > y->prio) - (x->prio < y->prio);
}

static int priority_order_main(void *arg)
{
    (void)arg;
    enum { N = 2000 };
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(job), 0, cmp_job), 0);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        job j = { .prio = (int)(x % 16), .id = i };   /* many ties */
        cr_assert_eq(cio_queue_put(&q, &j), 0);
    }
    job prev = { .prio = -1, .id = -1 };
    for (int i = 0; i < N; i++) {
        job j;
        cr_assert_eq(cio_queue_get(&q, &j), 0);
        cr_assert(j.prio > prev.prio || (j.prio == prev.prio && j.id > prev.id),
                  "(%d,%d) after (%d,%d)", j.prio, j.id, prev.prio, prev.id);
        prev = j;
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, priority_smallest_first_and_ties_fifo) { run(priority_order_main); }

static int priority_interleaved_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(int), 0, cmp_int), 0);
    int in[] = { 5, 1, 4, 1, 5, 9, 2, 6 };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        put_ok(in[i]);
    cr_assert_eq(get_ok(), 1);
    cr_assert_eq(get_ok(), 1);
    put_ok(0);
    put_ok(3);
    int expect[] = { 0, 2, 3, 4, 5, 5, 6, 9 };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        cr_assert_eq(get_ok(), expect[i]);
    cr_assert_eq(cio_queue_try_get(&q, &(int){ 0 }), -EAGAIN);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, priority_put_and_get_interleaved) { run(priority_interleaved_main); }

/* The comparator gets pointers into the queue's storage: they must be
 * aligned for the item's type. */
typedef struct wide {
    alignas(max_align_t) unsigned char key;
} wide;

static int cmp_wide(const void *a, const void *b)
{
    cr_assert_eq((uintptr_t)a % alignof(max_align_t), 0);
    cr_assert_eq((uintptr_t)b % alignof(max_align_t), 0);
    const wide *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

typedef struct odd {
    char c[3];
} odd;

static int cmp_odd(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(odd));
}

static int priority_alignment_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(wide), 0, cmp_wide), 0);
    for (int i = 0; i < 40; i++) {
        wide w = { .key = (unsigned char)((i * 7) % 40) };
        cr_assert_eq(cio_queue_try_put(&q, &w), 0);
    }
    for (int i = 0; i < 40; i++) {
        wide w;
        cr_assert_eq(cio_queue_try_get(&q, &w), 0);
        cr_assert_eq(w.key, i);
    }
    cio_queue_destroy(&q);
    /* An item size that is not a multiple of anything. */
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(odd), 0, cmp_odd), 0);
    for (int i = 20; i > 0; i--) {
        odd o = { { 'a', (char)('a' + i), 'z' } };
        cr_assert_eq(cio_queue_try_put(&q, &o), 0);
    }
    for (int i = 1; i <= 20; i++) {
        odd o;
        cr_assert_eq(cio_queue_try_get(&q, &o), 0);
        cr_assert_eq(o.c[1], 'a' + i);
        cr_assert_eq(o.c[2], 'z');
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, priority_items_aligned_and_any_size) { run(priority_alignment_main); }

/* A queue of pointers: item_size sizeof(void *). */
static int pointer_items_main(void *arg)
{
    (void)arg;
    static int a, b;
    cr_assert_eq(cio_queue_init(&q, sizeof(void *), 2), 0);
    int *pa = &a, *pb = &b, *out = NULL;
    cr_assert_eq(cio_queue_put(&q, &pa), 0);
    cr_assert_eq(cio_queue_put(&q, &pb), 0);
    cr_assert_eq(cio_queue_get(&q, &out), 0);
    cr_assert_eq(out, &a);
    cr_assert_eq(cio_queue_get(&q, &out), 0);
    cr_assert_eq(out, &b);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, items_are_copied_by_value) { run(pointer_items_main); }

/* ---- storage ------------------------------------------------------------- */

/* White-box: the storage grows geometrically, never past maxsize, and a
 * queue cycling at a steady size allocates nothing more. */
static int storage_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    for (int i = 0; i < 1000; i++)
        put_ok(i);
    size_t cap = q._cap;
    cr_assert_geq(cap, 1000);
    cr_assert_lt(cap, 2048 + 1);
    for (int i = 0; i < 100000; i++) {
        cr_assert_eq(get_ok(), i);
        put_ok(i + 1000);
    }
    cr_assert_eq(q._cap, cap, "steady state must not reallocate");
    cio_queue_destroy(&q);

    cr_assert_eq(cio_queue_init_priority(&q, sizeof(int), 5, cmp_int), 0);
    for (int i = 0; i < 5; i++)
        put_ok(i);
    cr_assert_eq(cio_queue_try_put(&q, &(int){ 9 }), -EAGAIN);
    cr_assert_leq(q._cap, 5, "a bounded queue holds at most maxsize slots");
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, storage_grows_geometrically_and_is_reused) { run(storage_main); }

/* Items too large for the storage to ever hold: the put fails with -ENOMEM
 * and leaves no trace (the item is never read). */
static int no_memory_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, SIZE_MAX / 4, 0), 0);
    char item = 0;
    cr_assert_eq(cio_queue_try_put(&q, &item), -ENOMEM);
    cr_assert_eq(cio_queue_put(&q, &item), -ENOMEM);
    cr_assert(cio_queue_empty(&q));
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL, "nothing counted as put");
    cr_assert_eq(cio_queue_join(&q), 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, put_reports_enomem_and_leaves_nothing) { run(no_memory_main); }

/* ---- maxsize and the non-blocking forms ---------------------------------- */

static int try_forms_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 2), 0);
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_try_get(&q, &v), -EAGAIN);
    cr_assert_eq(v, UNTOUCHED);
    put_ok(1);
    cr_assert(!cio_queue_full(&q));
    put_ok(2);
    cr_assert(cio_queue_full(&q));
    cr_assert_eq(cio_queue_try_put(&q, &(int){ 3 }), -EAGAIN);
    cr_assert_eq(cio_queue_size(&q), 2);
    cr_assert_eq(get_ok(), 1);
    put_ok(3);
    cr_assert_eq(get_ok(), 2);
    cr_assert_eq(get_ok(), 3);
    cr_assert(cio_queue_empty(&q));
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, try_forms_report_full_and_empty) { run(try_forms_main); }

Test(queue, try_forms_work_outside_a_task_and_blocking_forms_do_not)
{
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(7);
    cr_assert_eq(cio_queue_put(&q, &(int){ 8 }), -EPERM);
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_get(&q, &v), -EPERM);
    cr_assert_eq(v, UNTOUCHED);
    cr_assert_eq(cio_queue_join(&q), -EPERM);
    cr_assert_eq(get_ok(), 7);
    cio_queue_destroy(&q);
}

static int put_blocks_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 2), 0);
    put_ok(1);
    put_ok(2);
    op p = put_op(3);
    cio_task *t = spawn(putter, &p, "putter");
    settle();
    cr_assert(!p.done, "put into a full queue must wait");
    cr_assert_eq(cio_queue_size(&q), 2);
    int v;
    cr_assert_eq(cio_queue_get(&q, &v), 0);
    cr_assert_eq(v, 1);
    /* Hand-off: the putter's item went in at once; the queue is full again. */
    cr_assert_eq(cio_queue_size(&q), 2);
    cr_assert(cio_queue_full(&q));
    join_task(t);
    cr_assert_eq(p.rc, 0);
    cr_assert_eq(get_ok(), 2);
    cr_assert_eq(get_ok(), 3);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, put_waits_while_full_and_get_admits_it) { run(put_blocks_main); }

static int get_blocks_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g = get_op();
    cio_task *t = spawn(getter, &g, "getter");
    settle();
    cr_assert(!g.done, "get from an empty queue must wait");
    cr_assert_eq(cio_queue_put(&q, &(int){ 42 }), 0);
    /* Hand-off: the item went straight to the getter, not into the queue. */
    cr_assert_eq(cio_queue_size(&q), 0);
    cr_assert_eq(g.value, 42, "copied into the getter's buffer at put time");
    join_task(t);
    cr_assert_eq(g.rc, 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, get_waits_while_empty_and_put_hands_over) { run(get_blocks_main); }

/* ---- fairness ------------------------------------------------------------ */

static int getters_fifo_main(void *arg)
{
    (void)arg;
    enum { N = 5 };
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        g[i] = get_op();
        t[i] = spawn(getter, &g[i], "getter");
    }
    settle();
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_queue_put(&q, &(int){ 100 + i }), 0);
    for (int i = 0; i < N; i++) {
        join_task(t[i]);
        cr_assert_eq(g[i].rc, 0);
        cr_assert_eq(g[i].value, 100 + i, "getters are served in arrival order");
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, getters_served_fifo) { run(getters_fifo_main); }

static int getter_buffers_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g[3];
    cio_task *t[3];
    for (int i = 0; i < 3; i++) {
        g[i] = get_op();
        t[i] = spawn(getter, &g[i], "getter");
    }
    settle();
    put_ok(1);
    cr_assert_eq(g[0].value, 1);
    cr_assert_eq(g[1].value, UNTOUCHED, "only the served getter's buffer");
    cr_assert_eq(g[2].value, UNTOUCHED);
    cio_task_cancel(t[1]);
    put_ok(2);
    cr_assert_eq(g[1].value, UNTOUCHED);
    cr_assert_eq(g[2].value, 2, "the cancelled getter was skipped");
    for (int i = 0; i < 3; i++)
        join_task(t[i]);
    cr_assert_eq(g[1].rc, -ECANCELED);
    cr_assert_eq(g[1].value, UNTOUCHED);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, only_the_served_getter_buffer_is_written) { run(getter_buffers_main); }

static int putters_fifo_main(void *arg)
{
    (void)arg;
    enum { N = 5 };
    cr_assert_eq(cio_queue_init_lifo(&q, sizeof(int), 1), 0);
    put_ok(0);
    op p[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        p[i] = put_op(i + 1);
        t[i] = spawn(putter, &p[i], "putter");
    }
    settle();
    /* Each get admits the longest-waiting putter, even in a LIFO queue. */
    for (int i = 0; i <= N; i++) {
        cr_assert_eq(get_ok(), i);
        if (i < N)
            cr_assert_eq(cio_queue_size(&q), 1);
    }
    for (int i = 0; i < N; i++) {
        join_task(t[i]);
        cr_assert_eq(p[i].rc, 0);
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, putters_admitted_fifo) { run(putters_fifo_main); }

static int no_barging_get_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g = get_op();
    cio_task *t = spawn(getter, &g, "getter");
    settle();
    put_ok(5);
    /* The getter has not run yet, but the item is already its own. */
    cr_assert(!g.done);
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_try_get(&q, &v), -EAGAIN);
    cr_assert_eq(v, UNTOUCHED);
    join_task(t);
    cr_assert_eq(g.value, 5);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, try_get_does_not_overtake_a_woken_getter) { run(no_barging_get_main); }

static int no_barging_put_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(1);
    op p = put_op(2);
    cio_task *t = spawn(putter, &p, "putter");
    settle();
    cr_assert_eq(cio_queue_try_put(&q, &(int){ 3 }), -EAGAIN);
    cr_assert_eq(get_ok(), 1);
    /* The freed slot went to the waiting putter before it ran. */
    cr_assert(!p.done);
    cr_assert_eq(cio_queue_try_put(&q, &(int){ 3 }), -EAGAIN);
    cr_assert_eq(get_ok(), 2);
    join_task(t);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, try_put_does_not_overtake_a_waiting_putter) { run(no_barging_put_main); }

/* A blocking get from a non-full queue with items takes the head at once,
 * also admitting putters in a priority queue in comparator order. */
static int priority_admission_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(int), 2, cmp_int), 0);
    put_ok(5);
    put_ok(7);
    op p[2] = { put_op(1), put_op(6) };
    cio_task *t0 = spawn(putter, &p[0], "p0");
    cio_task *t1 = spawn(putter, &p[1], "p1");
    settle();
    int expect[] = { 5, 1, 6, 7 };
    for (int i = 0; i < 4; i++) {
        int v;
        cr_assert_eq(cio_queue_get(&q, &v), 0);
        cr_assert_eq(v, expect[i]);
    }
    join_task(t0);
    join_task(t1);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, priority_admitted_putters_take_their_rank) { run(priority_admission_main); }

/* ---- task_done and join -------------------------------------------------- */

static int join_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    cr_assert_eq(cio_queue_join(&q), 0, "nothing pending: join returns");
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL);
    put_ok(1);
    put_ok(2);
    op j = { .q = &q, .rc = 1 };
    cio_task *t = spawn(joiner, &j, "joiner");
    settle();
    cr_assert(!j.done);
    cr_assert_eq(get_ok(), 1);
    cr_assert_eq(get_ok(), 2);
    settle();
    cr_assert(!j.done, "getting is not finishing");
    cr_assert_eq(cio_queue_task_done(&q), 0);
    settle();
    cr_assert(!j.done);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    join_task(t);
    cr_assert_eq(j.rc, 0);
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL, "called too many times");
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, join_waits_for_task_done) { run(join_main); }

static int join_handoff_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g = get_op();
    cio_task *tg = spawn(getter, &g, "getter");
    settle();
    put_ok(9);      /* handed straight to the getter: still unfinished */
    op j = { .q = &q, .rc = 1 };
    cio_task *tj = spawn(joiner, &j, "joiner");
    join_task(tg);
    settle();
    cr_assert(!j.done);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    join_task(tj);
    cr_assert_eq(j.rc, 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, handed_off_items_count_as_unfinished) { run(join_handoff_main); }

static int many_joiners_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    put_ok(1);
    op j[3];
    cio_task *t[3];
    for (int i = 0; i < 3; i++) {
        j[i] = (op){ .q = &q, .rc = 1 };
        t[i] = spawn(joiner, &j[i], "joiner");
    }
    settle();
    cr_assert_eq(get_ok(), 1);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    for (int i = 0; i < 3; i++) {
        join_task(t[i]);
        cr_assert_eq(j[i].rc, 0);
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, task_done_wakes_every_joiner) { run(many_joiners_main); }

/* ---- shutdown ------------------------------------------------------------ */

static int shutdown_drain_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 2), 0);
    put_ok(1);
    put_ok(2);
    op p = put_op(3);
    cio_task *tp = spawn(putter, &p, "putter");
    op j = { .q = &q, .rc = 1 };
    cio_task *tj = spawn(joiner, &j, "joiner");
    settle();
    cio_queue_shutdown(&q, false);
    cr_assert(cio_queue_is_shutdown(&q));
    join_task(tp);
    cr_assert_eq(p.rc, -ESHUTDOWN, "a blocked putter is woken with -ESHUTDOWN");
    cr_assert_eq(cio_queue_size(&q), 2, "its item was not put");
    cr_assert_eq(cio_queue_put(&q, &(int){ 4 }), -ESHUTDOWN);
    cr_assert_eq(cio_queue_try_put(&q, &(int){ 4 }), -ESHUTDOWN);
    /* Getters drain what is left... */
    int v;
    cr_assert_eq(cio_queue_get(&q, &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(get_ok(), 2);
    /* ...then get -ESHUTDOWN. */
    v = UNTOUCHED;
    cr_assert_eq(cio_queue_get(&q, &v), -ESHUTDOWN);
    cr_assert_eq(cio_queue_try_get(&q, &v), -ESHUTDOWN);
    cr_assert_eq(v, UNTOUCHED);
    /* join still counts the two drained items. */
    settle();
    cr_assert(!j.done);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    join_task(tj);
    cr_assert_eq(j.rc, 0);
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_lets_getters_drain_and_fails_putters) { run(shutdown_drain_main); }

static int shutdown_wakes_getters_main(void *arg)
{
    bool immediate = *(bool *)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g[3];
    cio_task *t[3];
    for (int i = 0; i < 3; i++) {
        g[i] = get_op();
        t[i] = spawn(getter, &g[i], "getter");
    }
    settle();
    cio_queue_shutdown(&q, immediate);
    for (int i = 0; i < 3; i++) {
        join_task(t[i]);
        cr_assert_eq(g[i].rc, -ESHUTDOWN);
        cr_assert_eq(g[i].value, UNTOUCHED);
        cr_assert_eq(g[i].after, 0, "shutdown is not a cancellation");
    }
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_wakes_blocked_getters)
{
    bool immediate = false;
    cr_assert_eq(run_virtual(shutdown_wakes_getters_main, &immediate), 0);
    immediate = true;
    cr_assert_eq(run_virtual(shutdown_wakes_getters_main, &immediate), 0);
}

static int shutdown_immediate_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 3), 0);
    for (int i = 1; i <= 3; i++)
        put_ok(i);
    op p = put_op(4);
    cio_task *tp = spawn(putter, &p, "putter");
    op j = { .q = &q, .rc = 1 };
    cio_task *tj = spawn(joiner, &j, "joiner");
    settle();
    cr_assert_eq(get_ok(), 1);      /* admits 4; one item taken, not done */
    cr_assert_eq(cio_queue_size(&q), 3);
    join_task(tp);
    cr_assert_eq(p.rc, 0);
    cio_queue_shutdown(&q, true);
    cr_assert(cio_queue_empty(&q), "immediate shutdown empties the queue");
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_get(&q, &v), -ESHUTDOWN);
    cr_assert_eq(cio_queue_try_get(&q, &v), -ESHUTDOWN);
    cr_assert_eq(v, UNTOUCHED);
    /* The 3 dropped items count as done; the one taken still is not. */
    settle();
    cr_assert(!j.done);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    join_task(tj);
    cr_assert_eq(j.rc, 0);
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL);
    cr_assert_eq(cio_queue_join(&q), 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_immediate_drops_items_as_done) { run(shutdown_immediate_main); }

static int shutdown_immediate_join_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_priority(&q, sizeof(int), 0, cmp_int), 0);
    for (int i = 0; i < 10; i++)
        put_ok(i);
    op j = { .q = &q, .rc = 1 };
    cio_task *tj = spawn(joiner, &j, "joiner");
    settle();
    cr_assert(!j.done);
    cio_queue_shutdown(&q, true);
    join_task(tj);
    cr_assert_eq(j.rc, 0, "nothing was taken: join returns at once");
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_immediate_releases_join) { run(shutdown_immediate_join_main); }

static int shutdown_full_immediate_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init_lifo(&q, sizeof(int), 1), 0);
    put_ok(1);
    op p[2] = { put_op(2), put_op(3) };
    cio_task *t0 = spawn(putter, &p[0], "p0");
    cio_task *t1 = spawn(putter, &p[1], "p1");
    settle();
    cio_queue_shutdown(&q, true);
    join_task(t0);
    join_task(t1);
    cr_assert_eq(p[0].rc, -ESHUTDOWN);
    cr_assert_eq(p[1].rc, -ESHUTDOWN);
    cr_assert(cio_queue_empty(&q));
    cr_assert_eq(cio_queue_join(&q), 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_immediate_fails_blocked_putters) { run(shutdown_full_immediate_main); }

static int shutdown_twice_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    put_ok(1);
    put_ok(2);
    cio_queue_shutdown(&q, false);
    cr_assert_eq(get_ok(), 1);
    cio_queue_shutdown(&q, true);   /* a hard shutdown after a soft one */
    cr_assert(cio_queue_empty(&q));
    cr_assert_eq(cio_queue_task_done(&q), 0);
    cr_assert_eq(cio_queue_join(&q), 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_immediate_after_draining_shutdown) { run(shutdown_twice_main); }

/* ---- cancellation at every blocking point -------------------------------- */

static int cancel_parked_getter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g[2] = { get_op(), get_op() };
    cio_task *t0 = spawn(getter, &g[0], "g0");
    cio_task *t1 = spawn(getter, &g[1], "g1");
    settle();
    cio_task_cancel(t0);
    put_ok(7);      /* goes to the next getter, not the cancelled one */
    join_task(t0);
    join_task(t1);
    cr_assert_eq(g[0].rc, -ECANCELED);
    cr_assert_eq(g[0].value, UNTOUCHED, "a cancelled get took nothing");
    cr_assert_eq(g[0].after, -ECANCELED, "level-triggered");
    cr_assert_eq(g[1].rc, 0);
    cr_assert_eq(g[1].value, 7);
    cr_assert(cio_queue_empty(&q));
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, cancel_blocked_get) { run(cancel_parked_getter_main); }

static int cancel_parked_putter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(1);
    op p[2] = { put_op(2), put_op(3) };
    cio_task *t0 = spawn(putter, &p[0], "p0");
    cio_task *t1 = spawn(putter, &p[1], "p1");
    settle();
    cio_task_cancel(t0);
    cr_assert_eq(get_ok(), 1);      /* admits p1: p0 has left the line */
    join_task(t0);
    join_task(t1);
    cr_assert_eq(p[0].rc, -ECANCELED);
    cr_assert_eq(p[0].after, -ECANCELED);
    cr_assert_eq(p[1].rc, 0);
    cr_assert_eq(get_ok(), 3);
    cr_assert(cio_queue_empty(&q), "a cancelled put left nothing");
    cr_assert_eq(cio_queue_task_done(&q), 0);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    cr_assert_eq(cio_queue_task_done(&q), -EINVAL, "only two items were put");
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, cancel_blocked_put) { run(cancel_parked_putter_main); }

static int cancel_parked_joiner_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    put_ok(1);
    op j = { .q = &q, .rc = 1 };
    cio_task *t = spawn(joiner, &j, "joiner");
    settle();
    cio_task_cancel(t);
    join_task(t);
    cr_assert_eq(j.rc, -ECANCELED);
    cr_assert_eq(get_ok(), 1);
    cr_assert_eq(cio_queue_task_done(&q), 0);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, cancel_blocked_join) { run(cancel_parked_joiner_main); }

/* A cancelled task's put, get and join fail at once, even when they would
 * not have had to wait, and change nothing. */
static int cancelled_fast_paths(void *arg)
{
    (void)arg;
    int v = UNTOUCHED;
    cr_assert_eq(cio_queue_put(&q, &(int){ 2 }), -ECANCELED);
    cr_assert_eq(cio_queue_get(&q, &v), -ECANCELED);
    cr_assert_eq(v, UNTOUCHED);
    cr_assert_eq(cio_queue_join(&q), -ECANCELED);
    /* The non-blocking forms are not cancellation points. */
    cr_assert_eq(cio_queue_try_get(&q, &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(cio_queue_try_put(&q, &v), 0);
    return 0;
}

static int cancelled_caller_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    put_ok(1);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cancelled_fast_paths(NULL), 0);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(cio_queue_size(&q), 1);
    cr_assert_eq(get_ok(), 1);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, cancellation_checked_on_fast_paths) { run(cancelled_caller_main); }

static int cancel_beats_shutdown_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    cio_queue_shutdown(&q, false);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    int v;
    cr_assert_eq(cio_queue_put(&q, &(int){ 1 }), -ECANCELED);
    cr_assert_eq(cio_queue_get(&q, &v), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(cio_queue_put(&q, &(int){ 1 }), -ESHUTDOWN);
    cr_assert_eq(cio_queue_get(&q, &v), -ESHUTDOWN);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, cancellation_is_checked_before_shutdown) { run(cancel_beats_shutdown_main); }

/* ---- wake-vs-cancel races ------------------------------------------------ */

static int wake_then_cancel_getter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g = get_op();
    cio_task *t = spawn(getter, &g, "getter");
    settle();
    put_ok(11);             /* wakes the getter with the item... */
    cio_task_cancel(t);     /* ...and the cancel comes before it runs */
    join_task(t);
    cr_assert_eq(g.rc, 0, "the wake came first: the get succeeds");
    cr_assert_eq(g.value, 11);
    cr_assert_eq(g.after, -ECANCELED, "the cancel is seen by the next call");
    cr_assert(cio_queue_empty(&q));
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, getter_woken_then_cancelled_keeps_its_item) { run(wake_then_cancel_getter_main); }

static int cancel_then_wake_getter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g = get_op();
    cio_task *t = spawn(getter, &g, "getter");
    settle();
    cio_task_cancel(t);     /* settled as cancelled before it runs... */
    put_ok(11);             /* ...so the item stays in the queue */
    cr_assert_eq(cio_queue_size(&q), 1);
    join_task(t);
    cr_assert_eq(g.rc, -ECANCELED);
    cr_assert_eq(g.value, UNTOUCHED);
    cr_assert_eq(get_ok(), 11);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, getter_cancelled_then_put_keeps_item_in_queue) { run(cancel_then_wake_getter_main); }

static int wake_then_cancel_putter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(1);
    op p = put_op(2);
    cio_task *t = spawn(putter, &p, "putter");
    settle();
    cr_assert_eq(get_ok(), 1);  /* admits the putter's item... */
    cio_task_cancel(t);         /* ...before the putter runs */
    join_task(t);
    cr_assert_eq(p.rc, 0, "the admission came first: the put succeeded");
    cr_assert_eq(p.after, -ECANCELED);
    cr_assert_eq(get_ok(), 2);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, putter_admitted_then_cancelled_has_put) { run(wake_then_cancel_putter_main); }

static int cancel_then_wake_putter_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(1);
    op p = put_op(2);
    cio_task *t = spawn(putter, &p, "putter");
    settle();
    cio_task_cancel(t);
    cr_assert_eq(get_ok(), 1);
    cr_assert(cio_queue_empty(&q), "the cancelled putter was not admitted");
    join_task(t);
    cr_assert_eq(p.rc, -ECANCELED);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, putter_cancelled_then_get_admits_nothing) { run(cancel_then_wake_putter_main); }

static int shutdown_then_cancel_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    op g[2] = { get_op(), get_op() };
    cio_task *t0 = spawn(getter, &g[0], "g0");
    cio_task *t1 = spawn(getter, &g[1], "g1");
    settle();
    cio_task_cancel(t0);            /* cancel first, then shutdown */
    cio_queue_shutdown(&q, false);
    cio_task_cancel(t1);            /* shutdown first, then cancel */
    join_task(t0);
    join_task(t1);
    cr_assert_eq(g[0].rc, -ECANCELED);
    cr_assert_eq(g[1].rc, -ESHUTDOWN);
    cr_assert_eq(g[1].after, -ECANCELED);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, shutdown_and_cancel_first_one_wins) { run(shutdown_then_cancel_main); }

/* ---- timeouts ------------------------------------------------------------ */

static int get_fn(void *arg)
{
    op *o = arg;
    o->rc = cio_queue_get(o->q, &o->value);
    return o->rc;
}

static int put_fn(void *arg)
{
    op *o = arg;
    o->rc = cio_queue_put(o->q, &o->value);
    return o->rc;
}

typedef struct delayed {
    int64_t delay;
    bool put;       /* put an item, or get one */
    int value;
    int rc;
} delayed;

static int delayed_op(void *arg)
{
    delayed *d = arg;
    cr_assert_eq(cio_sleep(d->delay), 0);
    if (d->put)
        d->rc = cio_queue_put(&q, &d->value);
    else
        d->rc = cio_queue_get(&q, &d->value);
    return 0;
}

/* A get under a 10 ms timeout, raced by a put after `delay`. Returns the
 * get's result and checks that the item is in exactly one place. */
static int timed_get(int64_t delay)
{
    op g = get_op();
    delayed d = { .delay = delay, .put = true, .value = 77 };
    cio_task *t = spawn(delayed_op, &d, "late-putter");
    int rc = cio_wait_for(get_fn, &g, 10 * CIO_MS);
    join_task(t);
    cr_assert_eq(d.rc, 0);
    if (rc == 0) {
        cr_assert_eq(g.value, 77);
        cr_assert(cio_queue_empty(&q));
    } else {
        cr_assert_eq(rc, -ETIMEDOUT);
        cr_assert_eq(g.value, UNTOUCHED, "a timed-out get took nothing");
        cr_assert_eq(get_ok(), 77, "the item is still in the queue");
    }
    return rc;
}

static int timeout_get_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 0), 0);
    int64_t start = cio_now();
    cr_assert_eq(timed_get(5 * CIO_MS), 0, "the put came in time");
    cr_assert_eq(cio_now() - start, 5 * CIO_MS);
    cr_assert_eq(timed_get(20 * CIO_MS), -ETIMEDOUT);
    /* The same instant: either outcome is allowed, but never a lost or a
     * doubled item (timed_get checks). */
    int rc = timed_get(10 * CIO_MS);
    cr_assert(rc == 0 || rc == -ETIMEDOUT);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, get_timeout_races_a_put) { run(timeout_get_main); }

static int timed_put(int64_t delay)
{
    op p = put_op(2);
    delayed d = { .delay = delay, .put = false, .value = UNTOUCHED };
    cio_task *t = spawn(delayed_op, &d, "late-getter");
    int rc = cio_wait_for(put_fn, &p, 10 * CIO_MS);
    join_task(t);
    cr_assert_eq(d.rc, 0);
    cr_assert_eq(d.value, 1);
    if (rc == 0) {
        cr_assert_eq(get_ok(), 2);
    } else {
        cr_assert_eq(rc, -ETIMEDOUT);
        cr_assert(cio_queue_empty(&q), "a timed-out put left nothing");
    }
    put_ok(1);      /* full again for the next round */
    return rc;
}

static int timeout_put_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_queue_init(&q, sizeof(int), 1), 0);
    put_ok(1);
    cr_assert_eq(timed_put(5 * CIO_MS), 0);
    cr_assert_eq(timed_put(20 * CIO_MS), -ETIMEDOUT);
    int rc = timed_put(10 * CIO_MS);
    cr_assert(rc == 0 || rc == -ETIMEDOUT);
    cio_queue_destroy(&q);
    return 0;
}

Test(queue, put_timeout_races_a_get) { run(timeout_put_main); }
