/* test_socket.c — stream sockets: TCP over IPv4 and IPv6, Unix sockets
 * (path and abstract), listeners (dual-stack, by name, IPv4 fallback),
 * hostile peers (reset, EPIPE without SIGPIPE, half-close, slow readers,
 * peers that vanish), EMFILE on accept, and every blocking call cancelled
 * by cio_task_cancel and by a deadline, or by closing the socket under it.
 */
#include "net_helpers.h"

#include <signal.h>
#include <sys/resource.h>

static cio_loop_stats stats(void)
{
    cio_loop_stats s;
    cio_loop_get_stats(cio_loop_current(), &s);
    return s;
}

/* Receive exactly len bytes or fail the test. */
static void recv_all(cio_socket *s, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = cio_socket_recv(s, (char *)buf + got, len - got);
        cr_assert_gt(n, 0, "recv: %zd (%s) after %zu of %zu bytes", n,
                     cio_strerror((int)n), got, len);
        got += (size_t)n;
    }
}

static bool same_addr(const cio_addr *a, const cio_addr *b)
{
    return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

/* ---- echo over each kind of stream socket -------------------------------- */

/* Accept one connection and echo it until end of stream. */
static int echo_once(void *arg)
{
    accept_job *j = arg;
    int rc = cio_socket_accept(j->listener, &j->conn, &j->peer);
    if (rc < 0)
        return rc;
    char buf[4096];
    ssize_t n;
    while ((n = cio_socket_recv(j->conn, buf, sizeof buf)) > 0) {
        ssize_t w = cio_socket_send(j->conn, buf, (size_t)n);
        if (w != n)
            return w < 0 ? (int)w : -EIO;
    }
    cio_socket_close(j->conn);
    return (int)n;
}

/* Talk to an echo server on listener l at addr: a round trip, then end of
 * stream from each side. */
static void echo_through(cio_socket *l, const cio_addr *addr, cio_socket *c)
{
    accept_job j = { .listener = l };
    cio_task *t = spawn(echo_once, &j, "echo");
    bool mine = c == NULL;
    if (mine) {
        int rc = cio_connect_addr(&c, addr);
        cr_assert_eq(rc, 0, "connect: %s", cio_strerror(rc));
    }
    const char msg[] = "hello, cio";
    cr_assert_eq(cio_socket_send(c, msg, sizeof msg), (ssize_t)sizeof msg);
    char buf[sizeof msg];
    recv_all(c, buf, sizeof buf);
    cr_assert_str_eq(buf, msg);
    cio_addr peer;
    cr_assert_eq(cio_socket_peer_addr(c, &peer), 0);
    cr_assert(same_addr(&peer, addr), "the peer is the listener's address");
    cr_assert_eq(cio_socket_shutdown(c, SHUT_WR), 0);
    cr_assert_eq(cio_socket_recv(c, buf, sizeof buf), 0, "the server closed after our EOF");
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cio_addr local;
    cr_assert_eq(cio_socket_local_addr(c, &local), 0);
    if (local.sa.sa_family == j.peer.sa.sa_family && local.sa.sa_family != AF_UNIX)
        cr_assert(same_addr(&j.peer, &local), "accept reports the client's address");
    else if (local.sa.sa_family != AF_UNIX)     /* IPv4 seen as ::ffff:a.b.c.d */
        cr_assert_eq(cio_addr_port(&j.peer), cio_addr_port(&local));
    if (mine)
        cr_assert_eq(cio_socket_close(c), 0);
}

static int tcp_echo_main(void *arg)
{
    const char *ip = arg;
    int before = count_sockets();
    cio_addr addr;
    cio_socket *l = listen_on(ip, &addr);
    cr_assert_eq(addr.sa.sa_family, strchr(ip, ':') ? AF_INET6 : AF_INET);
    cr_assert_neq(cio_addr_port(&addr), 0, "an ephemeral port was chosen");
    echo_through(l, &addr, NULL);
    cr_assert_eq(cio_socket_close(l), 0);
    cr_assert_eq(count_sockets(), before, "no socket left open");
    return 0;
}

Test(socket, tcp_over_ipv4)
{
    cr_assert_eq(run_virtual(tcp_echo_main, "127.0.0.1"), 0);
}

Test(socket, tcp_over_ipv6)
{
    cr_assert_eq(run_virtual(tcp_echo_main, "::1"), 0);
}

static int unix_echo_main(void *arg)
{
    const char *path = arg;
    int before = count_sockets();
    cio_socket *l;
    int rc = cio_unix_listen(&l, path, NULL);
    cr_assert_eq(rc, 0, "unix listen %s: %s", path, cio_strerror(rc));
    cio_addr addr;
    cr_assert_eq(cio_socket_local_addr(l, &addr), 0);
    char name[128];
    cio_addr_format(&addr, name, sizeof name);
    cr_assert_str_eq(name + 5, path, "formatted as unix:<path>, got %s", name);
    cio_socket *c;
    cr_assert_eq(cio_unix_connect(&c, path), 0);
    echo_through(l, &addr, c);
    cr_assert_eq(cio_socket_close(c), 0);
    cr_assert_eq(cio_socket_close(l), 0);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(socket, unix_socket_at_a_path)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/cio-test-%d.sock", (int)getpid());
    cr_assert_eq(run_virtual(unix_echo_main, path), 0);
    unlink(path);
}

Test(socket, unix_socket_abstract)
{
    char path[64];
    snprintf(path, sizeof path, "@cio-test-%d", (int)getpid());
    cr_assert_eq(run_virtual(unix_echo_main, path), 0);
}

static int stale_main(void *arg)
{
    const char *path = arg;
    /* A socket file left behind by a process that is gone is replaced. */
    cio_addr a;
    cr_assert_eq(cio_addr_unix(&a, path), 0);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_eq(bind(fd, &a.sa, a.len), 0);
    close(fd);
    cio_socket *l;
    cr_assert_eq(cio_unix_listen(&l, path, NULL), 0);
    echo_through(l, &a, NULL);
    cr_assert_eq(cio_socket_close(l), 0);
    /* Anything that is not a socket is never removed. */
    unlink(path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(cio_unix_listen(&l, path, NULL), -EADDRINUSE);
    cr_assert_eq(access(path, F_OK), 0, "the regular file is still there");
    return 0;
}

Test(socket, unix_listen_replaces_a_stale_socket_file_only)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/cio-test-stale-%d.sock", (int)getpid());
    cr_assert_eq(run_virtual(stale_main, path), 0);
    unlink(path);
}

/* ---- listeners ------------------------------------------------------------ */

static int dual_stack_main(void *arg)
{
    (void)arg;
    cio_socket *l;
    cr_assert_eq(cio_tcp_listen(&l, NULL, 0, NULL), 0);
    cio_addr any;
    cr_assert_eq(cio_socket_local_addr(l, &any), 0);
    cr_assert_eq(any.sa.sa_family, AF_INET6, "NULL host: \"::\" where IPv6 works");
    const char *ips[] = { "127.0.0.1", "::1" };
    for (int i = 0; i < 2; i++) {
        cio_addr a;
        cr_assert_eq(cio_addr_ip(&a, ips[i], cio_addr_port(&any)), 0);
        echo_through(l, &a, NULL);
    }
    cr_assert_eq(cio_socket_close(l), 0);
    return 0;
}

Test(socket, listen_on_no_host_takes_ipv4_and_ipv6)
{
    cr_assert_eq(run_virtual(dual_stack_main, NULL), 0);
}

static int v6_only_main(void *arg)
{
    (void)arg;
    cio_socket *l;
    cr_assert_eq(cio_tcp_listen(&l, "::", 0, &(cio_listen_opts){ .v6_only = true }), 0);
    cio_addr any, a;
    cr_assert_eq(cio_socket_local_addr(l, &any), 0);
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", cio_addr_port(&any)), 0);
    cio_socket *c = NULL;
    cr_assert_eq(cio_connect_addr(&c, &a), -ECONNREFUSED);
    cr_assert_eq(cio_socket_close(l), 0);
    return 0;
}

Test(socket, a_v6_only_listener_refuses_ipv4)
{
    cr_assert_eq(run_virtual(v6_only_main, NULL), 0);
}

static int listen_by_name_main(void *arg)
{
    (void)arg;
    cio_socket *l;
    int rc = cio_tcp_listen(&l, "localhost", 0, NULL);
    cr_assert_eq(rc, 0, "listen on localhost: %s", cio_strerror(rc));
    cio_addr a;
    cr_assert_eq(cio_socket_local_addr(l, &a), 0);
    char name[64];
    cio_addr_format(&a, name, sizeof name);
    cr_assert(strncmp(name, "127.0.0.1:", 10) == 0 || strncmp(name, "[::1]:", 6) == 0,
              "localhost is loopback, got %s", name);
    echo_through(l, &a, NULL);
    cr_assert_eq(cio_socket_close(l), 0);
    return 0;
}

Test(socket, listen_on_a_host_name)
{
    cr_assert_eq(run_virtual(listen_by_name_main, NULL), 0);
}

/* In a child where socket(AF_INET6, ...) fails as on a kernel without IPv6. */
static int no_ipv6_listen(void *arg)
{
    (void)arg;
    cio_socket *l = NULL;
    int rc = cio_tcp_listen(&l, NULL, 0, NULL);
    if (rc < 0)
        return 2;
    cio_addr a;
    rc = cio_socket_local_addr(l, &a);
    cio_socket_close(l);
    if (rc < 0 || a.sa.sa_family != AF_INET)
        return 3;
    return cio_tcp_listen(&l, "::1", 0, NULL) == -EAFNOSUPPORT ? 0 : 4;
}

static int no_ipv6_child(void *arg)
{
    (void)arg;
    if (seccomp_deny(SYS_socket, AF_INET6, EAFNOSUPPORT) < 0)
        return 77;
    return run_virtual(no_ipv6_listen, NULL);
}

Test(socket, listen_on_no_host_falls_back_to_ipv4_without_ipv6)
{
    int rc = in_child(no_ipv6_child, NULL);
    if (rc == 77)
        cr_skip("seccomp filters are not available here");
    cr_assert_eq(rc, 0, "child step %d failed", rc);
}

static int bad_args_main(void *arg)
{
    (void)arg;
    cio_addr a;
    cr_assert_eq(cio_addr_ip(&a, "not an address", 1), -EINVAL);
    cr_assert_eq(cio_addr_ip(&a, "::1%no-such-interface", 1), -EINVAL);
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(cio_addr_unix(&a, big), -ENAMETOOLONG);
    cio_socket *s;
    cr_assert_eq(cio_tcp_listen(&s, "127.0.0.1", 0, NULL), 0);
    cio_addr taken;
    cr_assert_eq(cio_socket_local_addr(s, &taken), 0);
    cio_socket *s2;
    cr_assert_eq(cio_tcp_listen(&s2, "127.0.0.1", cio_addr_port(&taken), NULL), -EADDRINUSE);
    cr_assert_eq(cio_socket_close(s), 0);
    return 0;
}

Test(socket, bad_addresses_and_taken_ports_are_errors)
{
    cr_assert_eq(run_virtual(bad_args_main, NULL), 0);
}

static int adopt_main(void *arg)
{
    (void)arg;
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    cio_socket *a, *b;
    cr_assert_eq(cio_socket_adopt(&a, fds[0]), 0);
    cr_assert_eq(cio_socket_adopt(&b, fds[1]), 0);
    cr_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK, "adopted descriptors are non-blocking");
    cr_assert_eq(cio_socket_fd(a), fds[0]);
    cr_assert_eq(cio_socket_send(a, "ping", 4), 4);
    char buf[4];
    recv_all(b, buf, 4);
    cr_assert_eq(memcmp(buf, "ping", 4), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    /* Adopting something that is not a socket fails, and it is closed. */
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(cio_socket_adopt(&a, p[0]), -ENOTSOCK);
    cr_assert_eq(fcntl(p[0], F_GETFD), -1, "closed on failure");
    close(p[1]);
    return 0;
}

Test(socket, adopt_takes_over_a_descriptor)
{
    cr_assert_eq(run_virtual(adopt_main, NULL), 0);
}

/* ---- large transfers and partial writes ---------------------------------- */

#define BIG (8u << 20)

static unsigned char pattern(size_t i) { return (unsigned char)(i % 251); }

typedef struct slow_reader {
    cio_socket *s;
    size_t expect;
    size_t got;
} slow_reader;

/* Read in small pieces, napping between them, checking every byte. */
static int read_slowly(void *arg)
{
    slow_reader *r = arg;
    unsigned char buf[16384];
    while (r->got < r->expect) {
        ssize_t n = cio_socket_recv(r->s, buf, sizeof buf);
        if (n <= 0)
            return n < 0 ? (int)n : -EPIPE;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(r->got + (size_t)i))
                return -EILSEQ;
        r->got += (size_t)n;
        int rc = cio_sleep(CIO_MS);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int partial_writes_main(void *arg)
{
    (void)arg;
    unsigned char *data = malloc(2 * (size_t)BIG);
    for (size_t i = 0; i < 2 * (size_t)BIG; i++)
        data[i] = pattern(i);
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    slow_reader r = { .s = b, .expect = 2 * (size_t)BIG };
    cio_task *t = spawn(read_slowly, &r, "reader");
    cr_assert_eq(cio_socket_send(a, data, BIG), (ssize_t)BIG, "the whole buffer went out");
    cr_assert_gt(r.got, 0, "the send had to wait for the reader: it took several writes");
    /* sendv: the stream continued, in three uneven pieces. */
    unsigned char *rest = data + BIG;
    struct iovec iov[3] = {
        { rest, 1000 }, { rest + 1000, BIG / 2 }, { rest + 1000 + BIG / 2, BIG / 2 - 1000 },
    };
    cr_assert_eq(cio_socket_sendv(a, iov, 3), (ssize_t)BIG);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(r.got, 2 * (size_t)BIG);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    free(data);
    return 0;
}

Test(socket, send_to_a_slow_reader_completes_in_full)
{
    cr_assert_eq(run_virtual(partial_writes_main, NULL), 0);
}

/* ---- hostile peers -------------------------------------------------------- */

static void reset_by_peer(cio_socket *s)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    cr_assert_eq(cio_socket_setopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    cr_assert_eq(cio_socket_close(s), 0);       /* sends RST, not FIN */
}

static int recv_one(void *arg)
{
    char buf[16];
    return (int)cio_socket_recv(arg, buf, sizeof buf);
}

static int reset_main(void *arg)
{
    (void)arg;
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    cio_task *t = spawn(recv_one, a, "reader");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t), "blocked: nothing to read yet");
    reset_by_peer(b);
    cr_assert_eq(cio_task_join(t, NULL), -ECONNRESET);
    /* The connection is gone: sending fails, and SIGPIPE does not kill us. */
    cr_assert_eq(cio_socket_send(a, "x", 1), -EPIPE);
    cr_assert_eq(cio_socket_close(a), 0);
    return 0;
}

