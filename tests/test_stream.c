/* test_stream.c — the reading half of streams: read, read_exactly,
 * read_line, read_until (limits, separators split across reads), views,
 * peek/consume, read_all, at_eof. The peer is a raw descriptor the test
 * writes to; pieces meant to arrive in separate reads are written after a
 * (virtual) sleep, by which time the reader has taken the earlier ones. */
#include "stream_helpers.h"

#include "io/stream_internal.h"     /* to see when the read buffer exists */

static int peer;

/* ---- read ----------------------------------------------------------------- */

static int read_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    char buf[64];
    put(peer, "hello world");
    /* A small read is served from the buffer; the next comes from it too. */
    cr_assert_eq(cio_stream_read(st, buf, 5), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(cio_stream_buffered(st), 6);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 6);
    cr_assert_eq(memcmp(buf, " world", 6), 0);
    cr_assert_eq(cio_stream_read(st, buf, 0), 0, "read(0) is empty, not end of stream");
    /* A large read goes straight into the caller's memory. */
    put(peer, "direct");
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 6);
    cr_assert_eq(memcmp(buf, "direct", 6), 0);
    cr_assert(!cio_stream_at_eof(st));
    shutdown(peer, SHUT_WR);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 0);
    cr_assert(cio_stream_at_eof(st));
    cr_assert_eq(cio_stream_read(st, buf, 1), 0, "end of stream stays");
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_serves_the_buffer_then_the_socket_then_eof)
{
    cr_assert_eq(run_virtual(read_main, NULL), 0);
}

/* Reads lent by the backend (io_uring's multishot recv): no buffer. */
static bool loans_reads(void)
{
    const char *mshot = getenv("CIO_URING_MSHOT");
    return strcmp(cio_loop_backend(cio_loop_current()), "io_uring") == 0 &&
           !(mshot && strcmp(mshot, "0") == 0);
}

/* A connection read only with buffers at least as large as the stream's
 * first buffer size never gets a read buffer: idle, it costs nothing. */
static int no_buffer_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    char buf[4096];
    for (int i = 0; i < 3; i++) {
        put(peer, "ping");
        cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 4);
    }
    cr_assert_null(st->buf);
    /* The first small read makes one of the configured size, or reads
     * where the backend put the bytes. */
    put(peer, "pong");
    cr_assert_eq(cio_stream_read(st, buf, 1), 1);
    cr_assert_not_null(st->buf);
    if (loans_reads())
        cr_assert(st->loaned && st->cap == 4);
    else
        cr_assert_eq(st->cap, 2048);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, large_reads_need_no_read_buffer)
{
    cr_assert_eq(run_virtual(no_buffer_main, NULL), 0);
}

/* The peer's data and its end of stream arrive together, while the reader
 * waits (one readiness edge for both): after the short read the end must
 * still be seen, not waited for. */
static int read_twice(void *arg)
{
    cio_stream *st = arg;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    char buf[64];
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 10);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 0, "the end of stream was missed");
    return cio_scope_leave(&s);
}

static int eof_behind_data_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    cio_task *t = spawn(read_twice, st, "reader");
    cr_assert_eq(cio_sleep(CIO_MS), 0);     /* the reader waits */
    put(peer, "last words");
    shutdown(peer, SHUT_WR);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, eof_arriving_with_the_data_is_not_missed)
{
    cr_assert_eq(run_virtual(eof_behind_data_main, NULL), 0);
}

/* ---- read_exactly ----------------------------------------------------------- */

static int writer_in_pieces(void *arg)
{
    const char **pieces = arg;
    for (int i = 0; pieces[i]; i++) {
        cr_assert_eq(cio_sleep(CIO_MS), 0);
        if (pieces[i][0] == '\x04')
            shutdown(peer, SHUT_WR);    /* "^D": end of stream */
        else
            put(peer, pieces[i]);
    }
    return 0;
}

