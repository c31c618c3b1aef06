/* raw_epoll_echo.c — the floor of the TCP echo benchmark: a single-threaded
 * epoll echo server as a competent C programmer writes it, no framework.
 *
 *   raw_epoll_echo --port P [--until-eagain]
 *
 * Edge-triggered: each socket is registered once for EPOLLIN | EPOLLOUT |
 * EPOLLRDHUP and never modified. Reads go into one shared 64 KiB buffer and
 * are written straight back; what the socket does not take is kept in the
 * connection's own output buffer until EPOLLOUT says it can go. Past 256 KiB
 * of unsent output the connection stops reading until that has drained.
 *
 * Reading stops at EAGAIN, or at a short read (fewer bytes than asked): with
 * edge triggering any data that arrives later queues a new event, so the
 * extra read() that would only return EAGAIN is skipped, as libuv and nginx
 * skip it. The exception is a peer that has shut down (EPOLLRDHUP): its FIN
 * may already be queued behind the data, and no new event would come, so the
 * socket is read until EOF. --until-eagain always reads to EAGAIN.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "echo_util.h"

#define READ_BUF (64 * 1024)
#define OUT_HIGH (256 * 1024)   /* stop reading past this much unsent */

struct conn {
    int fd;
    bool read_paused;           /* stopped at OUT_HIGH; resume when flushed */
    char *out;                  /* unsent echo: out[out_off .. out_len) */
    size_t out_off, out_len, out_cap;
};

static char read_buf[READ_BUF];
static bool until_eagain;

static void conn_close(struct conn *c)
{
    close(c->fd);               /* also removes it from the epoll set */
    free(c->out);
    free(c);
}

/* Keep data[0..n) to send once the socket is writable again. */
static void out_append(struct conn *c, const char *data, size_t n)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        c->out = realloc(c->out, cap);
        if (!c->out)
            echo_die("out of memory");
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

/* Write what the socket takes; returns the count written or -1 on an error
 * that ends the connection (EAGAIN counts as 0 written). */
static ssize_t write_some(int fd, const char *data, size_t n)
{
    for (;;) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w >= 0)
            return w;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Echo data back: straight to the socket unless output is already queued
 * (order must hold), the remainder into the output buffer. */
static bool conn_send(struct conn *c, const char *data, size_t n)
{
    if (c->out_len == c->out_off) {
        ssize_t w = write_some(c->fd, data, n);
        if (w < 0)
            return false;
        data += w;
        n -= (size_t)w;
    }
    if (n > 0)
        out_append(c, data, n);
    return true;
}

/* Send queued output; false if the connection failed. */
static bool conn_flush(struct conn *c)
{
    size_t pending = c->out_len - c->out_off;
    if (pending == 0)
        return true;
    ssize_t w = write_some(c->fd, c->out + c->out_off, pending);
    if (w < 0)
        return false;
    c->out_off += (size_t)w;
    return true;
}

/* Read and echo until the socket is drained; false once it is finished
 * (EOF or an error). */
static bool conn_read(struct conn *c, bool peer_shut)
{
    for (;;) {
        if (c->out_len - c->out_off > OUT_HIGH) {
            c->read_paused = true;
            return true;
        }
        ssize_t n = read(c->fd, read_buf, sizeof read_buf);
        if (n > 0) {
            if (!conn_send(c, read_buf, (size_t)n))
                return false;
            if ((size_t)n < sizeof read_buf && !peer_shut && !until_eagain)
                return true;
            continue;
        }
        if (n == 0)
            return false;
        if (errno == EAGAIN)
            return true;
        if (errno != EINTR)
            return false;
    }
}

static void conn_event(struct conn *c, uint32_t events)
{
    bool ok = true;
    if (events & EPOLLOUT)
        ok = conn_flush(c);
    if (ok && c->read_paused && c->out_len == c->out_off) {
        c->read_paused = false;
        events |= EPOLLIN;      /* no new edge will say data is waiting */
    }
    if (ok && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        && !c->read_paused)
        ok = conn_read(c, events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
    if (!ok)
        conn_close(c);
}

static void accept_all(int ep, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                fprintf(stderr, "accept: %s\n", strerror(errno));
            return;
        }
        echo_nodelay(fd);
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            echo_die("out of memory");
        c->fd = fd;
        struct epoll_event ev = {
            .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
            .data.ptr = c,
        };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            echo_die("epoll_ctl: %s", strerror(errno));
    }
}

int main(int argc, char **argv)
{
    const char *usage = "raw_epoll_echo --port P [--until-eagain]";
    int port = echo_parse_port(argc, argv, usage);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--until-eagain") == 0)
            until_eagain = true;
        else if (strcmp(argv[i], "--port") == 0)
            i++;
        else
            echo_die("usage: %s", usage);
    echo_raise_nofile(0);

    int lfd = echo_listen(port, SOCK_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        echo_die("epoll_create1: %s", strerror(errno));
    /* The listening socket is the one entry whose data.ptr is NULL. */
    struct epoll_event lev = { .events = EPOLLIN | EPOLLET, .data.ptr = NULL };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
        echo_die("epoll_ctl: %s", strerror(errno));

    struct epoll_event events[512];
    for (;;) {
        int n = epoll_wait(ep, events, 512, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            echo_die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                accept_all(ep, lfd);
            else
                conn_event(events[i].data.ptr, events[i].events);
        }
    }
}
