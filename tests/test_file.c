/* test_file.c — cio/file.h: open, read, write, pread/pwrite, fsync, stat,
 * whole-file reads, rename, unlink, mkdir -p, listing, errors, and calls
 * outside a task. (Atomic writes, streams and cancellation: test_file_io.c.)
 * Each test runs in a fresh temporary directory; scripts/run-tests runs it
 * on both backends (ring operations on io_uring, the thread pool on epoll).
 */
#include "helpers.h"
#include "file_helpers.h"

static void setup(void) { make_tmp_root(); }
static void teardown(void) { remove_tmp_root(); }

TestSuite(file, .init = setup, .fini = teardown);

/* ---- open, read, write, close ----------------------------------------------- */

static int write_then_read(void *arg)
{
    (void)arg;
    const char *p = tmp_path("a.txt");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, p, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    cr_assert_geq(cio_file_fd(f), 0);
    cr_assert_eq(cio_file_write_all(f, "hello ", 6), 0);
    cr_assert_eq(cio_file_write(f, "world\n", 6), 6);
    cr_assert_eq(cio_file_fsync(f), 0);
    cr_assert_eq(cio_file_fdatasync(f), 0);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_str_eq(get_file("a.txt"), "hello world\n");

    cr_assert_eq(cio_file_open(&f, p, O_RDONLY, 0), 0);
    char buf[64] = { 0 };
    cr_assert_eq(cio_file_read(f, buf, 5), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 7, "the rest, from the offset");
    cr_assert_eq(memcmp(buf, " world\n", 7), 0);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 0, "end of file");
    cr_assert_eq(cio_file_write(f, "x", 1), -EBADF, "read-only descriptor");
    cr_assert_eq(cio_file_close(f), 0);
    return 0;
}

Test(file, write_then_read)
{
    cr_assert_eq(run_virtual(write_then_read, NULL), 0);
}

static int append_mode(void *arg)
{
    (void)arg;
    put_file("log", "one\n");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("log"), O_WRONLY | O_APPEND, 0), 0);
    cr_assert_eq(cio_file_write_all(f, "two\n", 4), 0);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_str_eq(get_file("log"), "one\ntwo\n");
    return 0;
}

Test(file, append_mode)
{
    cr_assert_eq(run_virtual(append_mode, NULL), 0);
}

static int positional(void *arg)
{
    (void)arg;
    put_file("p", "0123456789");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("p"), O_RDWR, 0), 0);
    char buf[8] = { 0 };
    cr_assert_eq(cio_file_pread(f, buf, 3, 4), 3);
    cr_assert_eq(memcmp(buf, "456", 3), 0);
    cr_assert_eq(cio_file_pwrite(f, "ab", 2, 8), 2);
    cr_assert_eq(cio_file_pread(f, buf, 8, 6), 4);
    cr_assert_eq(memcmp(buf, "67ab", 4), 0);
    cr_assert_eq(cio_file_pread(f, buf, 8, 100), 0, "past the end");
    cr_assert_eq(cio_file_pwrite(f, "Z", 1, 12), 1, "a hole is fine");
    cr_assert_eq(cio_file_pread(f, buf, 1, -1), -EINVAL);
    cr_assert_eq(cio_file_pwrite(f, buf, 1, -5), -EINVAL);
    /* The current offset did not move: a read starts at 0. */
    cr_assert_eq(cio_file_read(f, buf, 2), 2);
    cr_assert_eq(memcmp(buf, "01", 2), 0);
    cio_stat st;
    cr_assert_eq(cio_file_stat(f, &st), 0);
    cr_assert_eq(st.size, 13);
    cr_assert_eq(cio_file_close(f), 0);
    return 0;
}

Test(file, pread_pwrite)
{
    cr_assert_eq(run_virtual(positional, NULL), 0);
}

/* Many tasks pread one file at once (on io_uring: in the ring together). */
typedef struct chunk_job {
    cio_file *f;
    int64_t off;
    char got[4];
} chunk_job;

static int read_chunk(void *arg)
{
    chunk_job *j = arg;
    return (int)cio_file_pread(j->f, j->got, 4, j->off);
}

