/* test_connect.c — connecting by name and Happy Eyeballs: the address
 * order (families interleaved), the staggered race over an address that
 * never answers, failures, the attempt delay, sequential mode, local binds,
 * the caller's cancellation and deadlines reaching every attempt, numeric
 * hosts that never touch a thread, and cio_tcp_connect cancelled in its
 * lookup and in connecting.
 */
#include "net_helpers.h"

#include "io/connect.h"

#include <pthread.h>

static cio_addr ip(const char *s, uint16_t port)
{
    cio_addr a;
    cr_assert_eq(cio_addr_ip(&a, s, port), 0, "%s", s);
    return a;
}

static bool same_addr(const cio_addr *a, const cio_addr *b)
{
    return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

/* ---- the order of the attempts ------------------------------------------------ */

static void check_order(cio_addr *a, size_t n, const char *const *want)
{
    for (size_t i = 0; i < n; i++) {
        char got[64];
        cio_addr_format(&a[i], got, sizeof got);
        cr_assert_str_eq(got, want[i], "position %zu", i);
    }
}

Test(connect_order, families_are_interleaved_starting_with_the_first)
{
    cio_addr a[] = { ip("::1", 1), ip("::2", 1), ip("::3", 1), ip("10.0.0.1", 1),
                     ip("10.0.0.2", 1) };
    cio_addrs_interleave(a, 5);
    const char *want[] = { "[::1]:1", "10.0.0.1:1", "[::2]:1", "10.0.0.2:1", "[::3]:1" };
    check_order(a, 5, want);

    cio_addr b[] = { ip("10.0.0.1", 2), ip("10.0.0.2", 2), ip("::1", 2) };
    cio_addrs_interleave(b, 3);
    const char *want_b[] = { "10.0.0.1:2", "[::1]:2", "10.0.0.2:2" };
    check_order(b, 3, want_b);

    cio_addr c[] = { ip("::1", 3), ip("::2", 3) };
    cio_addrs_interleave(c, 2);
    const char *want_c[] = { "[::1]:3", "[::2]:3" };
    check_order(c, 2, want_c);
    cio_addrs_interleave(c, 0);
}

/* An addrinfo list as a resolver gives it, over storage the test owns. */
static struct addrinfo *ai_list(struct addrinfo *ai, cio_addr *addrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ai[i] = (struct addrinfo){
            .ai_family = addrs[i].sa.sa_family,
            .ai_socktype = SOCK_STREAM,
            .ai_protocol = IPPROTO_TCP,
            .ai_addrlen = addrs[i].len,
            .ai_addr = &addrs[i].sa,
            .ai_next = i + 1 < n ? &ai[i + 1] : NULL,
        };
    }
    return ai;
}

Test(connect_order, resolver_answers_are_filtered_and_interleaved)
{
    cio_addr addrs[] = { ip("::1", 80), ip("::2", 80), ip("192.0.2.1", 80),
                         ip("192.0.2.2", 80) };
    struct addrinfo ai[4];
    cio_addr out[8];
    size_t n = cio_addrs_from_ai(out, 8, ai_list(ai, addrs, 4), NULL);
    cr_assert_eq(n, 4);
    const char *want[] = { "[::1]:80", "192.0.2.1:80", "[::2]:80", "192.0.2.2:80" };
    check_order(out, 4, want);

    n = cio_addrs_from_ai(out, 8, ai, &(cio_connect_opts){ .family = AF_INET });
    const char *want4[] = { "192.0.2.1:80", "192.0.2.2:80" };
    cr_assert_eq(n, 2);
    check_order(out, 2, want4);

    cio_addr local = ip("::", 0);
    n = cio_addrs_from_ai(out, 8, ai, &(cio_connect_opts){ .local = &local });
    cr_assert_eq(n, 2, "a local address keeps its own family only");
    cr_assert_eq(out[0].sa.sa_family, AF_INET6);

    n = cio_addrs_from_ai(out, 3, ai, NULL);
    cr_assert_eq(n, 3, "at most max");
}

/* ---- the race -------------------------------------------------------------- */

typedef struct race_env {
    blackhole bh;               /* never answers */
    cio_socket *listener;       /* answers */
    cio_addr good;
    int sockets;                /* open sockets once set up */
} race_env;

