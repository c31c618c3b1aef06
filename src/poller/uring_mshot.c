/* uring_mshot.c — multishot recv into provided buffers, for the sockets of
 * stream transports (CIO_FD_MSHOT) on the io_uring backend.
 *
 * A plain recv costs an SQE and the kernel's setup of the operation for
 * every read. Here a descriptor's first read arms one multishot recv that
 * stays in the kernel: each time data comes it takes a buffer from the
 * loop's provided buffer ring (MSHOT_NBUF buffers of MSHOT_BUF bytes) and
 * posts a CQE. The data joins the descriptor's FIFO of held buffers (a
 * cio_mshot, allocated by the backend) and is copied out to the read-side
 * requests (RECV, RECVMSG; a POLL for input is answered by it) in order;
 * an emptied buffer goes back to the ring. Measured: docs/performance.md,
 * "multishot recv".
 *
 * The guarantees of poller.h hold:
 *   - A request waiting for the multishot (r->on_mshot: the head of its
 *     queue, not itself in the ring) is served by the CQE that brings data,
 *     or the end of stream, or an error; each is reported after the data
 *     before it. Cancelled, it leaves the queue and done runs at once with
 *     -ECANCELED: what arrives later stays in the FIFO for the next read.
 *   - A request that finds data already read ahead is served at once
 *     (submit returns 1) or, as the next head, from the ready list that the
 *     loop's wait runs (never inside submit or cancel).
 *   - The ring never runs dry silently: a descriptor whose multishot ended
 *     with -ENOBUFS, or any read while fewer than 1/8 of the buffers are
 *     left, falls back to a plain recv into the caller's memory; the
 *     multishot is re-armed by a later read when buffers are back.
 *   - A descriptor whose reader lags holds at most MSHOT_PER_FD buffers:
 *     then its multishot is cancelled and re-armed by the read that empties
 *     the FIFO, so one flooding peer cannot take the ring.
 *   - fd_remove cancels the multishot; the cio_mshot outlives the cio_fd
 *     (orphaned) until the kernel's final CQE, and its buffers go back.
 *
 * loan_recv (the backend's, poller.h) lends what was read ahead as it is:
 * a stream reads its data straight out of the provided buffer, holds it
 * until its next read (stream_read.c) and waits with a poll for input that
 * the multishot answers; no copy, and no read buffer of the stream's own.
 *
 * CIO_URING_MSHOT=0 turns it off (every read a plain recv); it is off on
 * kernels before 6.0 (multishot recv) or when the buffer ring cannot be
 * registered.
 */
#include "uring_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MSHOT_NBUF 1024u        /* the buffer ring's size (a power of two) */
#define MSHOT_BUF 4096u
#define MSHOT_PER_FD 16u
#define MSHOT_BGID 0
#define NO_BUF 0xffffu

struct cio_mshot {
    cio_fd *fd;                 /* NULL once removed: orphaned */
    bool armed;                 /* the multishot recv is in the kernel */
    bool cancelling;            /* and its cancel too */
    bool plain_next;            /* the ring ran dry: next read a plain recv */
    bool ended;                 /* end_res (0: EOF, or an error) is next */
    bool in_ready, serving;
    int end_res;
    uint16_t head, tail;        /* FIFO of held buffers (NO_BUF: empty) */
    uint32_t off;               /* bytes of head already copied out */
    unsigned nbufs;
    cio_mshot *prev, *next;     /* uring_state.all */
    cio_mshot *ready_next;
};

/* ---- setup ------------------------------------------------------------------ */

void cio_mshot_init(uring_state *s)
{
    const char *v = getenv("CIO_URING_MSHOT");
    bool off = v && strcmp(v, "0") == 0;
    s->mshot_mode = off || !cio_uring_kernel_at_least(6, 0) ? -1 : 0;
    /* CIO_URING_MSHOT_BUFS: the ring's size, a power of two (for tests). */
    v = getenv("CIO_URING_MSHOT_BUFS");
    unsigned long n = v && *v ? strtoul(v, NULL, 10) : 0;
    s->nbuf = n >= 4 && n <= 32768 && !(n & (n - 1)) ? (unsigned)n : MSHOT_NBUF;
}

static void buf_give(uring_state *s, uint16_t bid)
{
    io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * MSHOT_BUF, MSHOT_BUF,
                          bid, io_uring_buf_ring_mask(s->nbuf), 0);
    io_uring_buf_ring_advance(s->br, 1);
}

static void unmap_buffers(uring_state *s)
{
    if (s->br)
        munmap(s->br, s->nbuf * sizeof(struct io_uring_buf));
    if (s->bufs)
        munmap(s->bufs, (size_t)s->nbuf * MSHOT_BUF);
    free(s->buf_next);
    free(s->buf_len);
    s->br = NULL;
    s->bufs = NULL;
    s->buf_next = NULL;
    s->buf_len = NULL;
}

