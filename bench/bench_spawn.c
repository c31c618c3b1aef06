/* bench_spawn.c — spawn a trivial task and join it, over and over: ns per
 * spawn + join. After the first iteration every stack comes from the loop's
 * pool, so no iteration makes a system call.
 *
 * usage: bench_spawn [ITERATIONS]
 */
#include <cio.h>

#include "bench.h"

static int trivial(void *arg)
{
    (void)arg;
    return 0;
}

static int bench_main(void *arg)
{
    long n = *(long *)arg;
    cio_task *t;
    BENCH_CHECK(cio_task_spawn(&t, trivial, NULL, NULL));   /* warm the pool */
    BENCH_CHECK(cio_task_join(t, NULL));
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        BENCH_CHECK(cio_task_spawn(&t, trivial, NULL, NULL));
        BENCH_CHECK(cio_task_join(t, NULL));
    }
    int64_t dt = bench_now_ns() - t0;
    bench_emit("spawn", (double)dt / (double)n, "ns/spawn+join");
    return 0;
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 2 * 1000 * 1000);
    return cio_run(bench_main, &n) < 0;
}
