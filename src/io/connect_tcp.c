/* connect_tcp.c — cio_tcp_connect: a numeric address is parsed on the spot;
 * a name is resolved (cio_dns_resolve, on the thread pool) and its
 * addresses raced (connect_race.c). */
#include "connect.h"
#include "socket_internal.h"

#include "cio/dns.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>

/* The most addresses of one name that are tried. */
#define MAX_ADDRS 32

/* A port number, or a service name from the services database (a local
 * file: no network, no thread). */
static int parse_port(const char *port, uint16_t *out)
{
    if (isdigit((unsigned char)port[0])) {
        char *end;
        unsigned long v = strtoul(port, &end, 10);
        if (*end || v > 65535)
            return -EINVAL;
        *out = (uint16_t)v;
        return 0;
    }
    struct servent se, *found = NULL;
    char buf[1024];
    if (getservbyname_r(port, "tcp", &se, buf, sizeof buf, &found) != 0 || !found)
        return -EINVAL;
    *out = ntohs((uint16_t)found->s_port);
    return 0;
}

static int connect_numeric(cio_socket **out, cio_addr *a, const char *port,
                           const cio_connect_opts *opts)
{
    uint16_t pn;
    int rc = parse_port(port, &pn);
    if (rc < 0)
        return rc;
    cio_addr_set_port(a, pn);
    if (!cio_connect_family_ok(a, opts))
        return -EAFNOSUPPORT;
    return cio_connect_addrs(out, a, 1, opts);
}

static int connect_by_name(cio_socket **out, const char *host, const char *port,
                           const cio_connect_opts *opts)
{
    struct addrinfo hints = {
        .ai_family = opts && opts->family ? opts->family : AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_protocol = IPPROTO_TCP,
    };
    struct addrinfo *ai = NULL;
    int rc = cio_dns_resolve(host, port, &hints, &ai);
    if (rc < 0)
        return rc;
    cio_addr *addrs = malloc(MAX_ADDRS * sizeof *addrs);
    size_t n = addrs ? cio_addrs_from_ai(addrs, MAX_ADDRS, ai, opts) : 0;
    cio_dns_free(ai);
    if (!addrs)
        return -ENOMEM;
    rc = n ? cio_connect_addrs(out, addrs, n, opts) : -EAFNOSUPPORT;
    free(addrs);
    return rc;
}

int cio_tcp_connect(cio_socket **out, const char *host, const char *port,
                    const cio_connect_opts *opts)
{
    if (!host || !port)
        return -EINVAL;
    cio_addr a;
    if (cio_addr_ip(&a, host, 0) == 0)
        return connect_numeric(out, &a, port, opts);
    return connect_by_name(out, host, port, opts);
}
