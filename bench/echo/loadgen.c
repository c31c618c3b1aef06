/* loadgen.c — the closed-loop load generator of the TCP echo benchmark.
 *
 *   loadgen --port P --conns N --size S [--warmup SEC] [--duration SEC]
 *           [--server-pid PID] [--server-core N] [--host A.B.C.D]
 *           [--window W]
 *   loadgen --port P --idle N [--size S] [--window W]
 *
 * One thread, one epoll set (level-triggered). First it opens the N
 * connections, at most W (default 128) setting up at a time, and makes one
 * verified echo on each. Then every connection sends a message of S bytes and
 * waits for all of it to come back before sending the next. After --warmup
 * seconds (default 1) it measures for --duration seconds (default 5): the
 * messages whose echo completed in the window, and the window's length;
 * with --server-pid, the server's CPU time (utime + stime, every thread: its
 * process CPU-time clock, in ns; /proc/PID/stat's ticks if that clock cannot
 * be read) taken at the window's two ends, so the CPU figure covers
 * exactly the measured messages; with --server-core, how long that core was
 * busy in the window (/proc/stat, every process: what the server did not use
 * of it, other processes took). It then lets the messages in flight finish,
 * closes everything and prints one JSON line:
 *   {"conns":N,"size":S,"messages":M,"seconds":T,"msgs_per_s":R,
 *    "server_cpu_s":C,"server_core_busy_s":B,"loadgen_cpu_s":L}
 * (C and B are null without their options; L is this process's own CPU time
 * in the window: close to T means the load generator was the bottleneck.)
 *
 * Every echoed byte is checked: message k of connection i is a slice of a
 * random pattern that starts at an offset depending on i and k, so a lost,
 * repeated or misrouted byte shows. Any error ends the program with exit 1
 * and a message on stderr.
 *
 * --idle N: open N connections with one verified echo each (so the server has
 * set up each connection's state), print {"idle":N,"ready":true}, then
 * hold them open until stdin reaches EOF or SIGINT/SIGTERM comes; print
 * {"idle":N,"closed_by_server":K} and exit.
 */
#include <fcntl.h>
#include <arpa/inet.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#include "echo_util.h"

struct options {
    const char *host;
    int port;
    int conns;
    int size;
    int window;
    double warmup, duration;
    int server_pid;
    int server_core;            /* -1: not watched */
    bool idle;
};

enum phase { ESTABLISH, WARMUP, MEASURE, DRAIN, IDLE, DONE };

struct conn {
    int fd;
    uint32_t id;
    bool connecting;
    bool want_out;              /* EPOLLOUT is in the interest set */
    bool busy;                  /* a message is in flight */
    uint32_t off;               /* the message's start in the pattern */
    uint32_t sent, got;
    uint64_t seq;               /* messages completed */
};

/* One snapshot at an end of the measured window. */
struct mark {
    int64_t ns;
    uint64_t messages;
    double server_cpu, self_cpu;
    double core_busy;           /* the server's core, all its users */
};

static struct options opt = {
    .host = "127.0.0.1", .port = -1, .conns = 0, .size = 64, .window = 128,
    .warmup = 1.0, .duration = 5.0, .server_pid = 0, .server_core = -1,
};
static struct conn *conns;
static int ep;
static char *pattern;           /* opt.size + 256 random bytes */
static char *rbuf;
static enum phase phase = ESTABLISH;
static uint64_t messages;       /* echoes completed, all phases */
static int established, next_conn, in_setup, busy_count, closed_by_server;
static volatile sig_atomic_t stop_requested;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CPU time of a process (all its threads, utime + stime) in seconds,
 * or NAN: its CPU-time clock (nanoseconds), else /proc/PID/stat (ticks). */
static double proc_cpu_s(int pid)
{
    clockid_t clock;
    struct timespec ts;
    if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &ts) == 0)
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NAN;
    buf[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold
     * anything: field 3 (state) onwards; utime and stime are 14 and 15. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%llu %llu", &utime, &stime) != 2)
        return NAN;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The time core `cpu` was busy (not idle or waiting for I/O) since boot,
 * in seconds, from /proc/stat; or NAN. */
static double core_busy_s(int cpu)
{
    char want[32], line[512];
    int len = snprintf(want, sizeof want, "cpu%d ", cpu);
    FILE *f = fopen("/proc/stat", "r");
    double busy = NAN;
    if (!f)
        return NAN;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v[8];
        if (strncmp(line, want, (size_t)len) != 0)
            continue;
        if (sscanf(line + len, "%llu %llu %llu %llu %llu %llu %llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) == 8)    /* user nice system idle iowait irq ... */
            busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7])
                   / (double)sysconf(_SC_CLK_TCK);
        break;
    }
    fclose(f);
    return busy;
}

static struct mark take_mark(void)
{
    struct mark m = { .ns = now_ns(), .messages = messages,
                      .self_cpu = self_cpu_s(), .server_cpu = NAN,
                      .core_busy = NAN };
    if (opt.server_pid > 0)
        m.server_cpu = proc_cpu_s(opt.server_pid);
    if (opt.server_core >= 0)
        m.core_busy = core_busy_s(opt.server_core);
    return m;
}

