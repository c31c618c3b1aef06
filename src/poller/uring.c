/* uring.c — the completion backend: io_uring through liburing.
 *
 * A request becomes one SQE whose user_data is the request's address, and
 * its CQE carries the final result. submit and cancel only fill SQEs (the
 * SQ is flushed early only when full); the loop's wait submits them all and
 * waits in the same io_uring_enter, then reaps every CQE.
 *
 * Per descriptor side (read or write), one request at a time is in the
 * ring: the head of the cio_fd's queue; the others wait behind it and start
 * when it ends. So each side finishes in order, as on epoll, and
 * cio_fd_abort finds every request in the queues.
 *
 * Cancel sends IORING_OP_ASYNC_CANCEL for the request and detaches it from
 * its descriptor's queue at once (the next request starts behind the cancel
 * SQE, so it cannot overtake the cancelled one): its final CQE, whenever it
 * comes, touches only the request, never the cio_fd, which its owner may
 * have freed after cio_fd_abort. done then runs with what really happened.
 *
 * File operations (pread, pwrite, fsync, openat, close, statx, renameat,
 * unlinkat, mkdirat) have no cio_fd: they go into the ring at once, never
 * queued behind each other, and their cancel touches no queue. A regular
 * file's read or write that the kernel hands to a worker may not stop when
 * cancelled: the cancel then waits for its real result, like any other.
 *
 * Where the kernel answers -EAGAIN instead of waiting (a recv or send asked
 * with MSG_DONTWAIT; on older kernels READ/WRITE on some O_NONBLOCK files),
 * the request waits on a one-shot POLL_ADD (user_data: its address |
 * POLL_PHASE) and runs its system call when the descriptor is ready, as on
 * epoll.
 *
 * Every operation goes through the ring, none is tried first with a system
 * call, and descriptors are not registered (fixed) files: both measured no
 * better in the echo benchmark (docs/decisions.md, "io_uring backend").
 * A recv on a stream socket is asked IORING_RECVSEND_POLL_FIRST (Linux
 * 5.19): it usually comes right after a send, before the peer has answered,
 * so the kernel's first attempt would find nothing; measured 2-5 % less CPU
 * per message (docs/decisions.md, "POLL_FIRST").
 *
 * The reads of a stream transport's socket (CIO_FD_MSHOT) go through one
 * multishot recv with provided buffers instead: uring_mshot.c.
 *
 * The ring size is 256 SQEs and 8× as many CQEs (CIO_URING_ENTRIES sets the
 * SQ size, a power of two, for tests). A CQ that overflows loses nothing:
 * the kernel keeps the extra CQEs (IORING_FEAT_NODROP) and the reaping
 * loop flushes them.
 */
#include "uring_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#define DEFAULT_ENTRIES 256u
#define CQ_FACTOR 8u
#define MAX_IO_LEN 0x7ffff000u  /* the kernel's limit on one read or write */

/* Features the backend relies on (all in Linux 5.11): CQEs never dropped,
 * sockets waited on by internal polling rather than worker threads, reads
 * at the current offset, timeouts passed to io_uring_enter. */
#define REQUIRED_FEATURES (IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL | \
                           IORING_FEAT_RW_CUR_POS | IORING_FEAT_EXT_ARG)

static uring_state *state(cio_poller *p) { return p->impl; }

/* ---- setup ----------------------------------------------------------------- */

/* Tried in order until the kernel accepts one: one thread per ring, task
 * work run only when the loop enters the kernel, a submission batch not
 * stopped by one bad SQE. */
static const unsigned setup_flag_sets[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_SUBMIT_ALL,
    0,
};

static const uint8_t required_opcodes[] = {
    IORING_OP_RECV, IORING_OP_SEND, IORING_OP_RECVMSG, IORING_OP_SENDMSG,
    IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_POLL_ADD, IORING_OP_READ,
    IORING_OP_WRITE, IORING_OP_ASYNC_CANCEL,
};

/* Those of the file operations: without one, files use the thread pool. */
static const uint8_t file_opcodes[] = {
    IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_OPENAT,
    IORING_OP_CLOSE, IORING_OP_STATX, IORING_OP_RENAMEAT, IORING_OP_UNLINKAT,
    IORING_OP_MKDIRAT,
};

static unsigned sq_entries(void)
{
    const char *v = getenv("CIO_URING_ENTRIES");
    unsigned long n = v && *v ? strtoul(v, NULL, 10) : 0;
    if (n < 2 || n > 32768 || (n & (n - 1)))
        return DEFAULT_ENTRIES;
    return (unsigned)n;
}

