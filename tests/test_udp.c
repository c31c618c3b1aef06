/* test_udp.c — datagram sockets: UDP over IPv4 and IPv6 with addresses,
 * truncation (MSG_TRUNC), empty and oversized datagrams, connected UDP,
 * Unix datagram sockets, and cancelling recvfrom and sendto.
 */
#include "net_helpers.h"

static cio_socket *udp_on(const char *ip, cio_addr *bound)
{
    cio_addr a;
    cr_assert_eq(cio_addr_ip(&a, ip, 0), 0);
    cio_socket *s = NULL;
    int rc = cio_udp_open(&s, &a, 0);
    cr_assert_eq(rc, 0, "udp on %s: %s", ip, cio_strerror(rc));
    cr_assert_eq(cio_socket_local_addr(s, bound), 0);
    cr_assert_neq(cio_addr_port(bound), 0);
    return s;
}

static bool same_addr(const cio_addr *a, const cio_addr *b)
{
    return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

typedef struct dgram_job {
    cio_socket *s;
    char buf[128];
    ssize_t n;
    cio_addr from;
} dgram_job;

static int recv_dgram(void *arg)
{
    dgram_job *j = arg;
    j->n = cio_socket_recvfrom(j->s, j->buf, sizeof j->buf, &j->from);
    return j->n < 0 ? (int)j->n : 0;
}

static int exchange_main(void *arg)
{
    const char *ip = arg;
    int before = count_sockets();
    cio_addr a_addr, b_addr;
    cio_socket *a = udp_on(ip, &a_addr);
    cio_socket *b = udp_on(ip, &b_addr);
    /* b waits first: recvfrom blocks until a datagram comes. */
    dgram_job j = { .s = b };
    cio_task *t = spawn(recv_dgram, &j, "receiver");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t), "nothing to receive yet");
    cr_assert_eq(cio_socket_sendto(a, "ping", 4, &b_addr), 4);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(j.n, 4);
    cr_assert_eq(memcmp(j.buf, "ping", 4), 0);
    cr_assert(same_addr(&j.from, &a_addr), "the sender's address");
    /* Reply to where it came from; datagrams keep their boundaries. */
    cr_assert_eq(cio_socket_sendto(b, "pong", 4, &j.from), 4);
    cr_assert_eq(cio_socket_sendto(b, "!", 1, &j.from), 1);
    char buf[16];
    cio_addr from;
    cr_assert_eq(cio_socket_recvfrom(a, buf, sizeof buf, &from), 4);
    cr_assert_eq(memcmp(buf, "pong", 4), 0);
    cr_assert(same_addr(&from, &b_addr));
    cr_assert_eq(cio_socket_recvfrom(a, buf, sizeof buf, NULL), 1, "from may be NULL");
    cr_assert_eq(buf[0], '!');
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(udp, ipv4_datagrams_with_addresses)
{
    cr_assert_eq(run_virtual(exchange_main, "127.0.0.1"), 0);
}

Test(udp, ipv6_datagrams_with_addresses)
{
    cr_assert_eq(run_virtual(exchange_main, "::1"), 0);
}

static int sizes_main(void *arg)
{
    (void)arg;
    cio_addr a_addr, b_addr;
    cio_socket *a = udp_on("127.0.0.1", &a_addr);
    cio_socket *b = udp_on("127.0.0.1", &b_addr);
    char big[100], small[10];
    for (int i = 0; i < 100; i++)
        big[i] = (char)i;
    /* Too big for the buffer: cut to fit, and the full length returned. */
    cr_assert_eq(cio_socket_sendto(a, big, sizeof big, &b_addr), 100);
    cr_assert_eq(cio_socket_recvfrom(b, small, sizeof small, NULL), 100);
    cr_assert_eq(memcmp(small, big, sizeof small), 0);
    /* The rest of a cut datagram is gone: the next one is whole. */
    cr_assert_eq(cio_socket_sendto(a, "next", 4, &b_addr), 4);
    cr_assert_eq(cio_socket_recvfrom(b, small, sizeof small, NULL), 4);
    cr_assert_eq(memcmp(small, "next", 4), 0);
    /* An empty datagram is a datagram, not an end of stream. */
    cr_assert_eq(cio_socket_sendto(a, "", 0, &b_addr), 0);
    cio_addr from;
    cr_assert_eq(cio_socket_recvfrom(b, small, sizeof small, &from), 0);
    cr_assert_eq(cio_addr_port(&from), cio_addr_port(&a_addr));
    /* Larger than UDP allows. */
    size_t huge = 70000;
    char *h = calloc(1, huge);
    cr_assert_eq(cio_socket_sendto(a, h, huge, &b_addr), -EMSGSIZE);
    free(h);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    return 0;
}

Test(udp, truncated_empty_and_oversized_datagrams)
{
    cr_assert_eq(run_virtual(sizes_main, NULL), 0);
}