__attribute__((noreturn))
static void conn_fail(struct conn *c, const char *what, int err)
{
    echo_die("loadgen: connection %u (message %llu): %s%s%s", c->id,
             (unsigned long long)c->seq, what, err ? ": " : "",
             err ? strerror(err) : "");
}

static void set_interest(struct conn *c, bool out)
{
    if (c->want_out == out)
        return;
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
                              .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        conn_fail(c, "epoll_ctl", errno);
    c->want_out = out;
}

/* Send what is left of the current message; EPOLLOUT while the socket is
 * full. */
static void msg_send(struct conn *c)
{
    while (c->sent < (uint32_t)opt.size) {
        ssize_t n = send(c->fd, pattern + c->off + c->sent,
                         (size_t)opt.size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                conn_fail(c, "send", errno);
            break;
        }
        c->sent += (uint32_t)n;
    }
    set_interest(c, c->sent < (uint32_t)opt.size);
}

static void msg_begin(struct conn *c)
{
    c->off = (c->id * 31u + (uint32_t)c->seq * 17u) & 255u;
    c->sent = c->got = 0;
    c->busy = true;
    busy_count++;
    msg_send(c);
}

static void start_connect(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        conn_fail(c, "socket", errno);
    echo_nodelay(c->fd);
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons((uint16_t)opt.port) };
    inet_pton(AF_INET, opt.host, &addr.sin_addr);
    c->connecting = true;
    c->want_out = true;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        conn_fail(c, "epoll_ctl", errno);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0
        && errno != EINPROGRESS)
        conn_fail(c, "connect", errno);
    in_setup++;
}

/* Start connecting more, up to the setup window. */
static void fill_window(void)
{
    while (in_setup < opt.window && next_conn < opt.conns)
        start_connect(&conns[next_conn++]);
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err)
        conn_fail(c, "connect", err);
    c->connecting = false;
    msg_begin(c);
}

static void on_echo(struct conn *c)
{
    c->busy = false;
    busy_count--;
    c->seq++;
    messages++;
    switch (phase) {
    case ESTABLISH:
        established++;
        in_setup--;
        fill_window();
        break;
    case WARMUP:
    case MEASURE:
        msg_begin(c);
        break;
    default:
        break;
    }
}

static void on_readable(struct conn *c)
{
    if (!c->busy) {             /* nothing expected: EOF, or stray bytes */
        ssize_t n = read(c->fd, rbuf, 1);
        if (n > 0)
            conn_fail(c, "bytes came back that were never sent", 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (phase != IDLE)
            conn_fail(c, "the server closed the connection", n ? errno : 0);
        closed_by_server++;
        close(c->fd);           /* leaves the epoll set too */
        c->fd = -1;
        return;
    }
    /* Never read past the message: nothing beyond it should come. */
    ssize_t n = read(c->fd, rbuf, c->sent - c->got);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        conn_fail(c, "read", errno);
    }
    if (n == 0 && c->sent == c->got)
        return;                 /* woken before the send finished */
    if (n == 0)
        conn_fail(c, "the server closed the connection", 0);
    if (memcmp(rbuf, pattern + c->off + c->got, (size_t)n) != 0)
        conn_fail(c, "the echo differs from what was sent", 0);
    c->got += (uint32_t)n;
    if (c->got == (uint32_t)opt.size)
        on_echo(c);
}

static void on_event(struct conn *c, uint32_t events)
{
    if (c->connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c);
        return;
    }
    if ((events & EPOLLOUT) && c->busy)
        msg_send(c);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ms until deadline (rounded up), for epoll_wait; -1 for none. */
static int timeout_ms(int64_t deadline)
{
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - now_ns();
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

static void usage(void)
{
    echo_die("usage: loadgen --port P --conns N --size S [--warmup SEC] "
             "[--duration SEC] [--server-pid PID] [--server-core N]"
             "\n               [--host ADDR] [--window W]"
             "\n       loadgen --port P --idle N [--size S] [--window W]");
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v || strncmp(a, "--", 2) != 0)
            usage();
        i++;
        if (strcmp(a, "--port") == 0) opt.port = atoi(v);
        else if (strcmp(a, "--host") == 0) opt.host = v;
        else if (strcmp(a, "--conns") == 0) opt.conns = atoi(v);
        else if (strcmp(a, "--idle") == 0) opt.conns = atoi(v), opt.idle = true;
        else if (strcmp(a, "--size") == 0) opt.size = atoi(v);
        else if (strcmp(a, "--window") == 0) opt.window = atoi(v);
        else if (strcmp(a, "--warmup") == 0) opt.warmup = atof(v);
        else if (strcmp(a, "--duration") == 0) opt.duration = atof(v);
        else if (strcmp(a, "--server-pid") == 0) opt.server_pid = atoi(v);
        else if (strcmp(a, "--server-core") == 0) opt.server_core = atoi(v);
        else usage();
    }
    struct in_addr probe;
    if (opt.port <= 0 || opt.port > 65535 || opt.conns <= 0 || opt.size <= 0
        || opt.window <= 0 || opt.warmup < 0 || opt.duration <= 0
        || inet_pton(AF_INET, opt.host, &probe) != 1)
        usage();
}