static void race_setup(race_env *e, const char *hole_ip, const char *good_ip)
{
    if (!blackhole_open(&e->bh, hole_ip))
        cr_skip("no never-answering address here");
    e->listener = listen_on(good_ip, &e->good);
    e->sockets = count_sockets();
}

static void race_teardown(race_env *e)
{
    cr_assert_eq(cio_socket_close(e->listener), 0);
    blackhole_close(&e->bh);
}

/* Accept what the winner connected and check it is that connection. */
static void check_winner(race_env *e, cio_socket *s)
{
    cio_addr peer, local, seen;
    cr_assert_eq(cio_socket_peer_addr(s, &peer), 0);
    cr_assert(same_addr(&peer, &e->good), "connected to the answering address");
    cio_socket *server;
    cr_assert_eq(cio_socket_accept(e->listener, &server, &seen), 0);
    cr_assert_eq(cio_socket_local_addr(s, &local), 0);
    cr_assert(same_addr(&seen, &local));
    cr_assert_eq(count_sockets(), e->sockets + 2,
                 "only the winner and its server end are open: the loser was closed");
    cr_assert_eq(cio_socket_close(server), 0);
    cr_assert_eq(cio_socket_close(s), 0);
}

typedef struct race_args {
    int64_t delay;
    int64_t expect_at;
} race_args;

static int stagger_main(void *arg)
{
    race_args *ra = arg;
    race_env e;
    race_setup(&e, "::1", "127.0.0.1");
    cio_addr list[] = { e.bh.addr, e.good };
    cio_socket *s = NULL;
    int rc = cio_connect_addrs(&s, list, 2, &(cio_connect_opts){ .attempt_delay = ra->delay });
    cr_assert_eq(rc, 0, "%s", cio_strerror(rc));
    cr_assert_eq(cio_now(), ra->expect_at, "won when the second attempt started");
    check_winner(&e, s);
    race_teardown(&e);
    return 0;
}

Test(connect_race, second_address_wins_after_the_default_attempt_delay)
{
    race_args ra = { 0, 250 * CIO_MS };
    cr_assert_eq(run_virtual(stagger_main, &ra), 0);
}

Test(connect_race, the_attempt_delay_is_an_option)
{
    race_args ra = { 100 * CIO_MS, 100 * CIO_MS };
    cr_assert_eq(run_virtual(stagger_main, &ra), 0);
}

static int failed_first_main(void *arg)
{
    (void)arg;
    race_env e;
    race_setup(&e, "127.0.0.1", "::1");
    cio_addr list[] = { refused_addr("::1"), e.good };
    cio_socket *s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, list, 2, NULL), 0);
    cr_assert_eq(cio_now(), 0, "a failed attempt starts the next at once");
    check_winner(&e, s);
    race_teardown(&e);
    return 0;
}

Test(connect_race, a_failed_attempt_starts_the_next_at_once)
{
    cr_assert_eq(run_virtual(failed_first_main, NULL), 0);
}

static int all_fail_main(void *arg)
{
    (void)arg;
    int before = count_sockets();
    cio_addr list[3] = { refused_addr("::1"), refused_addr("127.0.0.1") };
    char path[64];
    snprintf(path, sizeof path, "/tmp/cio-test-nobody-%d.sock", (int)getpid());
    cr_assert_eq(cio_addr_unix(&list[2], path), 0);
    cio_socket *s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, list, 2, NULL), -ECONNREFUSED);
    cr_assert_eq(cio_connect_addrs(&s, list, 3, NULL), -ENOENT, "the last attempt's error");
    cr_assert_eq(cio_connect_addrs(&s, list, 0, NULL), -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(cio_now(), 0);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(connect_race, when_all_fail_the_last_error_is_returned)
{
    cr_assert_eq(run_virtual(all_fail_main, NULL), 0);
}

static int sequential_main(void *arg)
{
    (void)arg;
    race_env e;
    race_setup(&e, "::1", "127.0.0.1");
    cio_connect_opts one_by_one = { .attempt_delay = -1 };
    /* Each address to its end: after a refusal the next one goes... */
    cio_addr list[] = { refused_addr("::1"), e.good };
    cio_socket *s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, list, 2, &one_by_one), 0);
    check_winner(&e, s);
    /* ...but one that hangs holds the rest back until the deadline. */
    cio_addr hang_first[] = { e.bh.addr, e.good };
    cio_scope sc;
    cio_scope_enter(&sc, cio_deadline_after(2 * CIO_SEC));
    s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, hang_first, 2, &one_by_one), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&sc), -ETIMEDOUT);
    cr_assert_null(s);
    struct pollfd p = { .fd = cio_socket_fd(e.listener), .events = POLLIN };
    cr_assert_eq(poll(&p, 1, 0), 0, "the second address was never tried");
    cr_assert_eq(count_sockets(), e.sockets);
    race_teardown(&e);
    return 0;
}

