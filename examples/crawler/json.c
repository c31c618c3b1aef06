/* json.c — a text buffer and JSON string escaping. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(jbuf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void jbuf_printf(jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void jbuf_string(jbuf *b, const char *s)
{
    if (!s) {
        jbuf_printf(b, "null");
        return;
    }
    jbuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            jbuf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            jbuf_printf(b, "\\u%04x", *p);
        else
            jbuf_printf(b, "%c", *p);
    }
    jbuf_printf(b, "\"");
}

void jbuf_free(jbuf *b)
{
    free(b->s);
    *b = (jbuf){ 0 };
}
