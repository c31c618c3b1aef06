/* test_stream_mshot.c — reading ahead on io_uring (src/poller/uring_mshot.c):
 * a stream's socket keeps a multishot recv that takes data into the
 * backend's provided buffers before anyone reads. Nothing may be lost or
 * reordered: not when a read is cancelled, not at end of stream, not when
 * readers lag and the buffer ring runs low, not when a stream closes with
 * data read ahead. On epoll the same tests check the plain path.
 *
 * Whether data was read ahead shows in FIONREAD: the kernel's socket no
 * longer holds it. A multishot recv with no read waiting is no request in
 * flight, so the virtual clock's loop would not look at I/O while the test
 * sleeps: an idler task blocked on a read of its own keeps it looking. */
#include "stream_helpers.h"

#include <sys/ioctl.h>

#include "core/internal.h"
#include "io/stream_internal.h"
#include "poller/uring_internal.h"

static bool on_uring(void)
{
    return strcmp(cio_loop_backend(cio_loop_current()), "io_uring") == 0;
}

static int kernel_holds(cio_stream *st)
{
    int n = -1;
    cr_assert_eq(ioctl(cio_socket_fd(cio_stream_socket(st)), FIONREAD, &n), 0);
    return n;
}

static int idle_read(void *arg)
{
    char c;
    return (int)cio_stream_read(arg, &c, 1);
}

typedef struct idler {
    cio_stream *st;
    int peer;
    cio_task *t;
} idler;

static void idler_start(idler *i)
{
    i->st = stream_and_fd(&i->peer, NULL, false);
    i->t = spawn(idle_read, i->st, "idler");
}

static void idler_stop(idler *i)
{
    cio_task_cancel(i->t);
    cr_assert_eq(cio_task_join(i->t, NULL), -ECANCELED);
    cr_assert_eq(cio_stream_close(i->st), 0);
    close(i->peer);
}

/* One read, so the socket's multishot recv is armed. */
static void first_read(cio_stream *st, int peer)
{
    char c;
    put(peer, "!");
    cr_assert_eq(cio_stream_read(st, &c, 1), 1);
    cr_assert_eq(c, '!');
}

/* ---- a cancelled read loses nothing ---------------------------------------- */

static int cancel_main(void *arg)
{
    (void)arg;
    int peer;
    idler idle;
    idler_start(&idle);
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    first_read(st, peer);
    char buf[64];
    cio_scope sc;
    cio_scope_enter(&sc, cio_deadline_after(CIO_SEC));
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&sc), -ETIMEDOUT);
    put(peer, "after the cancel");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    if (on_uring())
        cr_assert_eq(kernel_holds(st), 0, "read ahead with no reader waiting");
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 16);
    cr_assert_eq(memcmp(buf, "after the cancel", 16), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    idler_stop(&idle);
    return 0;
}

Test(stream_mshot, data_arriving_after_a_cancelled_read_is_kept)
{
    cr_assert_eq(run_virtual(cancel_main, NULL), 0);
}

/* ---- the end of stream comes after the data --------------------------------- */

static int eof_main(void *arg)
{
    (void)arg;
    int peer;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    first_read(st, peer);
    put(peer, "tail");
    shutdown(peer, SHUT_WR);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    char buf[64];
    cr_assert_eq(cio_stream_read(st, buf, 2), 2);
    cr_assert_eq(memcmp(buf, "ta", 2), 0);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 2);
    cr_assert_eq(memcmp(buf, "il", 2), 0);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 0);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 0, "the end stays");
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream_mshot, end_of_stream_is_reported_after_the_data_read_ahead)
{
    cr_assert_eq(run_virtual(eof_main, NULL), 0);
}

/* ---- lagging readers: the per-socket cap and the ring running low ---------- */

#define NPAIRS 72               /* 72 * 16 buffers: more than the ring has */
#define BULK (96 * 1024)

static char pattern(int pair, size_t i) { return (char)('a' + (pair * 7 + i / 1000) % 26); }

