/* net_helpers.h — shared by the socket tests: descriptor counts, connected
 * pairs, a loopback address that never answers, seccomp filters that take
 * a kernel feature away in a forked child. */
#ifndef CIO_TEST_NET_HELPERS_H
#define CIO_TEST_NET_HELPERS_H

#include "helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many of this process's descriptors are sockets. Counting sockets
 * (not every descriptor) keeps a background lookup thread's own descriptor,
 * which it closes when it finishes, out of the count. */
static inline int count_sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

/* A listener on ip, port 0; *addr gets its address. */
static inline cio_socket *listen_on(const char *ip, cio_addr *addr)
{
    cio_socket *l = NULL;
    int rc = cio_tcp_listen(&l, ip, 0, NULL);
    cr_assert_eq(rc, 0, "listen on %s: %s", ip, cio_strerror(rc));
    cr_assert_eq(cio_socket_local_addr(l, addr), 0);
    return l;
}

typedef struct accept_job {
    cio_socket *listener;
    cio_socket *conn;
    cio_addr peer;
} accept_job;

static inline int accept_task(void *arg)
{
    accept_job *j = arg;
    return cio_socket_accept(j->listener, &j->conn, &j->peer);
}

/* Two connected TCP sockets over ip ("127.0.0.1", "::1"). */
static inline void tcp_pair(const char *ip, cio_socket **a, cio_socket **b)
{
    cio_addr addr;
    accept_job j = { .listener = listen_on(ip, &addr) };
    cio_task *t = spawn(accept_task, &j, "accept");
    int rc = cio_connect_addr(a, &addr);
    cr_assert_eq(rc, 0, "connect: %s", cio_strerror(rc));
    cr_assert_eq(cio_task_join(t, NULL), 0);
    *b = j.conn;
    cr_assert_eq(cio_socket_close(j.listener), 0);
}

/* A loopback TCP address that never answers: a listener whose accept queue
 * is full (backlog 0, filled by connections never accepted), so the kernel
 * drops every new SYN and a connect hangs until the kernel gives up, minutes
 * later. Plain system calls, no loop needed. */
typedef struct blackhole {
    int listener;
    int fillers[8];
    int nfill;
    cio_addr addr;
} blackhole;

/* Is a non-blocking connect on fd still pending after ms? (It is when the
 * listener dropped its SYN.) */
static inline bool still_pending(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    return poll(&p, 1, ms) == 0;
}

/* Open a black hole on ip; false (and a message) if this kernel does not
 * drop SYNs for a full queue, so the caller can skip. */
static inline bool blackhole_open(blackhole *b, const char *ip)
{
    memset(b, 0, sizeof *b);
    cr_assert_eq(cio_addr_ip(&b->addr, ip, 0), 0);
    b->listener = socket(b->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(b->listener, 0);
    cr_assert_eq(bind(b->listener, &b->addr.sa, b->addr.len), 0);
    cr_assert_eq(listen(b->listener, 0), 0);
    b->addr.len = sizeof b->addr.ss;
    cr_assert_eq(getsockname(b->listener, &b->addr.sa, &b->addr.len), 0);
    while (b->nfill < 8) {
        int fd = socket(b->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        int rc = connect(fd, &b->addr.sa, b->addr.len);
        cr_assert(rc == 0 || errno == EINPROGRESS);
        if (rc != 0 && still_pending(fd, 200)) {
            close(fd);          /* the probe: dropped, the queue is full */
            return true;
        }
        b->fillers[b->nfill++] = fd;
    }
    fprintf(stderr, "SKIP: a full accept queue does not drop SYNs here\n");
    return false;
}

static inline void blackhole_close(blackhole *b)
{
    for (int i = 0; i < b->nfill; i++)
        close(b->fillers[i]);
    close(b->listener);
}

/* A loopback port where nothing listens (connects are refused). */
static inline cio_addr refused_addr(const char *ip)
{
    cio_addr a;
    cr_assert_eq(cio_addr_ip(&a, ip, 0), 0);
    int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(bind(fd, &a.sa, a.len), 0);
    a.len = sizeof a.ss;
    cr_assert_eq(getsockname(fd, &a.sa, &a.len), 0);
    close(fd);                  /* bound, never listened: the port is free */
    return a;
}

/* ---- seccomp: take a system call away in a forked child ---------------- */

/* Make syscall nr fail with err when its first argument equals arg0 (any
 * first argument if arg0 < 0). Irreversible: use in a child process only. */
static inline int seccomp_deny(long nr, long arg0, int err)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg0, 0, arg0 < 0 ? 0 : 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -errno : 0;
}

/* Run fn(arg) in a forked child and return its exit code (fn's result); the
 * child leaves with _exit, so filters and limits it set die with it. */
static inline int in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int rc = fn(arg);
        fflush(stderr);
        _exit(rc);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died (signal %d)", WTERMSIG(status));
    return WEXITSTATUS(status);
}

#endif
