/* cio/file.h — files and the file system for tasks: what aiofiles, pathlib
 * and os give asyncio users.
 *
 *     cio_file *f;
 *     if ((rc = cio_file_open(&f, "data.txt", O_RDONLY, 0)) < 0) ...
 *     char buf[4096];
 *     ssize_t n = cio_file_read(f, buf, sizeof buf);
 *     rc = cio_file_close(f);
 *
 *     char *text;
 *     ssize_t len = cio_read_file("config.ini", &text, 1 << 20);
 *     rc = cio_write_file_atomic("state.json", json, json_len, 0644);
 *
 * Where the work runs: on the io_uring backend every call is an operation
 * in the loop's ring (read, write, fsync, openat, close, statx, renameat,
 * unlinkat, mkdirat). On epoll, where a regular file is always "ready" and
 * readiness says nothing, the same calls run on the loop's thread pool
 * (cio_to_thread's). Directory reading (getdents) runs on the thread pool
 * on both: io_uring has no operation for it.
 *
 * Every call below blocks the calling task (never the loop) and is a
 * cancellation point: it honours the caller's cancel scopes and deadlines
 * (wrap it in a cio_scope for a timeout) and returns -ECANCELED when
 * interrupted. What an interrupted call leaves behind:
 *   - io_uring: the call waits for the kernel's final answer before it
 *     returns (a read already running in the kernel finishes first); if
 *     the operation took effect all the same, the call returns its result
 *     (bytes read or written, 0 for a rename or mkdir that happened); an
 *     open that succeeded is closed again and the call returns -ECANCELED.
 *   - thread pool: the call returns at once; the worker finishes the
 *     system call on its own (it cannot be interrupted), and its late result
 *     is disposed of: an opened descriptor is closed, read bytes dropped.
 *     So on epoll a cancelled write, rename or mkdir may still happen.
 *   - the call never writes into the caller's buffer after it returned.
 * Errors are negative errnos (-ENOENT, -EISDIR, -EEXIST, -ENOSPC...);
 * -EPERM outside a task.
 *
 * A cio_file belongs to the loop of the task that opened it. Several tasks
 * may read or write one file at once (pread/pwrite at their own offsets are
 * safe; at the current offset the order is the kernel's), but close it only
 * when no other task is in a call on it.
 */
#ifndef CIO_FILE_H
#define CIO_FILE_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/types.h>

#include "base.h"
#include "error.h"
#include "stream.h"

#pragma GCC visibility push(default)

typedef struct cio_file cio_file;

/* ---- opening and closing -------------------------------------------------- */

/* open(path, flags, mode): flags are open(2)'s (O_RDONLY, O_WRONLY | O_CREAT
 * | O_TRUNC, O_APPEND, O_EXCL, O_DIRECTORY...); O_CLOEXEC is always added.
 * mode is used with O_CREAT (masked by the umask). On success *out is a
 * new file, to be closed with cio_file_close. A cancellation point.
 * Meant for regular files and directories. A FIFO works, with one
 * difference between backends: on io_uring an open for reading does not
 * wait for a writer (the kernel's ring opens it non-blocking first). */
CIO_MUST_CHECK int cio_file_open(cio_file **out, const char *path, int flags, mode_t mode);

/* Close f and free it. Always closes, even in a cancelled task (the close
 * is shielded): returns 0 or close's error (-EIO: data written earlier was
 * lost, as close(2) reports it). On the thread pool, a descriptor still used
 * by a worker whose caller gave up is closed when that worker is done. */
int cio_file_close(cio_file *f);

/* The descriptor (for fcntl, flock...; do not close it). */
int cio_file_fd(const cio_file *f);

/* ---- reading and writing -------------------------------------------------- */

/* read(2) at the file's current offset, which it advances: the count (at
 * most len; short counts are normal), 0 at end of file. */
CIO_MUST_CHECK ssize_t cio_file_read(cio_file *f, void *buf, size_t len);

/* write(2) at the current offset (at the end with O_APPEND): the count
 * written, possibly short; see cio_file_write_all. */
CIO_MUST_CHECK ssize_t cio_file_write(cio_file *f, const void *buf, size_t len);

/* pread/pwrite at offset off (>= 0, else -EINVAL); the current offset is
 * not moved. */
CIO_MUST_CHECK ssize_t cio_file_pread(cio_file *f, void *buf, size_t len, int64_t off);
CIO_MUST_CHECK ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t len, int64_t off);

/* Write all len bytes at the current offset, looping over short writes.
 * Returns 0, or the error that stopped it (an interrupted call may have
 * written a part: the offset tells how much). */
CIO_MUST_CHECK int cio_file_write_all(cio_file *f, const void *buf, size_t len);

/* Read from the current offset to the end of the file into a new buffer
 * (malloc'd; free it), followed by a '\0' not counted. Returns the length;
 * CIO_ELIMIT if the file holds more than max bytes (nothing is returned),
 * -ENOMEM. Interrupted, it returns the error and frees what it read. */
CIO_MUST_CHECK ssize_t cio_file_read_all(cio_file *f, char **out, size_t max);

/* fsync(2) / fdatasync(2): the file's data (and metadata) on disk. */
CIO_MUST_CHECK int cio_file_fsync(cio_file *f);
CIO_MUST_CHECK int cio_file_fdatasync(cio_file *f);

/* ---- whole files ----------------------------------------------------------- */

/* open + cio_file_read_all + close: the whole file at path (pathlib's
 * read_bytes / aiofiles' read()). */
