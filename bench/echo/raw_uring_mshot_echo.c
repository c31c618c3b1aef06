/* raw_uring_mshot_echo.c — the io_uring echo server tuned for this kernel's
 * best case (liburing, no framework): the ceiling io_uring can reach on the
 * echo benchmark, against raw_uring_echo's straightforward one-recv-then-
 * one-send and raw_epoll_echo.
 *
 *   raw_uring_mshot_echo --port P [--fixed]
 *
 * - One multishot accept; one multishot recv per connection, armed once and
 *   re-armed only when the kernel ends it (no IORING_CQE_F_MORE).
 * - The recv picks its buffer from a provided buffer ring (one buffer group
 *   of NBUF buffers of BUF_SIZE bytes); the received buffer is sent back as
 *   it is (no copy) and returned to the ring when its send has completed.
 * - One send in flight per connection, so bytes go out in order; buffers
 *   received meanwhile wait in the connection's FIFO (a list threaded
 *   through the buffer ids: a buffer is in at most one FIFO).
 * - A recv ended by -ENOBUFS (the ring ran dry) waits on a starved list and
 *   is re-armed once buffers have come back.
 * - Each loop iteration handles every completion, then publishes the
 *   returned buffers and submits the queued operations with one
 *   io_uring_submit_and_wait(). SINGLE_ISSUER | DEFER_TASKRUN, registered
 *   ring fd.
 * - --fixed: the connections are registered files (slot = descriptor),
 *   their recvs and sends use IOSQE_FIXED_FILE.
 */
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "uring_util.h"

#define RING_ENTRIES 4096
#ifndef NBUF
#define NBUF 8192               /* a power of two (the buffer ring's size) */
#endif
#define BUF_SIZE 4096
#define BGID 0
#define NO_BUF 0xffffu

enum op { OP_ACCEPT, OP_RECV, OP_SEND };

struct conn {
    int fd;
    bool recv_armed;            /* a multishot recv is in the kernel */
    bool send_busy;             /* a send is in the kernel */
    bool starving;              /* on the starved list */
    bool eof;                   /* EOF or a recv error: no more recvs */
    bool failed;                /* a send failed: nothing more goes out */
    uint16_t head, tail;        /* the FIFO of received buffers (NO_BUF) */
    unsigned sent;              /* bytes of head's buffer already sent */
    struct conn *next_starved;
};

static struct io_uring ring;
static int listen_fd;
static bool fixed_files;

static struct io_uring_buf_ring *br;
static char *buf_base;
static uint16_t buf_next[NBUF];     /* FIFO links, by buffer id */
static unsigned buf_len[NBUF];      /* bytes received into each buffer */
static unsigned returned;           /* buffers added since the last advance */
static struct conn *starved;        /* conns whose recv ended in ENOBUFS */

static uint64_t tag(struct conn *c, enum op op)
{
    return (uint64_t)(uintptr_t)c | (uint64_t)op;
}

static void use_fixed(struct io_uring_sqe *sqe)
{
    if (fixed_files)
        sqe->flags |= IOSQE_FIXED_FILE;   /* sqe->fd is the slot = the fd */
}

static void buf_return(uint16_t bid)
{
    io_uring_buf_ring_add(br, buf_base + (size_t)bid * BUF_SIZE, BUF_SIZE,
                          bid, io_uring_buf_ring_mask(NBUF), (int)returned);
    returned++;
}

static void queue_accept(void)
{
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_ACCEPT));
}

static void queue_recv(struct conn *c)
{
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    use_fixed(sqe);
    io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
    c->recv_armed = true;
}

/* Send (the rest of) the FIFO's head buffer. */
static void queue_send(struct conn *c)
{
    uint16_t bid = c->head;
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    io_uring_prep_send(sqe, c->fd, buf_base + (size_t)bid * BUF_SIZE + c->sent,
                       buf_len[bid] - c->sent, MSG_NOSIGNAL);
    use_fixed(sqe);
    io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
    c->send_busy = true;
}

/* Free the connection once it has ended (EOF or failure), everything
 * received has been echoed (unless a send failed) and the kernel holds
 * nothing of it. */
static void conn_maybe_free(struct conn *c)
{
    if (!(c->eof || c->failed) || c->recv_armed || c->send_busy ||
        c->starving || (c->head != NO_BUF && !c->failed))
        return;
    while (c->head != NO_BUF) {
        uint16_t bid = c->head;
        c->head = buf_next[bid];
        buf_return(bid);
    }
    if (fixed_files) {
        int none = -1;
        io_uring_register_files_update(&ring, (unsigned)c->fd, &none, 1);
    }
    close(c->fd);
    free(c);
}

static void on_accept(int res, unsigned flags)
{
    if (res >= 0) {
        echo_nodelay(res);
        if (fixed_files &&
            io_uring_register_files_update(&ring, (unsigned)res, &res, 1) != 1)
            echo_die("io_uring_register_files_update failed");
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            echo_die("out of memory");
        c->fd = res;
        c->head = c->tail = NO_BUF;
        queue_recv(c);
    } else if (res != -EINTR && res != -ECONNABORTED) {
        fprintf(stderr, "accept: %s\n", strerror(-res));
    }
    if (!(flags & IORING_CQE_F_MORE))
        queue_accept();
}

