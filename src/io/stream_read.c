/* stream_read.c — the read buffer and the reading calls that count bytes:
 * read, read_exactly, peek/consume, read_all (asyncio.StreamReader).
 * Separator-based reading is in stream_line.c. */
#include "stream_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "io.h"

/* ---- borrowed read buffers ----------------------------------------------
 *
 * A stream whose transport can read into memory lent only for the call
 * (epoll: wait for readability without a buffer, then read) and whose last
 * read was big holds a read buffer only while it has unread bytes. It
 * borrows one of the thread's spare buffers for the read and keeps it until
 * a later call finds it empty, so views stay valid until the next call on
 * the stream. A thousand connections that each read a big message and
 * answer it then share a buffer or two, which stay in cache, instead of
 * touching a thousand; and one that waits holds none. A buffer that must
 * grow becomes the stream's own. After a small read the stream goes back to
 * a buffer of its own (BULK_READ). */
#define LENT_CAP (16u * 1024u)  /* streams with a first buffer up to this */
#define SPARE_MAX 8

static __thread char *spare[SPARE_MAX];
static __thread size_t spares, users;

void cio_stream_thread_enter(void) { users++; }

void cio_stream_thread_leave(void)
{
    if (--users)
        return;
    while (spares)
        free(spare[--spares]);
}

static char *borrow(void) { return spares ? spare[--spares] : malloc(LENT_CAP); }

static void give_back(char *b)
{
    if (users && spares < SPARE_MAX)
        spare[spares++] = b;
    else
        free(b);
}

/* Reads at least this big go to a borrowed buffer: there the buffer's
 * pages are what a thousand connections would each keep in cache. Smaller
 * ones touch a line or two of the stream's own, and waiting for the read
 * in the loop (which runs many in a row) measured cheaper for them. */
#define BULK_READ 1024

/* A read without waiting (a borrowed or a loaned one) got n <= 0: at the
 * end of stream (0) or an error, n; at -EAGAIN, wait for input and return
 * -EAGAIN to try again (or the wait's error). */
static ssize_t wait_after_nothing(cio_stream *st, ssize_t n)
{
    if (n == 0)
        st->eof = true;
    if (n != -EAGAIN)
        return n;
    int rc = st->t->ops->wait_readable(st->t);
    return rc < 0 ? rc : -EAGAIN;
}

/* ---- loans -----------------------------------------------------------------
 *
 * A backend that has the received bytes in memory of its own (io_uring:
 * the provided buffer its multishot recv filled) lends them: the stream's
 * buffer is then that memory, read where the kernel put it, until the
 * stream's next read. The stream never writes into a loan and never waits
 * for input holding one: a read that needs more first moves the unread
 * bytes into a buffer of its own (keep_unread) and gives the loan back, so
 * the backend's buffers stay with the connections that have data, not
 * those that wait. A stream whose reads are loaned holds no read buffer
 * between messages. */

static void end_loan(cio_stream *st)
{
    cio_poller *p = cio_io_poller();
    if (p && p->be->loan_end)
        p->be->loan_end(p, &st->loan);
    st->loaned = false;
}

void cio_stream_drop_buffer(cio_stream *st)
{
    if (st->loaned)
        end_loan(st);
    else if (st->lent)
        give_back(st->buf);
    else
        free(st->buf);
    st->buf = NULL;
    st->lent = false;
    st->start = st->end = st->cap = 0;
}

/* A loan's unread bytes into a buffer the stream keeps (none if there are
 * none), and the loan back. Big ones (the start of a message longer than
 * a loan) go into one of the thread's spares, as a big borrowed read
 * does: no malloc and free per message; a few bytes (a partial line, a
 * slow peer) into a small buffer of the stream's own. */
static int keep_unread(cio_stream *st)
{
    size_t have = cio_stream_avail(st);
    if (!have) {
        cio_stream_drop_buffer(st);
        return 0;
    }
    bool spare_fits = st->first_cap <= LENT_CAP && have >= BULK_READ && have <= LENT_CAP;
    size_t cap = spare_fits ? LENT_CAP : have > st->first_cap ? have : st->first_cap;
    char *keep = spare_fits ? borrow() : malloc(cap);
    if (!keep)
        return -ENOMEM;
    memcpy(keep, st->buf + st->start, have);
    end_loan(st);
    st->buf = keep;
    st->lent = spare_fits;
    st->cap = cap;
    st->start = 0;
    st->end = have;
    return 0;
}

