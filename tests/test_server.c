/* test_server.c — cio_server: many concurrent clients, Unix sockets,
 * graceful stop (handlers that finish in time and one that must be
 * cancelled at the deadline, on the virtual clock), handler errors kept to
 * their connection, max_connections, serve_forever, and the EMFILE
 * back-off (counted: no spinning). */
#include "stream_helpers.h"

#include <sys/resource.h>

static int echo_lines(cio_stream *st, void *arg)
{
    (void)arg;
    const char *line;
    size_t len;
    int rc;
    while ((rc = cio_stream_read_line_view(st, &line, &len)) == 0 && len > 0) {
        if ((rc = cio_stream_write(st, line, len)) < 0 || (rc = cio_stream_drain(st)) < 0)
            return rc;
    }
    return rc;
}

static char port_str[8];

static cio_server *start_tcp(cio_server_handler *h, void *arg, const cio_server_opts *o)
{
    cio_server *srv;
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, h, arg, o), 0);
    cio_addr a;
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cr_assert_gt(cio_addr_port(&a), 0);
    snprintf(port_str, sizeof port_str, "%u", cio_addr_port(&a));
    return srv;
}

static cio_stream *connect_client(void)
{
    cio_stream *st;
    cr_assert_eq(cio_open_connection(&st, "127.0.0.1", port_str, NULL), 0);
    return st;
}

/* ---- many clients --------------------------------------------------------- */

#define CLIENTS 50
#define LINES 20

static int client(void *arg)
{
    int id = (int)(intptr_t)arg;
    cio_stream *st = connect_client();
    for (int i = 0; i < LINES; i++) {
        char out[64], in[64];
        int n = snprintf(out, sizeof out, "client %d line %d\n", id, i);
        cr_assert_eq(cio_stream_write(st, out, (size_t)n), 0);
        cr_assert_eq(cio_stream_read_line(st, in, sizeof in), n);
        cr_assert_str_eq(in, out);
    }
    return cio_stream_close(st);
}

static int many_main(void *arg)
{
    (void)arg;
    cio_server *srv = start_tcp(echo_lines, NULL, NULL);
    cio_task *t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        t[i] = spawn(client, (void *)(intptr_t)i, NULL);
    for (int i = 0; i < CLIENTS; i++)
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
    cio_server_stats s;
    cio_server_get_stats(srv, &s);
    cr_assert_eq(s.accepted, CLIENTS);
    cr_assert_eq(s.failed, 0);
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    return 0;
}

Test(server, many_concurrent_clients)
{
    cr_assert_eq(run_virtual(many_main, NULL), 0);
}

static int unix_main(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/cio-test-server-%d.sock", (int)getpid());
    cio_server *srv;
    cr_assert_eq(cio_unix_server(&srv, path, echo_lines, NULL, NULL), 0);
    cio_stream *st;
    cr_assert_eq(cio_open_unix_connection(&st, path, NULL), 0);
    cr_assert_eq(cio_stream_write(st, "over unix\n", 10), 0);
    char in[32];
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 10);
    cr_assert_str_eq(in, "over unix\n");
    cr_assert_eq(cio_stream_close(st), 0);
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    unlink(path);
    return 0;
}

Test(server, unix_socket_server)
{
    cr_assert_eq(run_virtual(unix_main, NULL), 0);
}

/* ---- graceful stop ------------------------------------------------------------ */

struct slow {
    int64_t work;               /* how long the handler takes */
    int status;                 /* what its sleep returned */
    bool ended;
};

/* Says hello, works for a while, says bye. */
static int slow_handler(cio_stream *st, void *arg)
{
    struct slow *s = arg;
    int rc = cio_stream_write(st, "hello\n", 6);
    if (rc == 0)
        rc = s->status = cio_sleep(s->work);
    if (rc == 0)
        rc = cio_stream_write(st, "bye\n", 4);
    s->ended = true;
    return rc;
}

static int stop_main(void *arg)
{
    bool in_time = arg != NULL;
    struct slow s = { .work = in_time ? CIO_SEC : 10 * CIO_SEC, .status = 1 };
    cio_server *srv = start_tcp(slow_handler, &s, NULL);
    cio_stream *st = connect_client();
    char in[32];
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 6, "the handler runs");
    int64_t start = cio_now();
    int rc = cio_server_stop(srv, 3 * CIO_SEC);
    cr_assert(s.ended);
    if (in_time) {
        cr_assert_eq(rc, 0);
        cr_assert_eq(s.status, 0);
        cr_assert_eq(cio_now(), start + CIO_SEC, "stop returns when the handler ends");
        cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 4);
        cr_assert_str_eq(in, "bye\n");
    } else {
        cr_assert_eq(rc, -ETIMEDOUT);
        cr_assert_eq(s.status, -ECANCELED, "cancelled at the deadline");
        cr_assert_eq(cio_now(), start + 3 * CIO_SEC);
    }
    /* Either way the server closed the connection... */
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 0);
    cr_assert_eq(cio_stream_close(st), 0);
    /* ...and no longer listens. */
    cio_stream *again;
    cr_assert_eq(cio_open_connection(&again, "127.0.0.1", port_str, NULL), -ECONNREFUSED);
    return 0;
}

