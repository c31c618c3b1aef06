/* handle.c — the loop's registry of open handles (see handle.h). */
#include "handle.h"

#include <stdlib.h>

#include "../core/internal.h"

void cio_handle_track(cio_handle *h, const char *kind, int fd)
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

void cio_handle_close_all(cio_loop *L)
{
    while (L->handles)
        cio_handle_untrack(L->handles);
}
