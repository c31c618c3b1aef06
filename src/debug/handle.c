/* handle.c — the loop's registry of open handles (see handle.h). */
#include "handle.h"

#include <stdio.h>
#include <stdlib.h>

#include "../core/internal.h"
#include "backtrace.h"

#define SITE_FRAMES 16

/* Debug mode: where a handle was made. */
struct cio_handle_site {
    uint64_t task_id;           /* 0: made outside any task */
    char task_name[32];
    int frames;
    void *pcs[SITE_FRAMES];
};

/* Record the current task and the stack from the function that called
 * cio_handle_track outwards. A failed allocation only loses the record. */
__attribute__((noinline)) static struct cio_handle_site *record_site(cio_loop *L)
{
    struct cio_handle_site *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->task_id = 0;
    snprintf(s->task_name, sizeof s->task_name, "%s", "(no task)");
    if (L->current) {
        s->task_id = L->current->id;
        snprintf(s->task_name, sizeof s->task_name, "%s",
                 cio_task_name(L->current));
    }
    /* skip 2: record_site and cio_handle_track. */
    s->frames = cio_backtrace_capture(s->pcs, SITE_FRAMES, 2);
    return s;
}

/* noinline: the stack recorded skips exactly this frame and record_site's. */
__attribute__((noinline)) void cio_handle_track(cio_handle *h, const char *kind, int fd)
{
    cio_loop *L = cio_tls_loop;
    h->kind = kind;
    h->fd = fd;
    h->site = NULL;
    h->loop = L;
    h->prev = NULL;
    if (!L) {
        h->next = NULL;
        return;
    }
    h->next = L->handles;
    if (L->handles)
        L->handles->prev = h;
    L->handles = h;
    if (__builtin_expect(L->debug, 0))
        h->site = record_site(L);
}

void cio_handle_untrack(cio_handle *h)
{
    cio_loop *L = h->loop;
    if (!L)
        return;
    if (h->prev)
        h->prev->next = h->next;
    else
        L->handles = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->loop = NULL;
    h->prev = h->next = NULL;
    free(h->site);
    h->site = NULL;
}

static void report_one(const cio_handle *h)
{
    const struct cio_handle_site *s = h->site;
    fprintf(stderr, "cio: debug: %s (fd %d) was never closed", h->kind, h->fd);
    if (!s) {
        fprintf(stderr, "\n");
        return;
    }
    if (s->task_id)
        fprintf(stderr, "; made by task '%s' (id %llu) at:\n", s->task_name,
                (unsigned long long)s->task_id);
    else
        fprintf(stderr, "; made outside any task at:\n");
    cio_backtrace_print(stderr, s->pcs, s->frames, "cio: debug:     ");
}

/* Debug mode: name every handle still open, oldest first. They are not
 * closed (cio/stats.h says why): the loop only forgets them. */
static void report_open(cio_loop *L)
{
    cio_handle *oldest = L->handles;
    size_t n = 0;
    for (cio_handle *h = L->handles; h; h = h->next, n++)
        oldest = h;
    if (!n)
        return;
    fprintf(stderr, "cio: debug: %zu handle%s left open at loop close (not "
                    "closed by the loop):\n", n, n == 1 ? "" : "s");
    for (cio_handle *h = oldest; h; h = h->prev)
        report_one(h);
}

void cio_handle_close_all(cio_loop *L)
{
    if (L->debug)
        report_open(L);
    while (L->handles)
        cio_handle_untrack(L->handles);
}