/* The buffer ring, set up at the first multishot (liburing 2.3 has no
 * io_uring_setup_buf_ring): mapped memory, registered as MSHOT_BGID,
 * filled. The buffers' pages cost memory only once the kernel writes them. */
static bool setup_buffers(uring_state *s)
{
    void *ring = mmap(NULL, s->nbuf * sizeof(struct io_uring_buf),
                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *bufs = mmap(NULL, (size_t)s->nbuf * MSHOT_BUF,
                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s->br = ring == MAP_FAILED ? NULL : ring;
    s->bufs = bufs == MAP_FAILED ? NULL : bufs;
    s->buf_next = malloc(s->nbuf * sizeof *s->buf_next);
    s->buf_len = malloc(s->nbuf * sizeof *s->buf_len);
    if (!s->br || !s->bufs || !s->buf_next || !s->buf_len) {
        unmap_buffers(s);
        return false;
    }
    io_uring_buf_ring_init(s->br);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)s->br,
        .ring_entries = s->nbuf,
        .bgid = MSHOT_BGID,
    };
    if (io_uring_register_buf_ring(&s->ring, &reg, 0) < 0) {
        unmap_buffers(s);
        return false;
    }
    for (unsigned i = 0; i < s->nbuf; i++)
        io_uring_buf_ring_add(s->br, s->bufs + (size_t)i * MSHOT_BUF, MSHOT_BUF,
                              (uint16_t)i, io_uring_buf_ring_mask(s->nbuf), (int)i);
    io_uring_buf_ring_advance(s->br, (int)s->nbuf);
    return true;
}

void cio_mshot_close(uring_state *s)
{
    while (s->all) {
        cio_mshot *m = s->all;
        s->all = m->next;
        free(m);
    }
    unmap_buffers(s);           /* after the ring's exit: the kernel is done */
}

/* ---- the per-descriptor state ----------------------------------------------- */

bool cio_mshot_wants(const uring_state *s, const cio_io_req *r)
{
    if (s->mshot_mode < 0 || !r->fd || !(r->fd->flags & CIO_FD_MSHOT))
        return false;
    /* A poll for input alone: one that also waits for output must not
     * wait for the multishot's data while the socket is writable. */
    return r->op == CIO_OP_RECV || r->op == CIO_OP_RECVMSG ||
           (r->op == CIO_OP_POLL && (r->flags & POLLIN) && !(r->flags & POLLOUT));
}

/* f's state, made at its first read; NULL if multishot cannot be used. */
static cio_mshot *mshot_of(uring_state *s, cio_fd *f)
{
    if (f->mshot)
        return f->mshot;
    if (s->mshot_mode == 0)
        s->mshot_mode = setup_buffers(s) ? 1 : -1;
    if (s->mshot_mode < 0)
        return NULL;
    cio_mshot *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fd = f;
    m->head = m->tail = NO_BUF;
    m->next = s->all;
    if (s->all)
        s->all->prev = m;
    s->all = m;
    f->mshot = m;
    return m;
}

static void maybe_free(uring_state *s, cio_mshot *m)
{
    if (m->fd || m->armed || m->in_ready || m->serving)
        return;
    if (m->prev)
        m->prev->next = m->next;
    else
        s->all = m->next;
    if (m->next)
        m->next->prev = m->prev;
    free(m);
}

static bool has_news(const cio_mshot *m) { return m->nbufs || m->ended; }

static void push_ready(uring_state *s, cio_mshot *m)
{
    if (m->in_ready)
        return;
    m->in_ready = true;
    m->ready_next = s->ready;
    s->ready = m;
}

/* ---- the FIFO of held buffers ----------------------------------------------- */

static void hold(uring_state *s, cio_mshot *m, uint16_t bid, uint32_t len)
{
    s->buf_len[bid] = len;
    s->buf_next[bid] = NO_BUF;
    if (m->head == NO_BUF) {
        m->head = bid;
        m->off = 0;
    } else {
        s->buf_next[m->tail] = bid;
    }
    m->tail = bid;
    m->nbufs++;
    s->bufs_held++;
}

/* Take the head buffer out of the FIFO (still counted as held). */
static uint16_t unlink_head(uring_state *s, cio_mshot *m)
{
    uint16_t bid = m->head;
    m->head = s->buf_next[bid];
    if (m->head == NO_BUF)
        m->tail = NO_BUF;
    m->off = 0;
    m->nbufs--;
    return bid;
}

