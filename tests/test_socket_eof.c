/* test_socket_eof.c — an end of stream that arrives together with the last
 * data is still seen after a short read (epoll's drained-side bookkeeping
 * used to park the next read for an edge that never comes). */
#include "helpers.h"

struct eof_case {
    uint16_t port;
    cio_event go;
};

static int send_and_close(void *arg)
{
    struct eof_case *c = arg;
    cio_addr a;
    cio_socket *s;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", c->port), 0);
    cr_assert_eq(cio_connect_addr(&s, &a), 0);
    cr_assert_eq(cio_event_wait(&c->go), 0);
    /* Both before the reader's loop polls: one readiness edge for both. */
    cr_assert_eq(cio_socket_send(s, "bye", 3), 3);
    return cio_socket_close(s);
}

static int read_to_eof(void *arg)
{
    struct eof_case *c = arg;
    cio_socket *l, *s;
    cr_assert_eq(cio_tcp_listen(&l, "127.0.0.1", 0, NULL), 0);
    cio_addr a;
    cr_assert_eq(cio_socket_local_addr(l, &a), 0);
    c->port = cio_addr_port(&a);
    cio_task *peer = spawn(send_and_close, c, "peer");
    cr_assert_eq(cio_socket_accept(l, &s, NULL), 0);
    cio_event_set(&c->go);
    char buf[100];
    /* Parked here when the data and the FIN arrive. */
    cr_assert_eq(cio_socket_recv(s, buf, sizeof buf), 3, "a short read");
    cio_scope scope;
    cio_scope_enter(&scope, cio_deadline_after(10 * CIO_SEC));
    ssize_t n = cio_socket_recv(s, buf, sizeof buf);
    cr_assert_eq(cio_scope_leave(&scope), 0, "the end of stream was not seen");
    cr_assert_eq(n, 0);
    cr_assert_eq(cio_task_join(peer, NULL), 0);
    cio_socket_close(s);
    cio_socket_close(l);
    return 0;
}

Test(socket_eof, end_of_stream_after_a_short_read)
{
    struct eof_case c = { 0 };
    cio_event_init(&c.go);
    cr_assert_eq(run_virtual(read_to_eof, &c), 0);
}
