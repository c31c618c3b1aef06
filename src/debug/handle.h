/* handle.h — the loop's registry of open handles (sockets, files,
 * processes), so that a loop closed in debug mode can say which were never
 * closed and where they were made.
 *
 * Each handle object embeds a cio_handle, calls cio_handle_track when it is
 * opened and cio_handle_untrack when it is closed. Tracking links the
 * record into the current loop's list (a few stores); in debug mode it also
 * records the creating task and stack.
 */
#ifndef CIO_DEBUG_HANDLE_H
#define CIO_DEBUG_HANDLE_H

#include <stdint.h>

typedef struct cio_loop cio_loop;

typedef struct cio_handle {
    struct cio_handle *prev, *next;
    cio_loop *loop;             /* NULL: not tracked */
    const char *kind;           /* "socket", "file", "process", ... (static) */
    int fd;                     /* -1 if none */
    struct cio_handle_site *site;   /* debug mode: where it was made */
} cio_handle;

/* Link h into the calling thread's loop (nothing if there is none). */
void cio_handle_track(cio_handle *h, const char *kind, int fd);

/* Unlink h (nothing if it was never tracked or is already untracked). */
void cio_handle_untrack(cio_handle *h);

/* The loop is closing: report the handles still tracked (debug mode) and
 * forget them all. */
void cio_handle_close_all(cio_loop *L);

#endif
