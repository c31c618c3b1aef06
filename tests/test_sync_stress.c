/* test_sync_stress.c — randomized cancellations and deadlines against lock,
 * semaphore, bounded semaphore, event and condition, all in one loop, with
 * exact conservation checked at the end: every permit back, the lock free,
 * every task finished, acquisitions == releases, items produced == consumed
 * + left. Deterministic for a seed (CIO_STRESS_SEED overrides the default),
 * on the virtual clock, so a failure replays exactly.
 */
#include "helpers.h"

#include <inttypes.h>

#define US CIO_US
#define PERMITS 3
#define OPS_TARGET 1000000

static uint64_t seed, rng;

static uint64_t rnd(void)  /* xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(2685821657736338717);
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

#define check(cond, fmt, ...) \
    cr_assert(cond, "seed %" PRIu64 ": " fmt, seed, ##__VA_ARGS__)

enum kind { LOCK, SEM, BSEM, EVENT, PRODUCER, CONSUMER, N_KINDS };
static const int n_of_kind[N_KINDS] = { 8, 8, 8, 8, 4, 8 };
#define N_WORKERS 44

typedef struct worker {
    enum kind kind;
    int id;
    cio_scope *scope;       /* the op's scope while one runs, else NULL */
    cio_task *task;
} worker;

static struct {
    worker w[N_WORKERS];
    int ops_per_worker;
    long ops, done;         /* attempts, finished workers */
    long won_then_cancelled, timed_out, cancelled;
    bool stop_consumers, stop_chaos;

    cio_lock lock;
    worker *lock_holder;
    long lock_acq, lock_rel;

    cio_semaphore sem, bsem;
    int sem_in_use, bsem_in_use;
    long sem_acq, sem_rel;

    cio_event ev;
    long ev_sets, ev_wakes;

    cio_condition cond;
    worker *cond_holder;
    long items, produced, consumed;
} S;

/* Called when an acquire succeeded: if the task is already cancelled, the
 * hand-off won a race against a cancellation or deadline that followed it
 * before the task ran. */
static void note_won(void)
{
    if (cio_cancelled())
        S.won_then_cancelled++;
}

/* A blocking call made while holding something: varies the interleaving. */
static void dawdle(void)
{
    int ignored = below(3) ? cio_sleep(below(4) * US) : cio_yield();
    (void)ignored;      /* -ECANCELED when the op's scope was cancelled */
}

/* Right after a release or notify a waiter has just been woken: now and
 * then cancel a random task of the kind that waits for it, to race
 * cancellations against hand-offs. */
static void maybe_cancel_peer(enum kind kind)
{
    if (below(4))
        return;
    int first = 0;
    for (int k = 0; k < (int)kind; k++)
        first += n_of_kind[k];
    worker *peer = &S.w[first + (int)below((unsigned)n_of_kind[kind])];
    if (peer->scope)
        cio_scope_cancel(peer->scope);
}

static void op_lock(worker *me)
{
    int rc = below(8) ? cio_lock_acquire(&S.lock) : cio_lock_try_acquire(&S.lock);
    if (rc < 0) {
        check(rc == -ECANCELED || rc == -EAGAIN, "lock acquire %d", rc);
        return;
    }
    check(S.lock_holder == NULL, "two lock holders");
    S.lock_holder = me;
    S.lock_acq++;
    note_won();
    dawdle();
    check(S.lock_holder == me, "lock holder changed");
    S.lock_holder = NULL;
    S.lock_rel++;
    check(cio_lock_release(&S.lock) == 0, "lock release");
    maybe_cancel_peer(LOCK);
}

static void op_sem(worker *me, cio_semaphore *s, int *in_use)
{
    int rc = below(8) ? cio_semaphore_acquire(s) : cio_semaphore_try_acquire(s);
    if (rc < 0) {
        check(rc == -ECANCELED || rc == -EAGAIN, "semaphore acquire %d", rc);
        return;
    }
    check(++*in_use <= PERMITS, "more than %d permits out", PERMITS);
    S.sem_acq++;
    note_won();
    dawdle();
    --*in_use;
    S.sem_rel++;
    check(cio_semaphore_release(s) == 0, "semaphore release");
    maybe_cancel_peer(me->kind);
}

