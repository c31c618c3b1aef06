/* cio/dns.h — name resolution (loop.getaddrinfo).
 *
 * TEMPORARY (branch sockets): the placeholder of the header the threads
 * branch provides, with the agreed signatures, so cio_tcp_connect can be
 * written and tested before that branch lands. Dropped at merge in favour
 * of the real one.
 */
#ifndef CIO_DNS_H
#define CIO_DNS_H

#include <netdb.h>

#include "base.h"

#pragma GCC visibility push(default)

/* getaddrinfo(host, service, hints) off the loop thread: the task parks
 * until the answer is there. Returns 0 and the list in *out (free it with
 * cio_dns_free), or a negative code: -ECANCELED / -ETIMEDOUT if the caller
 * was cancelled (the late answer is dropped safely), -ENOENT for a name that
 * does not exist, -EAGAIN for a temporary failure, -ENOMEM...
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_dns_resolve(const char *host, const char *service,
                                   const struct addrinfo *hints, struct addrinfo **out);

/* Free a list from cio_dns_resolve (NULL is fine). */
void cio_dns_free(struct addrinfo *ai);

#pragma GCC visibility pop

#endif