Test(socket, a_reset_connection_reports_econnreset_then_epipe)
{
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(run_virtual(reset_main, NULL), 0);
}

static int epipe_main(void *arg)
{
    (void)arg;
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    /* Our own end shut for writing: EPIPE at once. */
    cr_assert_eq(cio_socket_shutdown(a, SHUT_WR), 0);
    cr_assert_eq(cio_socket_send(a, "x", 1), -EPIPE);
    struct iovec iov = { "x", 1 };
    cr_assert_eq(cio_socket_sendv(a, &iov, 1), -EPIPE);
    /* The peer closed: the first send provokes its RST, after which sends
     * fail (ECONNRESET reports the reset once, then EPIPE). */
    cr_assert_eq(cio_socket_close(a), 0);
    char c;
    cr_assert_eq(cio_socket_recv(b, &c, 1), 0, "EOF from the closed peer");
    cr_assert_eq(cio_socket_send(b, "x", 1), 1, "the kernel took it; the peer resets");
    struct pollfd p = { .fd = cio_socket_fd(b), .events = 0 };
    cr_assert_eq(poll(&p, 1, 10000), 1, "the reset arrives");
    ssize_t rc = cio_socket_send(b, "x", 1);
    cr_assert(rc == -ECONNRESET || rc == -EPIPE, "send after reset: %zd", rc);
    cr_assert_eq(cio_socket_send(b, "x", 1), -EPIPE);
    cr_assert_eq(cio_socket_close(b), 0);
    return 0;
}

