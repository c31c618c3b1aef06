/* test_stream_write.c — the writing half of streams: write/writev order,
 * drain and the water marks, write_eof, close flushing megabytes, abort,
 * errors after the peer reset or closed, addresses. Both ends are cio
 * streams on one loop (small kernel buffers make output queue up), so a
 * peer reads exactly when the test lets it: no sleeps. */
#include "stream_helpers.h"

#include <netinet/in.h>
#include <signal.h>

/* Bytes with a pattern a reader can check by position. */
static char pattern(size_t i) { return (char)(i * 131 + i / 509); }

static void fill_pattern(char *p, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(from + i);
}

/* ---- writev ---------------------------------------------------------------- */

static int writev_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, false);
    struct iovec iov[] = {
        { "GET ", 4 }, { "/index.html", 11 }, { "", 0 }, { " HTTP/1.1\r\n", 11 },
    };
    cr_assert_eq(cio_stream_writev(a, iov, 4), 0);
    cr_assert_eq(cio_stream_write(a, "\r\n", 2), 0);
    cr_assert_eq(cio_stream_writev(a, iov, 0), 0);
    char buf[64];
    ssize_t n = cio_stream_read_until(b, "\r\n\r\n", 4, buf, sizeof buf);
    cr_assert_eq(n, 28);
    cr_assert_eq(memcmp(buf, "GET /index.html HTTP/1.1\r\n\r\n", 28), 0);
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_stream_close(b), 0);
    return 0;
}

Test(stream_write, writev_and_write_arrive_in_order)
{
    cr_assert_eq(run_virtual(writev_main, NULL), 0);
}

/* Many small writes while output is queued keep their order, and a large
 * queue drains completely in the background. */
static size_t reader_total;

static int check_reader(void *arg)
{
    cio_stream *st = arg;
    char buf[3000];
    ssize_t n;
    while ((n = cio_stream_read(st, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], pattern(reader_total + (size_t)i), "byte %zu",
                         reader_total + (size_t)i);
        reader_total += (size_t)n;
    }
    cr_assert_eq(n, 0);
    return cio_stream_close(st);
}

static int order_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, true);
    reader_total = 0;
    cio_task *r = spawn(check_reader, b, "reader");
    size_t sent = 0;
    char chunk[777];
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)(1 + i % 777);
        fill_pattern(chunk, n, sent);
        cr_assert_eq(cio_stream_write(a, chunk, n), 0);
        sent += n;
        if (i % 100 == 99)
            cr_assert_eq(cio_stream_drain(a), 0);
    }
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_task_join(r, NULL), 0);
    cr_assert_eq(reader_total, sent);
    return 0;
}

Test(stream_write, small_writes_behind_a_queue_keep_their_order)
{
    cr_assert_eq(run_virtual(order_main, NULL), 0);
}

/* ---- drain ------------------------------------------------------------------ */

static bool draining;
static size_t peer_read;

static int late_reader(void *arg)
{
    cio_stream *st = arg;
    /* It runs only once the writer has blocked in drain. */
    cr_assert(draining, "drain returned without waiting");
    char buf[4096];
    ssize_t n;
    while ((n = cio_stream_read(st, buf, sizeof buf)) > 0)
        peer_read += (size_t)n;
    cr_assert_eq(n, 0);
    return 0;
}

static int drain_main(void *arg)
{
    (void)arg;
    cio_stream_opts o = { .high_water = 64 * 1024, .low_water = 16 * 1024 };
    cio_stream *a, *b;
    stream_pair(&a, &b, &o, true);
    /* Below the high mark drain does not wait. */
    static char data[256 * 1024];
    fill_pattern(data, sizeof data, 0);
    cr_assert_eq(cio_stream_write(a, data, 1000), 0);
    cr_assert_eq(cio_stream_drain(a), 0);
    cr_assert_leq(cio_stream_write_pending(a), 1000);
    /* Far above it: drain blocks until the peer has read enough. */
    cr_assert_eq(cio_stream_write(a, data, sizeof data), 0);
    cr_assert_gt(cio_stream_write_pending(a), 64 * 1024);
    peer_read = 0;
    cio_task *r = spawn(late_reader, b, "reader");
    draining = true;
    cr_assert_eq(cio_stream_drain(a), 0);
    draining = false;
    cr_assert_leq(cio_stream_write_pending(a), 16 * 1024, "drained to the low mark");
    cr_assert_gt(peer_read, 0);
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_task_join(r, NULL), 0);
    cr_assert_eq(peer_read, 1000 + sizeof data);
    return cio_stream_close(b);
}

