/* cio/stats.h — task statistics (the brief's TaskTracer) and what debug
 * mode reports when a loop closes.
 *
 * Every loop counts the tasks it made and how they ended (at no measurable
 * cost: docs/performance.md). In debug mode (cio_loop_options.debug or
 * CIO_DEBUG=1) it also keeps two distributions over the tasks that ended:
 *  - lifetime: spawn to end, on the loop's clock (cached once per pass of
 *    the loop, so its resolution is a pass; exact under the virtual clock);
 *  - run time: the wall-clock time the task held the thread, summed over
 *    all its runs (a blocking sleep() inside a task counts: it holds the
 *    loop). That costs a clock read per task switch, hence debug mode.
 *
 * When a loop in debug mode closes (cio_loop_close, the end of cio_run) it
 * prints on stderr, after the tasks still alive have been cancelled and have
 * finished:
 *  - every task that was never joined: spawned with cio_task_spawn and a
 *    handle (out not NULL), not in a group, not behind a future, and still
 *    unjoined at close, whether it ended by itself or was cancelled by the
 *    close (asyncio's "Task was destroyed but it is pending!"). A task
 *    spawned with out == NULL is detached by its spawner and not reported;
 *    a task that failed is reported in any mode, debug or not, as "failed
 *    ... and was never joined" (asyncio's "Task exception was never
 *    retrieved"), so the never-joined list leaves failures out;
 *  - every handle (socket, file, process) still open, with its descriptor,
 *    the task that made it and the stack where it was made (asyncio's
 *    ResourceWarning). The loop does not close them: the program still
 *    holds them, and closing a descriptor under its owner would turn a leak
 *    into a double close of a possibly reused number. A handle closed after
 *    the loop is gone is only released;
 *  - these statistics (cio_task_stats_print).
 * Lines start with "cio: debug:". Nothing of it is printed when debug mode
 * is off.
 */
#ifndef CIO_STATS_H
#define CIO_STATS_H

#include <stdio.h>

#include "base.h"

#pragma GCC visibility push(default)

/* Buckets of a duration histogram: bucket 0 holds durations in [0, 2) ns,
 * bucket i (1..62) those in [2^i, 2^(i+1)) ns. */
#define CIO_DURATION_BUCKETS 64

/* A distribution of durations in nanoseconds. */
typedef struct cio_duration_stats {
    uint64_t count;         /* samples */
    int64_t sum_ns;         /* their total (mean = sum_ns / count) */
    int64_t min_ns, max_ns; /* 0 when count is 0 */
    uint64_t buckets[CIO_DURATION_BUCKETS];
} cio_duration_stats;

/* A loop's tasks since it was made. created == finished + failed +
 * cancelled + live. The distributions hold the tasks that have ended. */
typedef struct cio_task_stats {
    uint64_t created;       /* spawned (cio_run's main task included) */
    uint64_t finished;      /* ended with a status >= 0 */
    uint64_t failed;        /* ended with a negative status other than -ECANCELED */
    uint64_t cancelled;     /* ended with -ECANCELED (or cancelled before running) */
    uint64_t live;          /* spawned and not yet ended */
    bool timed;             /* debug mode: the distributions are measured */
    cio_duration_stats lifetime;  /* spawn to end (debug mode; else empty) */
    cio_duration_stats run_time;  /* time spent running (debug mode; else empty) */
} cio_task_stats;

/* Copy loop's statistics (NULL: the calling thread's loop) into *out; all
 * zero if there is no loop. Never blocks. */
void cio_loop_task_stats(cio_loop *loop, cio_task_stats *out);

/* Add one sample of ns nanoseconds (negative counts as 0) to d, which
 * starts zeroed: the same distribution as the task statistics', for a
 * program's own timings (request latencies...). Never blocks. */
void cio_duration_add(cio_duration_stats *d, int64_t ns);

/* The q-quantile (0 <= q <= 1) of d in nanoseconds, estimated from its
 * histogram: linear within the bucket holding it, clamped to [min, max], so
 * it is exact when every sample is equal and otherwise within the bucket
 * (a factor of 2). 0 when d is empty. */
int64_t cio_duration_quantile(const cio_duration_stats *d, double q);

/* The mean of d in nanoseconds (0 when empty). */
int64_t cio_duration_mean(const cio_duration_stats *d);

/* Print s on out, readable: the counts, then (if s->timed) for each
 * distribution count/min/mean/p50/p90/p99/max and its non-empty buckets as
 * a bar chart. Each line starts with prefix (may be NULL or ""). */
void cio_task_stats_print(const cio_task_stats *s, FILE *out, const char *prefix);

#pragma GCC visibility pop

#endif
