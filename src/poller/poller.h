/* poller.h — the narrow interface between the loop and the kernel's
 * readiness (epoll) or completion (io_uring) machinery, after Redis's ae.c.
 *
 * Everything above speaks in *requests*: one operation (recv, send, accept,
 * connect, poll...) on one registered descriptor, finished by the backend,
 * which then calls the request's done callback in the loop context. A task
 * that blocks on I/O submits a request and parks until done (src/io/io.c);
 * a stream's background flush submits one and carries on. Both backends
 * give the same guarantees:
 *   - done runs exactly once per started request, never inside submit;
 *   - requests on one side (read or write) of a descriptor finish in order;
 *   - after cancel, done still runs (at once on epoll, at the kernel's final
 *     completion on io_uring) and res tells what really happened: -ECANCELED
 *     if nothing did, or what the operation delivered if it won the race, so
 *     no received byte, accepted connection or sent count is lost.
 *
 * One backend per loop, chosen when it is made (CIO_BACKEND=epoll|io_uring|
 * auto). Backends live in one file each: epoll.c, uring.c.
 */
#ifndef CIO_POLLER_H
#define CIO_POLLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

enum cio_io_opcode {
    CIO_OP_RECV,        /* recv(fd, buf, len, flags) */
    CIO_OP_SEND,        /* send(fd, buf, len, flags | MSG_NOSIGNAL) */
    CIO_OP_RECVMSG,     /* recvmsg(fd, msg, flags) */
    CIO_OP_SENDMSG,     /* sendmsg(fd, msg, flags | MSG_NOSIGNAL) */
    CIO_OP_ACCEPT,      /* accept4(fd, addr, addrlen, SOCK_NONBLOCK|SOCK_CLOEXEC) */
    CIO_OP_CONNECT,     /* connect(fd, addr, addrlen): 0 once connected */
    CIO_OP_POLL,        /* wait for POLLIN/POLLOUT in flags; res: revents */
    CIO_OP_READ,        /* read(fd, buf, len) at the current offset */
    CIO_OP_WRITE,       /* write(fd, buf, len) at the current offset */
    /* File operations (backends with file_ops): fd-less requests (r->fd is
     * NULL; the arguments are in r->file), never queued behind one another,
     * so several may run on one file at once. */
    CIO_OP_PREAD,       /* pread(fd, buf, len, off); off -1: read at the offset */
    CIO_OP_PWRITE,      /* pwrite(fd, buf, len, off); off -1: write at the offset */
    CIO_OP_FSYNC,       /* fsync(fd); flags CIO_FSYNC_DATA: fdatasync */
    CIO_OP_OPENAT,      /* openat(fd, path, flags, mode): the new descriptor */
    CIO_OP_CLOSE,       /* close(fd) */
    CIO_OP_STATX,       /* statx(fd, path, flags, STATX_BASIC_STATS, stx) */
    CIO_OP_RENAMEAT,    /* renameat2(fd, path, fd, path2, flags) */
    CIO_OP_UNLINKAT,    /* unlinkat(fd, path, flags) */
    CIO_OP_MKDIRAT,     /* mkdirat(fd, path, mode) */
};

/* CIO_OP_FSYNC's flags: fdatasync rather than fsync. */
#define CIO_FSYNC_DATA 1

static inline bool cio_op_is_file(uint8_t op)
{
    return op >= CIO_OP_PREAD && op <= CIO_OP_MKDIRAT;
}

/* The arguments of a file operation (what each opcode reads is above). */
typedef struct cio_file_args {
    int fd;                     /* the file, or the directory a relative path
                                   starts from (AT_FDCWD) */
    int flags;
    unsigned mode;
    void *buf;
    size_t len;
    int64_t off;
    const char *path, *path2;
    struct statx *stx;
    struct cio_file *owner;     /* the file whose descriptor this uses, if any
                                   (the thread pool keeps it open while a job
                                   that outlived its caller runs) */
} cio_file_args;

/* Which side of a descriptor an operation waits on (epoll's queues). */
static inline bool cio_op_is_write_side(uint8_t op)
{
    return op == CIO_OP_SEND || op == CIO_OP_SENDMSG || op == CIO_OP_CONNECT ||
           op == CIO_OP_WRITE;
}

enum cio_req_state { CIO_REQ_IDLE, CIO_REQ_PENDING, CIO_REQ_DONE };

typedef struct cio_fd cio_fd;
typedef struct cio_io_req cio_io_req;

