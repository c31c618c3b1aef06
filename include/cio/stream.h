/* cio/stream.h — buffered byte streams: asyncio's StreamReader and
 * StreamWriter as one object over a socket (or over TLS).
 *
 *     cio_stream *st;
 *     if ((rc = cio_open_connection(&st, "127.0.0.1", "7000", NULL)) < 0) ...
 *     rc = cio_stream_write(st, "hello\n", 6);
 *     char line[256];
 *     ssize_t n = cio_stream_read_line(st, line, sizeof line);
 *     rc = cio_stream_close(st);
 *
 * Reading blocks the task until the data is there; every reading call is a
 * cancellation point (it honours the caller's cancel scopes and deadlines:
 * wrap it in a cio_scope for a timeout). Whatever a call had read when it
 * was interrupted stays in the stream's buffer for the next call, or is
 * reported to the caller (cio_stream_read_exactly's *got): nothing is lost.
 *
 * Writing never blocks: cio_stream_write hands the bytes to the kernel at
 * once if it takes them, and queues the rest, which is sent in the
 * background while the task goes on (asyncio's transport buffer). Call
 * cio_stream_drain after writing to let the queue bound memory: it blocks
 * only while more than the high water mark is queued.
 *
 * Errors are negative errnos (-ECONNRESET, -EPIPE, -ECANCELED...) or
 * CIO_EINCOMPLETE (the stream ended before the bytes asked for) and
 * CIO_ELIMIT (a separator was not found within the buffer limit), see
 * cio/error.h. SIGPIPE is never raised.
 *
 * A stream belongs to the loop of the task that opened it. At most one task
 * should read and one write at a time. Close it only when no other task is
 * blocked in a call on it (cancel and join that task first): closing frees
 * the stream.
 *
 * The read buffer is allocated at the first call that needs it, starts
 * small (read_buffer, default 2 KiB) and doubles when a call needs more
 * (up to the limit, or the size asked for). cio_stream_read into a buffer
 * at least that large reads straight into it when nothing is buffered, so
 * a connection that only uses cio_stream_read never allocates one. On
 * epoll, a stream whose last read was big (1 KiB or more) and whose first
 * buffer is at most 16 KiB waits for data holding no buffer and borrows one
 * of its thread's for the read, until a later call finds it empty. On
 * io_uring (with multishot recv, the default) a stream reads the bytes in
 * the buffer the kernel received them into, lent by the loop until the
 * stream's next read, and holds no read buffer of its own unless a call
 * needs more than one such piece (a line split across two). Either way,
 * views stay valid until the next call on the stream, as always.
 */
#ifndef CIO_STREAM_H
#define CIO_STREAM_H

#include <sys/types.h>
#include <sys/uio.h>

#include "base.h"
#include "error.h"
#include "socket.h"

#pragma GCC visibility push(default)

typedef struct cio_stream cio_stream;

typedef struct cio_stream_opts {
    /* The longest line or chunk read_line, read_until and peek accept
     * (asyncio's limit). 0: 64 KiB. */
    size_t limit;
    /* cio_stream_drain blocks while more than high_water bytes are queued
     * for sending, until at most low_water are. 0: 64 KiB and 16 KiB; a
     * high_water set without low_water gives low_water = high_water / 4
     * (high_water 1 then drains to empty, like asyncio's high=0). */
    size_t high_water, low_water;
    /* The read buffer's first size (bytes). 0: 2 KiB. */
    size_t read_buffer;
} cio_stream_opts;

/* ---- opening ------------------------------------------------------------ */

/* A stream over sock, which it owns from then on (closed with the stream,
 * or at once if this fails). opts may be NULL. Returns 0, -ENOMEM or
 * -EINVAL (low_water above high_water). Never blocks. */
CIO_MUST_CHECK int cio_stream_open(cio_stream **out, cio_socket *sock,
                                   const cio_stream_opts *opts);

/* asyncio.open_connection: connect over TCP to host and port (see
 * cio_tcp_connect for names, Happy Eyeballs and errors) and open a stream
 * on the connection. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_open_connection(cio_stream **out, const char *host, const char *port,
                                       const cio_stream_opts *opts);

/* asyncio.open_unix_connection: the same over a Unix socket at path. */
CIO_MUST_CHECK int cio_open_unix_connection(cio_stream **out, const char *path,
                                            const cio_stream_opts *opts);

/* ---- reading (asyncio.StreamReader) -------------------------------------- */

/* Read up to n bytes into buf: what is buffered if anything is, else waits
 * for the next bytes to arrive. Returns the count, 0 at end of stream (or
 * if n is 0), or a negative errno. */
CIO_MUST_CHECK ssize_t cio_stream_read(cio_stream *st, void *buf, size_t n);

/* Read exactly n bytes into buf. Returns n; CIO_EINCOMPLETE if the stream
 * ends first (asyncio.IncompleteReadError); or another error (-ECANCELED,
 * -ECONNRESET...). Whatever the outcome, *got (if not NULL) says how many
 * bytes were stored in buf and taken from the stream. */
CIO_MUST_CHECK ssize_t cio_stream_read_exactly(cio_stream *st, void *buf, size_t n, size_t *got);

/* Read up to and including the next "\n" into buf, followed by a '\0'.
 * Returns the line's length (with its "\n", without the '\0'); at end of
 * stream, the last bytes even without "\n", and 0 when nothing is left.
 * Errors:
 *   CIO_ELIMIT  no "\n" within the limit (opts.limit): the bytes stay in
 *               the stream (asyncio's readline would drop them; see
 *               cio_stream_consume to do that);
 *   -ENOBUFS    the line is within the limit but needs more than cap bytes
 *               (with the '\0'): it stays in the stream; read it with a
 *               larger buffer or cio_stream_read_line_view. */
