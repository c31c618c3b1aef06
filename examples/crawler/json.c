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

/* Formats into the free space first; only a text that does not fit is
 * formatted twice. */
void jbuf_printf(jbuf *b, const char *fmt, ...)
{
    if (!reserve(b, 64))
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->s + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->s[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        b->s[b->len] = '\0';
        if (!reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void jbuf_append(jbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Runs of characters that need no escape go in with one copy: an index
 * line is written per saved page. */
void jbuf_string(jbuf *b, const char *s)
{
    if (!s) {
        jbuf_append(b, "null", 4);
        return;
    }
    jbuf_append(b, "\"", 1);
    const unsigned char *run = (const unsigned char *)s, *p = run;
    for (; *p; p++) {
        if (*p != '"' && *p != '\\' && *p >= 0x20)
            continue;
        jbuf_append(b, (const char *)run, (size_t)(p - run));
        if (*p == '"' || *p == '\\')
            jbuf_printf(b, "\\%c", *p);
        else
            jbuf_printf(b, "\\u%04x", *p);
        run = p + 1;
    }
    jbuf_append(b, (const char *)run, (size_t)(p - run));
    jbuf_append(b, "\"", 1);
}

void jbuf_free(jbuf *b)
{
    free(b->s);
    *b = (jbuf){ 0 };
}
