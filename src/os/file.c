/* file.c — the file object: open, close, read, write, fsync, stat. */
#include "file_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../core/internal.h"

int64_t cio_file_op_shielded(uint8_t op, cio_file_args *a)
{
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int64_t rc = cio_file_op(op, a);
    int ignored = cio_scope_leave(&shield);
    (void)ignored;
    return rc;
}

int cio_file_open(cio_file **out, const char *path, int flags, mode_t mode)
{
    *out = NULL;
    cio_file_args a = cio_path_args(path);
    a.flags = flags | O_CLOEXEC;
    a.mode = mode;
    int fd = (int)cio_file_op(CIO_OP_OPENAT, &a);
    if (fd < 0)
        return fd;
    cio_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    f->fd = fd;
    cio_handle_track(&f->handle, "file", fd);
    *out = f;
    return 0;
}

int cio_file_close(cio_file *f)
{
    if (!f)
        return 0;
    cio_handle_untrack(&f->handle);
    f->closed = true;
    if (f->pins)
        return 0;               /* the last job closes it (cio_file_unpin) */
    cio_file_args a = { .fd = f->fd };
    int rc = cio_task_current() ? (int)cio_file_op_shielded(CIO_OP_CLOSE, &a)
                                : (close(f->fd) < 0 ? -errno : 0);   /* no task */
    free(f);
    return rc == -EINTR ? 0 : rc;   /* the descriptor is gone either way */
}

void cio_file_pin(cio_file *f)
{
    f->pins++;
}

void cio_file_unpin(cio_file *f)
{
    if (--f->pins > 0 || !f->closed)
        return;
    close(f->fd);               /* loop context: a late job let go */
    free(f);
}

int cio_file_fd(const cio_file *f)
{
    return f->fd;
}

static ssize_t transfer(cio_file *f, uint8_t op, const void *buf, size_t len, int64_t off)
{
    cio_file_args a = cio_file_args_of(f);
    a.buf = (void *)buf;
    a.len = len;
    a.off = off;
    return (ssize_t)cio_file_op(op, &a);
}

ssize_t cio_file_read(cio_file *f, void *buf, size_t len)
{
    return transfer(f, CIO_OP_PREAD, buf, len, -1);
}

ssize_t cio_file_write(cio_file *f, const void *buf, size_t len)
{
    return transfer(f, CIO_OP_PWRITE, buf, len, -1);
}

ssize_t cio_file_pread(cio_file *f, void *buf, size_t len, int64_t off)
{
    return off < 0 ? -EINVAL : transfer(f, CIO_OP_PREAD, buf, len, off);
}

ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t len, int64_t off)
{
    return off < 0 ? -EINVAL : transfer(f, CIO_OP_PWRITE, buf, len, off);
}

static int sync_file(cio_file *f, int flags)
{
    cio_file_args a = cio_file_args_of(f);
    a.flags = flags;
    return (int)cio_file_op(CIO_OP_FSYNC, &a);
}

int cio_file_fsync(cio_file *f) { return sync_file(f, 0); }
int cio_file_fdatasync(cio_file *f) { return sync_file(f, CIO_FSYNC_DATA); }