Test(socket, send_after_the_peer_closed_is_epipe_without_sigpipe)
{
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(run_virtual(epipe_main, NULL), 0);
}

static int half_close_main(void *arg)
{
    (void)arg;
    cio_socket *a, *b;
    tcp_pair("::1", &a, &b);
    cr_assert_eq(cio_socket_send(a, "request", 7), 7);
    cr_assert_eq(cio_socket_shutdown(a, SHUT_WR), 0);
    char buf[16];
    recv_all(b, buf, 7);
    cr_assert_eq(cio_socket_recv(b, buf, sizeof buf), 0, "b reads EOF");
    cr_assert_eq(cio_socket_recv(b, buf, sizeof buf), 0, "and again: EOF stays");
    cr_assert_eq(cio_socket_send(b, "reply", 5), 5, "b can still send");
    recv_all(a, buf, 5);
    cr_assert_eq(memcmp(buf, "reply", 5), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    cr_assert_eq(cio_socket_recv(a, buf, sizeof buf), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    return 0;
}

Test(socket, half_closed_connection_still_carries_the_other_way)
{
    cr_assert_eq(run_virtual(half_close_main, NULL), 0);
}

static int vanish_main(void *arg)
{
    (void)arg;
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    /* The peer's descriptor lives only in a child process, which dies. */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        for (;;)
            pause();
    }
    cr_assert_eq(cio_socket_close(b), 0);
    cio_task *t = spawn(recv_one, a, "reader");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t));
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int rc = cio_task_join(t, NULL);
    cr_assert(rc == 0 || rc == -ECONNRESET, "the reader sees the end: %d", rc);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert_eq(cio_socket_close(a), 0);
    return 0;
}