static int init_ring(struct io_uring *ring)
{
    unsigned entries = sq_entries();
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof setup_flag_sets / sizeof *setup_flag_sets; i++) {
        struct io_uring_params prm = {
            .flags = setup_flag_sets[i] | IORING_SETUP_CQSIZE,
            .cq_entries = entries * CQ_FACTOR,
        };
        rc = io_uring_queue_init_params(entries, ring, &prm);
        if (rc != -EINVAL)
            break;          /* accepted, or refused for a reason flags don't fix */
    }
    if (rc < 0)
        return rc;
    if ((ring->features & REQUIRED_FEATURES) != REQUIRED_FEATURES) {
        io_uring_queue_exit(ring);
        return -ENOSYS;
    }
    return 0;
}

/* -ENOSYS without the required operations; p->file_ops cleared without
 * the file operations. */
static int check_opcodes(cio_poller *p, struct io_uring *ring)
{
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    if (!probe)
        return -ENOSYS;
    int rc = 0;
    for (size_t i = 0; i < sizeof required_opcodes; i++)
        if (!io_uring_opcode_supported(probe, required_opcodes[i]))
            rc = -ENOSYS;
    for (size_t i = 0; i < sizeof file_opcodes; i++)
        if (!io_uring_opcode_supported(probe, file_opcodes[i]))
            p->file_ops = false;
    io_uring_free_probe(probe);
    return rc;
}

static void arm_wake(cio_poller *p);

bool cio_uring_kernel_at_least(unsigned want_major, unsigned want_minor)
{
    struct utsname u;
    unsigned major = 0, minor = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) < 1)
        return false;
    return major > want_major || (major == want_major && minor >= want_minor);
}

static int ur_open(cio_poller *p)
{
    uring_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = init_ring(&s->ring);
    if (rc < 0) {
        free(s);
        return rc;
    }
    rc = check_opcodes(p, &s->ring);
    if (rc < 0) {
        io_uring_queue_exit(&s->ring);
        free(s);
        return rc;
    }
    /* Saves a descriptor lookup per io_uring_enter; optional (Linux 5.18). */
    (void)io_uring_register_ring_fd(&s->ring);
    p->impl = s;
    s->wake_multishot = true;
    /* IORING_RECVSEND_POLL_FIRST came with Linux 5.19 (older kernels may
     * refuse a recv that sets it). */
    s->recv_poll_first = cio_uring_kernel_at_least(5, 19);
    cio_mshot_init(s);
    static atomic_uint_fast64_t rings;  /* loans name their ring by this */
    s->lender = atomic_fetch_add(&rings, 1) + 1;
    arm_wake(p);
    return 0;
}

static void ur_close(cio_poller *p)
{
    uring_state *s = state(p);
    io_uring_queue_exit(&s->ring);
    cio_mshot_close(s);
    free(s->stash);
    free(s);
}

/* ---- submission queue ------------------------------------------------------ */

/* Take every CQE out of the ring into the stash, without running anything,
 * and let the kernel move its overflowed CQEs in. */
static void stash_cqes(uring_state *s)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
        if (s->nstash == s->stash_cap) {
            size_t cap = s->stash_cap ? 2 * s->stash_cap : 256;
            stashed_cqe *grown = realloc(s->stash, cap * sizeof *grown);
            if (!grown) {
                fprintf(stderr, "cio: io_uring: out of memory keeping completions\n");
                abort();
            }
            s->stash = grown;
            s->stash_cap = cap;
        }
        s->stash[s->nstash++] = (stashed_cqe){ cqe->user_data, cqe->res, cqe->flags };
        io_uring_cqe_seen(&s->ring, cqe);
    }
}

/* Hand the queued SQEs to the kernel now. Kernels before 5.19 refuse
 * (-EBUSY) while completions wait in their overflow list; those are moved
 * aside, since submit and cancel must not run done callbacks. */
void cio_uring_flush_sq(uring_state *s)
{
    for (int tries = 0; tries < 1000; tries++) {
        int rc = io_uring_submit(&s->ring);
        if (rc != -EBUSY && rc != -EAGAIN)
            return;
        stash_cqes(s);
    }
}

