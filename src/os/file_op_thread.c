/* file_op_thread.c — file operations on the loop's thread pool (the epoll
 * backend's way, and directory reading on both).
 *
 * A job is one heap record holding a copy of the arguments, with its own
 * buffer and paths: the caller may give up and return while a worker still
 * runs the system call, so the worker must touch nothing of the caller's.
 * A read lands in the job's buffer and is copied out when the caller gets
 * it; a write's bytes are copied in first. One job moves at most BOUNCE_MAX
 * bytes (a shorter count, as read(2) and write(2) may give). A job that
 * outlived its caller is disposed of on the loop thread: a descriptor it
 * opened is closed, the file it used is unpinned (closed then if the owner
 * closed it meanwhile).
 */
#include "file_op.h"
#include "../core/strpack.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cio/thread.h"

#define BOUNCE_MAX (4u << 20)

typedef struct file_job {
    uint8_t op;
    cio_file_args a;            /* buf, path, path2 point into data */
    struct statx stx;
    int64_t res;
    char data[];
} file_job;

static bool moves_data(uint8_t op)
{
    return op == CIO_OP_PREAD || op == CIO_OP_PWRITE || op == CIO_OP_GETDENTS;
}

static int64_t result(long rc)
{
    return rc < 0 ? -errno : rc;
}

static int64_t run_syscall(uint8_t op, const cio_file_args *a, struct statx *stx)
{
    switch (op) {
    case CIO_OP_PREAD:
        return result(a->off < 0 ? read(a->fd, a->buf, a->len)
                                 : pread(a->fd, a->buf, a->len, a->off));
    case CIO_OP_PWRITE:
        return result(a->off < 0 ? write(a->fd, a->buf, a->len)
                                 : pwrite(a->fd, a->buf, a->len, a->off));
    case CIO_OP_FSYNC:
        return result(a->flags & CIO_FSYNC_DATA ? fdatasync(a->fd) : fsync(a->fd));
    case CIO_OP_OPENAT:
        return result(openat(a->fd, a->path, a->flags, a->mode));
    case CIO_OP_CLOSE:
        return result(close(a->fd));
    case CIO_OP_STATX:
        return result(statx(a->fd, a->path, a->flags, STATX_BASIC_STATS, stx));
    case CIO_OP_RENAMEAT:
        return result(renameat2(a->fd, a->path, a->fd, a->path2, (unsigned)a->flags));
    case CIO_OP_UNLINKAT:
        return result(unlinkat(a->fd, a->path, a->flags));
    case CIO_OP_MKDIRAT:
        return result(mkdirat(a->fd, a->path, a->mode));
    case CIO_OP_GETDENTS:
        return result(syscall(SYS_getdents64, a->fd, a->buf, a->len));
    default:
        return -EINVAL;
    }
}

static void *run_job(void *arg)
{
    file_job *j = arg;
    do
        j->res = run_syscall(j->op, &j->a, &j->stx);
    while (j->res == -EINTR && j->op != CIO_OP_CLOSE);
    return j;
}

/* Loop thread: a job whose result nobody receives. */
static void dispose_job(void *ran, void *arg)
{
    file_job *j = arg;
    if (ran && j->op == CIO_OP_OPENAT && j->res >= 0)
        close((int)j->res);     /* opened for a caller that gave up */
    if (j->a.owner)
        cio_file_unpin(j->a.owner);
    free(j);
}

static file_job *make_job(uint8_t op, const cio_file_args *a)
{
    size_t len = moves_data(op) ? (a->len < BOUNCE_MAX ? a->len : BOUNCE_MAX) : 0;
    size_t paths = cio_strpack_size(a->path) + cio_strpack_size(a->path2);
    file_job *j = malloc(sizeof *j + len + paths);
    if (!j)
        return NULL;
    j->op = op;
    j->a = *a;
    j->res = 0;
    j->a.buf = len ? j->data : NULL;
    j->a.len = len;
    if (op == CIO_OP_PWRITE)
        memcpy(j->data, a->buf, len);
    char *at = j->data + len;
    j->a.path = cio_strpack(&at, a->path);
    j->a.path2 = cio_strpack(&at, a->path2);
    return j;
}

int64_t cio_file_op_thread(uint8_t op, cio_file_args *a)
{
    file_job *j = make_job(op, a);
    if (!j)
        return -ENOMEM;
    if (a->owner)
        cio_file_pin(a->owner);
    void *ran;
    int rc = cio_to_thread_ex(run_job, j, &ran, dispose_job);
    if (rc < 0)
        return rc;              /* dispose_job has it (now or later) */
    int64_t res = j->res;
    if (res > 0 && (op == CIO_OP_PREAD || op == CIO_OP_GETDENTS))
        memcpy(a->buf, j->a.buf, (size_t)res);
    if (op == CIO_OP_STATX && res == 0)
        *a->stx = j->stx;
    if (a->owner)
        cio_file_unpin(a->owner);
    free(j);
    return res;
}
