/* addr.c — building and printing socket addresses. */
#include "cio/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int parse_scope(const char *zone, uint32_t *scope)
{
    char *end;
    unsigned long n = strtoul(zone, &end, 10);
    if (*zone && !*end) {
        *scope = (uint32_t)n;
        return 0;
    }
    *scope = if_nametoindex(zone);
    return *scope ? 0 : -EINVAL;
}

static int parse_ipv6(cio_addr *out, const char *ip, uint16_t port)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (strlen(ip) >= sizeof host)
        return -EINVAL;
    strcpy(host, ip);
    uint32_t scope = 0;
    char *zone = strchr(host, '%');
    if (zone) {
        *zone++ = '\0';
        if (parse_scope(zone, &scope) < 0)
            return -EINVAL;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) != 1)
        return -EINVAL;
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons(port);
    out->in6.sin6_scope_id = scope;
    out->len = sizeof out->in6;
    return 0;
}

int cio_addr_ip(cio_addr *out, const char *ip, uint16_t port)
{
    if (!ip)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, ip, &out->in.sin_addr) == 1) {
        out->in.sin_family = AF_INET;
        out->in.sin_port = htons(port);
        out->len = sizeof out->in;
        return 0;
    }
    return parse_ipv6(out, ip, port);
}

int cio_addr_unix(cio_addr *out, const char *path)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(path);
    if (n == 0)
        return -EINVAL;
    if (n >= sizeof out->un.sun_path)
        return -ENAMETOOLONG;
    out->un.sun_family = AF_UNIX;
    memcpy(out->un.sun_path, path, n);
    if (path[0] == '@') {           /* abstract: no terminator, leading NUL */
        out->un.sun_path[0] = '\0';
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

static int format_unix(const cio_addr *a, char *buf, size_t size)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = a->len > off ? a->len - off : 0;
    const char *p = a->un.sun_path;
    if (n == 0)
        return snprintf(buf, size, "unix:");
    if (p[0] == '\0')               /* abstract */
        return snprintf(buf, size, "unix:@%.*s", (int)(n - 1), p + 1);
    return snprintf(buf, size, "unix:%.*s", (int)strnlen(p, n), p);
}

int cio_addr_format(const cio_addr *a, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    switch (a->sa.sa_family) {
    case AF_INET:
        inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof ip);
        return snprintf(buf, size, "%s:%u", ip, ntohs(a->in.sin_port));
    case AF_INET6:
        inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof ip);
        return snprintf(buf, size, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
    case AF_UNIX:
        return format_unix(a, buf, size);
    default:
        if (size)
            buf[0] = '\0';
        return -EAFNOSUPPORT;
    }
}

uint16_t cio_addr_port(const cio_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return ntohs(a->in.sin_port);
    if (a->sa.sa_family == AF_INET6)
        return ntohs(a->in6.sin6_port);
    return 0;
}