Test(server, graceful_stop_waits_for_a_handler_that_finishes_in_time)
{
    cr_assert_eq(run_virtual(stop_main, (void *)1), 0);
}

Test(server, graceful_stop_cancels_a_handler_at_the_deadline)
{
    cr_assert_eq(run_virtual(stop_main, NULL), 0);
}

/* cio_server_stop is a blocking call: the caller cancelled during the grace
 * period cancels the handlers at once, still waits for them, and frees the
 * server. */
static int stopper(void *arg)
{
    return cio_server_stop(arg, 10 * CIO_SEC);
}

static int stop_cancelled_main(void *arg)
{
    (void)arg;
    struct slow s = { .work = 10 * CIO_SEC, .status = 1 };
    cio_server *srv = start_tcp(slow_handler, &s, NULL);
    cio_stream *st = connect_client();
    char in[32];
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 6, "the handler runs");
    cio_task *t = spawn(stopper, srv, "stopper");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert(!cio_task_done(t), "stop waits for the handler during its grace");
    int64_t start = cio_now();
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), start, "the handler is cancelled at once");
    cr_assert(s.ended);
    cr_assert_eq(s.status, -ECANCELED);
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 0, "its connection is closed");
    return cio_stream_close(st);
}

Test(server, a_cancelled_stop_cancels_the_handlers_at_once)
{
    cr_assert_eq(run_virtual(stop_cancelled_main, NULL), 0);
}

static int serve_forever_task(void *arg)
{
    return cio_server_serve_forever(arg);
}

static int serve_cancelled_main(void *arg)
{
    (void)arg;
    cio_server *srv = start_tcp(echo_lines, NULL, NULL);
    cio_task *t = spawn(serve_forever_task, srv, "server");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert(!cio_task_done(t), "serve_forever blocks while the server accepts");
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    /* Cancelling the waiter does not stop the server. */
    cio_stream *st = connect_client();
    char in[16];
    cr_assert_eq(cio_stream_write(st, "still\n", 6), 0);
    cr_assert_eq(cio_stream_read_line(st, in, sizeof in), 6);
    cr_assert_eq(cio_stream_close(st), 0);
    return cio_server_stop(srv, CIO_SEC);
}

Test(server, serve_forever_is_a_cancellation_point)
{
    cr_assert_eq(run_virtual(serve_cancelled_main, NULL), 0);
}

static int stop_idle_main(void *arg)
{
    (void)arg;
    cio_server *srv = start_tcp(echo_lines, NULL, NULL);
    cr_assert_eq(cio_sleep(CIO_MS), 0);     /* the accept loop is waiting */
    int64_t start = cio_now();
    cr_assert_eq(cio_server_stop(srv, 5 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), start, "nothing to wait for");
    return 0;
}

Test(server, stop_with_no_connections_is_immediate)
{
    cr_assert_eq(run_virtual(stop_idle_main, NULL), 0);
}

/* ---- handler errors, limits, serve_forever -------------------------------------- */

/* The first connection fails its handler at once; the others go on. */
static int failing_first(cio_stream *st, void *arg)
{
    int *n = arg;
    if ((*n)++ == 0)
        return -EIO;
    return echo_lines(st, NULL);
}

static int errors_main(void *arg)
{
    (void)arg;
    int n = 0;
    cio_server *srv = start_tcp(failing_first, &n, NULL);
    cio_stream *bad = connect_client();
    char in[32];
    cr_assert_eq(cio_stream_read_line(bad, in, sizeof in), 0, "closed by the server");
    cr_assert_eq(cio_stream_close(bad), 0);
    cio_task *t = spawn(client, (void *)1, "good");
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cio_server_stats s;
    cio_server_get_stats(srv, &s);
    cr_assert_eq(s.failed, 1);
    cr_assert_eq(s.accepted, 2);
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    return 0;
}

Test(server, a_failing_handler_ends_only_its_connection)
{
    cr_assert_eq(run_virtual(errors_main, NULL), 0);
}

static size_t active_max;

static int count_active(cio_stream *st, void *arg)
{
    cio_server **srv = arg;
    cio_server_stats s;
    cio_server_get_stats(*srv, &s);
    if (s.active > active_max)
        active_max = s.active;
    return echo_lines(st, NULL);
}

static int limit_main(void *arg)
{
    (void)arg;
    cio_server *srv;
    cio_server_opts o = { .max_connections = 2 };
    srv = start_tcp(count_active, &srv, &o);
    active_max = 0;
    cio_stream *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = connect_client();    /* the kernel queues them all */
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_server_stats s;
    cio_server_get_stats(srv, &s);
    cr_assert_eq(s.accepted, 2, "accepting waits at the limit");
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(cio_stream_write(c[i], "hi\n", 3), 0);
        if (i >= 2) {           /* served once an earlier one has gone */
            cr_assert_eq(cio_stream_close(c[i - 2]), 0);
        }
    }
    char in[8];
    for (int i = 2; i < 4; i++) {
        cr_assert_eq(cio_stream_read_line(c[i], in, sizeof in), 3);
        cr_assert_eq(cio_stream_close(c[i]), 0);
    }
    cr_assert_eq(active_max, 2);
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    return 0;
}

