/* file_all.c — whole reads and writes: write_all, read_all, read_file. */
#include "file_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

int cio_file_write_all(cio_file *f, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = cio_file_write(f, p, len);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO;        /* write(2) took nothing: never loop on it */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

#define FIRST_CAP 4096

/* The buffer's first size: the bytes the file says are left (and one more,
 * to see the end without growing), within max. */
static size_t first_cap(cio_file *f, size_t max)
{
    cio_stat st;
    size_t cap = FIRST_CAP;
    if (cio_file_stat(f, &st) == 0 && S_ISREG(st.mode) && st.size + 1 > cap)
        cap = (size_t)st.size + 1;
    return cap > max + 1 ? max + 1 : cap;
}

ssize_t cio_file_read_all(cio_file *f, char **out, size_t max)
{
    *out = NULL;
    if (max >= SIZE_MAX / 2)
        max = SIZE_MAX / 2 - 1;
    size_t cap = first_cap(f, max), len = 0;
    char *buf = malloc(cap + 1);        /* + the '\0' */
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap > max) {            /* a byte past max: too long */
                free(buf);
                return CIO_ELIMIT;
            }
            size_t grown = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *p = realloc(buf, grown + 1);
            if (!p) {
                free(buf);
                return -ENOMEM;
            }
            buf = p;
            cap = grown;
        }
        ssize_t n = cio_file_read(f, buf + len, cap - len);
        if (n < 0) {
            free(buf);
            return n;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        free(buf);
        return CIO_ELIMIT;
    }
    buf[len] = '\0';
    *out = buf;
    return (ssize_t)len;
}

ssize_t cio_read_file(const char *path, char **out, size_t max)
{
    *out = NULL;
    cio_file *f;
    int rc = cio_file_open(&f, path, O_RDONLY, 0);
    if (rc < 0)
        return rc;
    ssize_t n = cio_file_read_all(f, out, max);
    int crc = cio_file_close(f);
    if (n >= 0 && crc < 0) {
        free(*out);
        *out = NULL;
        return crc;
    }
    return n;
}
