/* report.c — debug mode's report at loop close: tasks never joined, then
 * the task statistics (the rules are in cio/stats.h). */
#include "report.h"

#include <stdio.h>

#include "../core/internal.h"
#include "cio/error.h"
#include "cio/stats.h"

/* A task somebody held a handle to and never joined. Failures are left
 * out: the loop reports those in any mode. Tasks that never ended (they
 * ignored the close's cancellation) were reported as blocked. */
static bool never_joined(const cio_task *t)
{
    return t->state == CIO_TASK_DONE && !t->detached && !t->group &&
           !t->retrieved && !cio_status_failed(t->status);
}

static void report_unjoined(cio_loop *L)
{
    for (cio_task *t = L->all_head; t; t = t->all_next) {
        if (!never_joined(t))
            continue;
        if (t->pending_at_close)
            fprintf(stderr, "cio: debug: task '%s' (id %llu) was never joined: "
                            "it was still pending at loop close and was "
                            "cancelled by it\n",
                    cio_task_name(t), (unsigned long long)t->id);
        else if (t->status == -ECANCELED)
            fprintf(stderr, "cio: debug: task '%s' (id %llu) was never joined "
                            "(it was cancelled)\n",
                    cio_task_name(t), (unsigned long long)t->id);
        else
            fprintf(stderr, "cio: debug: task '%s' (id %llu) was never joined "
                            "(it returned %d)\n",
                    cio_task_name(t), (unsigned long long)t->id, t->status);
    }
}

void cio_debug_report_close(cio_loop *L)
{
    report_unjoined(L);
    cio_task_stats s;
    cio_loop_task_stats(L, &s);
    fprintf(stderr, "cio: debug: task statistics at loop close:\n");
    cio_task_stats_print(&s, stderr, "cio: debug:   ");
}