Test(socket, a_peer_that_dies_ends_a_blocked_recv)
{
    cr_assert_eq(run_virtual(vanish_main, NULL), 0);
}

static int silent_peer_main(void *arg)
{
    (void)arg;
    size_t len = 64u << 20;
    char *data = calloc(1, len);
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    /* A peer that never reads again: only a deadline gets us out, and the
     * send reports how much went out. */
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(10 * CIO_SEC));
    ssize_t n = cio_socket_send(a, data, len);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_gt(n, 0, "some bytes went out: %zd", n);
    cr_assert_lt((size_t)n, len);
    cr_assert_eq(cio_now(), 10 * CIO_SEC);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    free(data);
    return 0;
}

Test(socket, a_peer_that_stops_reading_is_cut_off_by_a_deadline)
{
    cr_assert_eq(run_virtual(silent_peer_main, NULL), 0);
}

/* ---- out of descriptors ----------------------------------------------------- */

typedef struct emfile_job {
    cio_socket *listener;
    cio_socket *conn;
    cio_addr peer;
    int emfiles;                /* accepts that failed with EMFILE */
} emfile_job;

/* Accept, backing off 10 ms whenever descriptors run out (as a server does). */
static int accept_with_backoff(void *arg)
{
    emfile_job *j = arg;
    for (;;) {
        int rc = cio_socket_accept(j->listener, &j->conn, &j->peer);
        if (rc != -EMFILE && rc != -ENFILE)
            return rc;
        j->emfiles++;
        if ((rc = cio_sleep(10 * CIO_MS)) < 0)
            return rc;
    }
}

