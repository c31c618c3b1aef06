/* test_report.c — what a loop closing in debug mode reports: tasks never
 * joined, handles left open (kind, descriptor, creating task, stack), and
 * nothing of it when debug mode is off. */
#include "net_helpers.h"

static const cio_loop_options debug_opts = { .virtual_clock = true, .debug = true };
static const cio_loop_options quiet_opts = { .virtual_clock = true };

static void init(void)
{
    unsetenv("CIO_DEBUG");
    cr_redirect_stderr();
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- tasks never joined --------------------------------------------------- */

static int returns(void *arg) { return (int)(intptr_t)arg; }

static int sleeps_forever(void *arg)
{
    (void)arg;
    return cio_sleep(CIO_NEVER);
}

static unsigned long long forgotten_id, stuck_id;

static int unjoined_main(void *arg)
{
    (void)arg;
    cio_task *forgotten = spawn(returns, (void *)0, "forgotten");
    cio_task *stuck = spawn(sleeps_forever, NULL, "stuck");
    spawn(returns, (void *)(intptr_t)-EIO, "failed");
    cio_task *joined = spawn(returns, (void *)0, "joined");
    cr_assert_eq(cio_task_spawn(NULL, returns, (void *)0,
                                &(cio_task_opts){ .name = "detached" }), 0);
    cio_group g;
    cio_group_init(&g);
    cio_task *child;
    cr_assert_eq(cio_group_spawn(&g, &child, returns, (void *)0,
                                 &(cio_task_opts){ .name = "child" }), 0);
    cr_assert_eq(cio_group_wait(&g), 0);
    cr_assert_eq(cio_task_join(joined, NULL), 0);
    forgotten_id = cio_task_id(forgotten);
    stuck_id = cio_task_id(stuck);
    return 0;                   /* the group is left undestroyed on purpose */
}

Test(report, a_task_never_joined_is_reported_by_name, .init = init)
{
    cr_assert_eq(cio_run_with(&debug_opts, unjoined_main, NULL), 0);
    const char *err = captured_stderr();
    char want[256];
    snprintf(want, sizeof want, "cio: debug: task 'forgotten' (id %llu) was never "
             "joined (it returned 0)\n", forgotten_id);
    cr_assert(strstr(err, want), "%s", err);
    snprintf(want, sizeof want, "cio: debug: task 'stuck' (id %llu) was never "
             "joined: it was still pending at loop close and was cancelled by it\n",
             stuck_id);
    cr_assert(strstr(err, want), "%s", err);
    /* The failure is reported once, by the report made in any mode. */
    cr_assert_eq(occurrences(err, "'failed'"), 1, "%s", err);
    cr_assert(strstr(err, "cio: task 'failed' ("), "%s", err);
    /* Joined, detached, in a group, or main: not reported. */
    cr_assert_null(strstr(err, "'joined'"), "%s", err);
    cr_assert_null(strstr(err, "'detached'"), "%s", err);
    cr_assert_null(strstr(err, "'child'"), "%s", err);
    cr_assert_null(strstr(err, "'main'"), "%s", err);
    cr_assert_eq(occurrences(err, "was never joined"), 3, "%s", err);
}

Test(report, no_task_report_when_debug_mode_is_off, .init = init)
{
    cr_assert_eq(cio_run_with(&quiet_opts, unjoined_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert_null(strstr(err, "debug"), "%s", err);
    cr_assert_null(strstr(err, "'forgotten'"), "%s", err);
    cr_assert(strstr(err, "cio: task 'failed' ("), "%s", err);   /* any mode */
}

/* ---- handles left open ------------------------------------------------------ */

static cio_socket *leaked;
static unsigned long long leaker_id;

/* Not static, not inlined: the report's stack must name it. */
__attribute__((noinline)) int report_test_open_a_socket_and_forget_it(void);
__attribute__((noinline)) int report_test_open_a_socket_and_forget_it(void)
{
    int rc = cio_socket_open(&leaked, AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(rc, 0);
    return rc + 1;              /* no tail call: this frame stays on the stack */
}

static int leaker(void *arg)
{
    (void)arg;
    leaker_id = cio_task_id(cio_task_current());
    return report_test_open_a_socket_and_forget_it() - 1;
}

static int leak_main(void *arg)
{
    (void)arg;
    return cio_task_join(spawn(leaker, NULL, "leaker"), NULL);
}

Test(report, a_leaked_socket_is_reported_with_its_task_and_stack, .init = init)
{
    leaked = NULL;
    cr_assert_eq(cio_run_with(&debug_opts, leak_main, NULL), 0);
    cr_assert_not_null(leaked);
    int fd = cio_socket_fd(leaked);
    const char *err = captured_stderr();
    char want[256];
    cr_assert(strstr(err, "cio: debug: 1 handle left open at loop close (not "
                          "closed by the loop):\n"), "%s", err);
    snprintf(want, sizeof want, "cio: debug: socket (fd %d) was never closed; made "
             "by task 'leaker' (id %llu) at:\n", fd, leaker_id);
    const char *at = strstr(err, want);
    cr_assert(at, "%s", err);
    const char *frame = strstr(at, "report_test_open_a_socket_and_forget_it");
    cr_assert(frame, "%s", err);
    /* The loop left the descriptor open: the program still owns it, and
     * closing it after the loop is gone only releases it. */
    cr_assert_geq(fcntl(fd, F_GETFD), 0);
    cr_assert_eq(cio_socket_close(leaked), 0);
    cr_assert_eq(fcntl(fd, F_GETFD), -1);
}

Test(report, no_handle_report_when_debug_mode_is_off, .init = init)
{
    leaked = NULL;
    cr_assert_eq(cio_run_with(&quiet_opts, leak_main, NULL), 0);
    cr_assert_str_eq(captured_stderr(), "");
    cr_assert_eq(cio_socket_close(leaked), 0);
}

/* Every way a socket is made is tracked: open, listen, connect, accept,
 * UDP, adopt; closing any of them untracks it. */
static cio_socket *made[6];

static int make_every_kind(void *arg)
{
    (void)arg;
    cio_addr addr;
    accept_job j = { .listener = listen_on("127.0.0.1", &addr) };
    made[0] = j.listener;
    cio_task *t = spawn(accept_task, &j, "accept");
    cr_assert_eq(cio_connect_addr(&made[1], &addr), 0);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    made[2] = j.conn;
    cr_assert_eq(cio_udp_open(&made[3], NULL, AF_INET), 0);
    cr_assert_eq(cio_socket_open(&made[4], AF_INET, SOCK_DGRAM, 0), 0);
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    close(fds[1]);
    cr_assert_eq(cio_socket_adopt(&made[5], fds[0]), 0);
    return 0;
}

static int close_all_main(void *arg)
{
    (void)arg;
    cr_assert_eq(make_every_kind(NULL), 0);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(cio_socket_close(made[i]), 0);
    return 0;
}

Test(report, closed_sockets_are_not_reported, .init = init)
{
    cr_assert_eq(cio_run_with(&debug_opts, close_all_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert_null(strstr(err, "never closed"), "%s", err);
    cr_assert_null(strstr(err, "left open"), "%s", err);
}

static int leak_all_main(void *arg)
{
    (void)arg;
    cr_assert_eq(make_every_kind(NULL), 0);
    /* One is closed: only the other five are reported. */
    cr_assert_eq(cio_socket_close(made[4]), 0);
    made[4] = NULL;
    return 0;
}

Test(report, every_kind_of_socket_is_tracked, .init = init)
{
    cr_assert_eq(cio_run_with(&debug_opts, leak_all_main, NULL), 0);
    const char *err = captured_stderr();
    cr_assert(strstr(err, "cio: debug: 5 handles left open at loop close"), "%s", err);
    const char *prev = err;
    for (int i = 0; i < 6; i++) {
        if (!made[i])
            continue;
        char want[128];
        snprintf(want, sizeof want, "cio: debug: socket (fd %d) was never closed; "
                 "made by task '%s'", cio_socket_fd(made[i]),
                 i == 2 ? "accept" : "main");
        const char *at = strstr(err, want);
        cr_assert(at, "%s\nwanted: %s", err, want);
        cr_assert_geq(at, prev, "not oldest first:\n%s", err);
        prev = at;
        cr_assert_eq(cio_socket_close(made[i]), 0);
    }
}

/* Files are handles too (they track themselves: src/os/file.c). */
static cio_file *leaked_file;

static int open_file_main(void *arg)
{
    cio_task *t = cio_task_current();
    cio_task_set_name(t, "opener");
    leaker_id = cio_task_id(t);
    return cio_file_open(&leaked_file, arg, O_RDONLY, 0);
}

static int close_file_main(void *arg)
{
    (void)arg;
    return cio_file_close(leaked_file);
}

Test(report, a_leaked_file_is_reported_too, .init = init)
{
    cr_assert_eq(cio_run_with(&debug_opts, open_file_main, "/dev/null"), 0);
    int fd = cio_file_fd(leaked_file);
    const char *err = captured_stderr();
    char want[256];
    snprintf(want, sizeof want, "cio: debug: file (fd %d) was never closed; made "
             "by task 'opener' (id %llu) at:\n", fd, leaker_id);
    cr_assert(strstr(err, want), "%s", err);
    /* Still the program's: it can close it on another loop. */
    cr_assert_eq(run_virtual(close_file_main, NULL), 0);
    cr_assert_eq(fcntl(fd, F_GETFD), -1);
}

Test(report, a_socket_made_outside_any_task_says_so, .init = init)
{
    cio_loop *L = cio_loop_create(&debug_opts);
    cr_assert_not_null(L);
    cio_socket *s;
    cr_assert_eq(cio_socket_open(&s, AF_INET, SOCK_STREAM, 0), 0);
    cio_loop_close(L);
    const char *err = captured_stderr();
    char want[128];
    snprintf(want, sizeof want, "cio: debug: socket (fd %d) was never closed; made "
             "outside any task at:\n", cio_socket_fd(s));
    cr_assert(strstr(err, want), "%s", err);
    cr_assert_eq(cio_socket_close(s), 0);
}
