/* connect.h — connecting to a list of addresses (private to cio): the
 * Happy Eyeballs race cio_tcp_connect runs once the name is resolved. */
#ifndef CIO_IO_CONNECT_H
#define CIO_IO_CONNECT_H

#include <netdb.h>

#include "cio/socket.h"

/* The attempt delay when opts leave it 0 (RFC 8305's recommendation). */
#define CIO_CONNECT_ATTEMPT_DELAY (250 * INT64_C(1000000))

/* Connect to one of addrs[0..n), tried in that order: each attempt starts
 * when the previous one has failed or has run attempt_delay (opts; < 0:
 * when it has failed), the first to connect wins and every other attempt is
 * cancelled and its socket closed. Returns 0 with the winner in *out, or the
 * error of the attempt that failed last (-EINVAL if n is 0); -ECANCELED if
 * the caller was cancelled (no connection is kept). opts may be NULL; its
 * family is not looked at here, local is bound before each connect.
 * Blocks: a cancellation point. */
int cio_connect_addrs(cio_socket **out, const cio_addr *addrs, size_t n,
                      const cio_connect_opts *opts);

/* Copy the stream addresses of ai that opts allows (family, and the local
 * address's family) into out[0..max), in Happy Eyeballs order: the families
 * interleaved, starting with the family of the first address (the
 * resolver's sorting, RFC 6724, puts the preferred family first), each
 * family's addresses kept in the resolver's order. Returns how many. */
size_t cio_addrs_from_ai(cio_addr *out, size_t max, const struct addrinfo *ai,
                         const cio_connect_opts *opts);

/* Reorder a[0..n) in place: families interleaved, first a[0]'s family,
 * each family's addresses kept in order (RFC 8305 section 4). */
void cio_addrs_interleave(cio_addr *a, size_t n);

/* True if opts allows connecting to a (its family and the local address's). */
bool cio_connect_family_ok(const cio_addr *a, const cio_connect_opts *opts);

#endif
