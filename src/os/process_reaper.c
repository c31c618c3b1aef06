/* process_reaper.c — the loop reaps the children of closed processes.
 *
 * A process closed while its child runs becomes an orphan: the loop keeps
 * it (its pidfd) on a list, with a background POLL request on the pidfd
 * whose done callback (loop context) reaps the child and closes the pidfd
 * (the object's memory is freed at the reaper's next call: not inside the
 * callback, while the poller may still be walking its cio_fd).
 * When the loop closes, the children still running are killed (SIGKILL)
 * and reaped before it is gone: no zombie outlives the loop, and none is
 * waited for for ever (docs/decisions.md, "Subprocesses: no zombie").
 * That includes the children of processes the program never closed (still
 * tracked as open handles: they stay tracked, for debug mode's report of
 * handles left open, and their memory is the program's leak).
 */
#include "process_internal.h"
#include "daemon_req.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/pidfd.h>
#include <unistd.h>

typedef struct reaper {
    cio_process *head;          /* children still to reap */
    size_t count;
    cio_process *dead;          /* reaped, pidfd closed, memory to free: a
                                   done callback must not free the cio_fd
                                   the poller is walking */
    bool closing;               /* the loop is closing: done callbacks keep off */
} reaper;

static void free_dead(reaper *r)
{
    while (r->dead) {
        cio_process *p = r->dead;
        r->dead = p->orphan_next;
        free(p);
    }
}

/* p's child is reaped (or gone): close its pidfd now, free it later. */
static void bury(reaper *r, cio_process *p)
{
    cio_fd_abort(&p->pidfd);
    cio_fd_release(&p->pidfd);
    close(p->pidfd.fd);
    p->pidfd.fd = -1;
    p->orphan_next = r->dead;
    r->dead = p;
}

static reaper *reaper_of(cio_loop *L) { return L ? L->reaper : NULL; }

static void unlink_orphan(reaper *r, cio_process *p)
{
    for (cio_process **pp = &r->head; *pp; pp = &(*pp)->orphan_next) {
        if (*pp == p) {
            *pp = p->orphan_next;
            r->count--;
            return;
        }
    }
}

static void watch(reaper *r, cio_process *p);

static void on_ready(cio_io_req *req)
{
    cio_daemon_done(&cio_tls_loop->poller);
    cio_process *p = req->ctx;
    reaper *r = reaper_of(cio_tls_loop);
    if (r->closing)
        return;                 /* reaper_close takes over */
    watch(r, p);
}

/* Reap p if its child exited, else wait (again) for the pidfd. */
static void watch(reaper *r, cio_process *p)
{
    for (;;) {
        int rc = cio_process_reap(p, false);
        if (rc != 0) {
            unlink_orphan(r, p);
            bury(r, p);         /* reaped, or gone (-ECHILD) */
            return;
        }
        cio_io_req *req = &p->reap_req;
        *req = (cio_io_req){ .op = CIO_OP_POLL, .flags = POLLIN, .fd = &p->pidfd,
                             .done = on_ready, .ctx = p };
        rc = cio_daemon_submit(&cio_tls_loop->poller, req);
        if (rc == 0)
            return;             /* on_ready runs when it exits */
        if (rc < 0)
            return;             /* left for reaper_close */
    }
}

const char cio_process_kind[] = "process";

/* The children of processes never closed: kill and reap them, keep the
 * objects as they are (tracked, pidfd open: leaked by the program). */
static void reap_unclosed(cio_loop *L)
{
    for (cio_handle *h = L->handles; h; h = h->next) {
        if (h->kind != cio_process_kind)
            continue;
        cio_process *p = (cio_process *)((char *)h - offsetof(cio_process, handle));
        if (p->reaped)
            continue;
        pidfd_send_signal(p->pidfd.fd, SIGKILL, NULL, 0);
        siginfo_t si = { 0 };
        while (waitid(P_PIDFD, (id_t)p->pidfd.fd, &si, WEXITED) < 0 && errno == EINTR)
            ;
        if (si.si_pid)
            cio_process_set_status(p, &si);
    }
}

static void reaper_close(cio_loop *L)
{
    reaper *r = L->reaper;
    reap_unclosed(L);
    r->closing = true;
    for (cio_process *p = r->head; p; p = p->orphan_next) {
        pidfd_send_signal(p->pidfd.fd, SIGKILL, NULL, 0);
        cio_poller_cancel(&L->poller, &p->reap_req);
    }
    for (cio_process *p = r->head; p; p = p->orphan_next)
        while (p->reap_req.state == CIO_REQ_PENDING)
            cio_poller_wait(&L->poller, -1);
    while (r->head) {
        cio_process *p = r->head;
        r->head = p->orphan_next;
        int ignored = cio_process_reap(p, true);
        (void)ignored;
        cio_process_free(p);
    }
    free_dead(r);
    free(r);
    L->reaper = NULL;
    L->reaper_close = NULL;
}

int cio_process_reaper_attach(void)
{
    cio_loop *L = cio_tls_loop;
    if (L->reaper)
        return 0;
    reaper *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    L->reaper = r;
    L->reaper_close = reaper_close;
    return 0;
}

void cio_process_orphan(cio_process *p)
{
    reaper *r = reaper_of(cio_tls_loop);   /* attached by the spawn */
    free_dead(r);
    cio_handle_untrack(&p->handle);
    p->orphan_next = r->head;
    r->head = p;
    r->count++;
    watch(r, p);
}

size_t cio_process_orphans(void)
{
    reaper *r = reaper_of(cio_tls_loop);
    if (!r)
        return 0;
    free_dead(r);
    return r->count;
}