static void op_event(void)
{
    long sets = S.ev_sets;
    bool was_set = cio_event_is_set(&S.ev);
    int rc = cio_event_wait(&S.ev);
    check(rc == 0 || rc == -ECANCELED, "event wait %d", rc);
    if (rc == 0) {
        check(was_set || S.ev_sets > sets, "event wait returned with no set");
        S.ev_wakes++;
    }
}

static void take_cond_lock(worker *me)
{
    check(S.cond_holder == NULL, "two condition lock holders");
    S.cond_holder = me;
}

static void op_produce(worker *me)
{
    cio_lock *l = cio_condition_lock(&S.cond);
    if (cio_lock_acquire(l) < 0)
        return;
    take_cond_lock(me);
    S.items++;
    S.produced++;
    int n = cio_condition_notify(&S.cond, below(4) ? 1 : 2);
    check(n >= 0, "notify %d", n);
    S.cond_holder = NULL;
    check(cio_lock_release(l) == 0, "condition lock release");
    maybe_cancel_peer(CONSUMER);
}

static bool has_item(void *arg)
{
    (void)arg;
    return S.items > 0 || S.stop_consumers;
}

static void op_consume(worker *me)
{
    cio_lock *l = cio_condition_lock(&S.cond);
    if (cio_lock_acquire(l) < 0)
        return;
    take_cond_lock(me);
    S.cond_holder = NULL;       /* the wait gives the lock up meanwhile */
    int rc = cio_condition_wait_for(&S.cond, has_item, NULL);
    check(rc == 0 || rc == -ECANCELED, "wait_for %d", rc);
    check(cio_lock_locked(l), "wait_for returned without the lock");
    take_cond_lock(me);
    if (rc == 0 && S.items > 0) {
        note_won();
        S.items--;
        S.consumed++;
    }
    S.cond_holder = NULL;
    check(cio_lock_release(l) == 0, "condition lock release");
}

static void one_op(worker *me)
{
    switch (me->kind) {
    case LOCK:     op_lock(me); break;
    case SEM:      op_sem(me, &S.sem, &S.sem_in_use); break;
    case BSEM:     op_sem(me, &S.bsem, &S.bsem_in_use); break;
    case EVENT:    op_event(); break;
    case PRODUCER: op_produce(me); break;
    case CONSUMER: op_consume(me); break;
    default:       break;
    }
}

/* Each op runs in its own scope: sometimes with a deadline of a few
 * microseconds (possibly already past), always open to the chaos task. */
static int worker_run(void *arg)
{
    worker *me = arg;
    for (int i = 0; me->kind == CONSUMER ? !S.stop_consumers : i < S.ops_per_worker;
         i++) {
        cio_scope s;
        cio_scope_enter(&s, below(4) ? CIO_NEVER : cio_now() + below(5) * US);
        me->scope = &s;
        one_op(me);
        if (cio_cancelled())
            S.cancelled++;
        me->scope = NULL;
        if (cio_scope_leave(&s) == -ETIMEDOUT)
            S.timed_out++;
        S.ops++;
        int ignored = cio_yield();
        (void)ignored;
    }
    S.done++;
    return 0;
}

static int chaos_run(void *arg)
{
    (void)arg;
    while (!S.stop_chaos) {
        int ignored = below(3) ? cio_sleep(below(3) * US) : cio_yield();
        (void)ignored;
        worker *w = &S.w[below(N_WORKERS)];
        if (w->scope)
            cio_scope_cancel(w->scope);
        if (!below(3)) {        /* pulse or toggle the event */
            if (!cio_event_is_set(&S.ev))
                S.ev_sets++;
            cio_event_set(&S.ev);
            if (below(2))
                cio_event_clear(&S.ev);
        }
    }
    return 0;
}

static void init_state(int ops_per_worker)
{
    memset(&S, 0, sizeof S);
    S.ops_per_worker = ops_per_worker;
    cio_lock_init(&S.lock);
    cio_semaphore_init(&S.sem, PERMITS);
    cio_semaphore_init_bounded(&S.bsem, PERMITS);
    cio_event_init(&S.ev);
    cio_condition_init(&S.cond, NULL);
    int i = 0;
    for (int k = 0; k < N_KINDS; k++)
        for (int j = 0; j < n_of_kind[k]; j++, i++)
            S.w[i] = (worker){ .kind = (enum kind)k, .id = i };
}

/* Wait until every worker is done, failing if the ops counter stops moving
 * (a task stuck on a lost wake-up). */
