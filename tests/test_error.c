/* test_error.c — cio_strerror and cio_errname for every code cio returns. */
#include "helpers.h"

#include <limits.h>

struct expect {
    int code;
    const char *name;
    const char *text;   /* NULL: libc's strerror text */
};

/* Every code the core, the sync layer and the loop return, with cio's text
 * where libc's would mislead, and a few I/O codes the upper layers pass on. */
static const struct expect codes[] = {
    { -ECANCELED, "ECANCELED", "operation cancelled" },
    { -ETIMEDOUT, "ETIMEDOUT", "timed out" },
    { -ESHUTDOWN, "ESHUTDOWN", "shut down (queue or task group takes no more work)" },
    { -EAGAIN, "EAGAIN", "would block (queue full or empty, lock or permit taken)" },
    { -EDEADLK, "EDEADLK", "deadlock: every task is blocked and nothing can wake one" },
    { -EOVERFLOW, "EOVERFLOW", "bounded semaphore released too many times" },
    { -EPERM, "EPERM", "not permitted (lock not held, or blocking call outside a task)" },
    { -EINVAL, "EINVAL", "invalid argument" },
    { -ENOMEM, "ENOMEM", "out of memory" },
    { CIO_EBROKEN, "CIO_EBROKEN", "barrier broken (aborted or reset)" },
    { CIO_ENOHOST, "CIO_ENOHOST", "host or service not known" },
    { CIO_EDNSAGAIN, "CIO_EDNSAGAIN", "temporary failure in name resolution (try again)" },
    { CIO_EDNSFAIL, "CIO_EDNSFAIL", "non-recoverable failure in name resolution" },
    { -EAFNOSUPPORT, "EAFNOSUPPORT", NULL },
    { -ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", NULL },
    { CIO_EINCOMPLETE, "CIO_EINCOMPLETE", "end of stream before the expected bytes" },
    { CIO_ELIMIT, "CIO_ELIMIT", "stream buffer limit reached before the separator" },
    { CIO_ETLS, "CIO_ETLS", "TLS handshake or protocol failure" },
    { CIO_ECERT, "CIO_ECERT", "TLS certificate verification failed" },
    { CIO_ETRUNCATED, "CIO_ETRUNCATED", "TLS connection closed without close_notify (possible truncation)" },
    { -EBUSY, "EBUSY", "busy (the thread already has a loop, or a task already waits on the group)" },
    { -ECONNRESET, "ECONNRESET", NULL },
    { -EMSGSIZE, "EMSGSIZE", NULL },
    { -EPIPE, "EPIPE", NULL },
    { -ECONNREFUSED, "ECONNREFUSED", NULL },
};

Test(error, every_code_has_its_name_and_text)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const struct expect *e = &codes[i];
        cr_assert_str_eq(cio_errname(e->code), e->name, "code %d", e->code);
        const char *text = e->text ? e->text : strerror(-e->code);
        cr_assert_str_eq(cio_strerror(e->code), text, "code %d", e->code);
    }
}

Test(error, success_codes)
{
    int ok[] = { 0, 1, 42, INT_MAX };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_str_eq(cio_errname(ok[i]), "OK");
        cr_assert_str_eq(cio_strerror(ok[i]), "success");
    }
}

Test(error, unknown_codes_get_generic_text_never_null)
{
    int unknown[] = { -5000, -4200, INT_MIN, CIO_ETRUNCATED - 1 };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        cr_assert_str_eq(cio_errname(unknown[i]), "E?", "code %d", unknown[i]);
        cr_assert_str_eq(cio_strerror(unknown[i]), "unknown cio error");
    }
    /* Inside the errno range but no errno: libc's text, a generic name. */
    cr_assert_str_eq(cio_errname(-4095), "E?");
    cr_assert_not_null(cio_strerror(-4095));
    cr_assert_neq(cio_strerror(-4095)[0], '\0');
}

Test(error, own_codes_live_above_the_errno_range)
{
    int own[] = { CIO_EBROKEN, CIO_ENOHOST, CIO_EDNSAGAIN, CIO_EDNSFAIL,
                  CIO_EINCOMPLETE, CIO_ELIMIT,
                  CIO_ETLS, CIO_ECERT, CIO_ETRUNCATED };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        cr_assert_leq(own[i], -4096, "%d must not collide with any errno", own[i]);
        for (size_t k = 0; k < i; k++)
            cr_assert_neq(own[i], own[k], "codes must differ");
    }
}

Test(error, every_errno_has_a_name)
{
    /* Every errno the kernel can hand back through an I/O call is named. */
    for (int e = 1; e < 134; e++) {
        if (e == 41 || e == 58)     /* unused numbers on Linux */
            continue;
        const char *name = cio_errname(-e);
        cr_assert_eq(name[0], 'E', "errno %d: %s", e, name);
        cr_assert_str_neq(name, "E?", "errno %d has no name", e);
        cr_assert_not_null(cio_strerror(-e));
    }
}

Test(error, interrupted_is_named_and_outside_the_errno_range)
{
    cr_assert_leq(CIO_EINTERRUPTED, -4096);
    cr_assert_str_eq(cio_errname(CIO_EINTERRUPTED), "CIO_EINTERRUPTED");
    cr_assert_not_null(strstr(cio_strerror(CIO_EINTERRUPTED), "signal"));
}
