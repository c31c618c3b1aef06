/* test_chat.c — the chat example (examples/chat.c): lines reach every
 * member, join and leave notices, and a member too slow to keep up is
 * disconnected while the others go on. */
#include "stream_helpers.h"

#include "../examples/chat.h"

static char port_str[8];

static chat *open_room(const chat_opts *o)
{
    chat *room;
    cr_assert_eq(chat_start(&room, "127.0.0.1", 0, NULL, o), 0);
    cio_addr a;
    cr_assert_eq(cio_server_addr(chat_server(room), &a), 0);
    snprintf(port_str, sizeof port_str, "%u", cio_addr_port(&a));
    return room;
}

static cio_stream *join(void)
{
    cio_stream *st;
    cr_assert_eq(cio_open_connection(&st, "127.0.0.1", port_str, NULL), 0);
    return st;
}

static void expect_line(cio_stream *st, const char *want)
{
    char line[256];
    ssize_t n = cio_stream_read_line(st, line, sizeof line);
    cr_assert_gt(n, 0, "%s", cio_errname((int)n));
    cr_assert_str_eq(line, want);
}

static int broadcast_main(void *arg)
{
    (void)arg;
    chat *room = open_room(NULL);
    cio_stream *a = join();
    cio_stream *b = join();
    expect_line(a, "* user2 joined (2 here)\n");
    cio_stream *c = join();
    expect_line(a, "* user3 joined (3 here)\n");
    expect_line(b, "* user3 joined (3 here)\n");
    cr_assert_eq(chat_members(room), 3);
    cr_assert_eq(cio_stream_write(a, "hi all\n", 7), 0);
    expect_line(a, "user1: hi all\n");
    expect_line(b, "user1: hi all\n");
    expect_line(c, "user1: hi all\n");
    cr_assert_eq(cio_stream_write(c, "no newline at the end", 21), 0);
    cr_assert_eq(cio_stream_close(c), 0);
    expect_line(a, "user3: no newline at the end\n");
    expect_line(a, "* user3 left\n");
    expect_line(b, "user3: no newline at the end\n");
    expect_line(b, "* user3 left\n");
    cr_assert_eq(chat_members(room), 2);
    cr_assert_eq(chat_kicked(room), 0);
    /* Stopping with members still connected ends their visits. */
    cr_assert_eq(chat_stop(room, 0), -ETIMEDOUT);
    char line[64];
    for (int i = 0; i < 2; i++) {
        cio_stream *st = i ? b : a;
        ssize_t n;
        while ((n = cio_stream_read_line(st, line, sizeof line)) > 0)
            ;                   /* the departures of the others */
        cr_assert_eq(n, 0);
        cr_assert_eq(cio_stream_close(st), 0);
    }
    return 0;
}

Test(chat, lines_reach_every_member_with_join_and_leave_notices)
{
    cr_assert_eq(run_virtual(broadcast_main, NULL), 0);
}

/* ---- the slow member ----------------------------------------------------------- */

/* Read lines until one starts with prefix; returns false at end of stream. */
static bool read_until_prefix(cio_stream *st, const char *prefix)
{
    static char line[2048];
    ssize_t n;
    while ((n = cio_stream_read_line(st, line, sizeof line)) > 0)
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            return true;
    cr_assert_eq(n, 0, "%s", cio_errname((int)n));
    return false;
}

static int slow_main(void *arg)
{
    (void)arg;
    chat_opts o = {
        .queue_max = 8,
        .sndbuf = 4096,
        .server = { .stream = { .high_water = 1024 } },
    };
    chat *room = open_room(&o);
    /* The slow member reads nothing, through a small receive buffer. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    small_buffers(fd);
    cio_socket *s = adopt(fd);
    cio_addr addr;
    cr_assert_eq(cio_server_addr(chat_server(room), &addr), 0);
    cr_assert_eq(cio_socket_connect(s, &addr), 0);
    cio_stream *slow;
    cr_assert_eq(cio_stream_open(&slow, s, NULL), 0);
    /* The fast member sends a line whenever its previous one came back. */
    cio_stream *fast = join();
    char line[1001];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    int sent = 0;
    while (chat_kicked(room) == 0 && sent < 1000) {
        cr_assert_eq(cio_stream_write(fast, line, sizeof line), 0);
        cr_assert(read_until_prefix(fast, "user2: "));
        sent++;
    }
    cr_assert_eq(chat_kicked(room), 1, "kicked %zu after %d lines", chat_kicked(room), sent);
    /* Its queue (8) and a few KiB of buffers were all it could hold. */
    cr_assert_lt(sent, 100, "it took %d lines", sent);
    cr_assert(read_until_prefix(fast, "* user1 was too slow and is disconnected"));
    cr_assert_eq(chat_members(room), 1);
    /* The slow member finds its connection closed after what was sent. */
    char *all = NULL;
    ssize_t n = cio_stream_read_all(slow, &all, SIZE_MAX);
    cr_assert(n >= 0 || n == -ECONNRESET, "%s", cio_errname((int)n));
    free(all);
    cio_stream_abort(slow);
    /* The fast member goes on. */
    cr_assert_eq(cio_stream_write(fast, "still here\n", 11), 0);
    cr_assert(read_until_prefix(fast, "user2: still here"));
    cr_assert_eq(cio_stream_close(fast), 0);
    cr_assert_eq(chat_stop(room, CIO_SEC), 0);
    return 0;
}

Test(chat, a_member_too_slow_to_keep_up_is_disconnected)
{
    cr_assert_eq(run_virtual(slow_main, NULL), 0);
}