static bool may_loan(const cio_stream *st)
{
    return st->t->ops->loan_read && !st->no_loan && !cio_stream_avail(st);
}

/* One loan of received bytes, waiting for input first if there is none.
 * -EOPNOTSUPP, -ENOBUFS: read into the stream's own buffer instead. */
static ssize_t fill_loaned(cio_stream *st)
{
    cio_stream_drop_buffer(st);     /* empty: the last call's views are done */
    for (;;) {
        cio_loan l;
        ssize_t n = st->t->ops->loan_read(st->t, &l);
        if (n > 0) {
            st->buf = l.data;
            st->loan = l;
            st->loaned = true;
            st->cap = st->end = (size_t)n;
            return n;
        }
        n = wait_after_nothing(st, n);
        if (n != -EAGAIN)
            return n;
    }
}

/* Read into a borrowed buffer next? Only when nothing is unread, the
 * transport can, and the last read was big or there is no buffer yet. */
static bool may_borrow(const cio_stream *st)
{
    return st->t->ops->try_read && !st->no_lend && st->first_cap <= LENT_CAP &&
           !cio_stream_avail(st) && (!st->buf || st->bulk);
}

/* One read into a borrowed buffer, waiting for readability first if the
 * transport has nothing. -EOPNOTSUPP: the transport cannot, read as usual. */
static ssize_t fill_borrowed(cio_stream *st)
{
    cio_stream_drop_buffer(st);     /* empty: the last call's views are done */
    st->bulk = true;                /* a read of its own, if it turns small */
    for (;;) {
        char *b = borrow();
        if (!b)
            return -ENOMEM;
        ssize_t n = st->t->ops->try_read(st->t, b, st->first_cap);
        if (n > 0) {
            st->buf = b;
            st->lent = true;
            st->cap = st->first_cap;
            st->end = (size_t)n;
            return n;
        }
        give_back(b);
        n = wait_after_nothing(st, n);
        if (n != -EAGAIN)
            return n;
    }
}

/* ---- the stream's buffer ------------------------------------------------ */

/* Make free room at the buffer's end: allocate it, move the unread bytes to
 * the front, or double it (up to grow_max, never below the first size). */
static int make_room(cio_stream *st, size_t grow_max)
{
    if (!st->buf) {
        st->buf = malloc(st->first_cap);
        if (!st->buf)
            return -ENOMEM;
        st->cap = st->first_cap;
        return 0;
    }
    if (st->end < st->cap)
        return 0;
    size_t have = cio_stream_avail(st);
    if (st->start > 0) {
        memmove(st->buf, st->buf + st->start, have);
        st->start = 0;
        st->end = have;
        return 0;
    }
    if (st->cap >= grow_max)
        return CIO_ELIMIT;
    size_t cap = st->cap * 2 < grow_max ? st->cap * 2 : grow_max;
    st->lent = false;           /* a malloc'd block: the stream's own now */
    char *grown = realloc(st->buf, cap);
    if (!grown)
        return -ENOMEM;
    st->buf = grown;
    st->cap = cap;
    return 0;
}

ssize_t cio_stream_fill(cio_stream *st, size_t grow_max)
{
    if (st->loaned) {
        int rc = keep_unread(st);
        if (rc < 0)
            return rc;
    }
    if (may_loan(st)) {
        ssize_t n = fill_loaned(st);
        if (n != -EOPNOTSUPP && n != -ENOBUFS)
            return n;
        st->no_loan = n == -EOPNOTSUPP;   /* not on this backend: not asked again */
    }
    if (may_borrow(st)) {
        ssize_t n = fill_borrowed(st);
        if (n > 0)
            st->bulk = n >= BULK_READ;
        if (n != -EOPNOTSUPP)
            return n;
        st->no_lend = true;     /* the backend cannot: not asked again */
    } else if (st->lent && !cio_stream_avail(st)) {
        cio_stream_drop_buffer(st);     /* small reads: back to a buffer of its own */
    }
    int rc = make_room(st, grow_max);
    if (rc < 0)
        return rc;
    ssize_t n = st->t->ops->read(st->t, st->buf + st->end, st->cap - st->end);
    if (n > 0) {
        st->end += (size_t)n;
        st->bulk = (size_t)n >= BULK_READ;
    }
    else if (n == 0)
        st->eof = true;
    return n;
}

