/* cio/server.h — stream servers (asyncio.start_server).
 *
 * A server accepts connections in a task of its own and runs
 * handler(stream, arg) for each in a new task of the server's task group;
 * when the handler returns, the server closes the stream (sending what is
 * still queued). A handler's error ends only its own connection: it is
 * counted (cio_server_stats), never passed to other handlers.
 *
 *     static int echo(cio_stream *st, void *arg) { ... read, write ... }
 *
 *     cio_server *srv;
 *     if ((rc = cio_tcp_server(&srv, "127.0.0.1", 7000, echo, NULL, NULL)) < 0) ...
 *     rc = cio_server_serve_forever(srv);    // until cio_server_close
 *     rc = cio_server_stop(srv, 5 * CIO_SEC);
 *
 * Running out of descriptors (EMFILE, ENFILE) or memory while accepting
 * does not stop the server: it backs off (10 ms, doubling up to 1 s, back
 * to 10 ms after the next success), says so once on stderr, and goes on
 * serving the connections it has. It never spins.
 */
#ifndef CIO_SERVER_H
#define CIO_SERVER_H

#include "base.h"
#include "socket.h"
#include "stream.h"

#pragma GCC visibility push(default)

typedef struct cio_server cio_server;

/* Serves one connection; st belongs to the server (do not close it). The
 * status is counted as a failure if it is negative and not -ECANCELED. */
typedef int cio_server_handler(cio_stream *st, void *arg);

typedef struct cio_server_opts {
    size_t stack_size;          /* of handler tasks; 0: the loop's default */
    size_t max_connections;     /* 0: no bound; else accepting waits while
                                 * this many handlers run */
    cio_stream_opts stream;     /* for each connection's stream */
    cio_listen_opts listen;     /* cio_tcp_server, cio_unix_server */
    /* Serve TLS (asyncio's start_server(ssl=)): a server context of
     * cio/tls.h, which the server keeps a reference to. Each connection's
     * handshake runs in its handler task before the handler, which is not
     * called if it fails (counted in handshakes_failed). NULL: plain. */
    struct cio_tls_ctx *tls;
    /* How long a client may take over the handshake (asyncio's
     * ssl_handshake_timeout). 0: 60 s; < 0: no limit. */
    int64_t tls_handshake_timeout;
} cio_server_opts;

/* Start serving connections accepted on listener, which the server owns
 * from then on (closed at once if this fails). opts may be NULL. Returns 0,
 * -ENOMEM, or -EINVAL (opts->tls is a client context). Never blocks: the accept loop starts when the caller next
 * blocks or yields. */
CIO_MUST_CHECK int cio_server_start(cio_server **out, cio_socket *listener,
                                    cio_server_handler *handler, void *arg,
                                    const cio_server_opts *opts);

/* cio_tcp_listen on host and port (0: an ephemeral port, see
 * cio_server_addr), then cio_server_start. */
CIO_MUST_CHECK int cio_tcp_server(cio_server **out, const char *host, uint16_t port,
                                  cio_server_handler *handler, void *arg,
                                  const cio_server_opts *opts);

/* cio_unix_listen on path, then cio_server_start. */
CIO_MUST_CHECK int cio_unix_server(cio_server **out, const char *path,
                                   cio_server_handler *handler, void *arg,
                                   const cio_server_opts *opts);

/* The address the server listens on (kept after it stops listening). */
CIO_MUST_CHECK int cio_server_addr(const cio_server *srv, cio_addr *out);

/* Stop accepting (asyncio's Server.close): the accept loop ends and closes
 * the listener before it accepts anything else. Running handlers go on.
 * Never blocks; may be called from any task of the loop, more than once. */
void cio_server_close(cio_server *srv);

/* Wait until the server stops accepting (cio_server_close, or an accept
 * error it cannot go on after). Returns 0 after cio_server_close, that
 * error otherwise, or -ECANCELED. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_server_serve_forever(cio_server *srv);

/* Graceful stop (asyncio's close + wait_closed, with a deadline): stop
 * accepting, give the running handlers grace nanoseconds to finish, then
 * cancel those still running, wait for every one, and free the server.
 * Returns 0 if every handler finished in time, -ETIMEDOUT if some had to
 * be cancelled, -ECANCELED if the caller was cancelled (the handlers are
 * then cancelled at once, and still waited for). The server is freed in
 * every case. Blocks. Call it from a task that is not one of the server's
 * handlers (a handler that wants the server to stop calls
 * cio_server_close). */
int cio_server_stop(cio_server *srv, int64_t grace);

typedef struct cio_server_stats {
    size_t active;              /* handlers running */
    uint64_t accepted;          /* connections accepted */
    uint64_t failed;            /* handlers that returned an error */
    uint64_t accept_errors;     /* accept calls that failed */
    uint64_t backoffs;          /* pauses for lack of descriptors or memory */
    uint64_t handshakes_failed; /* TLS handshakes that failed or timed out */
} cio_server_stats;

void cio_server_get_stats(const cio_server *srv, cio_server_stats *out);

#pragma GCC visibility pop

#endif