static void on_recv(struct conn *c, int res, unsigned flags)
{
    if (!(flags & IORING_CQE_F_MORE))
        c->recv_armed = false;
    if (res > 0) {
        if (!(flags & IORING_CQE_F_BUFFER))
            echo_die("recv: a completion without a buffer");
        uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
        buf_len[bid] = (unsigned)res;
        buf_next[bid] = NO_BUF;
        if (c->head == NO_BUF) {
            c->head = c->tail = bid;
            c->sent = 0;
        } else {
            buf_next[c->tail] = bid;
            c->tail = bid;
        }
        if (!c->send_busy && !c->failed)
            queue_send(c);
        if (!c->recv_armed && !c->failed)
            queue_recv(c);
        conn_maybe_free(c);
    } else if (res == -ENOBUFS && !c->failed) {
        c->starving = true;         /* re-armed when buffers come back */
        c->next_starved = starved;
        starved = c;
    } else {                        /* EOF, or the connection failed */
        c->eof = true;
        conn_maybe_free(c);
    }
}

static void on_send(struct conn *c, int res)
{
    c->send_busy = false;
    if (res < 0) {
        c->failed = true;
        shutdown(c->fd, SHUT_RDWR); /* ends the multishot recv too */
        conn_maybe_free(c);
        return;
    }
    c->sent += (unsigned)res;
    if (c->sent == buf_len[c->head]) {
        uint16_t bid = c->head;
        c->head = buf_next[bid];
        if (c->head == NO_BUF)
            c->tail = NO_BUF;
        c->sent = 0;
        buf_return(bid);
    }
    if (c->head != NO_BUF && !c->failed)
        queue_send(c);
    conn_maybe_free(c);
}

static void on_completion(struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(data & ~(uint64_t)3);
    switch ((enum op)(data & 3)) {
    case OP_ACCEPT: on_accept(cqe->res, cqe->flags); break;
    case OP_RECV: on_recv(c, cqe->res, cqe->flags); break;
    case OP_SEND: on_send(c, cqe->res); break;
    }
}

/* Publish the buffers returned in this iteration; re-arm the starved. */
static void publish_buffers(void)
{
    if (returned == 0)
        return;
    io_uring_buf_ring_advance(br, (int)returned);
    returned = 0;
    while (starved) {
        struct conn *c = starved;
        starved = c->next_starved;
        c->starving = false;
        if (c->failed)
            conn_maybe_free(c);
        else
            queue_recv(c);
    }
}

static void ring_setup(void)
{
    struct io_uring_params p = {
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    };
    int rc = io_uring_queue_init_params(RING_ENTRIES, &ring, &p);
    if (rc < 0)
        echo_die("io_uring_queue_init (SINGLE_ISSUER|DEFER_TASKRUN): %s",
                 strerror(-rc));
    if (io_uring_register_ring_fd(&ring) < 0)
        fprintf(stderr, "raw_uring_mshot_echo: ring fd not registered\n");
    if (fixed_files) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        unsigned slots = rl.rlim_cur > 65536 ? 65536 : (unsigned)rl.rlim_cur;
        rc = io_uring_register_files_sparse(&ring, slots);
        if (rc < 0)
            echo_die("io_uring_register_files_sparse: %s", strerror(-rc));
    }
}

/* The provided buffer ring (liburing 2.3 has no io_uring_setup_buf_ring):
 * the ring's memory, page-aligned, registered as group BGID, then filled. */
static void buf_ring_setup(void)
{
    size_t ring_bytes = NBUF * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    buf_base = mmap(NULL, (size_t)NBUF * BUF_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || buf_base == MAP_FAILED)
        echo_die("mmap: %s", strerror(errno));
    br = mem;
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)br,
        .ring_entries = NBUF,
        .bgid = BGID,
    };
    int rc = io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0)
        echo_die("io_uring_register_buf_ring: %s", strerror(-rc));
    for (unsigned i = 0; i < NBUF; i++)
        buf_return((uint16_t)i);
    io_uring_buf_ring_advance(br, (int)returned);
    returned = 0;
}

int main(int argc, char **argv)
{
    int port = echo_parse_port(argc, argv,
                               "raw_uring_mshot_echo --port P [--fixed]");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--fixed") == 0)
            fixed_files = true;
        else if (strcmp(argv[i], "--port") == 0)
            i++;
        else
            echo_die("unknown option %s", argv[i]);
    echo_raise_nofile(0);
    listen_fd = echo_listen(port, 0);
    ring_setup();
    buf_ring_setup();
    fprintf(stderr, "raw_uring_mshot_echo: multishot recv, %d buffers of %d "
            "bytes%s\n", NBUF, BUF_SIZE, fixed_files ? ", fixed files" : "");
    queue_accept();
    for (;;) {
        int rc = io_uring_submit_and_wait(&ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            echo_die("io_uring_submit_and_wait: %s", strerror(-rc));
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            on_completion(cqe);
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        publish_buffers();
    }
}