Test(connect_race, a_negative_delay_tries_one_address_at_a_time)
{
    cr_assert_eq(run_virtual(sequential_main, NULL), 0);
}

static int both_answer_main(void *arg)
{
    (void)arg;
    cio_addr a, b;
    cio_socket *la = listen_on("127.0.0.1", &a);
    cio_socket *lb = listen_on("::1", &b);
    int before = count_sockets();
    /* A delay so short both attempts may connect: one wins, one is closed. */
    cio_addr list[] = { a, b };
    cio_socket *s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, list, 2, &(cio_connect_opts){ .attempt_delay = 1 }), 0);
    cio_addr peer;
    cr_assert_eq(cio_socket_peer_addr(s, &peer), 0);
    cr_assert(same_addr(&peer, &a) || same_addr(&peer, &b));
    cr_assert_eq(count_sockets(), before + 1, "the winner only");
    cr_assert_eq(cio_socket_close(s), 0);
    cr_assert_eq(cio_socket_close(la), 0);
    cr_assert_eq(cio_socket_close(lb), 0);
    return 0;
}

Test(connect_race, when_two_attempts_connect_one_is_kept)
{
    cr_assert_eq(run_virtual(both_answer_main, NULL), 0);
}

static int local_bind_main(void *arg)
{
    (void)arg;
    race_env e;
    race_setup(&e, "127.0.0.1", "127.0.0.1");
    cio_addr local = refused_addr("127.0.0.1");     /* a free port */
    cio_socket *s = NULL;
    cr_assert_eq(cio_connect_addrs(&s, &e.good, 1, &(cio_connect_opts){ .local = &local }), 0);
    cio_addr mine;
    cr_assert_eq(cio_socket_local_addr(s, &mine), 0);
    cr_assert(same_addr(&mine, &local), "bound where asked");
    check_winner(&e, s);
    race_teardown(&e);
    return 0;
}

Test(connect_race, connects_from_a_local_address)
{
    cr_assert_eq(run_virtual(local_bind_main, NULL), 0);
}

/* ---- the caller's cancellation reaches every attempt ----------------------- */

typedef struct hang_env {
    blackhole bh4, bh6;
    cio_addr list[2];
    int sockets;
} hang_env;

static void hang_setup(hang_env *h)
{
    if (!blackhole_open(&h->bh6, "::1") || !blackhole_open(&h->bh4, "127.0.0.1"))
        cr_skip("no never-answering address here");
    h->list[0] = h->bh6.addr;
    h->list[1] = h->bh4.addr;
    h->sockets = count_sockets();
}

static int connect_hanging(void *arg)
{
    hang_env *h = arg;
    cio_socket *s = NULL;
    int rc = cio_connect_addrs(&s, h->list, 2, NULL);
    if (rc == 0)
        cio_socket_close(s);
    return rc;
}

static int race_task_cancel_main(void *arg)
{
    int64_t when = *(int64_t *)arg;
    hang_env h;
    hang_setup(&h);
    cio_task *t = spawn(connect_hanging, &h, "connect");
    cr_assert_eq(cio_sleep(when), 0);
    cr_assert(!cio_task_done(t));
    cr_assert_eq(count_sockets(), h.sockets + (when > 250 * CIO_MS ? 2 : 1),
                 "one attempt per started address");
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), when, "at once");
    cr_assert_eq(count_sockets(), h.sockets, "every attempt's socket closed");
    blackhole_close(&h.bh4);
    blackhole_close(&h.bh6);
    return 0;
}

