/* cio/dns.h — name resolution (loop.getaddrinfo).
 *
 * getaddrinfo blocks, so cio runs it on the loop's thread pool
 * (cio_to_thread): only the calling task waits, it can be cancelled or
 * timed out, and a lookup that finishes after its caller gave up is freed
 * without anyone seeing it.
 *
 *   await loop.getaddrinfo(host, port, ...)   cio_dns_resolve(host, service, &hints, &res)
 *   socket.gaierror                           CIO_ENOHOST, CIO_EDNSAGAIN, CIO_EDNSFAIL, ...
 */
#ifndef CIO_DNS_H
#define CIO_DNS_H

#include <netdb.h>

#include "base.h"

#pragma GCC visibility push(default)

/* Declared here too: <netdb.h> shows it only with POSIX features on
 * (strict -std=c17 hides it). */
struct addrinfo;

/* Resolve host and service (either may be NULL, not both) as getaddrinfo
 * does, with hints (NULL: any family, any socket type). Only ai_flags,
 * ai_family, ai_socktype and ai_protocol of hints are read. On success
 * stores the list in *out (free it with cio_dns_free) and returns 0; on
 * failure stores NULL and returns a negative code. getaddrinfo's EAI_*
 * errors map to:
 *   EAI_NONAME, EAI_NODATA, EAI_ADDRFAMILY, EAI_SERVICE  CIO_ENOHOST
 *       (no such host, or no address for it, or no such service)
 *   EAI_AGAIN     CIO_EDNSAGAIN (temporary: no answer from the name
 *                 servers, try again later)
 *   EAI_FAIL      CIO_EDNSFAIL (the name servers failed for good)
 *   EAI_FAMILY    -EAFNOSUPPORT      EAI_SOCKTYPE  -ESOCKTNOSUPPORT
 *   EAI_BADFLAGS  -EINVAL            EAI_MEMORY    -ENOMEM
 *   EAI_SYSTEM    the errno it set (-EIO if none)
 *   anything else CIO_EDNSFAIL
 * and the thread pool's: -ECANCELED (cancelled, or a scope's deadline,
 * which cio_scope_leave / cio_wait_for report as -ETIMEDOUT), -EPERM outside
 * a task, -ENOMEM, -EAGAIN (no worker thread). -EINVAL if out is NULL.
 * Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_dns_resolve(const char *host, const char *service,
                                   const struct addrinfo *hints,
                                   struct addrinfo **out);

/* Free a list from cio_dns_resolve (NULL is fine). Never blocks. */
void cio_dns_free(struct addrinfo *list);

/* The negative code for a getaddrinfo return value (0 for 0), following
 * the table above; sys_errno is errno as getaddrinfo left it (read only for
 * EAI_SYSTEM). Never blocks. */
int cio_dns_error(int eai, int sys_errno);

#pragma GCC visibility pop

#endif
