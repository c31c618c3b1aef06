/* connect_order.c — which addresses Happy Eyeballs tries, in what order
 * (RFC 8305 section 4: the families interleaved). */
#include "connect.h"
#include "socket_internal.h"

#include <string.h>

bool cio_connect_family_ok(const cio_addr *a, const cio_connect_opts *opts)
{
    int f = a->sa.sa_family;
    if (f != AF_INET && f != AF_INET6)
        return false;
    if (opts && opts->family && opts->family != f)
        return false;
    return !(opts && opts->local && opts->local->sa.sa_family != f);
}

/* Move a[j] to a[i], shifting a[i..j) up by one. */
static void rotate_in(cio_addr *a, size_t i, size_t j)
{
    cio_addr moved = a[j];
    memmove(&a[i + 1], &a[i], (j - i) * sizeof *a);
    a[i] = moved;
}

void cio_addrs_interleave(cio_addr *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        sa_family_t prev = a[i - 1].sa.sa_family;
        if (a[i].sa.sa_family != prev)
            continue;
        size_t j = i + 1;
        while (j < n && a[j].sa.sa_family == prev)
            j++;
        if (j == n)
            return;             /* only one family left */
        rotate_in(a, i, j);
    }
}

size_t cio_addrs_from_ai(cio_addr *out, size_t max, const struct addrinfo *ai,
                         const cio_connect_opts *opts)
{
    size_t n = 0;
    for (; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_socktype && ai->ai_socktype != SOCK_STREAM)
            continue;
        if (!ai->ai_addr || ai->ai_addrlen > sizeof out[n].ss)
            continue;
        cio_addr_from_sockaddr(&out[n], ai->ai_addr, ai->ai_addrlen);
        if (cio_connect_family_ok(&out[n], opts))
            n++;
    }
    cio_addrs_interleave(out, n);
    return n;
}