/* Reads of at least this size go straight into the caller's memory when
 * nothing is buffered: the buffer could not have saved a system call. */
static size_t direct_threshold(const cio_stream *st)
{
    return st->cap ? st->cap : st->first_cap;
}

/* One transport read into the caller's memory (an empty loan is given
 * back first: never held while waiting). */
static ssize_t read_direct(cio_stream *st, void *buf, size_t n)
{
    if (st->loaned)
        cio_stream_drop_buffer(st);
    ssize_t got = st->t->ops->read(st->t, buf, n);
    if (got == 0)
        st->eof = true;
    return got;
}

static size_t copy_out(cio_stream *st, void *buf, size_t n)
{
    size_t have = cio_stream_avail(st);
    if (n > have)
        n = have;
    memcpy(buf, st->buf + st->start, n);
    cio_stream_take(st, n);
    return n;
}

ssize_t cio_stream_read(cio_stream *st, void *buf, size_t n)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (n == 0)
        return 0;
    if (cio_stream_avail(st))
        return (ssize_t)copy_out(st, buf, n);
    if (st->eof)
        return 0;
    if (n >= direct_threshold(st))
        return read_direct(st, buf, n);
    ssize_t got = cio_stream_fill(st, st->cap);
    return got <= 0 ? got : (ssize_t)copy_out(st, buf, n);
}

ssize_t cio_stream_read_exactly(cio_stream *st, void *buf, size_t n, size_t *got)
{
    size_t done = 0;
    ssize_t rc = cio_wait_checkpoint();
    while (rc >= 0 && done < n) {
        if (cio_stream_avail(st)) {
            done += copy_out(st, (char *)buf + done, n - done);
            continue;
        }
        if (st->eof) {
            rc = CIO_EINCOMPLETE;
            break;
        }
        size_t left = n - done;
        if (left >= direct_threshold(st)) {
            rc = read_direct(st, (char *)buf + done, left);
            if (rc > 0)
                done += (size_t)rc;
        } else {
            rc = cio_stream_fill(st, st->cap);
        }
    }
    if (got)
        *got = done;
    return rc < 0 ? rc : (ssize_t)n;
}

int cio_stream_peek(cio_stream *st, size_t want, const char **data, size_t *len)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    if (want > st->limit)
        return CIO_ELIMIT;
    while (cio_stream_avail(st) < want && !st->eof) {
        ssize_t n = cio_stream_fill(st, want > st->first_cap ? want : st->first_cap);
        if (n < 0)
            return (int)n;
    }
    *data = st->buf ? st->buf + st->start : "";
    *len = cio_stream_avail(st);
    return 0;
}

int cio_stream_consume(cio_stream *st, size_t n)
{
    if (n > cio_stream_avail(st))
        return -EINVAL;
    cio_stream_take(st, n);
    return 0;
}

size_t cio_stream_buffered(const cio_stream *st) { return cio_stream_avail(st); }

bool cio_stream_at_eof(const cio_stream *st) { return st->eof && !cio_stream_avail(st); }

/* Hand the buffer's bytes over as a '\0'-terminated string; the stream
 * starts a new buffer when it next needs one. */
static ssize_t hand_over(cio_stream *st, char **out)
{
    if (st->loaned) {
        int rc = keep_unread(st);
        if (rc < 0)
            return rc;
    }
    size_t have = cio_stream_avail(st);
    if (st->buf && st->start) {
        memmove(st->buf, st->buf + st->start, have);
        st->start = 0;
        st->end = have;
    }
    char *s = have + 1 <= st->cap ? st->buf : realloc(st->buf, have + 1);
    if (!s)
        return -ENOMEM;
    s[have] = '\0';
    *out = s;
    st->lent = false;
    st->buf = NULL;
    st->start = st->end = st->cap = 0;
    return (ssize_t)have;
}

ssize_t cio_stream_read_all(cio_stream *st, char **out, size_t max)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    /* Room for one byte past max, to see that there is one. */
    size_t grow_max = max < SIZE_MAX - 1 ? max + 1 : SIZE_MAX;
    while (!st->eof) {
        if (cio_stream_avail(st) > max)
            return CIO_ELIMIT;
        ssize_t n = cio_stream_fill(st, grow_max);
        if (n < 0)
            return n;
    }
    if (cio_stream_avail(st) > max)
        return CIO_ELIMIT;
    return hand_over(st, out);
}