Test(connect_race, task_cancel_while_the_first_attempt_runs)
{
    int64_t when = 100 * CIO_MS;
    cr_assert_eq(run_virtual(race_task_cancel_main, &when), 0);
}

Test(connect_race, task_cancel_while_both_attempts_run)
{
    int64_t when = 400 * CIO_MS;
    cr_assert_eq(run_virtual(race_task_cancel_main, &when), 0);
}

static int race_deadline_main(void *arg)
{
    int64_t timeout = *(int64_t *)arg;
    hang_env h;
    hang_setup(&h);
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(timeout));
    cr_assert_eq(connect_hanging(&h), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now(), timeout);
    cr_assert_eq(count_sockets(), h.sockets, "every attempt's socket closed");
    blackhole_close(&h.bh4);
    blackhole_close(&h.bh6);
    return 0;
}

Test(connect_race, deadline_while_the_first_attempt_runs)
{
    int64_t t = 100 * CIO_MS;
    cr_assert_eq(run_virtual(race_deadline_main, &t), 0);
}

Test(connect_race, deadline_while_both_attempts_run)
{
    int64_t t = 3 * CIO_SEC;
    cr_assert_eq(run_virtual(race_deadline_main, &t), 0);
}

/* ---- cio_tcp_connect ---------------------------------------------------------- */

static void port_str(const cio_addr *a, char *buf, size_t size)
{
    snprintf(buf, size, "%u", cio_addr_port(a));
}

static int numeric_main(void *arg)
{
    (void)arg;
    const char *ips[] = { "127.0.0.1", "::1" };
    for (int i = 0; i < 2; i++) {
        cio_addr a;
        cio_socket *l = listen_on(ips[i], &a);
        char port[8];
        port_str(&a, port, sizeof port);
        cio_socket *s = NULL;
        int rc = cio_tcp_connect(&s, ips[i], port, NULL);
        cr_assert_eq(rc, 0, "%s: %s", ips[i], cio_strerror(rc));
        cio_addr peer;
        cr_assert_eq(cio_socket_peer_addr(s, &peer), 0);
        cr_assert(same_addr(&peer, &a));
        cr_assert_eq(cio_socket_close(s), 0);
        int other = i == 0 ? AF_INET6 : AF_INET;
        cr_assert_eq(cio_tcp_connect(&s, ips[i], port, &(cio_connect_opts){ .family = other }),
                     -EAFNOSUPPORT, "the address is not of the family asked for");
        cr_assert_eq(cio_socket_close(l), 0);
    }
    cio_socket *s = NULL;
    cr_assert_eq(cio_tcp_connect(&s, "127.0.0.1", "99999", NULL), -EINVAL);
    cr_assert_eq(cio_tcp_connect(&s, "127.0.0.1", "no-such-service-cio", NULL), -EINVAL);
    cr_assert_eq(cio_tcp_connect(&s, NULL, "80", NULL), -EINVAL);
    return 0;
}

Test(tcp_connect, numeric_hosts_ipv4_and_ipv6)
{
    cr_assert_eq(run_virtual(numeric_main, NULL), 0);
}

static int service_main(void *arg)
{
    (void)arg;
    /* "http-alt" is 8080 in the services database. */
    cio_socket *l;
    if (cio_tcp_listen(&l, "127.0.0.1", 8080, NULL) < 0)
        return 77;
    cio_socket *s = NULL;
    int rc = cio_tcp_connect(&s, "127.0.0.1", "http-alt", NULL);
    cr_assert_eq(rc, 0, "%s", cio_strerror(rc));
    cio_addr peer;
    cr_assert_eq(cio_socket_peer_addr(s, &peer), 0);
    cr_assert_eq(cio_addr_port(&peer), 8080);
    cr_assert_eq(cio_socket_close(s), 0);
    cr_assert_eq(cio_socket_close(l), 0);
    return 0;
}

Test(tcp_connect, port_by_service_name)
{
    struct servent *se = getservbyname("http-alt", "tcp");
    if (!se || ntohs((uint16_t)se->s_port) != 8080)
        cr_skip("no http-alt in the services database");
    int rc = run_virtual(service_main, NULL);
    if (rc == 77)
        cr_skip("port 8080 is taken");
    cr_assert_eq(rc, 0);
}