static int lagging_main(void *arg)
{
    (void)arg;
    static cio_stream *a[NPAIRS], *b[NPAIRS];
    static char out[BULK], in[BULK];
    for (int p = 0; p < NPAIRS; p++) {
        stream_pair(&a[p], &b[p], NULL, false);
        cr_assert_eq(cio_stream_write(b[p], "!", 1), 0);
        char c;
        cr_assert_eq(cio_stream_read(a[p], &c, 1), 1);
    }
    for (int p = 0; p < NPAIRS; p++) {
        for (size_t i = 0; i < BULK; i++)
            out[i] = pattern(p, i);
        cr_assert_eq(cio_stream_write(b[p], out, BULK), 0);
    }
    for (int k = 0; k < 5; k++)
        cr_assert_eq(cio_sleep(CIO_MS), 0);     /* the loop reads ahead */
    for (int p = 0; p < NPAIRS; p++) {
        size_t got = 0;
        cr_assert_eq(cio_stream_read_exactly(a[p], in, BULK, &got), BULK, "pair %d", p);
        for (size_t i = 0; i < BULK; i++)
            if (in[i] != pattern(p, i))
                cr_assert_fail("pair %d: byte %zu is wrong", p, i);
        cr_assert_eq(cio_stream_drain(b[p]), 0);
    }
    /* Every buffer came back: a socket reads ahead again. */
    cr_assert_eq(cio_stream_write(b[0], "again", 5), 0);
    cr_assert_eq(cio_stream_read(a[0], in, 5), 5);
    idler idle;
    idler_start(&idle);
    cr_assert_eq(cio_stream_write(b[0], "more", 4), 0);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    idler_stop(&idle);
    if (on_uring())
        cr_assert_eq(kernel_holds(a[0]), 0);
    cr_assert_eq(cio_stream_read(a[0], in, sizeof in), 4);
    cr_assert_eq(memcmp(in, "more", 4), 0);
    for (int p = 0; p < NPAIRS; p++) {
        cr_assert_eq(cio_stream_close(a[p]), 0);
        cr_assert_eq(cio_stream_close(b[p]), 0);
    }
    return 0;
}

Test(stream_mshot, lagging_readers_on_many_sockets_lose_nothing)
{
    cr_assert_eq(run_virtual(lagging_main, NULL), 0);
}

/* The same with a ring of 16 buffers: it runs dry (-ENOBUFS) and runs low
 * all the time, so reads fall back to plain recvs and re-arm. */
Test(stream_mshot, lagging_readers_on_a_tiny_buffer_ring_lose_nothing)
{
    cr_assert_eq(setenv("CIO_URING_MSHOT_BUFS", "16", 1), 0);
    cr_assert_eq(run_virtual(lagging_main, NULL), 0);
}

/* ---- closing with data read ahead gives the buffers back ------------------- */

#define CLOSES 400              /* 3 buffers each: more than the ring has */

static int close_main(void *arg)
{
    (void)arg;
    static char junk[10 * 1024];
    memset(junk, 'j', sizeof junk);
    idler idle;
    idler_start(&idle);
    for (int k = 0; k < CLOSES; k++) {
        int peer;
        cio_stream *st = stream_and_fd(&peer, NULL, false);
        first_read(st, peer);
        cr_assert_eq(send(peer, junk, sizeof junk, MSG_DONTWAIT), (ssize_t)sizeof junk);
        cr_assert_eq(cio_sleep(CIO_MS), 0);
        if (on_uring())
            cr_assert_eq(kernel_holds(st), 0, "round %d: read ahead", k);
        cr_assert_eq(cio_stream_close(st), 0);
        close(peer);
    }
    idler_stop(&idle);
    return 0;
}

Test(stream_mshot, closing_with_data_read_ahead_returns_the_buffers)
{
    cr_assert_eq(run_virtual(close_main, NULL), 0);
}

/* ---- loans: streams read in the provided buffers ------------------------- */

/* Provided buffers out of the ring (in sockets' FIFOs, or lent to streams);
 * 0 on epoll, which has none. */
