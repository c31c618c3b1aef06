/* test_dns.c — cio_dns_resolve: names, numeric addresses, a name that
 * cannot exist, the EAI_* mapping, and cancellation with a late result. */
#include "helpers.h"
#include "gate.h"
#include "../src/io/dns_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static bool has_family(const struct addrinfo *res, int family)
{
    for (; res; res = res->ai_next)
        if (res->ai_family == family)
            return true;
    return false;
}

static bool has_loopback(const struct addrinfo *res)
{
    for (; res; res = res->ai_next) {
        if (res->ai_family == AF_INET) {
            const struct sockaddr_in *a = (const void *)res->ai_addr;
            if (ntohl(a->sin_addr.s_addr) >> 24 == 127)
                return true;
        } else if (res->ai_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const void *)res->ai_addr;
            if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
                return true;
        }
    }
    return false;
}

static int localhost_main(void *arg)
{
    (void)arg;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    cr_assert_eq(cio_dns_resolve("localhost", "80", &hints, &res), 0);
    cr_assert_not_null(res);
    cr_assert(has_loopback(res));
    for (struct addrinfo *r = res; r; r = r->ai_next) {
        cr_assert_eq(r->ai_socktype, SOCK_STREAM, "hints are applied");
        cr_assert_eq(ntohs(((struct sockaddr_in *)r->ai_addr)->sin_port), 80);
    }
    cio_dns_free(res);
    return 0;
}

Test(dns, resolves_localhost)
{
    cr_assert_eq(run_virtual(localhost_main, NULL), 0);
}

