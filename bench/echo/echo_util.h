/* echo_util.h — what the TCP echo benchmark's C programs share (the raw
 * servers and the load generator): dying with a message, the file-descriptor
 * limit, a listening socket and TCP_NODELAY.
 */
#ifndef ECHO_UTIL_H
#define ECHO_UTIL_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2), noreturn))
static inline void echo_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Raise the soft RLIMIT_NOFILE to the hard limit; die if even that is below
 * need (a few descriptors beyond the connections are the program's own). */
static inline void echo_raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        echo_die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            echo_die("setrlimit(RLIMIT_NOFILE, %llu): %s",
                     (unsigned long long)rl.rlim_max, strerror(errno));
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need)
        echo_die("the hard RLIMIT_NOFILE (%llu) is below the %ld descriptors "
                 "needed: raise it (ulimit -Hn, or limits.conf)",
                 (unsigned long long)rl.rlim_cur, need);
}

static inline void echo_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A TCP socket listening on 127.0.0.1:port (SOCK_NONBLOCK in flags for an
 * event loop). */
static inline int echo_listen(int port, int flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0)
        echo_die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        echo_die("bind 127.0.0.1:%d: %s", port, strerror(errno));
    if (listen(fd, SOMAXCONN) < 0)
        echo_die("listen: %s", strerror(errno));
    return fd;
}

/* The value of `--port P` in argv; dies on a missing port or a word that is
 * not a `--flag` (the caller checks its own flags). */
static inline int echo_parse_port(int argc, char **argv, const char *usage)
{
    int port = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0')
            echo_die("usage: %s", usage);
    }
    if (port < 0 || port > 65535)
        echo_die("usage: %s", usage);
    return port;
}

#endif
