/* progress.c — the progress bar. */
#include "progress.h"

#include <stdio.h>

#define BAR_WIDTH 30

static void draw(progress *p)
{
    const crawl_stats *st = p->st;
    uint64_t done = st->succeeded + st->redirects + crawl_failed_total(st);
    uint64_t total = done + *p->in_flight + *p->waiting;
    int fill = total ? (int)(done * BAR_WIDTH / total) : 0;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    double secs = (double)(cio_now() - st->start) / 1e9;
    fprintf(stderr, "\r\033[K[%s] %llu/%llu  %zu in flight  %llu failed  %.1f KB  %.1f/s",
            bar, (unsigned long long)done, (unsigned long long)total, *p->in_flight,
            (unsigned long long)crawl_failed_total(st), (double)st->bytes / 1024,
            secs > 0 ? (double)done / secs : 0.0);
    fflush(stderr);
    p->drawn = true;
}

static int redraw(void *arg)
{
    progress *p = arg;
    do
        draw(p);
    while (cio_sleep(200 * CIO_MS) == 0);
    return 0;
}

void progress_start(progress *p, bool enabled, const crawl_stats *st,
                    const size_t *in_flight, const size_t *waiting)
{
    *p = (progress){ .st = st, .in_flight = in_flight, .waiting = waiting };
    if (enabled && cio_task_spawn(&p->task, redraw, p, &(cio_task_opts){ .name = "progress" }) < 0)
        p->task = NULL;                     /* no bar: not worth failing for */
}

void progress_clear(progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        p->drawn = false;
    }
}

void progress_stop(progress *p)
{
    if (!p->task)
        return;
    cio_task_cancel(p->task);
    cio_scope sc;                           /* join even if we are cancelled */
    cio_scope_enter_shielded(&sc, CIO_NEVER);
    int rc = cio_task_join(p->task, NULL);
    (void)rc;
    int lrc = cio_scope_leave(&sc);
    (void)lrc;
    p->task = NULL;
    progress_clear(p);
}