Test(stream_write, drain_blocks_above_high_water_until_the_peer_reads)
{
    cr_assert_eq(run_virtual(drain_main, NULL), 0);
}

/* ---- errors --------------------------------------------------------------- */

/* A TCP connection on loopback: a (client) and the accepted b. */
static void tcp_pair(cio_stream **a, cio_stream **b)
{
    cio_socket *l, *c, *s;
    cr_assert_eq(cio_tcp_listen(&l, "127.0.0.1", 0, NULL), 0);
    cio_addr addr;
    cr_assert_eq(cio_socket_local_addr(l, &addr), 0);
    cr_assert_eq(cio_connect_addr(&c, &addr), 0);
    cr_assert_eq(cio_socket_accept(l, &s, NULL), 0);
    cio_socket_close(l);
    cr_assert_eq(cio_stream_open(a, c, NULL), 0);
    cr_assert_eq(cio_stream_open(b, s, NULL), 0);
}

static int reset_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    tcp_pair(&a, &b);
    /* b resets the connection: it closes with SO_LINGER 0. */
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    cr_assert_eq(cio_socket_setopt(cio_stream_socket(b), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    cio_stream_abort(b);
    /* The first write may be taken (a completion backend learns of the
     * reset when the send completes); a later one reports it. */
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = cio_stream_write(a, "after the reset", 15);
        if (rc == 0)
            cr_assert_eq(cio_sleep(CIO_MS), 0);
    }
    cr_assert(rc == -ECONNRESET || rc == -EPIPE, "write after reset: %s", cio_errname(rc));
    /* The error stays: later writes and drains report it. */
    cr_assert_eq(cio_stream_write(a, "x", 1), rc);
    cr_assert_eq(cio_stream_drain(a), rc);
    char c;
    ssize_t n = cio_stream_read(a, &c, 1);
    cr_assert(n == -ECONNRESET || n == 0, "read after reset: %zd", n);
    int crc = cio_stream_close(a);
    cr_assert_eq(crc, rc, "close reports the output's error");
    return 0;
}

Test(stream_write, write_after_peer_reset_is_an_error_not_a_signal)
{
    /* Make sure SIGPIPE would kill us if it were raised. */
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(run_virtual(reset_main, NULL), 0);
}

/* The peer goes away while output is queued: the background send fails and
 * the next write, drain and close report it. */
static int queued_error_main(void *arg)
{
    (void)arg;
    int peer;
    cio_stream *a = stream_and_fd(&peer, NULL, true);
    static char data[128 * 1024];
    cr_assert_eq(cio_stream_write(a, data, sizeof data), 0);
    cr_assert_gt(cio_stream_write_pending(a), 0);
    close(peer);
    /* drain waits for the queue to move, and the send fails. */
    int rc = cio_stream_drain(a);
    cr_assert(rc == -EPIPE || rc == -ECONNRESET, "drain: %s", cio_errname(rc));
    cr_assert_eq(cio_stream_write_pending(a), 0, "the queue was dropped");
    cr_assert_eq(cio_stream_write(a, "x", 1), rc);
    cr_assert_eq(cio_stream_close(a), rc);
    return 0;
}

Test(stream_write, background_send_error_is_reported_by_later_calls)
{
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(run_virtual(queued_error_main, NULL), 0);
}

/* ---- write_eof ------------------------------------------------------------- */