struct io_uring_sqe *cio_uring_get_sqe(uring_state *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) {
        cio_uring_flush_sq(s); /* the SQ is full */
        sqe = io_uring_get_sqe(&s->ring);
        if (!sqe) {
            fprintf(stderr, "cio: io_uring: the kernel takes no submissions\n");
            abort();
        }
    }
    return sqe;
}

/* ---- requests -------------------------------------------------------------- */

static uint64_t user_data(const cio_io_req *r)
{
    return (uint64_t)(uintptr_t)r | (r->started ? POLL_PHASE : 0);
}

static unsigned io_len(size_t len)
{
    return len > MAX_IO_LEN ? MAX_IO_LEN : (unsigned)len;
}

static void prep_file_op(struct io_uring_sqe *sqe, cio_io_req *r)
{
    const cio_file_args *a = r->file;
    switch (r->op) {
    case CIO_OP_PREAD:
        io_uring_prep_read(sqe, a->fd, a->buf, io_len(a->len), (uint64_t)a->off);
        break;
    case CIO_OP_PWRITE:
        io_uring_prep_write(sqe, a->fd, a->buf, io_len(a->len), (uint64_t)a->off);
        break;
    case CIO_OP_FSYNC:
        io_uring_prep_fsync(sqe, a->fd, a->flags & CIO_FSYNC_DATA ? IORING_FSYNC_DATASYNC : 0);
        break;
    case CIO_OP_OPENAT:
        io_uring_prep_openat(sqe, a->fd, a->path, a->flags, a->mode);
        break;
    case CIO_OP_CLOSE:
        io_uring_prep_close(sqe, a->fd);
        break;
    case CIO_OP_STATX:
        io_uring_prep_statx(sqe, a->fd, a->path, a->flags, STATX_BASIC_STATS, a->stx);
        break;
    case CIO_OP_RENAMEAT:
        io_uring_prep_renameat(sqe, a->fd, a->path, a->fd, a->path2, (unsigned)a->flags);
        break;
    case CIO_OP_UNLINKAT:
        io_uring_prep_unlinkat(sqe, a->fd, a->path, a->flags);
        break;
    case CIO_OP_MKDIRAT:
        io_uring_prep_mkdirat(sqe, a->fd, a->path, a->mode);
        break;
    }
}

