/* file_path.c — the file system by path: rename, unlink, rmdir, mkdir,
 * mkdir -p. */
#include "file_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cio_rename(const char *from, const char *to)
{
    cio_file_args a = cio_path_args(from);
    a.path2 = to;
    return (int)cio_file_op(CIO_OP_RENAMEAT, &a);
}

static int unlink_at(const char *path, int flags)
{
    cio_file_args a = cio_path_args(path);
    a.flags = flags;
    return (int)cio_file_op(CIO_OP_UNLINKAT, &a);
}

int cio_unlink(const char *path) { return unlink_at(path, 0); }
int cio_rmdir(const char *path) { return unlink_at(path, AT_REMOVEDIR); }

int cio_mkdir(const char *path, mode_t mode)
{
    cio_file_args a = cio_path_args(path);
    a.mode = mode;
    return (int)cio_file_op(CIO_OP_MKDIRAT, &a);
}

/* 0 if path is a directory, -EEXIST if it is something else. */
static int existing_dir(const char *path)
{
    cio_stat st;
    int rc = cio_stat_path(path, &st, true);
    if (rc < 0)
        return rc;
    return S_ISDIR(st.mode) ? 0 : -EEXIST;
}

/* path is writable, without trailing slashes. Try the directory itself
 * first: when it or its parent exists (the common case) that is one call. */
static int make_all(char *path, mode_t mode)
{
    int rc = cio_mkdir(path, mode);
    if (rc == -EEXIST)
        return existing_dir(path);
    if (rc != -ENOENT)
        return rc;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return rc;              /* no parent to make ("/x": / exists) */
    *slash = '\0';
    rc = make_all(path, mode);
    *slash = '/';
    if (rc < 0)
        return rc;
    rc = cio_mkdir(path, mode);
    return rc == -EEXIST ? existing_dir(path) : rc;     /* made meanwhile */
}

int cio_mkdir_all(const char *path, mode_t mode)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;                    /* "a/b/" is "a/b" */
    if (n == 0)
        return -ENOENT;
    char *copy = strndup(path, n);
    if (!copy)
        return -ENOMEM;
    /* "a//b": the empty component between the slashes is skipped by the
     * kernel; strrchr then finds "a/" as a parent, which mkdir accepts. */
    int rc = make_all(copy, mode);
    free(copy);
    return rc;
}
