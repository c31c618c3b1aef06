/* uring_internal.h — what the io_uring backend's files share: uring.c (the
 * ring, requests, completions) and uring_mshot.c (multishot recv into
 * provided buffers for stream transports' sockets).
 */
#ifndef CIO_POLLER_URING_INTERNAL_H
#define CIO_POLLER_URING_INTERNAL_H

#include <liburing.h>

#include "poller.h"

enum {
    WAKE_TAG = 1,       /* the poll on the wake-up eventfd */
    CANCEL_TAG = 2,     /* an ASYNC_CANCEL: its own CQE says nothing we need */
    TAG_LIMIT = 8,      /* user_data below this is a tag, else an address */
    POLL_PHASE = 1,     /* low bit of a request's address: waiting on POLL_ADD */
    MSHOT_BIT = 2,      /* bit 1 of a cio_mshot's address: its multishot recv */
};

/* A CQE set aside while completions may not run (see flush_sq). */
typedef struct stashed_cqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} stashed_cqe;

typedef struct cio_mshot cio_mshot;

typedef struct uring_state {
    struct io_uring ring;
    bool wake_multishot;        /* the wake-up poll stays armed */
    bool recv_poll_first;       /* the kernel takes IORING_RECVSEND_POLL_FIRST */
    bool dropped_reported;
    stashed_cqe *stash;
    size_t nstash, stash_cap;
    /* Multishot recv (uring_mshot.c). */
    int mshot_mode;             /* 1 ready, 0 not set up yet, -1 off */
    struct io_uring_buf_ring *br;
    unsigned nbuf;              /* buffers in the ring (a power of two) */
    char *bufs;                 /* the provided buffers */
    uint16_t *buf_next;         /* FIFO links of held buffers, by id */
    uint32_t *buf_len;          /* bytes received into each held buffer */
    unsigned bufs_held;         /* out of the ring: in FIFOs, or lent */
    uint64_t lender;            /* this ring's id in its loans */
    cio_mshot *all;             /* every cio_mshot, live or orphaned */
    cio_mshot *ready;           /* those whose head request can be served */
} uring_state;

/* uring.c */
struct io_uring_sqe *cio_uring_get_sqe(uring_state *s);
/* The running kernel's release is at least major.minor (uname). */
bool cio_uring_kernel_at_least(unsigned major, unsigned minor);
void cio_uring_flush_sq(uring_state *s);
/* Put r's own operation in the ring. */
void cio_uring_start_plain(uring_state *s, cio_io_req *r);
/* r, the head of its queue, leaves it; the next request starts. */
void cio_uring_pop_head(uring_state *s, cio_io_req *r);

/* uring_mshot.c */
void cio_mshot_init(uring_state *s);
void cio_mshot_close(uring_state *s);
/* Does r (a read-side request) go through its descriptor's multishot? */
bool cio_mshot_wants(const uring_state *s, const cio_io_req *r);
/* r would be the head of its queue: if read-ahead data (or the end) is
 * there, serve it now (r->res set) and return true. */
bool cio_mshot_serve_now(uring_state *s, cio_io_req *r);
/* r has become the head of its queue. */
void cio_mshot_start(uring_state *s, cio_io_req *r);
/* r (on_mshot) is cancelled: it leaves the queue, done runs now. */
void cio_mshot_cancel(cio_poller *p, cio_io_req *r);
/* A CQE of a multishot recv; returns how many requests finished. */
int cio_mshot_on_cqe(cio_poller *p, cio_mshot *m, int32_t res, uint32_t flags);
/* Serve the heads made servable outside the reaping; how many finished. */
int cio_mshot_run_ready(cio_poller *p);
void cio_mshot_fd_remove(uring_state *s, cio_fd *f);
/* The backend's loan_recv and loan_end (poller.h). */
ssize_t cio_mshot_loan(cio_poller *p, cio_fd *f, cio_loan *l);
void cio_mshot_loan_end(cio_poller *p, const cio_loan *l);

#endif