static void prep_op(const uring_state *s, struct io_uring_sqe *sqe, cio_io_req *r)
{
    if (cio_op_is_file(r->op)) {
        prep_file_op(sqe, r);
        return;
    }
    int fd = r->fd->fd;
    switch (r->op) {
    case CIO_OP_RECV:
        io_uring_prep_recv(sqe, fd, r->io.buf, io_len(r->io.len), r->flags);
        if (s->recv_poll_first && (r->fd->flags & CIO_FD_STREAM))
            sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        break;
    case CIO_OP_SEND:
        io_uring_prep_send(sqe, fd, r->io.buf, io_len(r->io.len), r->flags | MSG_NOSIGNAL);
        break;
    case CIO_OP_RECVMSG:
        io_uring_prep_recvmsg(sqe, fd, r->msg, (unsigned)r->flags);
        break;
    case CIO_OP_SENDMSG:
        io_uring_prep_sendmsg(sqe, fd, r->msg, (unsigned)(r->flags | MSG_NOSIGNAL));
        break;
    case CIO_OP_ACCEPT:
        io_uring_prep_accept(sqe, fd, r->accept.addr, r->accept.len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    case CIO_OP_CONNECT:
        io_uring_prep_connect(sqe, fd, r->connect.addr, r->connect.len);
        break;
    case CIO_OP_POLL:
        io_uring_prep_poll_add(sqe, fd, (unsigned)r->flags);
        break;
    case CIO_OP_READ:
        io_uring_prep_read(sqe, fd, r->io.buf, io_len(r->io.len), (uint64_t)-1);
        break;
    case CIO_OP_WRITE:
        io_uring_prep_write(sqe, fd, r->io.buf, io_len(r->io.len), (uint64_t)-1);
        break;
    }
}

void cio_uring_start_plain(uring_state *s, cio_io_req *r)
{
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    prep_op(s, sqe, r);
    io_uring_sqe_set_data64(sqe, user_data(r));
}

/* r has become the head of its queue (or is a file operation). */
static void start(uring_state *s, cio_io_req *r)
{
    if (cio_mshot_wants(s, r))
        cio_mshot_start(s, r);
    else
        cio_uring_start_plain(s, r);
}

/* The kernel said -EAGAIN: wait for readiness, then run the system call. */
static void start_poll_phase(uring_state *s, cio_io_req *r)
{
    r->started = true;
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    io_uring_prep_poll_add(sqe, r->fd->fd, cio_req_is_write_side(r) ? POLLOUT : POLLIN);
    io_uring_sqe_set_data64(sqe, user_data(r));
}

static cio_io_req **queue_head(cio_io_req *r)
{
    return cio_req_is_write_side(r) ? &r->fd->wq_head : &r->fd->rq_head;
}

static cio_io_req **queue_tail(cio_io_req *r)
{
    return cio_req_is_write_side(r) ? &r->fd->wq_tail : &r->fd->rq_tail;
}

void cio_uring_pop_head(uring_state *s, cio_io_req *r)
{
    cio_io_req **head = queue_head(r);
    *head = r->next;
    if (!*head)
        *queue_tail(r) = NULL;
    r->next = NULL;
    if (*head)
        start(s, *head);
}

/* Remove r, not the head, from its queue. */
static void unlink_queued(cio_io_req *r)
{
    cio_io_req **head = queue_head(r);
    cio_io_req *prev = *head;
    while (prev && prev->next != r)
        prev = prev->next;
    if (!prev)
        return;
    prev->next = r->next;
    if (*queue_tail(r) == r)
        *queue_tail(r) = prev;
    r->next = NULL;
}

/* Never finishes at once: no system call is tried first (measured: see the
 * file's head). A file operation has no descriptor queue: straight in. */
static int ur_submit(cio_poller *p, cio_io_req *r)
{
    uring_state *s = state(p);
    r->started = false;
    r->cancelling = false;
    r->on_mshot = false;
    r->next = NULL;
    if (cio_op_is_file(r->op)) {
        start(s, r);
        return 0;
    }
    cio_io_req **head = queue_head(r), **tail = queue_tail(r);
    if (!*head && cio_mshot_wants(s, r) && cio_mshot_serve_now(s, r))
        return 1;               /* read ahead by the multishot recv */
    if (*head) {                /* behind the one in the ring */
        (*tail)->next = r;
        *tail = r;
        return 0;
    }
    *head = *tail = r;
    start(s, r);
    return 0;
}

static void ur_cancel(cio_poller *p, cio_io_req *r)
{
    uring_state *s = state(p);
    if (r->cancelling)
        return;
    bool queued = !cio_op_is_file(r->op);
    if (queued && *queue_head(r) != r) {  /* still queued: never reached the kernel */
        unlink_queued(r);
        cio_poller_complete(p, r, -ECANCELED);
        return;
    }
    if (r->on_mshot) {          /* not in the ring either */
        cio_mshot_cancel(p, r);
        return;
    }
    /* Its SQE must reach the kernel while its descriptor number still
     * means the same file: the owner may close it right after this. */
    if (io_uring_sq_ready(&s->ring))
        cio_uring_flush_sq(s);
    r->cancelling = true;
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    io_uring_prep_cancel64(sqe, user_data(r), 0);
    io_uring_sqe_set_data64(sqe, CANCEL_TAG);
    if (queued)
        cio_uring_pop_head(s, r);  /* the next one starts behind the cancel */
}

static int ur_fd_add(cio_poller *p, cio_fd *f)
{
    (void)p;
    if (f->fd < 0)
        return -EBADF;
    f->rq_head = f->rq_tail = f->wq_head = f->wq_tail = NULL;
    f->mshot = NULL;
    return 0;
}

/* Nothing is registered with the kernel; a multishot recv is cancelled. */
static void ur_fd_remove(cio_poller *p, cio_fd *f)
{
    cio_mshot_fd_remove(state(p), f);
}

/* ---- completions ----------------------------------------------------------- */

/* The final result of r from its CQE (of the operation or, in the poll
 * phase, of the readiness poll); -EAGAIN if it must wait again. */
static int64_t result_of(cio_io_req *r, bool poll_phase, int32_t res)
{
    if (r->cancelling) {
        /* Readiness, -EAGAIN, or a worker's -EINTR: nothing happened. */
        if ((poll_phase && res >= 0) || res == -EAGAIN || res == -EINTR)
            return -ECANCELED;
        return res;
    }
    if (poll_phase && res >= 0)
        return cio_op_try(r);
    return res;
}

static int on_request(cio_poller *p, cio_io_req *r, bool poll_phase, int32_t cqe_res)
{
    uring_state *s = state(p);
    int64_t res = result_of(r, poll_phase, cqe_res);
    bool file = cio_op_is_file(r->op);
    if (res == -EAGAIN && !file) {
        if (r->op == CIO_OP_CONNECT)
            start(s, r);        /* the kernel retries a connect itself */
        else
            start_poll_phase(s, r);
        return 0;
    }
    if (!r->cancelling && !file)
        cio_uring_pop_head(s, r);  /* before done, which may free the cio_fd */
    cio_poller_complete(p, r, res);
    return 1;
}

static void arm_wake(cio_poller *p)
{
    uring_state *s = state(p);
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    if (s->wake_multishot)
        io_uring_prep_poll_multishot(sqe, p->wakefd, POLLIN);
    else
        io_uring_prep_poll_add(sqe, p->wakefd, POLLIN);
    io_uring_sqe_set_data64(sqe, WAKE_TAG);
}

static void on_wake(cio_poller *p, int32_t res, uint32_t flags)
{
    uring_state *s = state(p);
    if (res == -EINVAL && s->wake_multishot) {
        s->wake_multishot = false;  /* before Linux 5.13: one-shot polls */
        arm_wake(p);
        return;
    }
    if (res > 0)
        cio_poller_drain_wake(p);
    if (!(flags & IORING_CQE_F_MORE))
        arm_wake(p);
}

static int dispatch(cio_poller *p, uint64_t ud, int32_t res, uint32_t flags)
{
    if (ud == WAKE_TAG) {
        on_wake(p, res, flags);
        return 0;
    }
    if (ud < TAG_LIMIT)
        return 0;               /* a cancel's own CQE */
    if (ud & MSHOT_BIT)
        return cio_mshot_on_cqe(p, (cio_mshot *)(uintptr_t)(ud & ~(uint64_t)MSHOT_BIT),
                                res, flags);
    cio_io_req *r = (cio_io_req *)(uintptr_t)(ud & ~(uint64_t)POLL_PHASE);
    return on_request(p, r, ud & POLL_PHASE, res);
}

/* Run every completion: those stashed first, then the ring's (done may
 * queue new SQEs meanwhile, and a full SQ flush may add CQEs; each is
 * consumed before its callback runs, so the loop stays consistent). */
static int reap(cio_poller *p)
{
    uring_state *s = state(p);
    int finished = 0;
    for (size_t i = 0; i < s->nstash; i++) {
        stashed_cqe c = s->stash[i];
        finished += dispatch(p, c.user_data, c.res, c.flags);
    }
    s->nstash = 0;
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
        uint64_t ud = cqe->user_data;
        int32_t res = cqe->res;
        uint32_t flags = cqe->flags;
        io_uring_cqe_seen(&s->ring, cqe);
        finished += dispatch(p, ud, res, flags);
        if (s->nstash)          /* a flush inside done stashed some */
            finished += reap(p);
    }
    return finished;
}