CIO_MUST_CHECK ssize_t cio_read_file(const char *path, char **out, size_t max);

/* Replace path's content with data, all or nothing: write a temporary file
 * in the same directory (".<name>.tmp-XXXXXX", created with mode masked by
 * the umask), fsync it, rename it over path, fsync the directory. On any
 * failure (including cancellation) the temporary file is removed and path
 * is untouched: a reader sees the old content or the new, never a part.
 * Returns 0 or the first error (-ENOENT: the directory does not exist;
 * -EISDIR: path is a directory; -ENOSPC...). */
CIO_MUST_CHECK int cio_write_file_atomic(const char *path, const void *data, size_t len,
                                         mode_t mode);

/* Flags of cio_write_file_atomic_ex. */
enum {
    /* Skip both fsyncs: the rename still makes the replacement atomic for
     * every reader and against the program's own crash or cancellation
     * (no reader ever sees a part), but after a power loss or kernel crash
     * the file may be empty or old. For files that can be made again (a
     * crawler's pages, caches): the fsyncs cost far more than the write. */
    CIO_ATOMIC_NO_SYNC = 1 << 0,
};

/* cio_write_file_atomic with flags (CIO_ATOMIC_*; 0: the same as
 * cio_write_file_atomic). -EINVAL for an unknown flag. */
CIO_MUST_CHECK int cio_write_file_atomic_ex(const char *path, const void *data, size_t len,
                                            mode_t mode, unsigned flags);

/* ---- metadata ----------------------------------------------------------- */

/* What stat tells (from statx(2)). */
typedef struct cio_stat {
    uint64_t size;          /* bytes */
    uint32_t mode;          /* type and permission bits: S_ISDIR(mode)... */
    uint32_t nlink;
    uint32_t uid, gid;
    uint64_t ino;
    uint64_t dev;           /* makedev(major, minor) of the file system */
    uint64_t blocks;        /* 512-byte blocks allocated */
    uint32_t blksize;       /* preferred I/O size */
    int64_t atime_ns, mtime_ns, ctime_ns;   /* since the epoch */
} cio_stat;

/* fstat(f). */
CIO_MUST_CHECK int cio_file_stat(cio_file *f, cio_stat *out);

/* stat(path), or lstat(path) if follow is false (a symbolic link is then
 * described itself). -ENOENT if there is nothing at path. */
CIO_MUST_CHECK int cio_stat_path(const char *path, cio_stat *out, bool follow);

/* ---- the file system ------------------------------------------------------ */

/* rename(2): from replaces to atomically if it exists (-EISDIR if to is a
 * directory and from is not, -ENOTEMPTY for a non-empty directory...). */
CIO_MUST_CHECK int cio_rename(const char *from, const char *to);

/* unlink(2) a file (-EISDIR for a directory); rmdir(2) an empty directory. */
CIO_MUST_CHECK int cio_unlink(const char *path);
CIO_MUST_CHECK int cio_rmdir(const char *path);

/* mkdir(2): -EEXIST if path exists. */
CIO_MUST_CHECK int cio_mkdir(const char *path, mode_t mode);

/* mkdir -p (os.makedirs(path, exist_ok=True)): make path and its missing
 * parents with mode (masked by the umask). 0 if path is already a
 * directory; -EEXIST if it (or a parent) exists and is not one. */
CIO_MUST_CHECK int cio_mkdir_all(const char *path, mode_t mode);

/* ---- directory listing (os.scandir) --------------------------------------- */

typedef struct cio_dir cio_dir;

typedef struct cio_dirent {
    const char *name;       /* valid until the next cio_dir_next or close */
    unsigned char type;     /* DT_REG, DT_DIR, DT_LNK... as the file system
                               says; DT_UNKNOWN on some (then stat it) */
    uint64_t ino;
} cio_dirent;

/* Open the directory at path for listing. A handle like a file: close it. */
CIO_MUST_CHECK int cio_dir_open(cio_dir **out, const char *path);

/* The next entry ("." and ".." skipped, in the file system's order): 1 and
 * *ent set, 0 at the end, or a negative errno. Entries are read from the
 * kernel in batches (32 KiB, on the thread pool), so memory does not grow
 * with the directory. A cancellation point: cancelled, it returns
 * -ECANCELED and loses no entry if the batch was already read; after an
 * error while reading a batch, close d (the kernel's position is unknown). */
CIO_MUST_CHECK int cio_dir_next(cio_dir *d, cio_dirent *ent);

/* Close and free d; returns 0 or close's error. Always closes. */
int cio_dir_close(cio_dir *d);

/* ---- a file as a stream ----------------------------------------------------- */

/* A buffered stream that reads f from its current offset (cio_stream_read,
 * read_line, read_until, read_all... work as on a socket; a read at end of
 * file is the end of the stream). The stream owns f from then on: closed
 * with the stream, or at once if this fails. The stream reads with pread
 * at an offset of its own, through the backend (ring or thread pool).
 * It is read-only: cio_stream_write, writev and write_eof return -EBADF;
 * cio_stream_socket returns NULL and the address calls -ENOTSOCK.
 * Returns 0, -ENOMEM or -EINVAL (bad opts). Never blocks. */
CIO_MUST_CHECK int cio_file_stream(cio_stream **out, cio_file *f, const cio_stream_opts *opts);

/* cio_file_open(path, O_RDONLY) + cio_file_stream. A cancellation point. */
CIO_MUST_CHECK int cio_open_file_stream(cio_stream **out, const char *path,
                                        const cio_stream_opts *opts);

#pragma GCC visibility pop

#endif