struct cio_io_req {
    uint8_t op;                 /* enum cio_io_opcode */
    uint8_t state;              /* enum cio_req_state */
    bool started;               /* epoll: a connect is in progress;
                                   io_uring: waiting for readiness (the
                                   kernel said -EAGAIN) before the syscall */
    bool cancelling;            /* io_uring: cancel submitted; the request
                                   has left its descriptor's queue */
    bool on_mshot;              /* io_uring: the head of its queue, waiting
                                   for its descriptor's multishot recv (not
                                   itself in the ring) */
    int flags;                  /* msg flags, or poll events for CIO_OP_POLL */
    cio_fd *fd;
    union {
        struct { void *buf; size_t len; } io;            /* RECV SEND READ WRITE */
        struct msghdr *msg;                               /* RECVMSG SENDMSG */
        struct { struct sockaddr *addr; socklen_t *len; } accept;
        struct { const struct sockaddr *addr; socklen_t len; } connect;
        cio_file_args *file;                              /* file ops */
    };
    int64_t res;                /* >= 0 result, or a negative errno */
    void (*done)(cio_io_req *r);/* loop context; r->res is final */
    void *ctx;                  /* the submitter's */
    cio_io_req *next;           /* link in the descriptor's queue */
};

/* The side a request waits on. A poll for POLLOUT alone waits on the write
 * side (else epoll would retry it only on input events, and a wait for
 * writability would hang); any other poll on the read side. */
static inline bool cio_req_is_write_side(const cio_io_req *r)
{
    return cio_op_is_write_side(r->op) ||
           (r->op == CIO_OP_POLL && (r->flags & POLLOUT) && !(r->flags & POLLIN));
}

/* A descriptor registered with a loop's poller; embedded in the objects
 * that own descriptors (sockets, files). */
struct cio_fd {
    int fd;
    uint32_t gen;               /* epoll: tells a stale event from a live one */
    uint8_t flags;              /* CIO_FD_* (the owner's) */
    uint8_t ready;              /* epoll: CIO_READY_* may be ready: try first */
    /* Pending requests of each side, in order (both backends). epoll: those
     * waiting for readiness; io_uring: the head is in the ring, the others
     * wait for it to end. cio_fd_abort walks them. */
    cio_io_req *rq_head, *rq_tail;  /* read side */
    cio_io_req *wq_head, *wq_tail;  /* write side */
    struct cio_mshot *mshot;    /* io_uring: the multishot recv's state */
};

/* cio_fd.flags: a byte stream (TCP, Unix stream, pipe): a short read means
 * the kernel's buffer was emptied, a short write that it filled, so the
 * next call can wait for readiness without trying. */
#define CIO_FD_STREAM 1u
/* cio_fd.flags: a stream transport's socket, read only through poller
 * requests: io_uring may keep a multishot recv on it that reads ahead into
 * the backend's provided buffers (uring_mshot.c); what it read is served
 * to the next RECV/RECVMSG/POLL requests, so a direct read(2) on the
 * descriptor would miss it. */
#define CIO_FD_MSHOT 2u

#define CIO_READY_READ 1u
#define CIO_READY_WRITE 2u
/* epoll: the peer has shut down its side (or the connection failed): the
 * end of stream may sit behind the data, and no new edge will announce it,
 * so a short read no longer means the read side is drained. */
#define CIO_READY_HUP 4u

typedef struct cio_poller cio_poller;

/* Received bytes that a backend lends a reader: len bytes at data. */
typedef struct cio_loan {
    char *data;
    size_t len;
    uint64_t lender;            /* which poller lent it (never reused) */
    uint32_t id;
} cio_loan;