static int answering_peer(void *arg)
{
    cio_stream *st = arg;
    char *all;
    ssize_t n = cio_stream_read_all(st, &all, 1 << 20);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(all, "request");
    free(all);
    char reply[16];
    snprintf(reply, sizeof reply, "got %zd", n);
    cr_assert_eq(cio_stream_write(st, reply, strlen(reply)), 0);
    return cio_stream_close(st);
}

static int write_eof_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, false);
    cio_task *t = spawn(answering_peer, b, "peer");
    cr_assert_eq(cio_stream_write(a, "request", 7), 0);
    cr_assert_eq(cio_stream_write_eof(a), 0);
    cr_assert_eq(cio_stream_write(a, "more", 4), -EPIPE, "no writing after write_eof");
    char *reply;
    cr_assert_eq(cio_stream_read_all(a, &reply, 100), 5);
    cr_assert_str_eq(reply, "got 7");
    free(reply);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return cio_stream_close(a);
}

Test(stream_write, write_eof_ends_output_and_the_peer_can_still_answer)
{
    cr_assert_eq(run_virtual(write_eof_main, NULL), 0);
}

/* ---- close and abort ---------------------------------------------------------- */

static int close_flush_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, true);
    reader_total = 0;
    cio_task *r = spawn(check_reader, b, "reader");
    size_t total = 8u << 20;
    char *data = malloc(total);
    fill_pattern(data, total, 0);
    cr_assert_eq(cio_stream_write(a, data, total / 2), 0);
    cr_assert_eq(cio_stream_write(a, data + total / 2, total / 2), 0);
    free(data);                 /* the stream has its own copy */
    cr_assert_gt(cio_stream_write_pending(a), total / 2);
    cr_assert_eq(cio_stream_close(a), 0, "close sends everything first");
    cr_assert_eq(cio_task_join(r, NULL), 0);
    cr_assert_eq(reader_total, total);
    return 0;
}

Test(stream_write, close_flushes_megabytes)
{
    cr_assert_eq(run_virtual(close_flush_main, NULL), 0);
}

static int abort_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, true);
    static char data[1 << 20];
    cr_assert_eq(cio_stream_write(a, data, sizeof data), 0);
    size_t queued = cio_stream_write_pending(a);
    cr_assert_gt(queued, 0);
    cio_stream_abort(a);
    /* The peer gets what the kernel had taken, then end of stream. */
    char *all;
    ssize_t n = cio_stream_read_all(b, &all, SIZE_MAX);
    cr_assert_geq(n, 0);
    /* What was queued at the abort was dropped, except what a send in
     * progress (on a completion backend) had already handed over. */
    cr_assert_geq((size_t)n, sizeof data - queued);
    cr_assert_lt((size_t)n, sizeof data, "the queued bytes were dropped");
    free(all);
    return cio_stream_close(b);
}

Test(stream_write, abort_drops_queued_output)
{
    cr_assert_eq(run_virtual(abort_main, NULL), 0);
}

/* ---- addresses and the socket -------------------------------------------------- */

static int addr_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    tcp_pair(&a, &b);
    cio_addr la, pa, lb, pb;
    cr_assert_eq(cio_stream_local_addr(a, &la), 0);
    cr_assert_eq(cio_stream_peer_addr(a, &pa), 0);
    cr_assert_eq(cio_stream_local_addr(b, &lb), 0);
    cr_assert_eq(cio_stream_peer_addr(b, &pb), 0);
    cr_assert_eq(cio_addr_port(&la), cio_addr_port(&pb));
    cr_assert_eq(cio_addr_port(&pa), cio_addr_port(&lb));
    char s[64];
    cr_assert_gt(cio_addr_format(&pa, s, sizeof s), 0);
    cr_assert_eq(strncmp(s, "127.0.0.1:", 10), 0, "%s", s);
    cr_assert_eq(cio_socket_set_nodelay(cio_stream_socket(a), true), 0);
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_stream_close(b), 0);
    return 0;
}

Test(stream_write, peer_and_local_addresses_and_socket_options)
{
    cr_assert_eq(run_virtual(addr_main, NULL), 0);
}