static int by_name_main(void *arg)
{
    (void)arg;
    int before = count_sockets();
    cio_socket *l;
    cr_assert_eq(cio_tcp_listen(&l, NULL, 0, NULL), 0);     /* both families */
    cio_addr a;
    cr_assert_eq(cio_socket_local_addr(l, &a), 0);
    char port[8];
    port_str(&a, port, sizeof port);
    cio_socket *s = NULL;
    int rc = cio_tcp_connect(&s, "localhost", port, NULL);
    cr_assert_eq(rc, 0, "localhost: %s", cio_strerror(rc));
    cio_socket *server;
    cr_assert_eq(cio_socket_accept(l, &server, NULL), 0);
    cr_assert_eq(cio_socket_send(s, "hi", 2), 2);
    char buf[2];
    cr_assert_eq(cio_socket_recv(server, buf, 2), 2);
    cr_assert_eq(cio_socket_close(server), 0);
    cr_assert_eq(cio_socket_close(s), 0);
    cr_assert_eq(cio_socket_close(l), 0);
    cr_assert_eq(count_sockets(), before);
    return 0;
}

Test(tcp_connect, by_host_name)
{
    cr_assert_eq(run_virtual(by_name_main, NULL), 0);
}

/* In a child where no thread can be made: numeric hosts still connect, as
 * they never go near the thread pool. */
static int no_threads_main(void *arg)
{
    (void)arg;
    cio_addr a;
    cio_socket *l;
    if (cio_tcp_listen(&l, "127.0.0.1", 0, NULL) < 0 || cio_socket_local_addr(l, &a) < 0)
        return 2;
    char port[8];
    port_str(&a, port, sizeof port);
    cio_socket *s = NULL;
    if (cio_tcp_connect(&s, "127.0.0.1", port, NULL) < 0)
        return 3;
    cio_socket_close(s);
    cio_socket_close(l);
    return 0;
}

static void *nothing(void *arg) { return arg; }

static int no_threads_child(void *arg)
{
    (void)arg;
    if (seccomp_deny(SYS_clone3, -1, ENOSYS) < 0 || seccomp_deny(SYS_clone, -1, EPERM) < 0)
        return 77;
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0)
        return 4;               /* the filter does not work: the test proves nothing */
    return run_virtual(no_threads_main, NULL);
}

Test(tcp_connect, numeric_hosts_never_touch_a_thread)
{
    int rc = in_child(no_threads_child, NULL);
    if (rc == 77)
        cr_skip("seccomp filters are not available here");
    cr_assert_eq(rc, 0, "child step %d failed", rc);
}

typedef struct connect_job {
    const char *host;
    char port[8];
} connect_job;

static int tcp_connect_task(void *arg)
{
    connect_job *j = arg;
    cio_socket *s = NULL;
    int rc = cio_tcp_connect(&s, j->host, j->port, NULL);
    if (rc == 0)
        cio_socket_close(s);
    return rc;
}

/* host: "localhost" (cancelled in the lookup, as the loop has not polled
 * since it started) or the black hole's number (cancelled connecting). */
static int tcp_connect_cancel_main(void *arg)
{
    const char *host = arg;
    blackhole bh;
    if (!blackhole_open(&bh, "127.0.0.1"))
        cr_skip("no never-answering address here");
    int before = count_sockets();
    connect_job j = { .host = strcmp(host, "localhost") ? "127.0.0.1" : host };
    port_str(&bh.addr, j.port, sizeof j.port);
    cio_task *t = spawn(tcp_connect_task, &j, "connect");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(!cio_task_done(t));
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), 0);
    cr_assert_eq(count_sockets(), before);
    /* A deadline: in the lookup or in connecting, the answer is the same. */
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    cr_assert_eq(tcp_connect_task(&j), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert_eq(count_sockets(), before);
    blackhole_close(&bh);
    return 0;
}

Test(tcp_connect, cancelled_in_the_lookup)
{
    cr_assert_eq(run_virtual(tcp_connect_cancel_main, "localhost"), 0);
}

Test(tcp_connect, cancelled_while_connecting)
{
    cr_assert_eq(run_virtual(tcp_connect_cancel_main, "numeric"), 0);
}
