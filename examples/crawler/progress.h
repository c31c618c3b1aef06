/* progress.h — a one-line progress bar on stderr, redrawn a few times a
 * second by a task of its own, while the crawl runs. Only when asked
 * (main.c asks when stderr is a terminal). */
#ifndef CRAWLER_PROGRESS_H
#define CRAWLER_PROGRESS_H

#include <cio.h>

#include "crawler.h"

typedef struct progress {
    const crawl_stats *st;
    const size_t *in_flight, *waiting;
    cio_task *task;
    bool drawn;
} progress;

/* Start redrawing (if enabled). Never blocks. */
void progress_start(progress *p, bool enabled, const crawl_stats *st,
                    const size_t *in_flight, const size_t *waiting);
/* Clear the line, so a log line can be printed. */
void progress_clear(progress *p);
/* Stop redrawing and clear the line. Blocks briefly (joins the task). */
void progress_stop(progress *p);

#endif