static void release_head(uring_state *s, cio_mshot *m)
{
    s->bufs_held--;
    buf_give(s, unlink_head(s, m));
}

/* Copy up to len bytes out of the FIFO into buf; consume them unless peek. */
static size_t copy_out(uring_state *s, cio_mshot *m, char *buf, size_t len, bool peek)
{
    size_t done = 0;
    uint16_t bid = m->head;
    uint32_t off = m->off;
    while (done < len && bid != NO_BUF) {
        size_t n = s->buf_len[bid] - off;
        if (n > len - done)
            n = len - done;
        memcpy(buf + done, s->bufs + (size_t)bid * MSHOT_BUF + off, n);
        done += n;
        off += (uint32_t)n;
        if (off < s->buf_len[bid])
            break;
        bid = s->buf_next[bid];
        off = 0;
        if (!peek)
            release_head(s, m);
    }
    if (!peek)
        m->off = m->head == NO_BUF ? 0 : off;
    return done;
}

static size_t copy_to_iov(uring_state *s, cio_mshot *m, struct msghdr *msg, bool peek)
{
    size_t done = 0;
    msg->msg_flags = 0;
    msg->msg_controllen = 0;
    for (size_t i = 0; i < msg->msg_iovlen && m->nbufs; i++) {
        size_t n = copy_out(s, m, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len, peek);
        done += n;
        if (peek || n < msg->msg_iov[i].iov_len)
            break;              /* a peek copies into the first iovec only */
    }
    return done;
}

/* r's result from what m holds (has_news(m)). */
static int64_t serve(uring_state *s, cio_mshot *m, cio_io_req *r)
{
    if (r->op == CIO_OP_POLL)
        return POLLIN;
    bool peek = r->flags & MSG_PEEK;
    if (m->nbufs) {
        if (r->op == CIO_OP_RECVMSG)
            return (int64_t)copy_to_iov(s, m, r->msg, peek);
        return (int64_t)copy_out(s, m, r->io.buf, r->io.len, peek);
    }
    if (!peek)
        m->ended = false;       /* said once; a later read asks the kernel */
    return m->end_res;
}

bool cio_mshot_serve_now(uring_state *s, cio_io_req *r)
{
    cio_mshot *m = r->fd->mshot;
    if (!m || !has_news(m))
        return false;
    r->res = serve(s, m, r);
    return true;
}

/* ---- the multishot recv ----------------------------------------------------- */

static uint64_t mshot_data(cio_mshot *m) { return (uint64_t)(uintptr_t)m | MSHOT_BIT; }