typedef struct cio_poller_backend {
    const char *name;
    /* submit runs the operation at once when it can, and cancel finishes a
     * pending request before it returns (epoll): a request may then point
     * at memory that is valid only for the call, and the backend keeps
     * cio_fd.ready up to date. A completion backend (io_uring) holds the
     * memory until the kernel's final result. */
    bool sync_cancel;
    /* The file operations (CIO_OP_PREAD...) go through submit. Without
     * them (epoll: a regular file is always "ready", so readiness says
     * nothing) the file layer runs them on the thread pool. A loop asks
     * cio_poller.file_ops, which the backend's open may clear when the
     * kernel lacks one of the operations. */
    bool file_ops;
    /* Set up p->impl. Returns 0 or a negative errno (-ENOSYS, -EPERM when
     * the kernel refuses the backend: auto then falls back). */
    int (*open)(cio_poller *p);
    void (*close)(cio_poller *p);
    /* Submit what is queued, wait at most timeout_ns (0: just look; < 0:
     * until something happens), run done of every finished request. Calls
     * cio_poller_drain_wake when the wake-up descriptor fires. Returns how
     * many requests finished, or a negative errno. */
    int (*wait)(cio_poller *p, int64_t timeout_ns);
    int (*fd_add)(cio_poller *p, cio_fd *f);
    /* Forget f. Its requests must all be done. */
    void (*fd_remove)(cio_poller *p, cio_fd *f);
    /* Start r (its op, fd and arguments set). Returns 1 if it finished at
     * once (r->res set, done not called), 0 if it is pending (done will be
     * called), or a negative errno if it could not be started. */
    int (*submit)(cio_poller *p, cio_io_req *r);
    /* Ask a pending r to end. done still runs exactly once: on epoll before
     * cancel returns, on io_uring when the kernel gives the final result
     * (before cancel returns if r was still queued behind another). On both,
     * r has left f's queues when cancel returns, so after cio_fd_abort the
     * backend no longer touches f. */
    void (*cancel)(cio_poller *p, cio_io_req *r);
    /* Optional (NULL: not offered), with loan_end: take what f's reads got
     * ahead without copying it: memory of the backend's, in *l, that the
     * caller reads (never writes) until it gives it back with loan_end.
     * Returns the count, 0 at end of stream, -EAGAIN if nothing is there
     * (a poll for input waits for it), -ENOBUFS if the caller must read
     * into memory of its own this time, -EOPNOTSUPP if the backend cannot
     * for f, or a negative errno. io_uring: the provided buffer a
     * multishot recv filled (uring_mshot.c). */
    ssize_t (*loan_recv)(cio_poller *p, cio_fd *f, cio_loan *l);
    /* Give l back; nothing if p did not lend it (another loop's). */
    void (*loan_end)(cio_poller *p, const cio_loan *l);
} cio_poller_backend;

struct cio_poller {
    const cio_poller_backend *be;
    void *impl;                 /* the backend's state */
    int wakefd;                 /* eventfd: other threads wake the loop */
    size_t inflight;            /* pending requests: each can wake a task */
    atomic_bool sleeping;       /* inside a blocking wait: a wake must write */
    atomic_bool woken;          /* a wake is pending */
    bool file_ops;              /* be->file_ops, and the kernel has them */
};

extern const cio_poller_backend cio_backend_epoll;
extern const cio_poller_backend cio_backend_uring;

/* Open p with the backend named by want ("epoll", "io_uring", "auto" or NULL
 * for auto; auto means io_uring when the kernel allows it, else epoll).
 * Returns 0 or a negative errno (-EINVAL for an unknown name). */
int cio_poller_open(cio_poller *p, const char *want);
void cio_poller_close(cio_poller *p);

/* Wait at most timeout_ns (0: just look; < 0: until woken) and run what
 * finished. Returns how many requests finished, or a negative errno. */
int cio_poller_wait(cio_poller *p, int64_t timeout_ns);

/* Wake a loop blocked in cio_poller_wait. Safe from any thread. A producer
 * publishes its work (e.g. a queued call, counted with a seq_cst atomic)
 * before it wakes; cio_poller_wait clears the wake flag with a seq_cst store
 * so the loop's later seq_cst check of that work cannot miss it. */
void cio_poller_wake(cio_poller *p);

/* Backends call this when the wake-up eventfd fires. */
void cio_poller_drain_wake(cio_poller *p);

/* True if a wake is pending (consumed by the next cio_poller_wait). */
static inline int cio_poller_wake_pending(cio_poller *p)
{
    return atomic_load_explicit(&p->woken, memory_order_acquire);
}

static inline int cio_poller_fd_add(cio_poller *p, cio_fd *f)
{
    return p->be->fd_add(p, f);
}

static inline void cio_poller_fd_remove(cio_poller *p, cio_fd *f)
{
    p->be->fd_remove(p, f);
}

/* Submit r; counts it in flight while pending (see the backend's submit). */
static inline int cio_poller_submit(cio_poller *p, cio_io_req *r)
{
    r->state = CIO_REQ_PENDING;
    int rc = p->be->submit(p, r);
    if (rc == 0)
        p->inflight++;
    else
        r->state = rc > 0 ? CIO_REQ_DONE : CIO_REQ_IDLE;
    return rc;
}

static inline void cio_poller_cancel(cio_poller *p, cio_io_req *r)
{
    if (r->state == CIO_REQ_PENDING)
        p->be->cancel(p, r);
}

/* Backends finish a pending request through this. */
static inline void cio_poller_complete(cio_poller *p, cio_io_req *r, int64_t res)
{
    r->res = res;
    r->state = CIO_REQ_DONE;
    p->inflight--;
    r->done(r);
}

/* Run r's syscall once, non-blocking: its result, or -EAGAIN. Shared by the
 * epoll backend and io_uring's try-first paths. */
int64_t cio_op_try(cio_io_req *r);

#endif
