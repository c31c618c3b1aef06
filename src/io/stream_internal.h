/* stream_internal.h — the stream object, shared by the stream_*.c files,
 * and the calls TLS uses to put a stream over another transport. */
#ifndef CIO_IO_STREAM_INTERNAL_H
#define CIO_IO_STREAM_INTERNAL_H

#include "cio/stream.h"
#include "transport.h"

struct cio_stream {
    cio_transport *t;
    char *buf;                  /* read buffer, NULL until needed */
    size_t start, end, cap;     /* unread bytes: buf[start..end) */
    size_t first_cap;           /* the buffer's first size */
    size_t limit;               /* read_until / read_line / peek */
    size_t high, low;           /* drain's water marks */
    bool eof;                   /* the transport read returned 0 */
    bool lent;                  /* buf is the thread's, lent while it holds
                                   unread bytes (stream_read.c) */
    bool bulk;                  /* the last read was big: borrow for the next */
    bool no_lend;               /* the transport cannot read into lent memory */
    bool loaned;                /* buf is the backend's: loan (stream_read.c) */
    bool no_loan;               /* the transport cannot lend */
    cio_loan loan;
};

/* A stream over t, which it owns from then on (closed, aborting, if this
 * fails). For TLS and the socket stream. */
int cio_stream_from_transport(cio_stream **out, cio_transport *t, const cio_stream_opts *opts);

/* The transport under st, and replacing it (start_tls: the new transport
 * wraps the old one, which the stream then no longer closes itself). */
cio_transport *cio_stream_transport(cio_stream *st);
void cio_stream_set_transport(cio_stream *st, cio_transport *t);

static inline size_t cio_stream_avail(const cio_stream *st) { return st->end - st->start; }

/* Take n buffered bytes (n <= avail). */
static inline void cio_stream_take(cio_stream *st, size_t n)
{
    st->start += n;
    if (st->start == st->end)
        st->start = st->end = 0;
}

/* One read from the transport appended to the buffer, which is made (or
 * compacted, or doubled up to grow_max) so that it has room. Returns the
 * count, 0 at end of stream (eof is then set), or a negative errno;
 * CIO_ELIMIT if the buffer is full at grow_max. */
ssize_t cio_stream_fill(cio_stream *st, size_t grow_max);

/* The read buffers streams borrow live per thread while a stream of the
 * thread is open: streams count themselves in and out. */
void cio_stream_thread_enter(void);
void cio_stream_thread_leave(void);

/* Give st's read buffer back (to the thread or the backend, if it was
 * lent) and forget it. */
void cio_stream_drop_buffer(cio_stream *st);

/* Wait until a separator is buffered: its end's offset from the first
 * unread byte in *len. Errors as cio_stream_read_until's (CIO_EINCOMPLETE
 * at end of stream, CIO_ELIMIT). */
int cio_stream_find(cio_stream *st, const void *sep, size_t seplen, size_t *len);

#endif