static int exactly_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    const char *pieces[] = { "abc", "defg", "hi", "jk", "\x04", NULL };
    cio_task *w = spawn(writer_in_pieces, pieces, "writer");
    char buf[16] = { 0 };
    size_t got = 99;
    cr_assert_eq(cio_stream_read_exactly(st, buf, 8, &got), 8);
    cr_assert_eq(got, 8);
    cr_assert_eq(memcmp(buf, "abcdefgh", 8), 0);
    memset(buf, 0, sizeof buf);
    /* Early end of stream: a distinct error, with the partial count. */
    cr_assert_eq(cio_stream_read_exactly(st, buf, 10, &got), CIO_EINCOMPLETE);
    cr_assert_eq(got, 3);
    cr_assert_eq(memcmp(buf, "ijk", 3), 0);
    cr_assert(cio_stream_at_eof(st));
    cr_assert_eq(cio_stream_read_exactly(st, buf, 1, &got), CIO_EINCOMPLETE);
    cr_assert_eq(got, 0);
    cr_assert_eq(cio_stream_read_exactly(st, buf, 0, NULL), 0);
    cr_assert_eq(cio_task_join(w, NULL), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_exactly_and_its_partial_count_at_early_eof)
{
    cr_assert_eq(run_virtual(exactly_main, NULL), 0);
}

/* A large read_exactly, much bigger than the buffer and the kernel's, fed
 * by another stream. */
static int big_writer(void *arg)
{
    cio_stream *w = arg;
    static char data[1 << 20];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + i / 251);
    cr_assert_eq(cio_stream_write(w, data, sizeof data), 0);
    return cio_stream_close(w);
}

static int big_exactly_main(void *arg)
{
    (void)arg;
    cio_stream *r, *w;
    stream_pair(&r, &w, NULL, true);
    cio_task *t = spawn(big_writer, w, "writer");
    size_t n = 1 << 20;
    char *buf = malloc(n);
    /* First a few bytes through the buffer, then the rest. */
    cr_assert_eq(cio_stream_read_exactly(r, buf, 3, NULL), 3);
    size_t got = 0;
    cr_assert_eq(cio_stream_read_exactly(r, buf + 3, n - 3, &got), (ssize_t)(n - 3));
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(buf[i], (char)(i * 7 + i / 251), "byte %zu", i);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    char c;
    cr_assert_eq(cio_stream_read(r, &c, 1), 0);
    free(buf);
    return cio_stream_close(r);
}

Test(stream, read_exactly_a_megabyte)
{
    cr_assert_eq(run_virtual(big_exactly_main, NULL), 0);
}

/* ---- read_line ------------------------------------------------------------------ */

static int line_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    const char *pieces[] = { "one\ntwo\nthr", "ee\n", "\n", "last", "\x04", NULL };
    cio_task *w = spawn(writer_in_pieces, pieces, "writer");
    char line[32];
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 4);
    cr_assert_str_eq(line, "one\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 4);
    cr_assert_str_eq(line, "two\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 6, "split over two reads");
    cr_assert_str_eq(line, "three\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 1);
    cr_assert_str_eq(line, "\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 4, "the end without newline");
    cr_assert_str_eq(line, "last");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 0);
    cr_assert_str_eq(line, "");
    cr_assert_eq(cio_task_join(w, NULL), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_line_whole_split_empty_and_last)
{
    cr_assert_eq(run_virtual(line_main, NULL), 0);
}

static int line_limits_main(void *arg)
{
    (void)arg;
    cio_stream_opts o = { .limit = 16, .read_buffer = 8 };
    cio_stream *st = stream_and_fd(&peer, &o, false);
    char line[64];
    /* 20 bytes and no newline: past the limit, and the bytes stay. */
    put(peer, "0123456789abcdefghij");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), CIO_ELIMIT);
    /* The buffer grew to limit + 1 bytes, which showed there is no newline
     * within the limit; the rest is still in the kernel (or, read where the
     * backend put it, all of it is buffered). */
    size_t want = loans_reads() ? 20 : 17;
    cr_assert_eq(cio_stream_buffered(st), want);
    const char *view;
    size_t len;
    cr_assert_eq(cio_stream_peek(st, 0, &view, &len), 0);
    cr_assert_eq(len, want);
    cr_assert_eq(memcmp(view, "0123456789abcdefghij", want), 0, "nothing was dropped");
    /* The caller decides: here it skips the first 17. */
    cr_assert_eq(cio_stream_consume(st, 17), 0);
    cr_assert_eq(cio_stream_consume(st, want - 17 + 1), -EINVAL);
    put(peer, "\nfits in sixteen\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 4);
    cr_assert_str_eq(line, "hij\n");
    /* Within the limit (16 before the newline) but not within cap. */
    cr_assert_eq(cio_stream_read_line(st, line, 8), -ENOBUFS);
    cr_assert_eq(cio_stream_buffered(st), 16, "the line stays");
    cr_assert_eq(cio_stream_read_line(st, line, 16), -ENOBUFS, "no room for the NUL");
    cr_assert_eq(cio_stream_read_line_view(st, &view, &len), 0);
    cr_assert_eq(len, 16);
    cr_assert_eq(memcmp(view, "fits in sixteen\n", 16), 0);
    /* A newline after exactly limit + 1 bytes: over. */
    put(peer, "seventeen bytes..\n");
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), CIO_ELIMIT);
    cr_assert_eq(cio_stream_buffered(st), loans_reads() ? 18 : 17);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_line_limit_overrun_keeps_data_and_cap_is_enobufs)
{
    cr_assert_eq(run_virtual(line_limits_main, NULL), 0);
}