static int concurrent_preads(void *arg)
{
    (void)arg;
    char content[4 * 16 + 1];
    for (int i = 0; i < 16; i++)
        snprintf(content + 4 * i, 5, "%04d", i);
    put_file("c", content);
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("c"), O_RDONLY, 0), 0);
    chunk_job jobs[16];
    cio_task *tasks[16];
    for (int i = 0; i < 16; i++) {
        jobs[i] = (chunk_job){ .f = f, .off = 4 * i };
        tasks[i] = spawn(read_chunk, &jobs[i], "reader");
    }
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(cio_task_join(tasks[i], NULL), 4);
        char want[5];
        snprintf(want, sizeof want, "%04d", i);
        cr_assert_eq(memcmp(jobs[i].got, want, 4), 0, "chunk %d", i);
    }
    cr_assert_eq(cio_file_close(f), 0);
    return 0;
}

Test(file, concurrent_preads)
{
    cr_assert_eq(run_virtual(concurrent_preads, NULL), 0);
}

/* ---- errors ----------------------------------------------------------------- */

static int errors(void *arg)
{
    (void)arg;
    cio_file *f = (cio_file *)1;
    cr_assert_eq(cio_file_open(&f, tmp_path("missing"), O_RDONLY, 0), -ENOENT);
    cr_assert_null(f, "*out cleared on failure");
    cr_assert_eq(cio_file_open(&f, tmp_root, O_WRONLY, 0), -EISDIR);
    put_file("x", "x");
    cr_assert_eq(cio_file_open(&f, tmp_path("x"), O_WRONLY | O_CREAT | O_EXCL, 0600), -EEXIST);
    cr_assert_eq(cio_file_open(&f, tmp_path("x"), O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
    cr_assert_eq(cio_file_open(&f, tmp_path("no/such/dir/f"), O_WRONLY | O_CREAT, 0600), -ENOENT);
    cr_assert_eq(cio_mkdir(tmp_path("x"), 0700), -EEXIST);
    cr_assert_eq(cio_unlink(tmp_root), -EISDIR);
    cr_assert_eq(cio_unlink(tmp_path("missing")), -ENOENT);
    cr_assert_eq(cio_rmdir(tmp_root), -ENOTEMPTY);
    cr_assert_eq(cio_rmdir(tmp_path("x")), -ENOTDIR);
    cr_assert_eq(cio_rename(tmp_path("missing"), tmp_path("y")), -ENOENT);
    cr_assert_eq(cio_mkdir(tmp_path("d"), 0700), 0);
    put_file("d/inside", "i");
    cr_assert_eq(cio_rename(tmp_path("x"), tmp_path("d")), -EISDIR);
    cio_stat st;
    cr_assert_eq(cio_stat_path(tmp_path("missing"), &st, true), -ENOENT);
    char *buf = (char *)1;
    cr_assert_eq(cio_read_file(tmp_path("missing"), &buf, 100), -ENOENT);
    cr_assert_null(buf);
    cr_assert_eq(cio_read_file(tmp_root, &buf, 100), -EISDIR);
    cio_dir *d;
    cr_assert_eq(cio_dir_open(&d, tmp_path("x")), -ENOTDIR);
    cr_assert_eq(cio_dir_open(&d, tmp_path("missing")), -ENOENT);
    return 0;
}

Test(file, errors)
{
    cr_assert_eq(run_virtual(errors, NULL), 0);
}

/* Outside a task there is nothing to block: -EPERM, no loop needed. */
Test(file, outside_a_task)
{
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, "/", O_RDONLY, 0), -EPERM);
    cr_assert_eq(cio_mkdir(tmp_path("m"), 0700), -EPERM);
    cio_stat st;
    cr_assert_eq(cio_stat_path("/", &st, true), -EPERM);
    cr_assert_eq(count_entries(tmp_root), 0, "nothing was made");
}

/* ---- metadata --------------------------------------------------------------- */

static int stats(void *arg)
{
    (void)arg;
    put_file("s", "12345");
    cio_stat st;
    cr_assert_eq(cio_stat_path(tmp_path("s"), &st, true), 0);
    cr_assert_eq(st.size, 5);
    cr_assert(S_ISREG(st.mode));
    cr_assert_eq(st.nlink, 1);
    cr_assert_eq(st.uid, getuid());
    struct stat want;
    cr_assert_eq(stat(tmp_path("s"), &want), 0);
    cr_assert_eq(st.ino, want.st_ino);
    cr_assert_eq(st.dev, want.st_dev);
    cr_assert_eq(st.mode, want.st_mode);
    cr_assert_eq(st.mtime_ns, want.st_mtim.tv_sec * 1000000000LL + want.st_mtim.tv_nsec);

    cr_assert_eq(cio_stat_path(tmp_root, &st, true), 0);
    cr_assert(S_ISDIR(st.mode));

    cr_assert_eq(symlink("s", tmp_path("link")), 0);
    cr_assert_eq(cio_stat_path(tmp_path("link"), &st, false), 0);
    cr_assert(S_ISLNK(st.mode), "lstat describes the link");
    cr_assert_eq(cio_stat_path(tmp_path("link"), &st, true), 0);
    cr_assert(S_ISREG(st.mode), "stat follows it");
    cr_assert_eq(st.size, 5);
    return 0;
}

