/* error.c — names and descriptions of the codes cio returns. */
#include "cio/error.h"

#include <errno.h>
#include <string.h>

struct code_text {
    int code;
    const char *name;
    const char *text;
};

/* Codes whose libc text would mislead in cio's context, and cio's own. */
static const struct code_text special[] = {
    { -ECANCELED, "ECANCELED", "operation cancelled" },
    { -ETIMEDOUT, "ETIMEDOUT", "timed out" },
    { -ESHUTDOWN, "ESHUTDOWN", "shut down (queue or task group takes no more work)" },
    { -EAGAIN, "EAGAIN", "would block (queue full or empty, lock or permit taken)" },
    { -EDEADLK, "EDEADLK", "deadlock: every task is blocked and nothing can wake one" },
    { -EOVERFLOW, "EOVERFLOW", "bounded semaphore released too many times" },
    { -EPERM, "EPERM", "not permitted (lock not held, or blocking call outside a task)" },
    { -EINVAL, "EINVAL", "invalid argument" },
    { -EBUSY, "EBUSY", "busy (the thread already has a loop, or a task already waits on the group)" },
    { -ENOMEM, "ENOMEM", "out of memory" },
    { CIO_EBROKEN, "CIO_EBROKEN", "barrier broken (aborted or reset)" },
    { CIO_ENOHOST, "CIO_ENOHOST", "host or service not known" },
    { CIO_EDNSAGAIN, "CIO_EDNSAGAIN", "temporary failure in name resolution (try again)" },
    { CIO_EDNSFAIL, "CIO_EDNSFAIL", "non-recoverable failure in name resolution" },
    { CIO_EINCOMPLETE, "CIO_EINCOMPLETE", "end of stream before the expected bytes" },
    { CIO_ELIMIT, "CIO_ELIMIT", "stream buffer limit reached before the separator" },
    { CIO_ETLS, "CIO_ETLS", "TLS handshake or protocol failure" },
    { CIO_ECERT, "CIO_ECERT", "TLS certificate verification failed" },
    { CIO_ETRUNCATED, "CIO_ETRUNCATED", "TLS connection closed without close_notify (possible truncation)" },
    { CIO_EINTERRUPTED, "CIO_EINTERRUPTED", "interrupted by a signal (SIGINT or SIGTERM)" },
};

static const struct code_text *find(int code)
{
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (special[i].code == code)
            return &special[i];
    return NULL;
}

const char *cio_strerror(int code)
{
    if (code >= 0)
        return "success";
    const struct code_text *c = find(code);
    if (c)
        return c->text;
    if (code > -4096)
        return strerror(-code);
    return "unknown cio error";
}

const char *cio_errname(int code)
{
    if (code >= 0)
        return "OK";
    const struct code_text *c = find(code);
    if (c)
        return c->name;
    if (code > -4096) {
        const char *name = strerrorname_np(-code);
        if (name)
            return name;
    }
    return "E?";
}
