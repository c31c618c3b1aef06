/* raw_uring_echo.c — a raw io_uring echo server for the TCP echo benchmark
 * (liburing, no framework): a reference point, written the straightforward
 * way, not tuned to win.
 *
 *   raw_uring_echo --port P
 *
 * Completion-based: one multishot accept; each connection has one operation
 * in flight at a time — a recv into its own 4 KiB buffer, then a send of what
 * came (re-sent from where it stopped after a short send), then the next recv.
 * Each loop iteration handles every completion it finds and submits the
 * operations they queued in one io_uring_submit_and_wait() call. The ring is
 * set up with SINGLE_ISSUER | DEFER_TASKRUN when the kernel has them, else
 * COOP_TASKRUN, else plain.
 */
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "uring_util.h"

#define RING_ENTRIES 4096
#define CONN_BUF 4096

enum op { OP_ACCEPT, OP_RECV, OP_SEND };

struct conn {
    int fd;
    unsigned len;               /* bytes received into buf */
    unsigned sent;              /* of which sent back so far */
    char buf[CONN_BUF];
};

static struct io_uring ring;
static int listen_fd;
static bool multishot_accept = true;

/* user_data: the connection pointer with the operation in its low bits. */
static uint64_t tag(struct conn *c, enum op op)
{
    return (uint64_t)(uintptr_t)c | (uint64_t)op;
}

static void queue_accept(void)
{
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    if (multishot_accept)
        io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL,
                                       SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_ACCEPT));
}

static void queue_recv(struct conn *c)
{
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    io_uring_prep_recv(sqe, c->fd, c->buf, CONN_BUF, 0);
    io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
}

static void queue_send(struct conn *c)
{
    struct io_uring_sqe *sqe = echo_get_sqe(&ring);
    io_uring_prep_send(sqe, c->fd, c->buf + c->sent, c->len - c->sent,
                       MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
}

static void conn_close(struct conn *c)
{
    close(c->fd);
    free(c);
}

static void on_accept(int res, unsigned flags)
{
    if (res >= 0) {
        echo_nodelay(res);
        struct conn *c = malloc(sizeof *c);
        if (!c)
            echo_die("out of memory");
        c->fd = res;
        c->len = c->sent = 0;
        queue_recv(c);
    } else if (res == -EINVAL && multishot_accept) {
        multishot_accept = false;   /* a kernel before 5.19 */
    } else if (res != -EINTR && res != -ECONNABORTED) {
        fprintf(stderr, "accept: %s\n", strerror(-res));
    }
    if (!(flags & IORING_CQE_F_MORE))
        queue_accept();
}

static void on_recv(struct conn *c, int res)
{
    if (res <= 0) {             /* EOF, or the connection failed */
        conn_close(c);
        return;
    }
    c->len = (unsigned)res;
    c->sent = 0;
    queue_send(c);
}

static void on_send(struct conn *c, int res)
{
    if (res < 0) {
        conn_close(c);
        return;
    }
    c->sent += (unsigned)res;
    if (c->sent < c->len)
        queue_send(c);
    else
        queue_recv(c);
}

static void on_completion(struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(data & ~(uint64_t)3);
    switch ((enum op)(data & 3)) {
    case OP_ACCEPT: on_accept(cqe->res, cqe->flags); break;
    case OP_RECV: on_recv(c, cqe->res); break;
    case OP_SEND: on_send(c, cqe->res); break;
    }
}

/* The ring, with the best flags this kernel takes; names them on stderr. */
static void ring_setup(void)
{
    static const struct { unsigned flags; const char *name; } tries[] = {
        { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
          "SINGLE_ISSUER|DEFER_TASKRUN" },
        { IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
        { 0, "no setup flags" },
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        struct io_uring_params p = { .flags = tries[i].flags };
        rc = io_uring_queue_init_params(RING_ENTRIES, &ring, &p);
        if (rc == 0) {
            fprintf(stderr, "raw_uring_echo: io_uring with %s\n",
                    tries[i].name);
            return;
        }
    }
    echo_die("io_uring_queue_init: %s", strerror(-rc));
}

int main(int argc, char **argv)
{
    int port = echo_parse_port(argc, argv, "raw_uring_echo --port P");
    echo_raise_nofile(0);
    listen_fd = echo_listen(port, 0);
    ring_setup();
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
    }
}
