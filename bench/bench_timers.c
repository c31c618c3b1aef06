/* bench_timers.c — timers with 1,000,000 pending sleeps.
 *
 * usage: bench_timers [PENDING] [OPS] [FIRERS] [ROUNDS]
 *
 * PENDING tasks sleep, their deadlines spread at random over [1 h, 2 h).
 * Meanwhile:
 * timer_insert_cancel: a task opens and leaves a cancel scope with a
 *   deadline at random in the same range (asyncio.timeout around code that
 *   finishes in time): ns per timer armed and cancelled.
 * timer_heap_arm_disarm: the same straight on the loop's timer heap
 *   (cio_timer_arm + cio_timer_disarm), without the scope around it.
 * timer_fire: FIRERS tasks sleep until a common instant plus up to 1 ms
 *   (1 us apart); ns per timer from the loop finding them due to each task
 *   running (and parking again, on a gate, until the next round).
 * Each figure is the median of ROUNDS rounds (OPS / ROUNDS operations each):
 * setting up a million tasks costs seconds, so one process does the rounds.
 *
 * The loop runs on the virtual clock so that firing waits for no real time:
 * when nothing is ready it jumps to the next deadline. The work per timer is
 * the same as on the real clock, minus one clock_gettime per loop pass.
 */
#include <cio.h>

#include "bench.h"
#include "core/internal.h"

#define HOUR (3600 * CIO_SEC)
#define MAX_ROUNDS 32

static uint64_t rng = 42;

static int64_t random_between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(bench_rand(&rng) % (uint64_t)(hi - lo));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the pending sleeps ------------------------------------------------- */

static int sleep_long(void *arg)
{
    (void)arg;
    int rc = cio_sleep_until(random_between(HOUR, 2 * HOUR));
    (void)rc;                   /* cancelled when the loop closes */
    return 0;
}

/* ---- inserting and cancelling ------------------------------------------- */

static double scope_timers(long ops)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < ops; i++) {
        cio_scope s;
        cio_scope_enter(&s, random_between(HOUR, 2 * HOUR));
        BENCH_CHECK(cio_scope_leave(&s));
    }
    return (double)(bench_now_ns() - t0) / (double)ops;
}

static void never_fires(cio_timer_node *n) { (void)n; abort(); }

static double heap_timers(long ops)
{
    cio_timer_heap *h = &cio_loop_current()->timers;
    cio_timer_node n;
    cio_timer_node_init(&n, never_fires);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < ops; i++) {
        BENCH_CHECK(cio_timer_arm(h, &n, random_between(HOUR, 2 * HOUR)));
        cio_timer_disarm(h, &n);
    }
    return (double)(bench_now_ns() - t0) / (double)ops;
}

/* ---- firing ------------------------------------------------------------- */

static struct {
    int64_t base;               /* this round's instant */
    long fired;
    cio_waitlist gate;          /* firers wait here between rounds */
} fire;

static int firer(void *arg)
{
    int64_t jitter = (int64_t)(intptr_t)arg;
    for (;;) {
        if (cio_sleep_until(fire.base + jitter) < 0)
            return 0;
        fire.fired++;
        cio_waiter w;
        cio_waiter_init(&w);
        if (cio_wait_park(&w, &fire.gate, CIO_NEVER) < 0)
            return 0;
    }
}

static double fire_round(long firers, int round)
{
    fire.base = cio_now() + CIO_SEC;
    fire.fired = 0;
    if (round == 0) {
        for (long i = 0; i < firers; i++) {
            intptr_t jitter = (intptr_t)(random_between(0, 1000) * CIO_US);
            BENCH_CHECK(cio_task_spawn(NULL, firer, (void *)jitter, NULL));
        }
    } else {
        cio_waitlist_wake_all(&fire.gate, 0);
    }
    BENCH_CHECK(cio_yield());   /* every firer arms its sleep */
    int64_t t0 = bench_now_ns();
    BENCH_CHECK(cio_sleep_until(fire.base + CIO_MS));
    int64_t dt = bench_now_ns() - t0;
    if (fire.fired != firers) {
        fprintf(stderr, "bench_timers: %ld of %ld timers fired\n", fire.fired,
                firers);
        exit(1);
    }
    return (double)dt / (double)firers;
}

/* ---- main --------------------------------------------------------------- */

struct params { long pending, ops, firers; int rounds; };

static int bench_main(void *arg)
{
    struct params *p = arg;
    double scope[MAX_ROUNDS], heap[MAX_ROUNDS], fired[MAX_ROUNDS];
    for (long i = 0; i < p->pending; i++)
        BENCH_CHECK(cio_task_spawn(NULL, sleep_long, NULL, NULL));
    BENCH_CHECK(cio_yield());   /* all of them sleeping */
    for (int r = 0; r < p->rounds; r++) {
        scope[r] = scope_timers(p->ops / p->rounds);
        heap[r] = heap_timers(p->ops / p->rounds);
    }
    bench_emit("timer_insert_cancel", median(scope, p->rounds), "ns/timer");
    bench_emit("timer_heap_arm_disarm", median(heap, p->rounds), "ns/timer");
    cio_waitlist_init(&fire.gate);
    for (int r = 0; r < p->rounds; r++)
        fired[r] = fire_round(p->firers, r);
    bench_emit("timer_fire", median(fired, p->rounds), "ns/timer");
    printf("cio: %ld pending sleeps; %ld timers fired per round, %d rounds\n",
           p->pending, p->firers, p->rounds);
    return 0;                   /* the loop cancels every task left */
}

int main(int argc, char **argv)
{
    struct params p = {
        .pending = bench_arg(argc, argv, 1, 1000 * 1000),
        .ops = bench_arg(argc, argv, 2, 2 * 1000 * 1000),
        .firers = bench_arg(argc, argv, 3, 100 * 1000),
        .rounds = (int)bench_arg(argc, argv, 4, 5),
    };
    if (p.rounds < 1 || p.rounds > MAX_ROUNDS || p.pending < 0 ||
        p.ops < p.rounds || p.firers < 1)
        return 2;
    cio_loop_options o = { .virtual_clock = true };
    return cio_run_with(&o, bench_main, &p) < 0;
}
