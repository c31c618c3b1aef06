/* pipe_transport.h — a stream transport over one end of a pipe (private to
 * cio): a subprocess's stdin, stdout or stderr.
 *
 * Like the socket transport (transport.h): reads block the task, writes
 * never block (what the pipe does not take at once is queued and written
 * in the background by one CIO_OP_WRITE at a time). A write to a pipe whose
 * reader is gone gives -EPIPE, never SIGPIPE: the first pipe transport
 * made ignores SIGPIPE process-wide if its disposition is the default
 * (docs/decisions.md, "SIGPIPE"). write_eof closes the descriptor: a pipe
 * has no half-close. The transport has no socket (socket() is NULL).
 */
#ifndef CIO_IO_PIPE_TRANSPORT_H
#define CIO_IO_PIPE_TRANSPORT_H

#include "transport.h"

/* A transport over fd (one end of a pipe, or any byte-stream descriptor
 * that poll reports on), which it owns from then on (closed even on
 * failure). fd is made non-blocking. Returns 0, -ENOMEM, or the error of
 * registering fd with the loop's poller. */
int cio_pipe_transport_new(cio_transport **out, int fd);

/* SIGPIPE is ignored if it was at its default (done once per process); a
 * child spawned later gets it back at its default (process_spawn.c).
 * Returns true if cio set it to SIG_IGN. */
bool cio_pipe_ignore_sigpipe(void);

#endif