static int numeric_main(void *arg)
{
    (void)arg;
    struct addrinfo *res = NULL;
    cr_assert_eq(cio_dns_resolve("127.0.0.1", NULL, NULL, &res), 0);
    cr_assert(has_family(res, AF_INET));
    cr_assert_not(has_family(res, AF_INET6));
    struct sockaddr_in *a = (struct sockaddr_in *)res->ai_addr;
    cr_assert_eq(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
    cio_dns_free(res);

    struct addrinfo hints = { .ai_family = AF_INET6, .ai_socktype = SOCK_DGRAM };
    cr_assert_eq(cio_dns_resolve("::1", "53", &hints, &res), 0);
    cr_assert(has_family(res, AF_INET6));
    cr_assert(has_loopback(res));
    cr_assert_eq(res->ai_socktype, SOCK_DGRAM);
    cio_dns_free(res);
    return 0;
}

Test(dns, resolves_numeric_ipv4_and_ipv6)
{
    cr_assert_eq(run_virtual(numeric_main, NULL), 0);
}

static int missing_main(void *arg)
{
    (void)arg;
    struct addrinfo *res = (struct addrinfo *)&res;
    /* Numeric-only: refused without asking any name server. */
    struct addrinfo numeric = { .ai_flags = AI_NUMERICHOST };
    cr_assert_eq(cio_dns_resolve("no-such-host.invalid", NULL, &numeric, &res),
                 CIO_ENOHOST);
    cr_assert_null(res, "*out is NULL on failure");
    /* RFC 6761: .invalid never exists. Without a reachable name server the
     * lookup can only fail temporarily, never succeed. */
    int rc = cio_dns_resolve("no-such-host.invalid", NULL, NULL, &res);
    cr_assert(rc == CIO_ENOHOST || rc == CIO_EDNSAGAIN, "got %s", cio_errname(rc));
    cr_assert_null(res);
    /* An unknown service is CIO_ENOHOST too. */
    struct addrinfo stream = { .ai_socktype = SOCK_STREAM };
    cr_assert_eq(cio_dns_resolve("127.0.0.1", "no-such-service", &stream, &res),
                 CIO_ENOHOST);
    /* Bad hints. */
    struct addrinfo bad = { .ai_family = 12345 };
    cr_assert_eq(cio_dns_resolve("127.0.0.1", NULL, &bad, &res), -EAFNOSUPPORT);
    cr_assert_eq(cio_dns_resolve("127.0.0.1", NULL, NULL, NULL), -EINVAL);
    return 0;
}

Test(dns, missing_names_and_bad_arguments)
{
    cr_assert_eq(run_virtual(missing_main, NULL), 0);
}

Test(dns, error_mapping)
{
    cr_assert_eq(cio_dns_error(0, 0), 0);
    cr_assert_eq(cio_dns_error(EAI_NONAME, 0), CIO_ENOHOST);
    cr_assert_eq(cio_dns_error(EAI_NODATA, 0), CIO_ENOHOST);
    cr_assert_eq(cio_dns_error(EAI_ADDRFAMILY, 0), CIO_ENOHOST);
    cr_assert_eq(cio_dns_error(EAI_SERVICE, 0), CIO_ENOHOST);
    cr_assert_eq(cio_dns_error(EAI_AGAIN, 0), CIO_EDNSAGAIN);
    cr_assert_eq(cio_dns_error(EAI_FAIL, 0), CIO_EDNSFAIL);
    cr_assert_eq(cio_dns_error(EAI_FAMILY, 0), -EAFNOSUPPORT);
    cr_assert_eq(cio_dns_error(EAI_SOCKTYPE, 0), -ESOCKTNOSUPPORT);
    cr_assert_eq(cio_dns_error(EAI_BADFLAGS, 0), -EINVAL);
    cr_assert_eq(cio_dns_error(EAI_MEMORY, 0), -ENOMEM);
    cr_assert_eq(cio_dns_error(EAI_SYSTEM, EMFILE), -EMFILE);
    cr_assert_eq(cio_dns_error(EAI_SYSTEM, 0), -EIO);
    cr_assert_eq(cio_dns_error(-12345, 0), CIO_EDNSFAIL);
    cr_assert_str_eq(cio_errname(CIO_ENOHOST), "CIO_ENOHOST");
}

Test(dns, outside_a_task_is_eperm)
{
    struct addrinfo *res;
    cr_assert_eq(cio_dns_resolve("localhost", NULL, NULL, &res), -EPERM);
    cr_assert_null(res);
}

/* ---- cancellation: a lookup the test holds inside the resolver ------------ */

static struct {
    cio_loop *loop;
    cio_event started, freed;
    gate release;
    int lookups, frees;         /* lookups: worker; frees: loop thread */
    bool host_intact;           /* the held lookup saw "localhost" */
    struct addrinfo *given;     /* the list the held lookup returned */
} held;

static int held_getaddrinfo(const char *host, const char *service,
                            const struct addrinfo *hints, struct addrinfo **res)
{
    signal_loop(held.loop, &held.started);
    gate_wait(&held.release);
    held.lookups++;
    held.host_intact = strcmp(host, "localhost") == 0;
    int rc = getaddrinfo(host, service, hints, res);
    held.given = rc == 0 ? *res : NULL;
    return rc;
}

static void counted_freeaddrinfo(struct addrinfo *res)
{
    cr_assert_eq(res, held.given, "the late list itself is freed");
    held.frees++;
    freeaddrinfo(res);
    cio_event_set(&held.freed);
}

static int resolver(void *arg)
{
    struct addrinfo **res = arg;
    /* The caller's string is scribbled over and freed as soon as the call
     * returns, before the held lookup reads its host: the resolver must
     * have copied it (ASan would also see a use after free). */
    char *host = strdup("localhost");
    int rc = cio_dns_resolve(host, NULL, NULL, res);
    memset(host, 'x', strlen(host));
    free(host);
    return rc;
}

static void hold_lookups(void)
{
    held.loop = cio_loop_current();
    cio_event_init(&held.started);
    cio_event_init(&held.freed);
    gate_init(&held.release);
    cio_dns_backend_used = (cio_dns_backend){ held_getaddrinfo, counted_freeaddrinfo };
}

static int cancel_main(void *arg)
{
    (void)arg;
    hold_lookups();
    struct addrinfo *res = (struct addrinfo *)&res;
    cio_task *t = spawn(resolver, &res, "resolver");
    cr_assert_eq(cio_event_wait(&held.started), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_null(res, "a cancelled lookup hands out nothing");
    cr_assert_eq(held.frees, 0);
    gate_open(&held.release);          /* the lookup now finishes, late */
    cr_assert_eq(cio_event_wait(&held.freed), 0);
    cr_assert_eq(held.lookups, 1);
    cr_assert(held.host_intact, "the lookup read the caller's freed string");
    cr_assert_eq(held.frees, 1);
    return 0;
}

Test(dns, cancelled_lookup_frees_its_late_result)
{
    cr_assert_eq(run_virtual(cancel_main, NULL), 0);
    cr_assert_eq(held.frees, 1, "freed exactly once");
}

/* The deadline passes while the lookup runs on its worker: it is moved to
 * "now" only once the worker has started the lookup (a fixed 10 ms deadline
 * could pass while the job still waited for a worker on a loaded machine;
 * the job would then be withdrawn, never run, and nothing would be freed). */
static cio_scope lookup_deadline;

static int expire_once_started(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_event_wait(&held.started), 0);
    cio_scope_set_deadline(&lookup_deadline, cio_now());
    return 0;
}

static int timeout_main(void *arg)
{
    (void)arg;
    hold_lookups();
    struct addrinfo *res = NULL;
    cio_task *expirer = spawn(expire_once_started, NULL, "expirer");
    cio_scope_enter(&lookup_deadline, CIO_NEVER);
    int rc = resolver(&res);
    cr_assert_eq(cio_scope_leave(&lookup_deadline), -ETIMEDOUT);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_null(res);
    cr_assert_eq(cio_task_join(expirer, NULL), 0);
    gate_open(&held.release);
    cr_assert_eq(cio_event_wait(&held.freed), 0);
    return 0;
}

Test(dns, lookup_times_out_under_a_deadline)
{
    cr_assert_eq(run_real(timeout_main, NULL), 0);
    cr_assert_eq(held.frees, 1);
}

/* One worker, held by a to_thread job: the lookup waits in the queue and
 * its cancellation withdraws it, so the resolver is never called. */
static blocker occupier;

static int occupy(void *arg)
{
    (void)arg;
    return cio_to_thread(blocker_run, &occupier, NULL);
}

static int queued_main(void *arg)
{
    (void)arg;
    hold_lookups();
    blocker_init(&occupier, NULL);
    cio_task *busy = spawn(occupy, NULL, "occupier");
    cr_assert_eq(cio_event_wait(&occupier.started), 0);
    struct addrinfo *res = NULL;
    cio_task *t = spawn(resolver, &res, "resolver");
    cr_assert_eq(cio_yield(), 0);       /* the lookup is queued */
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    gate_open(&occupier.release);
    cr_assert_eq(cio_task_join(busy, NULL), 0);
    return 0;
}

Test(dns, lookup_cancelled_while_queued_never_runs)
{
    cio_loop_options o = { .virtual_clock = true, .threads = 1 };
    cr_assert_eq(cio_run_with(&o, queued_main, NULL), 0);
    cr_assert_eq(held.lookups, 0);
    cr_assert_eq(held.frees, 0);
}
