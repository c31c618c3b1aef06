/* listen.c — TCP and Unix listeners. A TCP listener's host may be a name:
 * it is resolved (cio_dns_resolve) and the first address used. */
#include "socket_internal.h"

#include "cio/dns.h"

#include <errno.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

static int set_int(cio_socket *s, int level, int name, int v)
{
    return cio_socket_setopt(s, level, name, &v, sizeof v);
}

static int bind_and_listen(cio_socket *s, const cio_addr *a, const cio_listen_opts *o)
{
    int backlog = o && o->backlog > 0 ? o->backlog : SOMAXCONN;
    if (bind(s->io.fd, &a->sa, a->len) < 0 || listen(s->io.fd, backlog) < 0)
        return -errno;
    return 0;
}

static int listen_on(cio_socket **out, const cio_addr *a, const cio_listen_opts *o)
{
    cio_socket *s;
    int rc = cio_socket_open(&s, a->sa.sa_family, SOCK_STREAM, 0);
    if (rc < 0)
        return rc;
    if (a->sa.sa_family != AF_UNIX)
        rc = set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
    if (rc == 0 && o && o->reuse_port)
        rc = set_int(s, SOL_SOCKET, SO_REUSEPORT, 1);
    if (rc == 0 && a->sa.sa_family == AF_INET6)
        rc = set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, o && o->v6_only);
    if (rc == 0)
        rc = bind_and_listen(s, a, o);
    if (rc < 0) {
        cio_socket_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* The first IPv4 or IPv6 address of a name, with port set. Blocks. */
static int resolve_first(cio_addr *a, const char *host, uint16_t port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;
    int rc = cio_dns_resolve(host, NULL, &hints, &ai);
    if (rc < 0)
        return rc;
    rc = -EADDRNOTAVAIL;
    for (const struct addrinfo *p = ai; p && rc < 0; p = p->ai_next) {
        int f = p->ai_addr ? p->ai_addr->sa_family : AF_UNSPEC;
        if ((f == AF_INET || f == AF_INET6) && p->ai_addrlen <= sizeof a->ss) {
            cio_addr_from_sockaddr(a, p->ai_addr, p->ai_addrlen);
            cio_addr_set_port(a, port);
            rc = 0;
        }
    }
    cio_dns_free(ai);
    return rc;
}

/* The errors that say this host has no IPv6 (a kernel without it, or with
 * it disabled). */
static bool no_ipv6(int rc)
{
    return rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT || rc == -EADDRNOTAVAIL;
}

/* Every interface: "::" (IPv4 too, unless v6_only), or "0.0.0.0" where
 * IPv6 is unavailable. */
static int listen_any(cio_socket **out, uint16_t port, const cio_listen_opts *opts)
{
    cio_addr a;
    int rc = cio_addr_ip(&a, "::", port);
    if (rc == 0)
        rc = listen_on(out, &a, opts);
    if (!no_ipv6(rc))
        return rc;
    rc = cio_addr_ip(&a, "0.0.0.0", port);
    return rc < 0 ? rc : listen_on(out, &a, opts);
}

int cio_tcp_listen(cio_socket **out, const char *host, uint16_t port,
                   const cio_listen_opts *opts)
{
    if (!host)
        return listen_any(out, port, opts);
    cio_addr a;
    int rc = cio_addr_ip(&a, host, port);
    if (rc < 0)
        rc = resolve_first(&a, host, port);
    return rc < 0 ? rc : listen_on(out, &a, opts);
}

/* Replace a stale socket file left by a process that is gone; never remove
 * anything that is not a socket. */
static void remove_stale(const char *path)
{
    struct stat st;
    if (path[0] != '@' && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
}

int cio_unix_listen(cio_socket **out, const char *path, const cio_listen_opts *opts)
{
    cio_addr a;
    int rc = cio_addr_unix(&a, path);
    if (rc < 0)
        return rc;
    remove_stale(path);
    return listen_on(out, &a, opts);
}