static void watch_until_done(long workers)
{
    long last = -1;
    int still = 0;
    while (S.done < workers) {
        check(cio_sleep(50 * US) == 0, "watchdog sleep");
        if (S.done == N_WORKERS - n_of_kind[CONSUMER] && !S.stop_consumers) {
            cio_lock *l = cio_condition_lock(&S.cond);
            check(cio_lock_acquire(l) == 0, "stop: lock");
            S.stop_consumers = true;
            check(cio_condition_notify_all(&S.cond) >= 0, "stop: notify");
            check(cio_lock_release(l) == 0, "stop: release");
        }
        still = S.ops == last ? still + 1 : 0;
        check(still < 100, "no progress: %ld of %d workers done, stuck",
              S.done, N_WORKERS);
        last = S.ops;
    }
}

static int stress_main(void *arg)
{
    init_state((int)(intptr_t)arg);
    for (int i = 0; i < N_WORKERS; i++)
        S.w[i].task = spawn(worker_run, &S.w[i], NULL);
    cio_task *chaos = spawn(chaos_run, NULL, "chaos");
    watch_until_done(N_WORKERS);
    S.stop_chaos = true;
    check(cio_task_join(chaos, NULL) == 0, "chaos");
    for (int i = 0; i < N_WORKERS; i++)
        check(cio_task_join(S.w[i].task, NULL) == 0, "worker %d", i);
    return 0;
}

static void verify_conservation(void)
{
    check(!cio_lock_locked(&S.lock), "the lock is still held");
    check(S.lock_acq == S.lock_rel, "lock %ld acquired, %ld released",
          S.lock_acq, S.lock_rel);
    check(cio_semaphore_value(&S.sem) == PERMITS, "semaphore value %zu",
          cio_semaphore_value(&S.sem));
    check(cio_semaphore_value(&S.bsem) == PERMITS, "bounded value %zu",
          cio_semaphore_value(&S.bsem));
    check(S.sem_acq == S.sem_rel, "permits %ld taken, %ld returned",
          S.sem_acq, S.sem_rel);
    check(S.sem_in_use == 0 && S.bsem_in_use == 0, "permits still out");
    check(!cio_lock_locked(cio_condition_lock(&S.cond)), "condition lock held");
    check(S.produced == S.consumed + S.items, "items %ld made, %ld used, %ld left",
          S.produced, S.consumed, S.items);
}

/* One full run: ops_target operations by the non-consumer workers (the
 * consumers keep going until the producers are done). */
static void stress(uint64_t run_seed, int ops_target)
{
    seed = run_seed;
    rng = seed ? seed : 1;
    int per = ops_target / (N_WORKERS - n_of_kind[CONSUMER]) + 1;
    cr_assert_eq(run_virtual(stress_main, (void *)(intptr_t)per), 0);
    verify_conservation();
    check(S.ops >= ops_target, "only %ld ops", S.ops);
    check(S.cancelled > S.ops / 100, "too few cancellations: %ld", S.cancelled);
    check(S.timed_out > S.ops / 100, "too few timeouts: %ld", S.timed_out);
    check(S.won_then_cancelled > S.ops / 1000, "too few wake/cancel races: %ld",
          S.won_then_cancelled);
    check(S.lock_acq > S.ops / 100 && S.sem_acq > S.ops / 100 &&
          S.consumed > S.ops / 100 && S.ev_wakes > S.ops / 100,
          "too little success: lock %ld sem %ld consumed %ld wakes %ld",
          S.lock_acq, S.sem_acq, S.consumed, S.ev_wakes);
    cr_log_info("seed %" PRIu64 ": %ld ops, %ld cancelled, %ld timed out, "
                "%ld hand-offs won a race, lock %ld, permits %ld, items %ld, "
                "event wakes %ld", seed, S.ops, S.cancelled, S.timed_out,
                S.won_then_cancelled, S.lock_acq, S.sem_acq, S.consumed,
                S.ev_wakes);
}

Test(sync_stress, a_million_randomized_operations_conserve_everything)
{
    const char *env = getenv("CIO_STRESS_SEED");
    stress(env ? strtoull(env, NULL, 0) : UINT64_C(0x5eed0fc10), OPS_TARGET);
}

Test(sync_stress, more_seeds)
{
    for (uint64_t s = 1; s <= 3; s++)
        stress(s * UINT64_C(0x9e3779b97f4a7c15), OPS_TARGET / 4);
}
