/* task_stats.h — the scheduler's and the task code's hooks for task
 * statistics (cio/stats.h), inline because spawn and finish run them.
 *
 * Always: counts and lifetimes, from the loop's cached clock (a dozen
 * instructions per task, no branch that mispredicts). Debug mode only: run
 * time, one clock read per task switch.
 */
#ifndef CIO_DEBUG_TASK_STATS_H
#define CIO_DEBUG_TASK_STATS_H

#include <time.h>

#include "stats_acc.h"
#include "../core/internal.h"

/* Bucket 0 holds [0, 2) ns, bucket i [2^i, 2^(i+1)): one OR and one bit
 * scan. */
static inline int cio_duration_bucket(int64_t ns)
{
    return 63 - __builtin_clzll((uint64_t)ns | 1);
}

/* ns is never negative: both clocks only move forward. */
static inline __attribute__((always_inline)) void
cio_duration_acc_add(cio_duration_acc *d, int64_t ns)
{
    d->sum_ns += ns;
    d->buckets[cio_duration_bucket(ns)]++;
    if (ns > d->max_ns)
        d->max_ns = ns;
    if (INT64_MAX - ns > d->min_inv)
        d->min_inv = INT64_MAX - ns;
}

/* The clock run times are measured with (the real one, even when the loop
 * runs on the virtual clock: a running task does not move that one). */
static inline int64_t cio_stats_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Debug mode, at every switch away from t: charge t with the time since
 * its slice began and begin the next slice (the next task's) now. */
static inline void cio_stats_slice_end(cio_loop *L, cio_task *t)
{
    int64_t now = cio_stats_clock();
    t->run_ns += now - L->slice_start;
    L->slice_start = now;
}

/* The same, out of line for the scheduler's hot path: its call site is one
 * compare and branch, with no stack frame of its own to pay for. */
__attribute__((cold, noinline)) void cio_stats_on_switch(cio_loop *L, cio_task *t);

/* Debug mode, when the loop context switches into a task. */
static inline void cio_stats_slice_begin(cio_loop *L)
{
    L->slice_start = cio_stats_clock();
}

/* t has just ended with t->status. */
static inline __attribute__((always_inline)) void
cio_stats_task_ended(cio_loop *L, cio_task *t)
{
    cio_task_stats_acc *s = &L->task_stats;
    if (__builtin_expect(t->status < 0, 0)) {
        if (t->status == -ECANCELED)
            s->cancelled++;
        else
            s->failed++;
    }
    cio_duration_acc_add(&s->lifetime, L->now - t->spawned_at);
    if (__builtin_expect(L->debug, 0)) {
        cio_stats_slice_end(L, t);
        cio_duration_acc_add(&s->run_time, t->run_ns);
    }
}

#endif
