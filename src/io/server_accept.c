/* server_accept.c — a server's accept loop and its handler tasks. */
#include "server_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "../core/internal.h"
#include "cio/error.h"
#include "tls_stream.h"

#define BACKOFF_FIRST (10 * CIO_MS)
#define BACKOFF_MAX CIO_SEC

/* A handler task finds its server through its group, saving a record per
 * connection just to carry two pointers. */
static cio_server *server_of(cio_task *t)
{
    return (cio_server *)((char *)t->group - offsetof(cio_server, group));
}

/* A TLS server's handshake, in the handler's task (a slow client holds
 * up only its own connection). */
static int handshake(cio_server *srv, cio_stream *st)
{
    if (!srv->opts.tls)
        return 0;
    int rc = cio_tls_serve_stream(st, srv->opts.tls, srv->opts.tls_handshake_timeout);
    if (rc < 0 && rc != -ECANCELED)
        srv->stats.handshakes_failed++;
    return rc;
}

/* The body of a handler task: serve, then close the stream. The status is
 * 0 whatever the handler returned, so the group never cancels the other
 * connections because of one. */
static int serve_one(void *stream)
{
    cio_stream *st = stream;
    cio_server *srv = server_of(cio_task_current());
    if (handshake(srv, st) == 0 && cio_status_failed(srv->handler(st, srv->arg)))
        srv->stats.failed++;
    int ignored = cio_stream_close(st);
    (void)ignored;
    srv->stats.active--;
    if (srv->opts.max_connections) {
        ignored = cio_semaphore_release(&srv->slots);
        (void)ignored;
    }
    return 0;
}

static int spawn_handler(cio_server *srv, cio_socket *s)
{
    cio_stream *st;
    int rc = cio_stream_open(&st, s, &srv->opts.stream);
    if (rc < 0)
        return rc;
    cio_task_opts topts = { .stack_size = srv->opts.stack_size };
    rc = cio_group_spawn(&srv->group, NULL, serve_one, st, &topts);
    if (rc < 0) {
        cio_stream_abort(st);
        return rc;
    }
    srv->stats.accepted++;
    srv->stats.active++;
    return 0;
}

/* Errors that end one pending connection, not the listener: Linux passes
 * the new socket's network errors to accept (see accept(2)); retry. */
static bool connection_error(int rc)
{
    switch (-rc) {
    case ECONNABORTED: case EPROTO: case EPERM: case EINTR: case EAGAIN:
    case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
    case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case ETIMEDOUT:
        return true;
    default:
        return false;
    }
}

static bool lack_of_resources(int rc)
{
    return rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM;
}

/* Wait before accepting again; returns -ECANCELED if stopped meanwhile. */
static int back_off(cio_server *srv, int64_t *delay, int why)
{
    if (!srv->warned) {
        char where[128];
        if (cio_addr_format(&srv->addr, where, sizeof where) < 0)
            where[0] = '\0';
        fprintf(stderr, "cio: server %s: accept failed (%s); backing off and retrying "
                        "(reported once)\n", where, cio_strerror(why));
        srv->warned = true;
    }
    srv->stats.backoffs++;
    *delay = *delay ? (*delay * 2 < BACKOFF_MAX ? *delay * 2 : BACKOFF_MAX) : BACKOFF_FIRST;
    return cio_sleep(*delay);
}

/* Accept one connection and start its handler: 0, or the accept's error. */
static int accept_one(cio_server *srv)
{
    cio_socket *s;
    int rc = cio_socket_accept(srv->listener, &s, NULL);
    if (rc < 0)
        return rc;
    if (srv->closing) {         /* accepted as close cancelled the accept */
        cio_socket_close(s);
        return -ECANCELED;
    }
    return spawn_handler(srv, s);
}

static int accept_loop(cio_server *srv)
{
    bool bounded = srv->opts.max_connections > 0;
    int64_t delay = 0;
    for (;;) {
        int rc = bounded ? cio_semaphore_acquire(&srv->slots) : 0;
        if (rc < 0)
            return 0;               /* cancelled: closing */
        rc = accept_one(srv);
        if (rc == 0) {
            delay = 0;
            continue;
        }
        if (bounded) {
            int ignored = cio_semaphore_release(&srv->slots);
            (void)ignored;
        }
        if (rc == -ECANCELED || srv->closing)
            return 0;
        srv->stats.accept_errors++;
        if (lack_of_resources(rc))
            rc = back_off(srv, &delay, rc);
        else if (connection_error(rc))
            rc = 0;
        if (rc == -ECANCELED)
            return 0;
        if (rc < 0)
            return rc;
    }
}

int cio_server_accept_loop(void *arg)
{
    cio_server *srv = arg;
    srv->error = accept_loop(srv);
    cio_socket_close(srv->listener);
    srv->listener = NULL;
    cio_event_set(&srv->stopped);
    return 0;
}