static unsigned bufs_out(void)
{
    if (!on_uring())
        return 0;
    return ((uring_state *)cio_loop_current()->poller.impl)->bufs_held;
}

/* A stream holds one loan, the buffer its last read came in, until its next
 * read; closing gives it back too. */
static int loan_main(void *arg)
{
    (void)arg;
    idler idle;
    idler_start(&idle);
    int peer;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    first_read(st, peer);
    unsigned lent = on_uring() ? 1 : 0;
    cr_assert_eq(bufs_out(), lent, "the first read's buffer");
    put(peer, "hello");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(bufs_out(), 2 * lent, "and the one read ahead");
    const char *view;
    size_t len;
    cr_assert_eq(cio_stream_peek(st, 1, &view, &len), 0);
    cr_assert(len == 5 && memcmp(view, "hello", 5) == 0);
    cr_assert_eq(bufs_out(), lent, "the first loan came back");
    if (on_uring())
        cr_assert(st->loaned && view == st->buf, "read in place");
    cr_assert_eq(cio_stream_consume(st, 5), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    cr_assert_eq(bufs_out(), 0, "closing gave the last one back");
    idler_stop(&idle);
    return 0;
}

Test(stream_mshot, a_stream_holds_one_loan_until_its_next_read)
{
    cr_assert_eq(run_virtual(loan_main, NULL), 0);
}

/* Readers waiting for the rest of a line hold no loan: their partial lines
 * move into buffers of their own. More of them than the ring has buffers
 * (16): held loans would leave none for the data still to come. */
#define WAITERS 24

static int line_reader(void *arg)
{
    char line[32];
    ssize_t n = cio_stream_read_line(arg, line, sizeof line);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(line, "abcdef\n");
    return 0;
}

static int waiters_main(void *arg)
{
    (void)arg;
    cio_stream *st[WAITERS];
    int peer[WAITERS];
    cio_task *t[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        st[i] = stream_and_fd(&peer[i], NULL, false);
        put(peer[i], "abc");
        t[i] = spawn(line_reader, st[i], "reader");
    }
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(bufs_out(), 0, "a waiting reader holds a loan");
    for (int i = 0; on_uring() && i < WAITERS; i++)
        cr_assert(!st[i]->lent, "a few bytes took a spare buffer");
    for (int i = 0; i < WAITERS; i++)
        put(peer[i], "def\n");
    for (int i = 0; i < WAITERS; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
        cr_assert_eq(cio_stream_close(st[i]), 0);
        close(peer[i]);
    }
    cr_assert_eq(bufs_out(), 0);
    return 0;
}

Test(stream_mshot, readers_waiting_for_more_hold_no_loan)
{
    cr_assert_eq(setenv("CIO_URING_MSHOT_BUFS", "16", 1), 0);
    cr_assert_eq(run_virtual(waiters_main, NULL), 0);
}

/* A message longer than a loan: its first part moves into one of the
 * thread's spare buffers (no malloc per message), the rest is read behind
 * it, and the bytes come out whole and in order. */
#define LONG_MSG 10000

static int long_main(void *arg)
{
    (void)arg;
    int peer;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    static char out[LONG_MSG];
    for (size_t i = 0; i < LONG_MSG; i++)
        out[i] = (char)('a' + i % 23);
    cr_assert_eq(send(peer, out, LONG_MSG, MSG_DONTWAIT), LONG_MSG);
    const char *view;
    size_t len;
    cr_assert_eq(cio_stream_peek(st, LONG_MSG, &view, &len), 0);
    cr_assert_eq(len, LONG_MSG);
    cr_assert_eq(memcmp(view, out, LONG_MSG), 0);
    if (on_uring())
        cr_assert(st->lent && !st->loaned, "kept in a spare buffer");
    cr_assert_eq(cio_stream_consume(st, len), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    cr_assert_eq(bufs_out(), 0);
    return 0;
}

Test(stream_mshot, a_message_longer_than_a_loan_is_kept_in_a_spare_buffer)
{
    cr_assert_eq(run_virtual(long_main, NULL), 0);
}
