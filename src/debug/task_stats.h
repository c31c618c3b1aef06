/* task_stats.h — the scheduler's and the task code's hooks for task
 * statistics (cio/stats.h).
 *
 * Always: how tasks ended, one predictable branch per task (created and
 * finished cost nothing: they are derived). Debug mode only: lifetimes and
 * run times, a clock read per task switch, out of line so that the hot
 * paths pay one compare and branch on L->debug.
 */
#ifndef CIO_DEBUG_TASK_STATS_H
#define CIO_DEBUG_TASK_STATS_H

#include "stats_acc.h"
#include "../core/internal.h"

/* Debug mode, at every switch (now: the clock read by the switch hook,
 * src/debug/switch.c): charge the task switching away (from; NULL when the
 * loop context switches into a task) with the time since its slice began,
 * and begin the next slice now; at from's last switch (it has ended),
 * record its run time. */
void cio_stats_on_switch(cio_loop *L, cio_task *from, int64_t now);

/* Debug mode: t has ended; record its lifetime (its run time is recorded
 * at its last switch, which follows). */
__attribute__((cold, noinline)) void cio_stats_on_end(cio_loop *L, cio_task *t);

/* t has just ended with t->status. */
static inline __attribute__((always_inline)) void
cio_stats_task_ended(cio_loop *L, cio_task *t)
{
    if (__builtin_expect(t->status < 0, 0)) {
        if (t->status == -ECANCELED)
            L->task_stats.cancelled++;
        else
            L->task_stats.failed++;
    }
    if (__builtin_expect(L->debug, 0))
        cio_stats_on_end(L, t);
}

#endif