static void arm(uring_state *s, cio_mshot *m)
{
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    /* No IORING_RECVSEND_POLL_FIRST (unlike uring.c's plain recv): a
     * multishot so armed on a socket that already holds data and the end
     * of stream posts the data but never the end (seen on Linux 6.18),
     * and arming is rare anyway: once per connection while it keeps up. */
    io_uring_prep_recv_multishot(sqe, m->fd->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = MSHOT_BGID;
    io_uring_sqe_set_data64(sqe, mshot_data(m));
    m->armed = true;
}

static void disarm(uring_state *s, cio_mshot *m)
{
    if (!m->armed || m->cancelling)
        return;
    struct io_uring_sqe *sqe = cio_uring_get_sqe(s);
    io_uring_prep_cancel64(sqe, mshot_data(m), 0);
    io_uring_sqe_set_data64(sqe, CANCEL_TAG);
    m->cancelling = true;
}

static bool buffers_low(const uring_state *s)
{
    return s->bufs_held >= s->nbuf - s->nbuf / 8;
}

void cio_mshot_start(uring_state *s, cio_io_req *r)
{
    cio_mshot *m = mshot_of(s, r->fd);
    if (!m) {
        cio_uring_start_plain(s, r);
        return;
    }
    r->on_mshot = true;
    if (has_news(m)) {
        push_ready(s, m);       /* served by the loop's wait */
        return;
    }
    if (m->armed)
        return;                 /* its next CQE serves r */
    /* A poll for input arms it too: the reader then borrows the data with
     * cio_mshot_loan (a stream reading without a buffer of its own). */
    bool own_op = r->op == CIO_OP_POLL || (r->op == CIO_OP_RECV && r->flags == 0);
    bool plain = !own_op || m->plain_next || buffers_low(s);
    if (plain) {                /* the multishot is off: nothing can overtake */
        m->plain_next = false;
        r->on_mshot = false;
        cio_uring_start_plain(s, r);
        return;
    }
    arm(s, m);
}

void cio_mshot_cancel(cio_poller *p, cio_io_req *r)
{
    r->on_mshot = false;
    cio_uring_pop_head(p->impl, r);
    cio_poller_complete(p, r, -ECANCELED);
}

/* Serve m's waiting heads in order while it has something for them; then,
 * if the head still waits and nothing is armed, arm (or read plainly). */
static int serve_heads(cio_poller *p, cio_mshot *m)
{
    uring_state *s = p->impl;
    int finished = 0;
    m->serving = true;
    cio_io_req *r;
    while (m->fd && (r = m->fd->rq_head) && r->on_mshot && has_news(m)) {
        int64_t res = serve(s, m, r);
        r->on_mshot = false;
        cio_uring_pop_head(s, r);       /* before done, which may free the fd */
        cio_poller_complete(p, r, res);
        finished++;
    }
    if (m->fd && (r = m->fd->rq_head) && r->on_mshot && !has_news(m) && !m->armed) {
        r->on_mshot = false;
        cio_mshot_start(s, r);
    }
    m->serving = false;
    maybe_free(s, m);
    return finished;
}

static void drop_all(uring_state *s, cio_mshot *m)
{
    while (m->head != NO_BUF)
        release_head(s, m);
}

int cio_mshot_on_cqe(cio_poller *p, cio_mshot *m, int32_t res, uint32_t flags)
{
    uring_state *s = p->impl;
    if (!(flags & IORING_CQE_F_MORE))
        m->armed = m->cancelling = false;
    if (res > 0) {
        if (flags & IORING_CQE_F_BUFFER)    /* always, with buffer select */
            hold(s, m, (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT), (uint32_t)res);
    } else if (res == -ENOBUFS) {
        m->plain_next = true;   /* the ring ran dry: fall back once */
    } else if (res != -ECANCELED) {
        m->ended = true;        /* EOF (0) or the connection's error */
        m->end_res = res;
    }
    if (!m->fd) {               /* orphaned: the kernel may be done now */
        drop_all(s, m);
        maybe_free(s, m);
        return 0;
    }
    if (m->nbufs >= MSHOT_PER_FD)
        disarm(s, m);           /* the reader lags: stop reading ahead */
    return serve_heads(p, m);
}

int cio_mshot_run_ready(cio_poller *p)
{
    uring_state *s = p->impl;
    int finished = 0;
    while (s->ready) {
        cio_mshot *m = s->ready;
        s->ready = m->ready_next;
        m->in_ready = false;
        finished += serve_heads(p, m);
    }
    return finished;
}

/* Lend the FIFO's head buffer (what is left of it) as it is: it leaves the
 * FIFO but stays counted as held until cio_mshot_loan_end gives it back
 * to the ring. With nothing there, -EAGAIN when the caller's poll for
 * input will arm the multishot (its first read: no system call, and the
 * recv goes into the ring behind the sends already queued, as a plain recv
 * would); -ENOBUFS when the poll will be a plain one (the ring runs low):
 * then the caller reads into its own memory, as on epoll, and nothing of
 * the socket is in the kernel to overtake that read. */
ssize_t cio_mshot_loan(cio_poller *p, cio_fd *f, cio_loan *l)
{
    uring_state *s = p->impl;
    if (s->mshot_mode < 0 || !(f->flags & CIO_FD_MSHOT))
        return -EOPNOTSUPP;
    if (f->rq_head)
        return -EAGAIN;         /* another read is queued: after it */
    cio_mshot *m = f->mshot;
    if (m && m->nbufs) {
        uint16_t bid = m->head;
        *l = (cio_loan){ .data = s->bufs + (size_t)bid * MSHOT_BUF + m->off,
                         .len = s->buf_len[bid] - m->off,
                         .lender = s->lender, .id = bid };
        unlink_head(s, m);
        return (ssize_t)l->len;
    }
    if (m && m->ended) {
        m->ended = false;       /* said once; a later read asks the kernel */
        return m->end_res;
    }
    if (!m || m->armed || (!m->plain_next && !buffers_low(s)))
        return -EAGAIN;
    return -ENOBUFS;
}

void cio_mshot_loan_end(cio_poller *p, const cio_loan *l)
{
    uring_state *s = p->impl;
    if (l->lender != s->lender)
        return;                 /* another loop's ring, gone with it */
    s->bufs_held--;
    buf_give(s, (uint16_t)l->id);
}

void cio_mshot_fd_remove(uring_state *s, cio_fd *f)
{
    cio_mshot *m = f->mshot;
    if (!m)
        return;
    f->mshot = NULL;
    m->fd = NULL;
    if (m->armed) {
        /* The arming SQE must reach the kernel while the number still
         * means this socket: the owner closes it next. */
        if (io_uring_sq_ready(&s->ring))
            cio_uring_flush_sq(s);
        disarm(s, m);
    }
    drop_all(s, m);
    maybe_free(s, m);
}
