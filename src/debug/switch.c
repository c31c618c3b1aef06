/* switch.c — debug mode's hook on every task switch. The run-time
 * statistics (stats.c) and the watchdog (watchdog.c) both time each run;
 * they share one clock read, the main cost of debug mode per switch. */
#include "debug.h"
#include "task_stats.h"

void cio_debug_on_switch(cio_loop *L, cio_task *from, cio_task *to)
{
    int64_t now = cio_debug_clock();
    cio_stats_on_switch(L, from, now);
    if (L->dbg)
        cio_debug_switch(L, to, now);
}