/* ---- read_until ------------------------------------------------------------------ */

static int until_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    /* The separator arrives split across three reads. */
    const char *pieces[] = { "GET / HTTP/1.1\r\nHost: x\r", "\n\r", "\nbody", "\x04", NULL };
    cio_task *w = spawn(writer_in_pieces, pieces, "writer");
    char buf[64];
    ssize_t n = cio_stream_read_until(st, "\r\n\r\n", 4, buf, sizeof buf);
    cr_assert_eq(n, 27);
    cr_assert_eq(memcmp(buf, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), 0);
    /* End of stream before the separator: the bytes stay for read(). */
    cr_assert_eq(cio_stream_read_until(st, "\r\n\r\n", 4, buf, sizeof buf), CIO_EINCOMPLETE);
    cr_assert_eq(cio_stream_buffered(st), 4);
    cr_assert_eq(cio_stream_read(st, buf, sizeof buf), 4);
    cr_assert_eq(memcmp(buf, "body", 4), 0);
    cr_assert_eq(cio_stream_read_until(st, "\n", 1, buf, sizeof buf), CIO_EINCOMPLETE);
    cr_assert_eq(cio_stream_read_until(st, "", 0, buf, sizeof buf), -EINVAL);
    cr_assert_eq(cio_task_join(w, NULL), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_until_multibyte_separator_split_across_reads)
{
    cr_assert_eq(run_virtual(until_main, NULL), 0);
}