typedef struct spare_fds {
    int fd[64];
    int n;
    struct rlimit saved;
} spare_fds;

/* Leave no descriptor free: the limit just above the highest open one, and
 * every hole below filled. */
static void exhaust_fds(spare_fds *s)
{
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &s->saved), 0);
    int top = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(top, 0);
    struct rlimit low = { (rlim_t)top + 1, s->saved.rlim_max };
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    s->n = 0;
    s->fd[s->n++] = top;
    int fd;
    while (s->n < 64 && (fd = dup(top)) >= 0)
        s->fd[s->n++] = fd;
    cr_assert_eq(errno, EMFILE);
}

static void release_fds(spare_fds *s)
{
    for (int i = 0; i < s->n; i++)
        close(s->fd[i]);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &s->saved), 0);
}

static int emfile_main(void *arg)
{
    (void)arg;
    cio_addr addr;
    emfile_job j = { .listener = listen_on("127.0.0.1", &addr) };
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(client, 0);
    spare_fds spare;
    exhaust_fds(&spare);
    cio_task *t = spawn(accept_with_backoff, &j, "acceptor");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t), "the acceptor waits for a connection");
    cr_assert_eq(connect(client, &addr.sa, addr.len), 0);
    /* Watch the loop for 50 ms of real time: the acceptor fails with EMFILE
     * and backs off, the connection stays queued, the listener stays
     * readable, and nothing spins (a level-triggered or retrying poller
     * would run thousands of passes here). */
    cio_loop_stats s0 = stats();
    cr_assert_eq(cio_sleep(50 * CIO_MS), 0);
    cio_loop_stats s1 = stats();
    cr_assert_geq(j.emfiles, 1, "accept reported EMFILE");
    cr_assert(!cio_task_done(t));
    cr_assert_lt(s1.iterations - s0.iterations, 200, "the loop spun: %llu passes",
                 (unsigned long long)(s1.iterations - s0.iterations));
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(j.listener, &c, NULL), -EMFILE, "and directly too");
    /* Descriptors free again: the queued connection is accepted. */
    release_fds(&spare);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cio_addr local;
    local.len = sizeof local.ss;
    cr_assert_eq(getsockname(client, &local.sa, &local.len), 0);
    cr_assert(same_addr(&j.peer, &local), "the connection that waited");
    cr_assert_eq(send(client, "hi", 2, 0), 2);
    char buf[2];
    recv_all(j.conn, buf, 2);
    close(client);
    cr_assert_eq(cio_socket_close(j.conn), 0);
    cr_assert_eq(cio_socket_close(j.listener), 0);
    return 0;
}