Test(file, stat)
{
    cr_assert_eq(run_virtual(stats, NULL), 0);
}

/* ---- whole files -------------------------------------------------------------- */

static int whole_reads(void *arg)
{
    (void)arg;
    put_file("w", "abc\ndef\n");
    char *buf;
    cr_assert_eq(cio_read_file(tmp_path("w"), &buf, 100), 8);
    cr_assert_str_eq(buf, "abc\ndef\n", "and NUL-terminated");
    free(buf);
    cr_assert_eq(cio_read_file(tmp_path("w"), &buf, 8), 8, "exactly max is fine");
    free(buf);
    cr_assert_eq(cio_read_file(tmp_path("w"), &buf, 7), CIO_ELIMIT);
    cr_assert_null(buf);
    put_file("empty", "");
    cr_assert_eq(cio_read_file(tmp_path("empty"), &buf, 10), 0);
    cr_assert_str_eq(buf, "");
    free(buf);

    /* From the current offset, and larger than the first guess. */
    size_t big = 300000;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("big"), O_RDWR | O_CREAT, 0600), 0);
    cr_assert_eq(cio_file_write_all(f, data, big), 0);
    cr_assert_eq(lseek(cio_file_fd(f), 10, SEEK_SET), 10);
    cr_assert_eq(cio_file_read_all(f, &buf, big), (ssize_t)(big - 10));
    cr_assert_eq(memcmp(buf, data + 10, big - 10), 0);
    free(buf);
    cr_assert_eq(cio_file_close(f), 0);
    free(data);

    /* A FIFO has no size to guess from: read_all grows as it goes. */
    cr_assert_eq(mkfifo(tmp_path("fifo"), 0600), 0);
    cr_assert_eq(cio_file_open(&f, tmp_path("fifo"), O_RDWR, 0), 0);
    int wfd = open(tmp_path("fifo"), O_WRONLY);
    cr_assert_geq(wfd, 0);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_eq(cio_file_open(&f, tmp_path("fifo"), O_RDONLY, 0), 0);
    char chunk[5000];
    memset(chunk, 'q', sizeof chunk);
    cr_assert_eq(write(wfd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
    close(wfd);
    cr_assert_eq(cio_file_read_all(f, &buf, 1 << 20), (ssize_t)sizeof chunk);
    cr_assert_eq(memcmp(buf, chunk, sizeof chunk), 0);
    free(buf);
    cr_assert_eq(cio_file_close(f), 0);
    return 0;
}

Test(file, read_all)
{
    cr_assert_eq(run_virtual(whole_reads, NULL), 0);
}

/* ---- rename, unlink, mkdir -p --------------------------------------------------- */

static int renames(void *arg)
{
    (void)arg;
    put_file("a", "A");
    put_file("b", "B");
    cr_assert_eq(cio_rename(tmp_path("a"), tmp_path("b")), 0);
    cr_assert_str_eq(get_file("b"), "A", "replaced");
    cr_assert_eq(access(tmp_path("a"), F_OK), -1);
    cr_assert_eq(cio_unlink(tmp_path("b")), 0);
    cr_assert_eq(access(tmp_path("b"), F_OK), -1);
    cr_assert_eq(cio_mkdir(tmp_path("d"), 0700), 0);
    cr_assert_eq(cio_rmdir(tmp_path("d")), 0);
    cr_assert_eq(count_entries(tmp_root), 0);
    return 0;
}

Test(file, rename_unlink)
{
    cr_assert_eq(run_virtual(renames, NULL), 0);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mkdir_all(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_mkdir_all(tmp_path("a/b/c/d"), 0755), 0);
    cr_assert(is_dir(tmp_path("a/b/c/d")));
    cr_assert_eq(cio_mkdir_all(tmp_path("a/b/c/d"), 0755), 0, "exists: fine");
    cr_assert_eq(cio_mkdir_all(tmp_path("a/b"), 0755), 0);
    cr_assert_eq(cio_mkdir_all(tmp_path("a/x/y/"), 0755), 0, "trailing slash");
    cr_assert(is_dir(tmp_path("a/x/y")));
    cr_assert_eq(cio_mkdir_all(tmp_path("a//z"), 0755), 0, "double slash");
    cr_assert(is_dir(tmp_path("a/z")));
    put_file("file", "f");
    cr_assert_eq(cio_mkdir_all(tmp_path("file"), 0755), -EEXIST, "not a directory");
    cr_assert_eq(cio_mkdir_all(tmp_path("file/sub/dir"), 0755), -ENOTDIR);
    cr_assert_eq(cio_mkdir_all("", 0755), -ENOENT);
    cr_assert_eq(cio_mkdir_all("/", 0755), 0);
    struct stat st;
    cr_assert_eq(stat(tmp_path("a/b/c"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0755 & ~(mode_t)umask(022));
    return 0;
}

Test(file, mkdir_all)
{
    umask(022);
    cr_assert_eq(run_virtual(mkdir_all, NULL), 0);
}

/* ---- listing -------------------------------------------------------------------- */

static int listing(void *arg)
{
    (void)arg;
    put_file("one", "1");
    put_file("two", "2");
    cr_assert_eq(mkdir(tmp_path("sub"), 0700), 0);
    cr_assert_eq(symlink("one", tmp_path("ln")), 0);
    cio_dir *d;
    cr_assert_eq(cio_dir_open(&d, tmp_root), 0);
    cio_dirent e;
    int seen = 0, rc;
    while ((rc = cio_dir_next(d, &e)) == 1) {
        struct stat st;
        cr_assert_eq(lstat(tmp_path(e.name), &st), 0, "%s", e.name);
        cr_assert_eq(e.ino, st.st_ino);
        if (strcmp(e.name, "one") == 0 || strcmp(e.name, "two") == 0)
            cr_assert(e.type == DT_REG || e.type == DT_UNKNOWN);
        else if (strcmp(e.name, "sub") == 0)
            cr_assert(e.type == DT_DIR || e.type == DT_UNKNOWN);
        else if (strcmp(e.name, "ln") == 0)
            cr_assert(e.type == DT_LNK || e.type == DT_UNKNOWN);
        else
            cr_assert_fail("unexpected entry %s", e.name);
        seen++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(seen, 4, "no . or ..");
    cr_assert_eq(cio_dir_next(d, &e), 0, "stays at the end");
    cr_assert_eq(cio_dir_close(d), 0);

    cr_assert_eq(cio_dir_open(&d, tmp_path("sub")), 0);
    cr_assert_eq(cio_dir_next(d, &e), 0, "empty");
    cr_assert_eq(cio_dir_close(d), 0);

    /* A cancellation point even when the entry is already buffered, and
     * no entry is lost to it. */
    cr_assert_eq(cio_dir_open(&d, tmp_root), 0);
    cr_assert_eq(cio_dir_next(d, &e), 1);
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_dir_next(d, &e), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    seen = 1;
    while ((rc = cio_dir_next(d, &e)) == 1)
        seen++;
    cr_assert_eq(rc, 0);
    cr_assert_eq(seen, 4);
    cr_assert_eq(cio_dir_close(d), 0);
    return 0;
}

Test(file, listing)
{
    cr_assert_eq(run_virtual(listing, NULL), 0);
}

/* More entries than one 32 KiB batch holds: every one seen exactly once. */
#define MANY 1500

static int listing_many(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_mkdir(tmp_path("many"), 0700), 0);
    for (int i = 0; i < MANY; i++) {
        char name[96];
        snprintf(name, sizeof name, "many/entry-with-a-long-name-to-fill-batches-%05d", i);
        put_file(name, "");
    }
    static bool seen[MANY];
    memset(seen, 0, sizeof seen);
    cio_dir *d;
    cr_assert_eq(cio_dir_open(&d, tmp_path("many")), 0);
    cio_dirent e;
    int n = 0, rc;
    while ((rc = cio_dir_next(d, &e)) == 1) {
        int i = atoi(e.name + strlen("entry-with-a-long-name-to-fill-batches-"));
        cr_assert(i >= 0 && i < MANY && !seen[i], "%s", e.name);
        seen[i] = true;
        n++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, MANY);
    cr_assert_eq(cio_dir_close(d), 0);
    return 0;
}

Test(file, listing_many_batches)
{
    cr_assert_eq(run_virtual(listing_many, NULL), 0);
}
