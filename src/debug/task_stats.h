/* task_stats.h — the scheduler's and the task code's hooks for task
 * statistics (cio/stats.h), inline because spawn and finish run them.
 *
 * Always: counts and lifetimes, from the loop's cached clock (a few adds
 * per task). Debug mode only: run time, one clock read per task switch.
 */
#ifndef CIO_DEBUG_TASK_STATS_H
#define CIO_DEBUG_TASK_STATS_H

#include <time.h>

#include "cio/stats.h"
#include "../core/internal.h"

static inline int cio_duration_bucket(int64_t ns)
{
    return ns <= 0 ? 0 : 64 - __builtin_clzll((uint64_t)ns);
}

static inline void cio_duration_add(cio_duration_stats *d, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    if (d->count == 0 || ns < d->min_ns)
        d->min_ns = ns;
    if (ns > d->max_ns)
        d->max_ns = ns;
    d->count++;
    d->sum_ns += ns;
    d->buckets[cio_duration_bucket(ns)]++;
}

/* The clock run times are measured with (the real one, even when the loop
 * runs on the virtual clock: a running task does not move that one). */
static inline int64_t cio_stats_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Debug mode, at every switch away from t: charge t with the time since it
 * (or the task before it in this slice) was switched in, and start the next
 * slice now. */
static inline void cio_stats_slice_end(cio_loop *L, cio_task *t)
{
    int64_t now = cio_stats_clock();
    t->run_ns += now - L->slice_start;
    L->slice_start = now;
}

/* Debug mode, when the loop context switches into a task. */
static inline void cio_stats_slice_begin(cio_loop *L)
{
    L->slice_start = cio_stats_clock();
}

/* t has just ended with t->status. */
static inline void cio_stats_task_ended(cio_loop *L, cio_task *t)
{
    cio_task_stats *s = &L->task_stats;
    if (t->status >= 0)
        s->finished++;
    else if (t->status == -ECANCELED)
        s->cancelled++;
    else
        s->failed++;
    cio_duration_add(&s->lifetime, L->now - t->spawned_at);
    if (__builtin_expect(L->debug, 0)) {
        cio_stats_slice_end(L, t);
        cio_duration_add(&s->run_time, t->run_ns);
    }
}

#endif
