/* strpack.h — copy optional strings into one allocation's trailing buffer,
 * so a job handed to another thread owns them (the caller's may be freed as
 * soon as it returns). Used by DNS lookups and file jobs on the thread pool.
 */
#ifndef CIO_CORE_STRPACK_H
#define CIO_CORE_STRPACK_H

#include <string.h>

/* Bytes s needs in the buffer (0 for NULL). */
static inline size_t cio_strpack_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s to *at and move *at past it; NULL for NULL. */
static inline char *cio_strpack(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *dst = memcpy(*at, s, n);
    *at += n;
    return dst;
}

#endif
