/* tls_error.c — the per-thread text of the latest TLS failure. OpenSSL
 * keeps its reasons on a per-thread queue; the tasks of a loop share that
 * thread, so every TLS call clears the queue first and a failure turns it
 * into text at once, before the task can block and another run. */
#include "tls_internal.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static __thread char last[sizeof(cio_tls_reason)];

size_t cio_tls_last_error(char *buf, size_t size)
{
    return (size_t)snprintf(buf, size, "%s", last);
}

int cio_tls_fail_text(int code, const char *text)
{
    snprintf(last, sizeof last, "%s", text);
    ERR_clear_error();
    return code;
}

/* Append one queued OpenSSL error: its reason, and the detail OpenSSL
 * attached (a file name, an alert...) when there is one. */
static void append_reason(size_t *len, unsigned long e, const char *data, int flags)
{
    const char *reason = ERR_reason_error_string(e);
    char code[32];
    if (!reason) {
        snprintf(code, sizeof code, "error %08lx", e);
        reason = code;
    }
    bool detail = (flags & ERR_TXT_STRING) && data && data[0];
    int n = snprintf(last + *len, sizeof last - *len, "%s%s%s%s%s", *len ? ": " : "",
                     reason, detail ? " (" : "", detail ? data : "", detail ? ")" : "");
    if (n > 0)
        *len = strnlen(last, sizeof last - 1);
}

int cio_tls_fail(int code, const char *what)
{
    last[0] = '\0';
    size_t len = 0;
    if (what && what[0]) {
        snprintf(last, sizeof last, "%s", what);
        len = strlen(last);
    }
    const char *data;
    int flags;
    unsigned long e;
    /* The earliest error is the root cause; later ones say where it
     * surfaced. Keep every distinct reason, in order, while they fit. */
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0)
        if (len < sizeof last - 1)
            append_reason(&len, e, data, flags);
    if (len == 0)
        snprintf(last, sizeof last, "%s", "TLS failure (no reason given)");
    return code;
}

void cio_tls_reason_save(cio_tls_reason *r)
{
    memcpy(r->text, last, sizeof last);
}

void cio_tls_reason_restore(const cio_tls_reason *r)
{
    memcpy(last, r->text, sizeof last);
}
