/* stats_acc.h — the loop's running totals behind cio/stats.h, laid out so
 * that recording a task costs a few instructions (task_stats.h); the public
 * figures are derived from them when read (stats.c). */
#ifndef CIO_DEBUG_STATS_ACC_H
#define CIO_DEBUG_STATS_ACC_H

#include <stdint.h>

#include "cio/stats.h"

/* A distribution being recorded. A zeroed one is empty: the count is the
 * sum of the buckets and the minimum is kept as INT64_MAX - min, so that
 * neither needs a store or a test of its own per sample. */
typedef struct cio_duration_acc {
    int64_t sum_ns, max_ns;
    int64_t min_inv;                /* INT64_MAX - min (0: no sample) */
    uint64_t buckets[CIO_DURATION_BUCKETS];
} cio_duration_acc;

/* created is derived from the task ids taken (cio_task_created_count),
 * finished from created - live - failed - cancelled. The distributions are
 * recorded in debug mode only. */
typedef struct cio_task_stats_acc {
    uint64_t id_blocks, failed, cancelled;
    cio_duration_acc lifetime, run_time;
} cio_task_stats_acc;

#endif