CIO_MUST_CHECK ssize_t cio_stream_read_line(cio_stream *st, char *buf, size_t cap);

/* Read up to and including the separator sep (seplen bytes, >= 1) into
 * buf (no '\0' added). Returns the length with the separator. Errors:
 * CIO_EINCOMPLETE at end of stream before the separator (what was read
 * stays in the stream: cio_stream_read gets it); CIO_ELIMIT if more than
 * limit bytes precede the separator, or none is found in limit + seplen
 * bytes (the bytes stay in the stream, like asyncio.LimitOverrunError);
 * -ENOBUFS if it fits the limit but not cap (it stays in the stream). */
CIO_MUST_CHECK ssize_t cio_stream_read_until(cio_stream *st, const void *sep, size_t seplen,
                                             void *buf, size_t cap);

/* Zero-copy forms. The view points into the stream's buffer, its bytes are
 * taken from the stream, and it stays valid until the next call on the
 * stream. Same rules and errors as the copying forms, without -ENOBUFS;
 * read_line_view sets *len 0 at end of stream and adds no '\0'. */
CIO_MUST_CHECK int cio_stream_read_line_view(cio_stream *st, const char **line, size_t *len);
CIO_MUST_CHECK int cio_stream_read_until_view(cio_stream *st, const void *sep, size_t seplen,
                                              const char **data, size_t *len);

/* Wait until at least want bytes are buffered (or the stream ends), then
 * show everything buffered without taking it: *data, *len (below want only
 * at end of stream). want 0 shows what is there without waiting. Returns
 * 0, CIO_ELIMIT if want is above the limit, or a negative errno. Take the
 * bytes with cio_stream_consume. */
CIO_MUST_CHECK int cio_stream_peek(cio_stream *st, size_t want, const char **data, size_t *len);

/* Take n buffered bytes (n <= cio_stream_buffered). Returns 0 or -EINVAL.
 * Never blocks. */
int cio_stream_consume(cio_stream *st, size_t n);

/* Bytes buffered and not yet read. */
size_t cio_stream_buffered(const cio_stream *st);

/* Read until end of stream (asyncio's read() with no count). On success
 * *out is a malloc'd buffer the caller frees, holding the bytes and a
 * '\0' after them, and the count is returned. CIO_ELIMIT if more than max
 * bytes come (SIZE_MAX: no bound); then, as on any error, what was read
 * stays in the stream. */
CIO_MUST_CHECK ssize_t cio_stream_read_all(cio_stream *st, char **out, size_t max);

/* True once the stream has ended and every byte was read (asyncio's
 * at_eof). Never blocks. */
bool cio_stream_at_eof(const cio_stream *st);

/* ---- writing (asyncio.StreamWriter) ---------------------------------------- */

/* Send n bytes: those the kernel takes at once, the rest queued and sent in
 * the background. Never blocks and is not a cancellation point. Returns 0,
 * or the error that ended the output (-ECONNRESET, -EPIPE...: the bytes
 * were not taken), -EPIPE after cio_stream_write_eof, or -ENOMEM. A
 * completion backend (io_uring) learns of an error when a background send
 * completes, so a write just after the peer went away may still return 0;
 * the next write or drain reports it. */
CIO_MUST_CHECK int cio_stream_write(cio_stream *st, const void *data, size_t n);

/* cio_stream_write for a gather list. */
CIO_MUST_CHECK int cio_stream_writev(cio_stream *st, const struct iovec *iov, int iovcnt);

/* Flow control (asyncio's drain): if more than high_water bytes are
 * queued, wait until at most low_water are. Returns 0, or the error that
 * ended the output (-ECONNRESET, -EPIPE...), or -ECANCELED. Blocks: a
 * cancellation point. */
CIO_MUST_CHECK int cio_stream_drain(cio_stream *st);

/* Bytes queued and not yet handed to the kernel (asyncio's
 * get_write_buffer_size). */
size_t cio_stream_write_pending(const cio_stream *st);

/* Send what is queued, then end the output (the peer reads end of stream;
 * this side can still read). Returns 0 or a negative errno. Blocks while
 * the queue drains: a cancellation point. */
CIO_MUST_CHECK int cio_stream_write_eof(cio_stream *st);

/* asyncio's close() + wait_closed(): send what is queued, then close and
 * free the stream and its socket. Blocks while sending; if the caller is
 * cancelled (or its scope's deadline passes) the rest is dropped and the
 * stream closed at once. Returns 0, the error that ended the output, or
 * -ECANCELED when a cancellation dropped queued bytes. The stream is gone
 * in every case. */
int cio_stream_close(cio_stream *st);

/* Close at once, dropping what is queued (asyncio's transport.abort), and
 * free the stream. Call it from a task: on io_uring it waits (shielded) for
 * the kernel to confirm the cancellation of a send in progress. */
void cio_stream_abort(cio_stream *st);

/* ---- the connection ------------------------------------------------------ */

CIO_MUST_CHECK int cio_stream_peer_addr(const cio_stream *st, cio_addr *out);
CIO_MUST_CHECK int cio_stream_local_addr(const cio_stream *st, cio_addr *out);

/* The socket under the stream, for options (cio_socket_set_nodelay...).
 * Still owned by the stream: do not close it or read or write it
 * directly. NULL for a stream over a pipe (a subprocess's stdin, stdout or
 * stderr), whose peer_addr and local_addr return -ENOTSOCK. */
cio_socket *cio_stream_socket(cio_stream *st);

#pragma GCC visibility pop

#endif