/* Real clock: the point is to count loop passes in real time. */
Test(socket, accept_out_of_descriptors_is_emfile_and_does_not_spin)
{
    cr_assert_eq(run_real(emfile_main, NULL), 0);
}

/* ---- cancelling each blocking call ----------------------------------------- */

/* Each case: a setup, a call that blocks, and a check that the socket is
 * still usable afterwards. The call is interrupted once by cio_task_cancel
 * (from another task) and once by a deadline on the virtual clock. */
typedef struct blocking_case {
    const char *name;
    void (*setup)(struct blocking_case *c);
    ssize_t (*call)(struct blocking_case *c);      /* blocks */
    void (*after)(struct blocking_case *c, ssize_t rc); /* checks, closes */
    cio_socket *a, *b;
    cio_addr addr;
    blackhole bh;
    char *data;
    size_t len;
} blocking_case;

/* accept: a listener nobody connects to. */
static void accept_setup(blocking_case *c) { c->a = listen_on("127.0.0.1", &c->addr); }

static ssize_t accept_call(blocking_case *c)
{
    cio_socket *s;
    int rc = cio_socket_accept(c->a, &s, NULL);
    if (rc == 0)
        cio_socket_close(s);
    return rc;
}

static void accept_after(blocking_case *c, ssize_t rc)
{
    cr_assert_lt(rc, 0);
    echo_through(c->a, &c->addr, NULL);     /* the listener still works */
    cr_assert_eq(cio_socket_close(c->a), 0);
}

/* connect: an address that never answers. */
static void connect_setup(blocking_case *c)
{
    if (!blackhole_open(&c->bh, "127.0.0.1"))
        cr_skip("no never-answering address");
    cr_assert_eq(cio_socket_open(&c->a, AF_INET, SOCK_STREAM, 0), 0);
}

