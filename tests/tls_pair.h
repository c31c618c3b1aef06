/* tls_pair.h — a TLS client and server over 127.0.0.1 in one loop, for the
 * TLS tests: each side runs the handshake with its context, then its
 * body. */
#ifndef CIO_TEST_TLS_PAIR_H
#define CIO_TEST_TLS_PAIR_H

#include "helpers.h"

#include <cio/tls.h>

#include "io/transport.h"
#include "io/tls_transport.h"
#include "tls_certs.h"


typedef struct side side;
struct side {
    cio_tls_ctx *ctx;           /* the side's context, freed by run_pair */
    const char *name;           /* client: the server name to ask for */
    int (*body)(side *s, cio_transport *t);
    bool body_closes;           /* body closes t itself */
    void *arg;                  /* for the body */
    side *peer;
    int handshake;              /* the handshake's result */
    char why[320];              /* cio_tls_last_error after it failed */
    int status;                 /* the body's result */
    int close_rc;
    cio_socket *listener;       /* server */
    uint16_t port;
};

/* Read exactly len bytes; returns len, the short count at EOF, or an
 * error. */
static ssize_t read_full(cio_transport *t, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = t->ops->read(t, (char *)buf + got, len - got);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int send_text(cio_transport *t, const char *text)
{
    struct iovec iov = { (void *)text, strlen(text) };
    return t->ops->write(t, &iov, 1);
}

/* Read exactly the text expected; fails the test otherwise. */
static void expect_text(cio_transport *t, const char *want)
{
    char buf[256];
    size_t len = strlen(want);
    cr_assert_lt(len, sizeof buf);
    ssize_t n = read_full(t, buf, len);
    cr_assert_eq(n, (ssize_t)len, "read %zd of %zu bytes", n, len);
    buf[len] = '\0';
    cr_assert_str_eq(buf, want);
}

static int tls_side(side *s, cio_socket *sock)
{
    cio_transport *plain = NULL, *t = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, sock), 0);
    s->handshake = cio_tls_transport_new(&t, plain, s->ctx, s->name, NULL, 0);
    if (s->handshake < 0) {
        cio_tls_last_error(s->why, sizeof s->why);
        return s->handshake;
    }
    s->status = s->body ? s->body(s, t) : 0;
    if (!s->body_closes)
        s->close_rc = t->ops->close(t, false);
    return s->status;
}

static int server_task(void *arg)
{
    side *s = arg;
    cio_socket *c;
    int rc = cio_socket_accept(s->listener, &c, NULL);
    cr_assert_eq(rc, 0, "accept: %s", cio_strerror(rc));
    return tls_side(s, c);
}

static int client_task(void *arg)
{
    side *s = arg;
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", s->peer->port), 0);
    int rc = cio_connect_addr(&sock, &a);
    cr_assert_eq(rc, 0, "connect: %s", cio_strerror(rc));
    return tls_side(s, sock);
}

static int listen_local(cio_socket **l, uint16_t *port)
{
    int rc = cio_tcp_listen(l, "127.0.0.1", 0, NULL);
    cr_assert_eq(rc, 0, "listen: %s", cio_strerror(rc));
    cio_addr a;
    cr_assert_eq(cio_socket_local_addr(*l, &a), 0);
    *port = cio_addr_port(&a);
    return 0;
}

static int pair_main(void *arg)
{
    side **sides = arg;
    side *server = sides[0], *client = sides[1];
    server->peer = client;
    client->peer = server;
    listen_local(&server->listener, &server->port);
    cio_task *st = spawn(server_task, server, "server");
    cio_task *ct = spawn(client_task, client, "client");
    int ignored = cio_task_join(ct, NULL);
    ignored = cio_task_join(st, NULL);
    (void)ignored;
    cio_socket_close(server->listener);
    return 0;
}

/* Run both sides to their end, then free their contexts. */
static void run_pair(side *server, side *client)
{
    side *sides[2] = { server, client };
    int rc = run_virtual(pair_main, sides);
    cr_assert_eq(rc, 0, "run: %s; server %d/%d, client %d/%d", cio_errname(rc), server->handshake, server->status, client->handshake, client->status);
    cio_tls_ctx_free(server->ctx);
    cio_tls_ctx_free(client->ctx);
}

#endif