static void setup(void)
{
    echo_raise_nofile((long)opt.conns + 16);
    conns = calloc((size_t)opt.conns, sizeof *conns);
    pattern = malloc((size_t)opt.size + 256);
    rbuf = malloc((size_t)opt.size);
    if (!conns || !pattern || !rbuf)
        echo_die("out of memory");
    uint64_t x = 0x243f6a8885a308d3u;   /* xorshift64 */
    for (int i = 0; i < opt.size + 256; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        pattern[i] = (char)(x >> 56);
    }
    for (int i = 0; i < opt.conns; i++)
        conns[i].id = (uint32_t)i, conns[i].fd = -1;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        echo_die("epoll_create1: %s", strerror(errno));
    struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Idle mode: wait for stdin's EOF (when stdin can be polled) or a signal. */
static void watch_stdin(void)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0 && errno != EPERM)
        echo_die("epoll_ctl(stdin): %s", strerror(errno));
}

static void on_stdin(void)
{
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        phase = DONE;
}

/* Phase deadlines, on the monotonic clock. */
static int64_t setup_end, warm_end, measure_end, drain_end;

/* Move to the next phase when its time has come or its work is done;
 * returns the current phase's deadline. */
static int64_t advance(struct mark *start, struct mark *end)
{
    int64_t now = now_ns();
    if (phase == ESTABLISH && established == opt.conns) {
        if (opt.idle) {
            printf("{\"idle\":%d,\"ready\":true}\n", opt.conns);
            fflush(stdout);
            watch_stdin();
            phase = IDLE;
        } else {
            phase = WARMUP;
            warm_end = now + (int64_t)(opt.warmup * 1e9);
            measure_end = warm_end + (int64_t)(opt.duration * 1e9);
            for (int i = 0; i < opt.conns; i++)
                msg_begin(&conns[i]);
        }
    }
    if (phase == WARMUP && now >= warm_end) {
        *start = take_mark();
        phase = MEASURE;
    }
    if (phase == MEASURE && now >= measure_end) {
        *end = take_mark();
        phase = DRAIN;
        drain_end = now + 5 * (int64_t)1000000000;
    }
    if (phase == DRAIN && (busy_count == 0 || now >= drain_end)) {
        if (busy_count)
            fprintf(stderr, "loadgen: %d messages still in flight after "
                    "5 s\n", busy_count);
        phase = DONE;
    }
    if (phase == IDLE && stop_requested)
        phase = DONE;
    switch (phase) {
    case ESTABLISH: return setup_end;
    case WARMUP: return warm_end;
    case MEASURE: return measure_end;
    case DRAIN: return drain_end;
    default: return INT64_MAX;
    }
}

static void report(const struct mark *s, const struct mark *e)
{
    double seconds = (double)(e->ns - s->ns) / 1e9;
    uint64_t n = e->messages - s->messages;
    double server = e->server_cpu - s->server_cpu;
    double core = e->core_busy - s->core_busy;
    printf("{\"conns\":%d,\"size\":%d,\"messages\":%llu,\"seconds\":%.6f,"
           "\"msgs_per_s\":%.1f,", opt.conns, opt.size,
           (unsigned long long)n, seconds, (double)n / seconds);
    if (isnan(server))
        printf("\"server_cpu_s\":null,");
    else
        printf("\"server_cpu_s\":%.3f,", server);
    if (isnan(core))
        printf("\"server_core_busy_s\":null,");
    else
        printf("\"server_core_busy_s\":%.3f,", core);
    printf("\"loadgen_cpu_s\":%.3f}\n", e->self_cpu - s->self_cpu);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setup();
    if (opt.server_pid > 0 && isnan(proc_cpu_s(opt.server_pid)))
        echo_die("loadgen: cannot read /proc/%d/stat", opt.server_pid);

    struct mark start = { 0 }, end = { 0 };
    struct epoll_event events[1024];
    setup_end = now_ns() + 60 * (int64_t)1000000000;
    fill_window();
    int64_t deadline = advance(&start, &end);
    while (phase != DONE) {
        int n = epoll_wait(ep, events, 1024, timeout_ms(deadline));
        if (n < 0 && errno != EINTR)
            echo_die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr)
                on_event(events[i].data.ptr, events[i].events);
            else
                on_stdin();
        }
        if (phase == ESTABLISH && now_ns() >= deadline)
            echo_die("loadgen: only %d of %d connections set up in 60 s",
                     established, opt.conns);
        if (phase != DONE)
            deadline = advance(&start, &end);
    }
    for (int i = 0; i < opt.conns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    if (opt.idle)
        printf("{\"idle\":%d,\"closed_by_server\":%d}\n", opt.conns,
               closed_by_server);
    else
        report(&start, &end);
    return 0;
}
