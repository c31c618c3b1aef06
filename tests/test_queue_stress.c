/* test_queue_stress.c — producers and consumers under randomized
 * cancellations: over a million queue operations, every item put is got
 * exactly once or is still in the queue (or was dropped by an immediate
 * shutdown), no failed put leaks an item, no failed get takes one, and no
 * task is left stuck.
 *
 * Each worker runs every operation inside its own cancel scope. After each
 * of its operations a worker may cancel another worker's scope: that worker
 * may be parked, or already woken with an item it has not yet seen (the
 * wake-vs-cancel race), or about to start its next operation. Some scopes
 * carry a deadline already past (cancelled on the fast path), and workers
 * yield at random to vary the interleavings. Seeded; CIO_STRESS_SEED
 * overrides the seed.
 */
#include "helpers.h"

enum { PRODUCERS = 8, CONSUMERS = 8, WORKERS = PRODUCERS + CONSUMERS };

typedef struct worker {
    int index;
    cio_scope *scope;       /* the open operation scope, or NULL */
    cio_task *task;
    uint64_t rng;
} worker;

typedef struct run_state {
    cio_queue q;
    worker w[WORKERS];
    int64_t puts_per_producer;
    uint32_t next_id;       /* ids handed out to producers */
    uint8_t *put_ok;        /* per id: the put succeeded */
    uint8_t *got;           /* per id: how many times it was got */
    uint64_t ops;           /* put and get attempts, successful or not */
    uint64_t put_count, put_sum, got_count, got_sum;
    uint64_t cancelled_puts, cancelled_gets, cancels_sent;
    uint64_t parked_cancelled;  /* cancelled while waiting: nothing moved */
    uint64_t served_cancelled;  /* served, then cancelled before running */
    int64_t shutdown_after;  /* immediate shutdown after this many puts; -1 */
    size_t dropped;          /* items removed by the immediate shutdown */
} run_state;

static run_state S;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717u;
}

static uint64_t seed(void)
{
    const char *env = getenv("CIO_STRESS_SEED");
    return env ? strtoull(env, NULL, 0) : 0x9e3779b97f4a7c15u;
}

static bool chance(worker *w, unsigned one_in)
{
    return rng_next(&w->rng) % one_in == 0;
}

/* Open the worker's scope for one operation; sometimes with a deadline
 * already past, so the operation is cancelled before it can do anything,
 * sometimes with one that passes if the clock moves (when every task
 * waits, the virtual clock jumps to it). */
static void open_scope(worker *w, cio_scope *s)
{
    int64_t deadline = CIO_NEVER;
    if (chance(w, 16))
        deadline = cio_now();
    else if (chance(w, 16))
        deadline = cio_now() + 1 + (int64_t)(rng_next(&w->rng) % 3);
    cio_scope_enter(s, deadline);
    w->scope = s;
}

/* Close it and maybe cancel some other worker's open operation. rc is the
 * operation's result, to count which side of the race each cancel hit. */
static void close_scope(worker *w, cio_scope *s, int rc)
{
    w->scope = NULL;
    if (cio_scope_cancelled(s) && !cio_scope_timed_out(s)) {
        if (rc == 0)
            S.served_cancelled++;
        else if (rc == -ECANCELED)
            S.parked_cancelled++;
    }
    int ignored = cio_scope_leave(s);
    (void)ignored;
    if (chance(w, 3)) {
        worker *victim = &S.w[rng_next(&w->rng) % WORKERS];
        if (victim != w && victim->scope) {
            cio_scope_cancel(victim->scope);
            S.cancels_sent++;
        }
    }
    if (chance(w, 8))
        cr_assert_eq(cio_yield(), 0);
}

static void maybe_shutdown(void)
{
    if (S.shutdown_after >= 0 && S.put_count == (uint64_t)S.shutdown_after) {
        S.dropped = cio_queue_size(&S.q);
        cio_queue_shutdown(&S.q, true);
    }
}

static int producer(void *arg)
{
    worker *w = arg;
    for (int64_t i = 0; i < S.puts_per_producer; i++) {
        uint32_t id = S.next_id++;
        cio_scope s;
        open_scope(w, &s);
        int rc = cio_queue_put(&S.q, &id);
        close_scope(w, &s, rc);
        S.ops++;
        if (rc == 0) {
            S.put_ok[id] = 1;
            S.put_count++;
            S.put_sum += id;
            maybe_shutdown();
        } else if (rc == -ESHUTDOWN) {
            break;
        } else {
            cr_assert_eq(rc, -ECANCELED, "put: %d", rc);
            S.cancelled_puts++;
        }
    }
    return 0;
}

static void record_got(uint32_t id)
{
    cr_assert_lt(id, S.next_id, "an item nobody put");
    cr_assert_eq(S.got[id], 0, "item %u got twice", id);
    S.got[id] = 1;
    S.got_count++;
    S.got_sum += id;
}

static int consumer(void *arg)
{
    worker *w = arg;
    for (;;) {
        uint32_t id = UINT32_MAX;
        cio_scope s;
        open_scope(w, &s);
        int rc = cio_queue_get(&S.q, &id);
        close_scope(w, &s, rc);
        S.ops++;
        if (rc == -ESHUTDOWN)
            break;
        if (rc < 0) {
            cr_assert_eq(rc, -ECANCELED, "get: %d", rc);
            cr_assert_eq(id, UINT32_MAX, "a failed get wrote an item");
            S.cancelled_gets++;
            continue;
        }
        record_got(id);
        cr_assert_eq(cio_queue_task_done(&S.q), 0);
    }
    return 0;
}