Test(server, max_connections_bounds_the_handlers)
{
    cr_assert_eq(run_virtual(limit_main, NULL), 0);
}

/* A handler closes the server when told to; serve_forever then returns. */
static int closing_handler(cio_stream *st, void *arg)
{
    cio_server **srv = arg;
    char line[32];
    ssize_t n = cio_stream_read_line(st, line, sizeof line);
    if (n > 0 && strcmp(line, "quit\n") == 0)
        cio_server_close(*srv);
    return n < 0 ? (int)n : 0;
}

static int quitter(void *arg)
{
    (void)arg;
    cio_stream *st = connect_client();
    cr_assert_eq(cio_stream_write(st, "quit\n", 5), 0);
    return cio_stream_close(st);
}

static int serve_main(void *arg)
{
    (void)arg;
    cio_server *srv;
    srv = start_tcp(closing_handler, &srv, NULL);
    cio_task *t = spawn(quitter, NULL, "quitter");
    cr_assert_eq(cio_server_serve_forever(srv), 0);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cio_server_close(srv);      /* again: harmless */
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    return 0;
}

Test(server, serve_forever_returns_after_close)
{
    cr_assert_eq(run_virtual(serve_main, NULL), 0);
}

/* ---- EMFILE ------------------------------------------------------------------------ */

#define WAITING 3

static int emfile_main(void *arg)
{
    (void)arg;
    cio_server *srv = start_tcp(echo_lines, NULL, NULL);
    cio_stream *c[WAITING];
    for (int i = 0; i < WAITING; i++)
        c[i] = connect_client();
    /* Let the server accept those, then queue more it cannot accept: no
     * descriptor is left below the limit. */
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    int pending[WAITING];
    cio_addr a;
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    for (int i = 0; i < WAITING; i++)
        pending[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct rlimit old, tight;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    cr_assert_geq(lowest, 0);
    close(lowest);
    tight = old;
    tight.rlim_cur = (rlim_t)lowest;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
    /* Connect once the limit is in force: a completion backend may accept
     * as soon as a connection arrives. Plain blocking connects, so the task
     * does not yield meanwhile. */
    for (int i = 0; i < WAITING; i++)
        cr_assert_eq(connect(pending[i], &a.sa, a.len), 0);

    cio_loop_stats before, after;
    cio_loop_get_stats(cio_loop_current(), &before);
    cr_assert_eq(cio_sleep(10 * CIO_SEC), 0);
    cio_loop_get_stats(cio_loop_current(), &after);
    cio_server_stats s;
    cio_server_get_stats(srv, &s);
    /* Nothing accepted while out of descriptors; except that io_uring
     * reads RLIMIT_NOFILE when an accept is submitted, so the one already
     * in the ring may take one more. */
    cr_assert_geq(s.accepted, WAITING);
    cr_assert_leq(s.accepted, WAITING + 1, "%llu accepted while out of descriptors",
                  (unsigned long long)s.accepted);
    /* 10, 20, 40 ... 640 ms, then 1 s each: about 16 tries in 10 s. */
    cr_assert_geq(s.backoffs, 10);
    cr_assert_leq(s.backoffs, 20, "backed off %llu times", (unsigned long long)s.backoffs);
    cr_assert_leq(after.iterations - before.iterations, 100, "the loop spun");

    /* The other connections are still served meanwhile. */
    cr_assert_eq(cio_stream_write(c[0], "still here\n", 11), 0);
    char in[32];
    cr_assert_eq(cio_stream_read_line(c[0], in, sizeof in), 11);

    /* Descriptors again: the queued connections are taken within the
     * longest pause (1 s), and the back-off starts over. */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    cr_assert_eq(cio_sleep(CIO_SEC + CIO_MS), 0);
    cio_server_get_stats(srv, &s);
    cr_assert_eq(s.accepted, 2 * WAITING);
    for (int i = 0; i < WAITING; i++) {
        close(pending[i]);
        cr_assert_eq(cio_stream_close(c[i]), 0);
    }
    cr_assert_eq(cio_server_stop(srv, CIO_SEC), 0);
    return 0;
}

Test(server, emfile_backs_off_without_spinning_and_recovers, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(emfile_main, NULL), 0);
    const char *err = captured_stderr();
    const char *first = strstr(err, "backing off");
    cr_assert_not_null(first, "the back-off is reported: %s", err);
    cr_assert_null(strstr(first + 1, "backing off"), "reported once only");
    cr_assert_not_null(strstr(err, "Too many open files"), "%s", err);
}
