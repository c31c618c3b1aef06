/* json.h — a growable text buffer with JSON string escaping, for the
 * index lines and --json statistics. */
#ifndef CRAWLER_JSON_H
#define CRAWLER_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jbuf {
    char *s;
    size_t len, cap;
    bool oom;               /* an append failed: the text is incomplete */
} jbuf;

void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* n bytes of s, as they are. */
void jbuf_append(jbuf *b, const char *s, size_t n);
/* s as a JSON string, quotes included (NULL: null). */
void jbuf_string(jbuf *b, const char *s);
void jbuf_free(jbuf *b);

#endif
