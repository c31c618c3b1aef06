/* bench_memory.c — N tasks (1,000,000 by default) parked on one cio_event:
 * resident memory per task, on default kernel settings.
 *
 * usage: bench_memory [TASKS]
 * Linux's default vm.max_map_count (65530) allows only ~32k guarded stacks;
 * past the guard budget cio maps unguarded stacks (canary only), which merge
 * into one mapping, so every task must still spawn. The figure is the growth
 * of RSS (/proc/self/statm) between before the first spawn and when every
 * task is parked, divided by N: stacks, task structs and their waiters. The
 * page tables the stacks need are reported apart (memory_pagetables): they
 * are not in RSS.
 */
#include <cio.h>

#include "bench.h"

static long parked, woken;

static int wait_for_event(void *arg)
{
    parked++;
    BENCH_CHECK(cio_event_wait(arg));
    woken++;
    return 0;
}

static int bench_main(void *arg)
{
    long n = *(long *)arg;
    cio_event ev;
    cio_event_init(&ev);
    size_t rss0 = bench_rss_bytes(), pt0 = bench_page_table_bytes();
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        int rc = cio_task_spawn(NULL, wait_for_event, &ev, NULL);
        if (rc < 0) {
            fprintf(stderr, "bench_memory: spawn %ld of %ld failed: %s\n",
                    i + 1, n, cio_strerror(rc));
            return rc;
        }
    }
    BENCH_CHECK(cio_yield());   /* every spawned task runs and parks first */
    int64_t dt = bench_now_ns() - t0;
    size_t rss1 = bench_rss_bytes(), pt1 = bench_page_table_bytes();
    if (parked != n) {
        fprintf(stderr, "bench_memory: only %ld of %ld tasks parked\n", parked, n);
        return -EAGAIN;
    }
    cio_loop_stats st;
    cio_loop_get_stats(cio_loop_current(), &st);
    bench_emit("memory", (double)(rss1 - rss0) / 1024.0 / (double)n, "KiB/task");
    bench_emit("memory_pagetables", (double)(pt1 - pt0) / 1024.0 / (double)n,
               "KiB/task");
    printf("cio: %ld tasks parked on an event (%zu guarded stacks, %zu "
           "canary-only) in %.2f s; RSS grew %.1f MiB\n", n, st.guarded_stacks,
           st.unguarded_stacks, (double)dt / 1e9,
           (double)(rss1 - rss0) / 1048576.0);
    cio_event_set(&ev);
    BENCH_CHECK(cio_yield());   /* every task wakes and ends */
    if (woken != n) {
        fprintf(stderr, "bench_memory: only %ld of %ld tasks woke\n", woken, n);
        return -EAGAIN;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 1000 * 1000);
    return cio_run(bench_main, &n) < 0;
}
