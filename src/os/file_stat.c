/* file_stat.c — stat and fstat, through statx. */
#include "file_internal.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

static int64_t ns_of(struct statx_timestamp t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void convert(cio_stat *out, const struct statx *x)
{
    *out = (cio_stat){
        .size = x->stx_size,
        .mode = x->stx_mode,
        .nlink = x->stx_nlink,
        .uid = x->stx_uid,
        .gid = x->stx_gid,
        .ino = x->stx_ino,
        .dev = makedev(x->stx_dev_major, x->stx_dev_minor),
        .blocks = x->stx_blocks,
        .blksize = x->stx_blksize,
        .atime_ns = ns_of(x->stx_atime),
        .mtime_ns = ns_of(x->stx_mtime),
        .ctime_ns = ns_of(x->stx_ctime),
    };
}

static int run_statx(cio_file_args *a, cio_stat *out)
{
    struct statx x;
    a->stx = &x;
    int rc = (int)cio_file_op(CIO_OP_STATX, a);
    if (rc == 0)
        convert(out, &x);
    return rc;
}

int cio_file_stat(cio_file *f, cio_stat *out)
{
    cio_file_args a = cio_file_args_of(f);
    a.path = "";
    a.flags = AT_EMPTY_PATH;
    return run_statx(&a, out);
}

int cio_stat_path(const char *path, cio_stat *out, bool follow)
{
    cio_file_args a = cio_path_args(path);
    a.flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
    return run_statx(&a, out);
}