static ssize_t connect_call(blocking_case *c) { return cio_socket_connect(c->a, &c->bh.addr); }

static void connect_after(blocking_case *c, ssize_t rc)
{
    cr_assert_lt(rc, 0);
    cr_assert_eq(cio_socket_close(c->a), 0);    /* an interrupted connect: close */
    blackhole_close(&c->bh);
}

/* recv: a connection with nothing to read. */
static void pair_setup(blocking_case *c) { tcp_pair("127.0.0.1", &c->a, &c->b); }

static ssize_t recv_call(blocking_case *c)
{
    char buf[16];
    return cio_socket_recv(c->a, buf, sizeof buf);
}

static void recv_after(blocking_case *c, ssize_t rc)
{
    cr_assert_lt(rc, 0);
    cr_assert_eq(cio_socket_send(c->b, "abc", 3), 3);
    char buf[3];
    recv_all(c->a, buf, 3);                 /* nothing lost, still works */
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
    cr_assert_eq(cio_socket_close(c->a), 0);
    cr_assert_eq(cio_socket_close(c->b), 0);
}

/* send: more than the buffers hold, to a peer that does not read. */
static void send_setup(blocking_case *c)
{
    pair_setup(c);
    c->len = 32u << 20;
    c->data = malloc(c->len);
    for (size_t i = 0; i < c->len; i++)
        c->data[i] = (char)pattern(i);
}

static ssize_t send_call(blocking_case *c) { return cio_socket_send(c->a, c->data, c->len); }

static void send_after(blocking_case *c, ssize_t rc)
{
    /* Interrupted after some bytes went out: the count, so the stream can
     * go on exactly where it stopped. */
    cr_assert_gt(rc, 0, "the send reports what went out: %zd", rc);
    cr_assert_lt((size_t)rc, c->len);
    size_t sent = (size_t)rc;
    cio_task *t = spawn(read_slowly, &(slow_reader){ .s = c->b, .expect = c->len }, "reader");
    cr_assert_eq(cio_socket_send(c->a, c->data + sent, c->len - sent), (ssize_t)(c->len - sent));
    cr_assert_eq(cio_task_join(t, NULL), 0, "every byte once, in order");
    cr_assert_eq(cio_socket_close(c->a), 0);
    cr_assert_eq(cio_socket_close(c->b), 0);
    free(c->data);
}

static blocking_case cases[] = {
    { .name = "accept", .setup = accept_setup, .call = accept_call, .after = accept_after },
    { .name = "connect", .setup = connect_setup, .call = connect_call, .after = connect_after },
    { .name = "recv", .setup = pair_setup, .call = recv_call, .after = recv_after },
    { .name = "send", .setup = send_setup, .call = send_call, .after = send_after },
};

static blocking_case *find_case(const char *name)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    cr_assert(false, "no case %s", name);
    return NULL;
}

static int run_call(void *arg)
{
    blocking_case *c = arg;
    return (int)c->call(c);
}

static int cancel_main(void *arg)
{
    blocking_case *c = find_case(arg);
    int before = count_sockets();
    c->setup(c);
    cio_task *t = spawn(run_call, c, c->name);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t), "%s blocks", c->name);
    cio_task_cancel(t);
    int rc = cio_task_join(t, NULL);
    cr_assert_eq(cio_now(), 0, "returned at once");
    if (strcmp(c->name, "send") != 0)
        cr_assert_eq(rc, -ECANCELED, "%s: %s", c->name, cio_strerror(rc));
    c->after(c, rc);
    cr_assert_eq(count_sockets(), before, "no socket leaked");
    return 0;
}

static int deadline_main(void *arg)
{
    blocking_case *c = find_case(arg);
    int before = count_sockets();
    c->setup(c);
    int64_t t0 = cio_now();
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    ssize_t rc = c->call(c);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT, "%s timed out", c->name);
    cr_assert_eq(cio_now() - t0, CIO_SEC, "exactly at the deadline");
    if (strcmp(c->name, "send") != 0)
        cr_assert_eq(rc, -ECANCELED, "%s: %s", c->name, cio_strerror((int)rc));
    c->after(c, rc);
    cr_assert_eq(count_sockets(), before, "no socket leaked");
    return 0;
}