static int until_limit_main(void *arg)
{
    (void)arg;
    cio_stream_opts o = { .limit = 10 };
    cio_stream *st = stream_and_fd(&peer, &o, false);
    char buf[64];
    const char *view;
    size_t len;
    /* Exactly limit bytes before the separator: accepted (asyncio's rule). */
    put(peer, "0123456789--");
    cr_assert_eq(cio_stream_read_until_view(st, "--", 2, &view, &len), 0);
    cr_assert_eq(len, 12);
    /* limit + seplen bytes without it: overrun, nothing taken. */
    put(peer, "abcdefghijk-X");
    cr_assert_eq(cio_stream_read_until(st, "--", 2, buf, sizeof buf), CIO_ELIMIT);
    cr_assert_eq(cio_stream_buffered(st), 13);
    /* Completing the separator later does not help: it is past the limit. */
    put(peer, "-");
    cr_assert_eq(cio_stream_read_until(st, "X-", 2, buf, sizeof buf), CIO_ELIMIT);
    cr_assert_eq(cio_stream_read_exactly(st, buf, 14, NULL), 14);
    cr_assert_eq(memcmp(buf, "abcdefghijk-X-", 14), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_until_limit_overrun_leaves_the_data)
{
    cr_assert_eq(run_virtual(until_limit_main, NULL), 0);
}

/* ---- peek, consume, read_all ----------------------------------------------------- */

static int peek_main(void *arg)
{
    (void)arg;
    cio_stream_opts o = { .limit = 100 };
    cio_stream *st = stream_and_fd(&peer, &o, false);
    const char frame[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
    cr_assert_eq(send(peer, frame, 2, 0), 2);
    const char *data;
    size_t len;
    cr_assert_eq(cio_stream_peek(st, 0, &data, &len), 0, "want 0 does not wait");
    cr_assert_eq(len, 0);
    cr_assert_eq(cio_stream_peek(st, 1, &data, &len), 0);
    cr_assert_eq(len, 2);
    cr_assert_eq(send(peer, frame + 2, 7, 0), 7);
    cr_assert_eq(cio_stream_peek(st, 4, &data, &len), 0);
    cr_assert_geq(len, 4);
    size_t body = (size_t)data[3];
    cr_assert_eq(cio_stream_consume(st, 4), 0);
    cr_assert_eq(cio_stream_peek(st, body, &data, &len), 0);
    cr_assert_eq(memcmp(data, "hello", 5), 0);
    cr_assert_eq(cio_stream_consume(st, body), 0);
    cr_assert_eq(cio_stream_peek(st, 101, &data, &len), CIO_ELIMIT);
    shutdown(peer, SHUT_WR);
    cr_assert_eq(cio_stream_peek(st, 50, &data, &len), 0, "end of stream: what there is");
    cr_assert_eq(len, 0);
    cr_assert(cio_stream_at_eof(st));
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, peek_waits_for_want_bytes_and_consume_takes_them)
{
    cr_assert_eq(run_virtual(peek_main, NULL), 0);
}

/* ---- borrowed read buffers (epoll) ---------------------------------------- */

static void put_n(int fd, char c, size_t n)
{
    char buf[1500];
    cr_assert_leq(n, sizeof buf);
    memset(buf, c, n);
    cr_assert_eq(send(fd, buf, n, MSG_DONTWAIT), (ssize_t)n);
}

static bool all_are(const char *p, char c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return false;
    return true;
}

/* A big read goes into a buffer the stream borrows from the thread; the
 * bytes a peek shows stay put while another stream borrows and reads, until
 * the next call on their own stream. After a small read the stream reads
 * into a buffer of its own again. On io_uring with multishot recv the
 * stream reads every message where the kernel put it (a loan of the
 * backend's buffer) instead, with the same guarantee for views; without
 * it (CIO_URING_MSHOT=0) every stream has its own buffer. */
static int borrow_main(void *arg)
{
    (void)arg;
    bool lends = strcmp(cio_loop_backend(cio_loop_current()), "epoll") == 0;
    bool loans = loans_reads();
    int pa, pb;
    cio_stream *a = stream_and_fd(&pa, NULL, false);
    cio_stream *b = stream_and_fd(&pb, NULL, false);
    const char *va, *vb;
    size_t na, nb;
    put_n(pa, 'a', 1500);
    cr_assert_eq(cio_stream_peek(a, 1, &va, &na), 0);
    cr_assert_eq(na, 1500);
    cr_assert(a->lent == lends && a->loaned == loans);
    cr_assert_eq(cio_stream_consume(a, na), 0);
    /* a's view is still good: b must borrow another buffer, not a's. */
    put_n(pb, 'b', 1500);
    cr_assert_eq(cio_stream_peek(b, 1, &vb, &nb), 0);
    cr_assert_eq(nb, 1500);
    cr_assert(b->lent == lends && b->loaned == loans);
    cr_assert_neq(va, vb);
    cr_assert(all_are(va, 'a', 1500), "a's bytes were overwritten");
    cr_assert(all_are(vb, 'b', 1500));
    /* A small read still borrows (the last one was big), the next one not;
     * loans do not depend on the size. */
    put(pa, "x");
    cr_assert_eq(cio_stream_peek(a, 1, &va, &na), 0);
    cr_assert_eq(na, 1);
    cr_assert(a->lent == lends && a->loaned == loans);
    cr_assert_eq(cio_stream_consume(a, 1), 0);
    put(pa, "y");
    cr_assert_eq(cio_stream_peek(a, 1, &va, &na), 0);
    cr_assert(na == 1 && va[0] == 'y');
    cr_assert(!a->lent && a->loaned == loans);
    cr_assert_not_null(a->buf);
    cr_assert(all_are(vb, 'b', 1500), "b's unread bytes were overwritten");
    /* The end of stream comes through a borrowed read too. */
    cr_assert_eq(cio_stream_consume(b, nb), 0);
    shutdown(pb, SHUT_WR);
    char buf[8];
    cr_assert_eq(cio_stream_read(b, buf, 1), 0);
    cr_assert(cio_stream_at_eof(b));
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_stream_close(b), 0);
    close(pa);
    close(pb);
    return 0;
}

Test(stream, big_reads_borrow_a_buffer_and_views_survive_other_streams)
{
    cr_assert_eq(run_virtual(borrow_main, NULL), 0);
}

/* A reader cancelled while it waits for readability (holding no buffer)
 * loses nothing: the bytes that come later are read by the next call. */
static int borrow_cancel_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    const char *v;
    size_t n;
    cio_scope sc;
    cio_scope_enter(&sc, cio_deadline_after(CIO_SEC));
    cr_assert_eq(cio_stream_peek(st, 1, &v, &n), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&sc), -ETIMEDOUT);
    if (strcmp(cio_loop_backend(cio_loop_current()), "epoll") == 0)
        cr_assert_null(st->buf, "a waiting reader holds no buffer");
    put_n(peer, 'z', 1200);
    cr_assert_eq(cio_stream_peek(st, 1200, &v, &n), 0);
    cr_assert(n == 1200 && all_are(v, 'z', 1200));
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, reader_cancelled_while_waiting_to_borrow_loses_nothing)
{
    cr_assert_eq(run_virtual(borrow_cancel_main, NULL), 0);
}

