/* server.c — a server's life cycle: start, close, serve_forever, stop. */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cio/scope.h"
#include "cio/time.h"
#include "tls_stream.h"

int cio_server_start(cio_server **out, cio_socket *listener, cio_server_handler *handler,
                     void *arg, const cio_server_opts *opts)
{
    bool bad_tls = opts && opts->tls && !cio_tls_ctx_is_server(opts->tls);
    cio_server *srv = bad_tls ? NULL : calloc(1, sizeof *srv);
    if (!srv) {
        cio_socket_close(listener);
        return bad_tls ? -EINVAL : -ENOMEM;
    }
    srv->listener = listener;
    srv->handler = handler;
    srv->arg = arg;
    if (opts)
        srv->opts = *opts;
    cio_group_init(&srv->group);
    cio_semaphore_init(&srv->slots, srv->opts.max_connections);
    cio_event_init(&srv->stopped);
    int rc = cio_socket_local_addr(listener, &srv->addr);
    if (rc == 0)
        rc = cio_task_spawn(&srv->acceptor, cio_server_accept_loop, srv,
                            &(cio_task_opts){ .name = "server-accept" });
    if (rc < 0) {
        cio_socket_close(listener);
        cio_group_destroy(&srv->group);
        free(srv);
        return rc;
    }
    if (srv->opts.tls)
        cio_tls_ctx_ref(srv->opts.tls);
    *out = srv;
    return 0;
}

int cio_tcp_server(cio_server **out, const char *host, uint16_t port,
                   cio_server_handler *handler, void *arg, const cio_server_opts *opts)
{
    cio_socket *l;
    int rc = cio_tcp_listen(&l, host, port, opts ? &opts->listen : NULL);
    return rc < 0 ? rc : cio_server_start(out, l, handler, arg, opts);
}

int cio_unix_server(cio_server **out, const char *path, cio_server_handler *handler,
                    void *arg, const cio_server_opts *opts)
{
    cio_socket *l;
    int rc = cio_unix_listen(&l, path, opts ? &opts->listen : NULL);
    return rc < 0 ? rc : cio_server_start(out, l, handler, arg, opts);
}

int cio_server_addr(const cio_server *srv, cio_addr *out)
{
    *out = srv->addr;
    return 0;
}

void cio_server_close(cio_server *srv)
{
    if (srv->closing)
        return;
    srv->closing = true;
    cio_task_cancel(srv->acceptor);
}

int cio_server_serve_forever(cio_server *srv)
{
    int rc = cio_event_wait(&srv->stopped);
    return rc < 0 ? rc : srv->error;
}

/* Join the accept loop, which close has cancelled; shielded, since the
 * server cannot be freed before it has ended. */
static void join_acceptor(cio_server *srv)
{
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int ignored = cio_task_join(srv->acceptor, NULL);
    ignored = cio_scope_leave(&shield);
    (void)ignored;
}

/* Wait for the handlers until deadline, then cancel the rest and wait for
 * them too (cio_group_wait does that when the scope's deadline cancels
 * it). */
static int wait_handlers(cio_server *srv, int64_t deadline)
{
    cio_scope s;
    cio_scope_enter(&s, deadline);
    int rc = cio_group_wait(&srv->group);
    int left = cio_scope_leave(&s);
    return left == -ETIMEDOUT ? left : rc;
}

int cio_server_stop(cio_server *srv, int64_t grace)
{
    int64_t deadline = cio_deadline_after(grace > 0 ? grace : 0);
    cio_server_close(srv);
    join_acceptor(srv);
    int rc = wait_handlers(srv, deadline);
    cio_group_destroy(&srv->group);
    cio_tls_ctx_free(srv->opts.tls);
    free(srv);
    return rc;
}

void cio_server_get_stats(const cio_server *srv, cio_server_stats *out)
{
    *out = srv->stats;
}
