/* dns_internal.h — the resolver dns.c calls (private): a seam for tests,
 * which put in a lookup that blocks until they release it, so that a
 * cancelled lookup still running on a worker can be produced on demand. */
#ifndef CIO_IO_DNS_INTERNAL_H
#define CIO_IO_DNS_INTERNAL_H

#include <netdb.h>

typedef struct cio_dns_backend {
    int (*getaddrinfo)(const char *host, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
    void (*freeaddrinfo)(struct addrinfo *res);
} cio_dns_backend;

/* getaddrinfo / freeaddrinfo unless a test replaced them. Set it only while
 * no lookup is in flight. */
extern cio_dns_backend cio_dns_backend_used;

#endif