static int read_all_main(void *arg)
{
    (void)arg;
    cio_stream *st = stream_and_fd(&peer, NULL, false);
    const char *pieces[] = { "first line\n", "more", " and more", "\x04", NULL };
    cio_task *w = spawn(writer_in_pieces, pieces, "writer");
    char line[32];
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 11);
    char *all = NULL;
    /* Too much for max: the bytes stay in the stream. */
    cr_assert_eq(cio_stream_read_all(st, &all, 5), CIO_ELIMIT);
    cr_assert_null(all);
    ssize_t n = cio_stream_read_all(st, &all, SIZE_MAX);
    cr_assert_eq(n, 13);
    cr_assert_str_eq(all, "more and more");
    free(all);
    cr_assert(cio_stream_at_eof(st));
    cr_assert_eq(cio_stream_read_all(st, &all, 0), 0, "nothing left: empty");
    cr_assert_str_eq(all, "");
    free(all);
    cr_assert_eq(cio_task_join(w, NULL), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, read_all_to_eof_with_a_bound)
{
    cr_assert_eq(run_virtual(read_all_main, NULL), 0);
}

/* A stream over a connection that only sees cio_stream_read with a big
 * enough buffer never allocates a read buffer; buffered reads start at the
 * configured size and grow to the limit. */
static int buffer_growth_main(void *arg)
{
    (void)arg;
    cio_stream_opts o = { .limit = 4096, .read_buffer = 16 };
    cio_stream *st = stream_and_fd(&peer, &o, false);
    char big[5000];
    memset(big, 'x', sizeof big);
    big[3000] = '\n';
    cr_assert_eq(send(peer, big, sizeof big, 0), (ssize_t)sizeof big);
    char line[4096];
    cr_assert_eq(cio_stream_read_line(st, line, sizeof line), 3001);
    cr_assert_eq(line[3000], '\n');
    cr_assert_eq(cio_stream_read_exactly(st, big, 1999, NULL), 1999);
    cr_assert_eq(cio_stream_close(st), 0);
    close(peer);
    return 0;
}

Test(stream, small_first_buffer_grows_for_a_long_line)
{
    cr_assert_eq(run_virtual(buffer_growth_main, NULL), 0);
}

static int opts_main(void *arg)
{
    (void)arg;
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cio_stream *st;
    cio_stream_opts bad = { .high_water = 10, .low_water = 20 };
    cr_assert_eq(cio_stream_open(&st, adopt(sv[0]), &bad), -EINVAL);
    /* The socket was closed with the failure. */
    char c = 0;
    cr_assert_eq(send(sv[1], &c, 1, MSG_NOSIGNAL), -1);
    close(sv[1]);
    return 0;
}

Test(stream, open_with_bad_water_marks_fails_and_closes_the_socket)
{
    cr_assert_eq(run_virtual(opts_main, NULL), 0);
}
