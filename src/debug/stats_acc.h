/* stats_acc.h — the loop's running totals behind cio/stats.h. */
#ifndef CIO_DEBUG_STATS_ACC_H
#define CIO_DEBUG_STATS_ACC_H

#include <stdint.h>

#include "cio/stats.h"

/* created is derived from the task ids taken (cio_task_created_count),
 * finished from created - live - failed - cancelled, so that counting
 * costs a spawn nothing. The distributions are recorded in debug mode
 * only (stats.c). */
typedef struct cio_task_stats_acc {
    uint64_t id_blocks, failed, cancelled;
    cio_duration_stats lifetime, run_time;
} cio_task_stats_acc;

#endif