static int connected_main(void *arg)
{
    (void)arg;
    cio_addr a_addr, b_addr;
    cio_socket *a = udp_on("::1", &a_addr);
    cio_socket *b = udp_on("::1", &b_addr);
    cr_assert_eq(cio_socket_connect(a, &b_addr), 0);
    cr_assert_eq(cio_socket_sendto(a, "to peer", 7, NULL), 7, "NULL: the connected peer");
    char buf[16];
    cio_addr from;
    cr_assert_eq(cio_socket_recvfrom(b, buf, sizeof buf, &from), 7);
    cr_assert(same_addr(&from, &a_addr));
    /* A connected socket also takes plain recv and send. */
    cr_assert_eq(cio_socket_sendto(b, "back", 4, &a_addr), 4);
    cr_assert_eq(cio_socket_recv(a, buf, sizeof buf), 4);
    cr_assert_eq(cio_socket_send(a, "again", 5), 5);
    cr_assert_eq(cio_socket_recvfrom(b, buf, sizeof buf, NULL), 5);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    return 0;
}

Test(udp, a_connected_socket_sends_to_its_peer)
{
    cr_assert_eq(run_virtual(connected_main, NULL), 0);
}

static int any_main(void *arg)
{
    (void)arg;
    cio_socket *s;
    cr_assert_eq(cio_udp_open(&s, NULL, AF_INET6), 0);
    cio_addr bound, to;
    cr_assert_eq(cio_socket_local_addr(s, &bound), 0);
    cr_assert_eq(bound.sa.sa_family, AF_INET6);
    cr_assert_neq(cio_addr_port(&bound), 0, "an ephemeral port, bound at once");
    /* Bound to every interface: reachable over loopback. */
    cr_assert_eq(cio_addr_ip(&to, "::1", cio_addr_port(&bound)), 0);
    cr_assert_eq(cio_socket_sendto(s, "self", 4, &to), 4);
    char buf[8];
    cr_assert_eq(cio_socket_recvfrom(s, buf, sizeof buf, NULL), 4);
    cr_assert_eq(cio_socket_close(s), 0);
    cr_assert_eq(cio_udp_open(&s, NULL, AF_INET), 0);
    cr_assert_eq(cio_socket_close(s), 0);
    cr_assert_eq(cio_udp_open(&s, NULL, AF_UNIX), -EAFNOSUPPORT);
    cr_assert_eq(cio_udp_open(&s, NULL, 0), -EAFNOSUPPORT);
    return 0;
}

Test(udp, open_without_an_address_binds_an_ephemeral_port)
{
    cr_assert_eq(run_virtual(any_main, NULL), 0);
}

static int unix_dgram_main(void *arg)
{
    (void)arg;
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds), 0);
    cio_socket *a, *b;
    cr_assert_eq(cio_socket_adopt(&a, fds[0]), 0);
    cr_assert_eq(cio_socket_adopt(&b, fds[1]), 0);
    cr_assert_eq(cio_socket_sendto(a, "unix datagram", 13, NULL), 13);
    char buf[4];
    cr_assert_eq(cio_socket_recvfrom(b, buf, sizeof buf, NULL), 13, "MSG_TRUNC on Unix too");
    cr_assert_eq(memcmp(buf, "unix", 4), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    return 0;
}

Test(udp, unix_datagram_sockets_work_too)
{
    cr_assert_eq(run_virtual(unix_dgram_main, NULL), 0);
}

