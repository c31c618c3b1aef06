/* bench_switch.c — two tasks yielding to each other through the scheduler
 * (asyncio.sleep(0) ping-pong): ns per task switch.
 *
 * usage: bench_switch [YIELDS_PER_TASK]
 * Each cio_yield puts the caller at the tail of the run queue and switches
 * straight to the other task, so 2 * YIELDS switches happen in all (plus a
 * pass through the loop context every fairness budget, which is counted:
 * it is part of what the scheduler costs).
 */
#include <cio.h>

#include "bench.h"

static int ping(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        BENCH_CHECK(cio_yield());
    return 0;
}

static int bench_main(void *arg)
{
    long n = *(long *)arg;
    cio_task *a, *b;
    BENCH_CHECK(cio_task_spawn(&a, ping, &n, NULL));
    BENCH_CHECK(cio_task_spawn(&b, ping, &n, NULL));
    cio_loop_stats before, after;
    cio_loop_get_stats(cio_loop_current(), &before);
    int64_t t0 = bench_now_ns();
    BENCH_CHECK(cio_task_join(a, NULL));
    BENCH_CHECK(cio_task_join(b, NULL));
    int64_t dt = bench_now_ns() - t0;
    cio_loop_get_stats(cio_loop_current(), &after);
    bench_emit("switch", (double)dt / (2.0 * (double)n), "ns/switch");
    printf("cio: %llu switches, %llu loop passes for %ld yields\n",
           (unsigned long long)(after.switches - before.switches),
           (unsigned long long)(after.iterations - before.iterations), 2 * n);
    return 0;
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 10 * 1000 * 1000);
    return cio_run(bench_main, &n) < 0;
}