static int stress_main(void *arg)
{
    (void)arg;
    uint64_t base = seed();
    for (int i = 0; i < WORKERS; i++) {
        worker *w = &S.w[i];
        w->index = i;
        w->rng = base + (uint64_t)i * 0x2545F4914F6CDD1Du;
        if (w->rng == 0)
            w->rng = 1;
        w->task = spawn(i < PRODUCERS ? producer : consumer, w,
                        i < PRODUCERS ? "producer" : "consumer");
    }
    for (int i = 0; i < PRODUCERS; i++)
        cr_assert_eq(cio_task_join(S.w[i].task, NULL), 0);
    /* Every item put is marked done once consumed (or dropped). */
    cr_assert_eq(cio_queue_join(&S.q), 0);
    cr_assert(cio_queue_empty(&S.q));
    cio_queue_shutdown(&S.q, false);
    for (int i = PRODUCERS; i < WORKERS; i++)
        cr_assert_eq(cio_task_join(S.w[i].task, NULL), 0);
    return 0;
}

static void check_conservation(void)
{
    uint64_t put_count = 0, put_sum = 0, got_count = 0;
    for (uint32_t id = 0; id < S.next_id; id++) {
        cr_assert(S.got[id] <= S.put_ok[id],
                  "item %u got although its put failed", id);
        put_count += S.put_ok[id];
        put_sum += S.put_ok[id] ? id : 0;
        got_count += S.got[id];
    }
    cr_assert_eq(put_count, S.put_count);
    cr_assert_eq(put_sum, S.put_sum);
    cr_assert_eq(got_count, S.got_count);
    cr_assert_eq(S.got_count + S.dropped, S.put_count,
                 "got %llu + dropped %zu != put %llu",
                 (unsigned long long)S.got_count, S.dropped,
                 (unsigned long long)S.put_count);
    if (S.dropped == 0)
        cr_assert_eq(S.got_sum, S.put_sum);
    cr_assert_eq(cio_queue_size(&S.q), 0);
}

/* Many ties: the heap's tie-breaking runs constantly. */
static int cmp_mod(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a % 13, y = *(const uint32_t *)b % 13;
    return (x > y) - (x < y);
}

static void run_stress(int kind, size_t maxsize, int64_t puts_per_producer,
                       int64_t shutdown_after)
{
    memset(&S, 0, sizeof S);
    S.puts_per_producer = puts_per_producer;
    S.shutdown_after = shutdown_after;
    size_t ids = (size_t)(PRODUCERS * puts_per_producer);
    S.put_ok = calloc(ids, 1);
    S.got = calloc(ids, 1);
    cr_assert(S.put_ok && S.got);
    int rc = kind == CIO_QUEUE_FIFO
                 ? cio_queue_init(&S.q, sizeof(uint32_t), maxsize)
             : kind == CIO_QUEUE_LIFO
                 ? cio_queue_init_lifo(&S.q, sizeof(uint32_t), maxsize)
                 : cio_queue_init_priority(&S.q, sizeof(uint32_t), maxsize,
                                           cmp_mod);
    cr_assert_eq(rc, 0);
    cr_assert_eq(run_virtual(stress_main, NULL), 0,
                 "a task was left stuck (seed %#llx)",
                 (unsigned long long)seed());
    check_conservation();
    cr_log_info("ops %llu, puts %llu, gets %llu, cancelled puts %llu, "
                "cancelled gets %llu, cancels sent %llu (parked %llu, served %llu), "
                "dropped %zu",
                (unsigned long long)S.ops, (unsigned long long)S.put_count,
                (unsigned long long)S.got_count,
                (unsigned long long)S.cancelled_puts,
                (unsigned long long)S.cancelled_gets,
                (unsigned long long)S.cancels_sent,
                (unsigned long long)S.parked_cancelled,
                (unsigned long long)S.served_cancelled, S.dropped);
    /* The run must really have exercised cancellation on both sides. */
    cr_assert_gt(S.cancelled_puts, 0);
    cr_assert_gt(S.cancelled_gets, 0);
    cr_assert_gt(S.parked_cancelled, 0);
    cr_assert_gt(S.served_cancelled, 0);
    cio_queue_destroy(&S.q);
    free(S.put_ok);
    free(S.got);
}

Test(queue_stress, fifo_bounded_million_ops, .timeout = 120)
{
    run_stress(CIO_QUEUE_FIFO, 4, 70000, -1);
    cr_assert_geq(S.ops, 1000000, "only %llu operations",
                  (unsigned long long)S.ops);
}

Test(queue_stress, lifo_bounded, .timeout = 120)
{
    run_stress(CIO_QUEUE_LIFO, 3, 10000, -1);
}

Test(queue_stress, priority_bounded, .timeout = 120)
{
    run_stress(CIO_QUEUE_PRIORITY, 8, 10000, -1);
}

Test(queue_stress, fifo_unbounded, .timeout = 120)
{
    run_stress(CIO_QUEUE_FIFO, 0, 10000, -1);
}

Test(queue_stress, immediate_shutdown_midstream, .timeout = 120)
{
    run_stress(CIO_QUEUE_FIFO, 16, 10000, 30000);
    cr_assert_gt(S.dropped, 0, "the shutdown found items to drop");
    cr_assert_lt(S.put_count, (uint64_t)PRODUCERS * 10000);
}
