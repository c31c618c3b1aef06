/* file_atomic.c — replace a file's content all or nothing: write a temporary
 * file beside it, fsync, rename over it, fsync the directory (the fsyncs
 * can be skipped: CIO_ATOMIC_NO_SYNC).
 *
 * The temporary file is in the same directory so the rename stays within
 * one file system (rename(2) is atomic there). Its name starts with a dot
 * and ends in random letters; O_EXCL makes two writers pick two names.
 * Cleanup (close, unlink) is shielded: a cancelled write still removes its
 * temporary file.
 */
#include "file_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define TRIES 16

/* "dir/.name.tmp-XXXXXX" for path "dir/name", "XXXXXX" to be filled. */
static char *temp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    char *name;
    if (asprintf(&name, "%.*s.%s.tmp-XXXXXX", dirlen, path, base) < 0)
        return NULL;
    return name;
}

/* Temporary names need only be unlikely to collide (O_EXCL catches the
 * rest, and the caller tries again), so a per-thread generator seeded once
 * from getrandom stands in for a getrandom(2) per file (a forked child
 * repeats its parent's names: O_EXCL and the retries cover that too). */
static uint64_t next_random(void)
{
    static __thread uint64_t state;
    if (!state) {
        if (getrandom(&state, sizeof state, GRND_NONBLOCK) != (ssize_t)sizeof state)
            state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)&state;
        state |= 1;
    }
    state += 0x9e3779b97f4a7c15u;       /* splitmix64 */
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void fill_random(char *x)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t r = next_random();
    for (size_t i = 0; i < 6; i++, r >>= 8)
        x[i] = letters[(r & 0xff) % (sizeof letters - 1)];
}

static int create_temp(cio_file **f, char *name, mode_t mode)
{
    char *x = name + strlen(name) - 6;
    int rc = -EEXIST;
    for (int i = 0; i < TRIES && rc == -EEXIST; i++) {
        fill_random(x);
        rc = cio_file_open(f, name, O_WRONLY | O_CREAT | O_EXCL, mode);
    }
    return rc;
}

/* fsync the directory holding path, so the rename itself is on disk. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -ENOMEM;
    cio_file *d;
    int rc = cio_file_open(&d, dir, O_RDONLY | O_DIRECTORY, 0);
    free(dir);
    if (rc < 0)
        return rc;
    rc = cio_file_fsync(d);
    int crc = cio_file_close(d);
    return rc < 0 ? rc : crc;
}

/* Write data into the open temporary file and make it durable (unless
 * the caller said not to). */
static int fill(cio_file *f, const void *data, size_t len, bool sync)
{
    int rc = cio_file_write_all(f, data, len);
    return rc < 0 || !sync ? rc : cio_file_fsync(f);
}

int cio_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    return cio_write_file_atomic_ex(path, data, len, mode, 0);
}

int cio_write_file_atomic_ex(const char *path, const void *data, size_t len, mode_t mode,
                             unsigned flags)
{
    if (flags & ~(unsigned)CIO_ATOMIC_NO_SYNC)
        return -EINVAL;
    bool sync = !(flags & CIO_ATOMIC_NO_SYNC);
    char *tmp = temp_name(path);
    if (!tmp)
        return -ENOMEM;
    cio_file *f;
    int rc = create_temp(&f, tmp, mode);
    if (rc < 0) {
        free(tmp);
        return rc;
    }
    rc = fill(f, data, len, sync);
    int crc = cio_file_close(f);
    if (rc == 0)
        rc = crc;
    if (rc == 0)
        rc = cio_rename(tmp, path);
    if (rc < 0) {
        cio_file_args a = cio_path_args(tmp);
        int ignored = (int)cio_file_op_shielded(CIO_OP_UNLINKAT, &a);
        (void)ignored;
    } else if (sync) {
        rc = sync_dir(path);    /* the new content is in place either way */
    }
    free(tmp);
    return rc;
}
