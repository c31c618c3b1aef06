/* dns.c — getaddrinfo on the thread pool.
 *
 * The lookup's record (host, service and hints copied, the answer) is handed
 * to cio_to_thread_ex with a dispose function: if the caller gives up, the
 * worker may still be inside getaddrinfo reading the strings, so the record
 * cannot live on the caller's stack, and the answer that arrives late is
 * freed by dispose on the loop's thread.
 */
#include "cio/dns.h"
#include "cio/error.h"
#include "cio/thread.h"
#include "dns_internal.h"
#include "../core/strpack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

cio_dns_backend cio_dns_backend_used = { getaddrinfo, freeaddrinfo };

typedef struct lookup {
    const char *host, *service;     /* point into strings[] or NULL */
    struct addrinfo hints;
    bool has_hints;
    int eai, sys_errno;
    struct addrinfo *res;
    char strings[];
} lookup;

static lookup *lookup_new(const char *host, const char *service,
                          const struct addrinfo *hints)
{
    size_t n = cio_strpack_size(host) + cio_strpack_size(service);
    lookup *l = calloc(1, sizeof *l + n);
    if (!l)
        return NULL;
    char *at = l->strings;
    l->host = cio_strpack(&at, host);
    l->service = cio_strpack(&at, service);
    if (hints) {
        l->has_hints = true;
        l->hints.ai_flags = hints->ai_flags;
        l->hints.ai_family = hints->ai_family;
        l->hints.ai_socktype = hints->ai_socktype;
        l->hints.ai_protocol = hints->ai_protocol;
    }
    return l;
}

/* On a worker thread. */
static void *lookup_run(void *arg)
{
    lookup *l = arg;
    errno = 0;
    l->eai = cio_dns_backend_used.getaddrinfo(l->host, l->service,
                                              l->has_hints ? &l->hints : NULL,
                                              &l->res);
    l->sys_errno = errno;       /* errno is the worker's own */
    if (l->eai != 0)
        l->res = NULL;
    return l;
}

/* On the loop thread: the caller gave up (or never got the lookup queued). */
static void lookup_dispose(void *result, void *arg)
{
    (void)result;
    lookup *l = arg;
    if (l->res)
        cio_dns_backend_used.freeaddrinfo(l->res);
    free(l);
}

int cio_dns_error(int eai, int sys_errno)
{
    switch (eai) {
    case 0:
        return 0;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
    case EAI_SERVICE:
        return CIO_ENOHOST;
    case EAI_AGAIN:
        return CIO_EDNSAGAIN;
    case EAI_FAIL:
        return CIO_EDNSFAIL;
    case EAI_FAMILY:
        return -EAFNOSUPPORT;
    case EAI_SOCKTYPE:
        return -ESOCKTNOSUPPORT;
    case EAI_BADFLAGS:
        return -EINVAL;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SYSTEM:
        return sys_errno > 0 ? -sys_errno : -EIO;
    default:
        return CIO_EDNSFAIL;
    }
}

int cio_dns_resolve(const char *host, const char *service,
                    const struct addrinfo *hints, struct addrinfo **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    lookup *l = lookup_new(host, service, hints);
    if (!l)
        return -ENOMEM;
    void *done;
    int rc = cio_to_thread_ex(lookup_run, l, &done, lookup_dispose);
    if (rc < 0)
        return rc;              /* lookup_dispose has l, now or later */
    rc = cio_dns_error(l->eai, l->sys_errno);
    *out = l->res;
    free(l);
    return rc;
}

void cio_dns_free(struct addrinfo *list)
{
    if (list)
        cio_dns_backend_used.freeaddrinfo(list);
}
