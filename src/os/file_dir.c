/* file_dir.c — directory listing (os.scandir): entries read from the
 * kernel in batches with getdents64 on the thread pool (io_uring has no
 * operation for it), parsed one at a time. */
#include "file_internal.h"

#include "../core/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BATCH (32u << 10)

/* The kernel's record (linux_dirent64). */
struct dirent64_rec {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

struct cio_dir {
    cio_file *f;
    size_t pos, end;            /* unparsed records: buf[pos..end) */
    bool done;                  /* getdents64 returned 0 */
    _Alignas(8) char buf[BATCH];
};

int cio_dir_open(cio_dir **out, const char *path)
{
    *out = NULL;
    cio_dir *d = malloc(sizeof *d);
    if (!d)
        return -ENOMEM;
    int rc = cio_file_open(&d->f, path, O_RDONLY | O_DIRECTORY, 0);
    if (rc < 0) {
        free(d);
        return rc;
    }
    d->f->handle.kind = "dir";
    d->pos = d->end = 0;
    d->done = false;
    *out = d;
    return 0;
}

static int read_batch(cio_dir *d)
{
    cio_file_args a = cio_file_args_of(d->f);
    a.buf = d->buf;
    a.len = sizeof d->buf;
    int64_t n = cio_file_op(CIO_OP_GETDENTS, &a);
    if (n < 0)
        return (int)n;
    d->pos = 0;
    d->end = (size_t)n;
    d->done = n == 0;
    return 0;
}

static bool is_dot_or_dotdot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

int cio_dir_next(cio_dir *d, cio_dirent *ent)
{
    int rc = cio_wait_checkpoint();     /* even when the batch has entries */
    if (rc < 0)
        return rc;
    for (;;) {
        if (d->pos >= d->end) {
            if (d->done)
                return 0;
            rc = read_batch(d);
            if (rc < 0)
                return rc;
            continue;
        }
        const struct dirent64_rec *r = (const void *)(d->buf + d->pos);
        d->pos += r->d_reclen;
        if (is_dot_or_dotdot(r->d_name))
            continue;
        *ent = (cio_dirent){ .name = r->d_name, .type = r->d_type, .ino = r->d_ino };
        return 1;
    }
}

int cio_dir_close(cio_dir *d)
{
    if (!d)
        return 0;
    int rc = cio_file_close(d->f);
    free(d);
    return rc;
}