#define CANCEL_TESTS(op)                                                      \
    Test(socket_cancel, op##_by_task_cancel)                                  \
    {                                                                         \
        cr_assert_eq(run_virtual(cancel_main, #op), 0);                       \
    }                                                                         \
    Test(socket_cancel, op##_by_deadline)                                     \
    {                                                                         \
        cr_assert_eq(run_virtual(deadline_main, #op), 0);                     \
    }

CANCEL_TESTS(accept)
CANCEL_TESTS(connect)
CANCEL_TESTS(recv)
CANCEL_TESTS(send)

static int cancelled_before_main(void *arg)
{
    (void)arg;
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    cr_assert_eq(cio_socket_send(b, "data", 4), 4);
    /* Level-triggered: a cancelled task's calls fail even when they could
     * complete at once (the data stays for later). */
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    char buf[4];
    cr_assert_eq(cio_socket_recv(a, buf, sizeof buf), -ECANCELED);
    cr_assert_eq(cio_socket_send(a, "x", 1), -ECANCELED);
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(a, &c, NULL), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    recv_all(a, buf, 4);
    cr_assert_eq(memcmp(buf, "data", 4), 0);
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(b), 0);
    return 0;
}

Test(socket_cancel, a_cancelled_task_cannot_even_start_a_call)
{
    cr_assert_eq(run_virtual(cancelled_before_main, NULL), 0);
}

/* ---- closing a socket another task is blocked on ----------------------------- */

static int accept_one(void *arg)
{
    cio_socket *c;
    int rc = cio_socket_accept(arg, &c, NULL);
    if (rc == 0)
        cio_socket_close(c);
    return rc;
}

static int close_under_main(void *arg)
{
    (void)arg;
    int before = count_sockets();
    cio_socket *a, *b;
    tcp_pair("127.0.0.1", &a, &b);
    cio_task *r1 = spawn(recv_one, a, "reader1");
    cio_task *r2 = spawn(recv_one, a, "reader2");
    cio_addr addr;
    cio_socket *l = listen_on("::1", &addr);
    cio_task *acc = spawn(accept_one, l, "acceptor");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(r1) && !cio_task_done(r2) && !cio_task_done(acc));
    cr_assert_eq(cio_socket_close(a), 0);
    cr_assert_eq(cio_socket_close(l), 0);
    cr_assert_eq(cio_task_join(r1, NULL), -EBADF);
    cr_assert_eq(cio_task_join(r2, NULL), -EBADF);
    cr_assert_eq(cio_task_join(acc, NULL), -EBADF);
    cr_assert_eq(cio_now(), 0);
    char c;
    cr_assert_eq(cio_socket_recv(b, &c, 1), 0, "the peer sees the close");
    cr_assert_eq(cio_socket_close(b), 0);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(socket_cancel, close_ends_the_calls_blocked_on_the_socket_with_ebadf)
{
    cr_assert_eq(run_virtual(close_under_main, NULL), 0);
}

static int send_one(void *arg)
{
    blocking_case *c = arg;
    return (int)cio_socket_send(c->a, c->data, c->len);
}

static int close_under_send_main(void *arg)
{
    (void)arg;
    blocking_case c = { 0 };
    send_setup(&c);
    cio_task *t = spawn(send_one, &c, "sender");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t));
    cr_assert_eq(cio_socket_close(c.a), 0);
    /* -EBADF although some bytes went out: a short count would invite the
     * caller to send the rest on the freed socket. */
    cr_assert_eq(cio_task_join(t, NULL), -EBADF);
    cr_assert_eq(cio_socket_close(c.b), 0);
    free(c.data);
    return 0;
}

Test(socket_cancel, close_under_a_blocked_send_is_ebadf)
{
    cr_assert_eq(run_virtual(close_under_send_main, NULL), 0);
}
