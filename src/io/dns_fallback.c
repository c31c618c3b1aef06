/* dns_fallback.c — TEMPORARY (branch sockets): cio_dns_resolve on one
 * detached thread per lookup, so that connecting by name works before the
 * threads branch brings the real one (on its thread pool). Dropped at merge.
 *
 * The lookup is shared by the thread and the caller and freed by whichever
 * lets go last, so a caller cancelled mid-lookup returns at once and the
 * late answer is freed by the thread.
 */
#include "cio/dns.h"
#include "io.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct lookup {
    atomic_int refs;
    atomic_bool done;
    int efd;                    /* the thread signals the loop through it */
    char *host, *service;
    struct addrinfo hints;
    bool has_hints;
    struct addrinfo *res;
    int rc;
} lookup;

static void unref(lookup *l)
{
    if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(l->efd);
    if (l->res)
        freeaddrinfo(l->res);
    free(l->host);
    free(l->service);
    free(l);
}

static int gai_to_errno(int e, int sys_errno)
{
    switch (e) {
    case 0: return 0;
    case EAI_NONAME: case EAI_NODATA: case EAI_ADDRFAMILY: return -ENOENT;
    case EAI_AGAIN: return -EAGAIN;
    case EAI_MEMORY: return -ENOMEM;
    case EAI_SYSTEM: return sys_errno ? -sys_errno : -EIO;
    case EAI_FAIL: return -EIO;
    default: return -EINVAL;
    }
}

static void *worker(void *arg)
{
    lookup *l = arg;
    int e = getaddrinfo(l->host, l->service, l->has_hints ? &l->hints : NULL, &l->res);
    l->rc = gai_to_errno(e, errno);
    atomic_store_explicit(&l->done, true, memory_order_release);
    uint64_t one = 1;
    ssize_t w = write(l->efd, &one, sizeof one);
    (void)w;
    unref(l);
    return NULL;
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

static lookup *lookup_new(const char *host, const char *service, const struct addrinfo *hints)
{
    lookup *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    bool ok = true;
    l->host = dup_or_null(host, &ok);
    l->service = dup_or_null(service, &ok);
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (hints) {
        l->hints = (struct addrinfo){ .ai_flags = hints->ai_flags, .ai_family = hints->ai_family,
                                      .ai_socktype = hints->ai_socktype,
                                      .ai_protocol = hints->ai_protocol };
        l->has_hints = true;
    }
    atomic_init(&l->refs, 1);
    if (!ok || l->efd < 0) {
        if (l->efd < 0)
            l->efd = eventfd(0, EFD_CLOEXEC);   /* unref closes something valid */
        unref(l);
        return NULL;
    }
    return l;
}

static int start_thread(lookup *l)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread takes no signals */
    atomic_fetch_add(&l->refs, 1);
    pthread_t t;
    int e = pthread_create(&t, &attr, worker, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e) {
        atomic_fetch_sub(&l->refs, 1);
        return -e;
    }
    return 0;
}

int cio_dns_resolve(const char *host, const char *service, const struct addrinfo *hints,
                    struct addrinfo **out)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0)
        return rc;
    lookup *l = lookup_new(host, service, hints);
    if (!l)
        return -ENOMEM;
    cio_fd f;
    rc = cio_fd_open(&f, l->efd, 0);
    if (rc == 0) {
        rc = start_thread(l);
        while (rc == 0 && !atomic_load_explicit(&l->done, memory_order_acquire)) {
            int r = cio_io_poll(&f, POLLIN, CIO_NEVER);
            rc = r < 0 ? r : 0;
        }
        cio_fd_release(&f);
    }
    if (rc == 0) {
        rc = l->rc;
        if (rc == 0) {
            *out = l->res;
            l->res = NULL;
        }
    }
    unref(l);
    return rc;
}

void cio_dns_free(struct addrinfo *ai)
{
    if (ai)
        freeaddrinfo(ai);
}