static int ur_wait(cio_poller *p, int64_t timeout_ns)
{
    uring_state *s = state(p);
    int rc;
    if (s->nstash || s->ready)
        timeout_ns = 0;         /* completions are already waiting */
    if (timeout_ns == 0) {
        rc = io_uring_submit_and_get_events(&s->ring);
    } else if (timeout_ns < 0) {
        rc = io_uring_submit_and_wait(&s->ring, 1);
    } else {
        struct __kernel_timespec ts = {
            .tv_sec = timeout_ns / 1000000000,
            .tv_nsec = timeout_ns % 1000000000,
        };
        struct io_uring_cqe *cqe;
        rc = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
    }
    /* Reap whatever the outcome: -ETIME, -EINTR, and -EBUSY (the kernel
     * wants its overflowed CQEs reaped first) are all routine. */
    if (rc == -EBADR && !s->dropped_reported) {
        s->dropped_reported = true;     /* NODROP failed: out of memory */
        fprintf(stderr, "cio: io_uring lost completions; the tasks waiting "
                        "for them will not wake\n");
    }
    int finished = reap(p);
    finished += cio_mshot_run_ready(p);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN &&
        finished == 0)
        return rc;
    return finished;
}

const cio_poller_backend cio_backend_uring = {
    .name = "io_uring",
    .file_ops = true,
    .open = ur_open,
    .close = ur_close,
    .wait = ur_wait,
    .fd_add = ur_fd_add,
    .fd_remove = ur_fd_remove,
    .submit = ur_submit,
    .cancel = ur_cancel,
    .loan_recv = cio_mshot_loan,
    .loan_end = cio_mshot_loan_end,
};
