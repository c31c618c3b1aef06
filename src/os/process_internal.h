/* process_internal.h — the process object, shared by the process_*.c files. */
#ifndef CIO_OS_PROCESS_INTERNAL_H
#define CIO_OS_PROCESS_INTERNAL_H

#include <signal.h>

#include "cio/process.h"
#include "../debug/handle.h"
#include "../io/io.h"

struct cio_process {
    cio_handle handle;          /* "process", the pidfd; untracked when reaped */
    cio_fd pidfd;               /* registered with the loop's poller */
    pid_t pid;
    bool new_group;
    bool reaped;
    int code;                   /* exit code, or -1 (after reaped) */
    int sig;                    /* killing signal, or 0 (after reaped) */
    cio_stream *in, *out, *err; /* the pipes, NULL if none */
    /* The loop's reaper, once closed while the child runs. */
    cio_io_req reap_req;        /* the background poll on the pidfd */
    struct cio_process *orphan_next;
};

/* Reap p's child if it has exited (block: wait until it does, no poller).
 * Returns 1 if reaped (status recorded), 0 if it still runs, or a negative
 * errno. */
int cio_process_reap(cio_process *p, bool block);

/* Record the status waitid reported in si (p's child is reaped). */
void cio_process_set_status(cio_process *p, const siginfo_t *si);

/* The status cio_process_wait returns for a reaped child. */
int cio_process_status(const cio_process *p);

/* Unregister and close the pidfd, free p (the streams must be gone). */
void cio_process_free(cio_process *p);

/* Hand p (streams closed, child still running) to the loop's reaper. */
void cio_process_orphan(cio_process *p);

/* The kind p->handle is tracked as (one string: compared by address). */
extern const char cio_process_kind[];

/* Make sure the current loop has its reaper, whose close hook also kills
 * and reaps the children of processes never closed. Returns 0 or -ENOMEM. */
int cio_process_reaper_attach(void);

#endif