static int recvfrom_on_tcp_main(void *arg)
{
    (void)arg;
    /* On a stream socket, recvfrom is a plain receive (MSG_TRUNC there would
     * discard the bytes). */
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    cio_socket *a, *b;
    cr_assert_eq(cio_socket_adopt(&a, fds[0]), 0);
    cr_assert_eq(cio_socket_adopt(&b, fds[1]), 0);
    cr_assert_eq(cio_socket_send(a, "bytes", 5), 5);
    char buf[8] = { 0 };
    cr_assert_eq(cio_socket_recvfrom(b, buf, 3, NULL), 3);
    cr_assert_eq(memcmp(buf, "byt", 3), 0);
    cr_assert_eq(cio_socket_recvfrom(b, buf, sizeof buf, NULL), 2);
    cr_assert_eq(memcmp(buf, "es", 2), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    /* The same over TCP, on a socket opened with type flags (SOCK_CLOEXEC
     * is not part of the type). */
    cio_addr addr;
    cio_socket *l = listen_on("127.0.0.1", &addr);
    cr_assert_eq(cio_socket_open(&a, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
    cr_assert_eq(cio_socket_connect(a, &addr), 0);
    cr_assert_eq(cio_socket_accept(l, &b, NULL), 0);
    cr_assert_eq(cio_socket_send(b, "bytes", 5), 5);
    cio_addr from;
    cr_assert_eq(cio_socket_recvfrom(a, buf, 3, &from), 3);
    cr_assert_eq(memcmp(buf, "byt", 3), 0);
    cr_assert_eq(cio_socket_recvfrom(a, buf, sizeof buf, NULL), 2);
    cr_assert_eq(memcmp(buf, "es", 2), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    cr_assert_eq(cio_socket_close(l), 0);
    return 0;
}

Test(udp, recvfrom_on_a_stream_socket_loses_nothing)
{
    cr_assert_eq(run_virtual(recvfrom_on_tcp_main, NULL), 0);
}

/* ---- cancellation ----------------------------------------------------------- */

typedef struct dgram_case {
    cio_socket *a, *b;          /* a blocks */
    bool sender;                /* a sends (Unix datagrams, b not reading) */
    int queued;                 /* datagrams the sender got out first */
} dgram_case;

/* recvfrom blocks on an idle UDP socket; sendto blocks on a Unix datagram
 * socket whose peer's queue is full (UDP drops instead of blocking). */
static void dgram_setup(dgram_case *c)
{
    if (!c->sender) {
        cio_addr x;
        c->a = udp_on("127.0.0.1", &x);
        c->b = udp_on("127.0.0.1", &x);
        return;
    }
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds), 0);
    cr_assert_eq(cio_socket_adopt(&c->a, fds[0]), 0);
    cr_assert_eq(cio_socket_adopt(&c->b, fds[1]), 0);
}

static int dgram_call(void *arg)
{
    dgram_case *c = arg;
    char buf[512] = { 0 };
    if (!c->sender)
        return (int)cio_socket_recvfrom(c->a, buf, sizeof buf, NULL);
    for (;; c->queued++) {
        ssize_t n = cio_socket_sendto(c->a, buf, sizeof buf, NULL);
        if (n < 0)
            return c->queued > 0 ? (int)n : -EIO;   /* must have queued some first */
    }
}

/* The socket still works after the interrupted call. */
static void dgram_after(dgram_case *c)
{
    char buf[512];
    cio_addr to;
    if (!c->sender) {
        cr_assert_eq(cio_socket_local_addr(c->a, &to), 0);
        cr_assert_eq(cio_socket_sendto(c->b, "late", 4, &to), 4);
        cr_assert_eq(cio_socket_recvfrom(c->a, buf, sizeof buf, NULL), 4);
    } else {
        /* Drain the queue (one datagram would free too little for the
         * kernel to call the socket writable), then send again. */
        for (int i = 0; i < c->queued; i++)
            cr_assert_eq(cio_socket_recvfrom(c->b, buf, sizeof buf, NULL), 512);
        cr_assert_eq(cio_socket_sendto(c->a, buf, 100, NULL), 100);
        cr_assert_eq(cio_socket_recvfrom(c->b, buf, sizeof buf, NULL), 100);
    }
    cr_assert_eq(cio_socket_close(c->a), 0);
    cr_assert_eq(cio_socket_close(c->b), 0);
}

static int dgram_cancel_main(void *arg)
{
    dgram_case c = { .sender = arg != NULL };
    int before = count_sockets();
    dgram_setup(&c);
    cio_task *t = spawn(dgram_call, &c, "blocked");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t));
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), 0);
    dgram_after(&c);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

static int dgram_deadline_main(void *arg)
{
    dgram_case c = { .sender = arg != NULL };
    int before = count_sockets();
    dgram_setup(&c);
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    cr_assert_eq(dgram_call(&c), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now(), CIO_SEC);
    dgram_after(&c);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(udp_cancel, recvfrom_by_task_cancel)
{
    cr_assert_eq(run_virtual(dgram_cancel_main, NULL), 0);
}

Test(udp_cancel, recvfrom_by_deadline)
{
    cr_assert_eq(run_virtual(dgram_deadline_main, NULL), 0);
}

Test(udp_cancel, sendto_by_task_cancel)
{
    cr_assert_eq(run_virtual(dgram_cancel_main, "send"), 0);
}

Test(udp_cancel, sendto_by_deadline)
{
    cr_assert_eq(run_virtual(dgram_deadline_main, "send"), 0);
}

static int close_under_recvfrom_main(void *arg)
{
    (void)arg;
    cio_addr x;
    dgram_job j = { .s = udp_on("::1", &x) };
    cio_task *t = spawn(recv_dgram, &j, "receiver");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t));
    cr_assert_eq(cio_socket_close(j.s), 0);
    cr_assert_eq(cio_task_join(t, NULL), -EBADF);
    return 0;
}

Test(udp_cancel, close_ends_a_blocked_recvfrom_with_ebadf)
{
    cr_assert_eq(run_virtual(close_under_recvfrom_main, NULL), 0);
}
