/* test_file_io.c — cio/file.h beyond single calls: atomic whole-file
 * writes (success and failure, no temporary file left), a file read as a
 * buffered stream, and cancellation of pending file operations on both
 * backends without a leaked descriptor. Pending operations are made with
 * FIFOs (a read with no writer's data, an open with no writer); tasks are
 * ordered by the run queue and cancelled explicitly, never with sleeps.
 */
#include "helpers.h"
#include "file_helpers.h"
#include "core/internal.h"     /* the loop's handle registry */
#include "debug/handle.h"

static void setup(void) { make_tmp_root(); }
static void teardown(void) { remove_tmp_root(); }

TestSuite(file_io, .init = setup, .fini = teardown);

/* ---- atomic writes ---------------------------------------------------------- */

static int atomic_ok(void *arg)
{
    (void)arg;
    const char *p = tmp_path("state.json");
    cr_assert_eq(cio_write_file_atomic(p, "{\"v\":1}", 7, 0644), 0);
    cr_assert_str_eq(get_file("state.json"), "{\"v\":1}");
    cr_assert_eq(cio_write_file_atomic(p, "{\"v\":22}", 8, 0644), 0, "replace");
    cr_assert_str_eq(get_file("state.json"), "{\"v\":22}");
    cr_assert_eq(cio_write_file_atomic(p, "", 0, 0644), 0, "empty content");
    cr_assert_str_eq(get_file("state.json"), "");
    cr_assert_eq(count_entries(tmp_root), 1, "no temporary file left");
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644 & ~(mode_t)022);

    /* A relative path: the temporary file goes in the working directory. */
    char cwd[512];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(tmp_root), 0);
    int rc = cio_write_file_atomic("rel", "r", 1, 0600);
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(get_file("rel"), "r");
    cr_assert_eq(count_entries(tmp_root), 2);
    return 0;
}

Test(file_io, atomic_write)
{
    umask(022);
    cr_assert_eq(run_virtual(atomic_ok, NULL), 0);
}

static int atomic_fails(void *arg)
{
    (void)arg;
    /* The target is a directory: the rename fails after the temporary file
     * was written and synced; it is removed, the directory untouched. */
    cr_assert_eq(mkdir(tmp_path("target"), 0700), 0);
    put_file("target/keep", "k");
    cr_assert_eq(cio_write_file_atomic(tmp_path("target"), "new", 3, 0644), -EISDIR);
    cr_assert_eq(count_entries(tmp_root), 1, "only the directory: no temporary file");
    cr_assert_eq(count_entries(tmp_path("target")), 1);
    cr_assert_str_eq(get_file("target/keep"), "k");

    /* The directory does not exist: nothing is made. */
    cr_assert_eq(cio_write_file_atomic(tmp_path("nodir/f"), "x", 1, 0644), -ENOENT);
    cr_assert_eq(count_entries(tmp_root), 1);
    return 0;
}

Test(file_io, atomic_write_failure_leaves_nothing)
{
    cr_assert_eq(run_virtual(atomic_fails, NULL), 0);
}

/* Cancelled before it begins: the old content stays, no temporary file. */
static int atomic_cancelled(void *arg)
{
    (void)arg;
    put_file("old", "old content");
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    int rc = cio_write_file_atomic(tmp_path("old"), "new", 3, 0644);
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_str_eq(get_file("old"), "old content");
    cr_assert_eq(count_entries(tmp_root), 1);
    return 0;
}

Test(file_io, atomic_write_cancelled)
{
    cr_assert_eq(run_virtual(atomic_cancelled, NULL), 0);
}

/* Without the fsyncs (cio_write_file_atomic_ex, CIO_ATOMIC_NO_SYNC): the
 * same replacement, the same cleanup on failure; an unknown flag refused. */
static int atomic_no_sync(void *arg)
{
    (void)arg;
    const char *p = tmp_path("page");
    cr_assert_eq(cio_write_file_atomic_ex(p, "one", 3, 0644, CIO_ATOMIC_NO_SYNC), 0);
    cr_assert_str_eq(get_file("page"), "one");
    cr_assert_eq(cio_write_file_atomic_ex(p, "two!", 4, 0644, CIO_ATOMIC_NO_SYNC), 0);
    cr_assert_str_eq(get_file("page"), "two!");
    cr_assert_eq(count_entries(tmp_root), 1, "no temporary file left");
    cr_assert_eq(mkdir(tmp_path("dir"), 0700), 0);
    cr_assert_eq(cio_write_file_atomic_ex(tmp_path("dir"), "x", 1, 0644, CIO_ATOMIC_NO_SYNC),
                 -EISDIR);
    cr_assert_eq(count_entries(tmp_root), 2, "the failed write left nothing");
    cr_assert_eq(cio_write_file_atomic_ex(p, "x", 1, 0644, 1u << 7), -EINVAL);
    cr_assert_str_eq(get_file("page"), "two!");
    return 0;
}

Test(file_io, atomic_write_no_sync)
{
    cr_assert_eq(run_virtual(atomic_no_sync, NULL), 0);
}

/* ---- streams over files ----------------------------------------------------------- */

static int lines(void *arg)
{
    (void)arg;
    /* Longer than the stream's first buffer, so it reads several times. */
    FILE *fp = fopen(tmp_path("lines"), "w");
    for (int i = 0; i < 1000; i++)
        fprintf(fp, "line %d\n", i);
    fputs("last without newline", fp);
    fclose(fp);

    cio_stream *st;
    cr_assert_eq(cio_open_file_stream(&st, tmp_path("lines"), NULL), 0);
    char buf[128];
    for (int i = 0; i < 1000; i++) {
        char want[32];
        int n = snprintf(want, sizeof want, "line %d\n", i);
        cr_assert_eq(cio_stream_read_line(st, buf, sizeof buf), n);
        cr_assert_str_eq(buf, want);
    }
    cr_assert_eq(cio_stream_read_line(st, buf, sizeof buf), 20, "the tail");
    cr_assert_str_eq(buf, "last without newline");
    cr_assert_eq(cio_stream_read_line(st, buf, sizeof buf), 0, "end of file");
    cr_assert(cio_stream_at_eof(st));

    cr_assert_eq(cio_stream_write(st, "x", 1), -EBADF, "read-only");
    cio_addr a;
    cr_assert_eq(cio_stream_peer_addr(st, &a), -ENOTSOCK);
    cr_assert_null(cio_stream_socket(st));
    cr_assert_eq(cio_stream_close(st), 0);
    return 0;
}

Test(file_io, read_line_over_a_file)
{
    cr_assert_eq(run_virtual(lines, NULL), 0);
}

/* A stream starts at the file's offset; read_all works too. */
static int stream_from_offset(void *arg)
{
    (void)arg;
    put_file("h", "HEADER\nbody one\nbody two\n");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("h"), O_RDONLY, 0), 0);
    char head[7];
    cr_assert_eq(cio_file_read(f, head, 7), 7);
    cio_stream *st;
    cr_assert_eq(cio_file_stream(&st, f, &(cio_stream_opts){ .read_buffer = 4 }), 0);
    char *rest;
    cr_assert_eq(cio_stream_read_all(st, &rest, 1000), 18);
    cr_assert_eq(memcmp(rest, "body one\nbody two\n", 18), 0);
    free(rest);
    cr_assert_eq(cio_stream_close(st), 0);
    return 0;
}

Test(file_io, stream_from_the_offset)
{
    cr_assert_eq(run_virtual(stream_from_offset, NULL), 0);
}

/* ---- cancellation ----------------------------------------------------------------- */

typedef struct blocked {
    cio_file *f;
    const char *path;
    ssize_t rc;
    char buf[16];
    int writer;             /* a write end held open, or -1 */
} blocked;

static int read_fifo(void *arg)
{
    blocked *b = arg;
    memset(b->buf, 0, sizeof b->buf);
    b->rc = cio_file_read(b->f, b->buf, sizeof b->buf);
    return 0;
}

/* Release whatever still blocks on the FIFO (an epoll worker): write into
 * it through a descriptor of our own. A feed is as long as the most one
 * read takes, so n feeds release n blocked readers whatever they take. */
static void feed_fifo(const char *path)
{
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "late bytes here!", 16), 16);
    close(fd);
}

static int cancel_read(void *arg)
{
    blocked *b = arg;
    cr_assert_eq(cio_file_open(&b->f, b->path, O_RDWR, 0), 0);
    cio_task *t = spawn(read_fifo, b, "reader");
    cr_assert_eq(cio_sleep(0), 0);      /* the reader starts and blocks */
    cr_assert_eq(b->rc, 99, "still blocked");
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(b->rc, -ECANCELED);
    /* Closed while an epoll worker may still read from it: the descriptor
     * stays open for the worker, and is closed when it is done. */
    memset(b->buf, 0, sizeof b->buf);
    cr_assert_eq(cio_file_close(b->f), 0);
    feed_fifo(b->path);
    return 0;
}

Test(file_io, cancel_a_pending_read)
{
    int before = open_fds();
    blocked b = { .path = tmp_path("fifo"), .rc = 99 };
    cr_assert_eq(mkfifo(b.path, 0600), 0);
    cr_assert_eq(run_real(cancel_read, &b), 0);
    cr_assert_eq(open_fds(), before, "no descriptor leaked");
    cr_assert_eq(b.buf[0], 0, "nothing written into the caller's buffer late");
}

/* A deadline reaches a pending read: the scope reports -ETIMEDOUT. */
static int deadline_read(void *arg)
{
    blocked *b = arg;
    cr_assert_eq(cio_file_open(&b->f, b->path, O_RDWR, 0), 0);
    cio_scope s;
    cio_scope_enter(&s, cio_now() + 20 * 1000000LL);
    ssize_t n = cio_file_read(b->f, b->buf, sizeof b->buf);
    cr_assert_eq(n, -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    feed_fifo(b->path);
    cr_assert_eq(cio_file_close(b->f), 0);
    return 0;
}

Test(file_io, deadline_on_a_pending_read)
{
    int before = open_fds();
    blocked b = { .path = tmp_path("fifo") };
    cr_assert_eq(mkfifo(b.path, 0600), 0);
    cr_assert_eq(run_real(deadline_read, &b), 0);
    cr_assert_eq(open_fds(), before);
}

/* An open that blocks (a FIFO opened for reading waits for a writer) is
 * cancelled; the writer that comes later lets an epoll worker's open
 * succeed, and the descriptor it got is closed: none leaks. The writer
 * stays open until the loop has closed: a worker slow to start its open
 * would otherwise miss a writer that came and went, and block for ever. */
static int open_fifo(void *arg)
{
    blocked *b = arg;
    b->rc = cio_file_open(&b->f, b->path, O_RDONLY, 0);
    return 0;
}

static int cancel_open(void *arg)
{
    blocked *b = arg;
    cio_task *t = spawn(open_fifo, b, "opener");
    cr_assert_eq(cio_sleep(0), 0);
    cr_assert_eq(b->rc, 99, "still blocked");
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    cr_assert_eq(b->rc, -ECANCELED);
    cr_assert_null(b->f);
    b->writer = open(b->path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(b->writer, 0);
    return 0;
}

Test(file_io, cancel_a_pending_open)
{
    int before = open_fds();
    blocked b = { .path = tmp_path("fifo"), .rc = 99, .writer = -1 };
    cr_assert_eq(mkfifo(b.path, 0600), 0);
    cr_assert_eq(run_real(cancel_open, &b), 0);
    cr_assert_eq(close(b.writer), 0);
    cr_assert_eq(open_fds(), before, "no descriptor leaked");
}

/* An open cancelled right after it was submitted: on io_uring the kernel
 * usually opens a regular file at once, as the cancel flushes the ring, so
 * the open succeeds as it is cancelled and the descriptor it got must be
 * closed; on epoll the worker's late descriptor is. Either way: -ECANCELED
 * and no descriptor left. */
static int cancel_quick_opens(void *arg)
{
    blocked *b = arg;
    for (int i = 0; i < 20; i++) {
        b->rc = 99;
        b->f = NULL;
        cio_task *t = spawn(open_fifo, b, "opener");
        cr_assert_eq(cio_sleep(0), 0);      /* it submits and parks */
        cio_task_cancel(t);
        cr_assert_eq(cio_task_join(t, NULL), 0);
        if (b->rc == 0)                     /* finished before the cancel */
            cr_assert_eq(cio_file_close(b->f), 0);
        else
            cr_assert_eq(b->rc, -ECANCELED);
    }
    return 0;
}

Test(file_io, cancel_an_open_that_succeeds)
{
    put_file("plain", "p");
    int before = open_fds();
    blocked b = { .path = tmp_path("plain") };
    cr_assert_eq(run_real(cancel_quick_opens, &b), 0);
    cr_assert_eq(open_fds(), before, "no descriptor leaked");
}

/* The open has succeeded on a worker but the caller has not yet been told
 * when it is cancelled: the FIFO opener blocks until a writer comes; we
 * become that writer once the opener waits (a non-blocking open for
 * writing succeeds only then), and cancel it before the loop can deliver
 * the result (this task does not yield in between). The worker's late
 * descriptor must be closed by the job's disposal: -ECANCELED, no leak.
 * (io_uring opens a FIFO without waiting for a writer, so there the open
 * just succeeds; cancel_an_open_that_succeeds covers its path.) */
static int cancel_open_as_it_succeeds(void *arg)
{
    blocked *b = arg;
    cio_task *t = spawn(open_fifo, b, "opener");
    int wfd = -1;
    for (long i = 0; i < 1000000 && wfd < 0 && b->rc == 99; i++) {
        cr_assert_eq(cio_sleep(0), 0);  /* let the loop submit, workers run */
        wfd = open(b->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        cr_assert(wfd >= 0 || errno == ENXIO, "open: %s", strerror(errno));
    }
    if (b->rc == 99) {
        cr_assert_geq(wfd, 0, "the opener never waited for a writer");
        cio_task_cancel(t);
    }
    cr_assert_eq(cio_task_join(t, NULL), 0);
    if (strcmp(cio_tls_loop->poller.be->name, "epoll") == 0) {
        cr_assert_eq(b->rc, -ECANCELED);
        cr_assert_null(b->f);
    } else if (b->rc == 0) {
        cr_assert_eq(cio_file_close(b->f), 0);
    }
    if (wfd >= 0)
        close(wfd);
    return 0;
}

Test(file_io, cancel_an_open_as_it_succeeds)
{
    int before = open_fds();
    blocked b = { .path = tmp_path("fifo"), .rc = 99 };
    cr_assert_eq(mkfifo(b.path, 0600), 0);
    cr_assert_eq(run_real(cancel_open_as_it_succeeds, &b), 0);
    cr_assert_eq(open_fds(), before, "no descriptor leaked");
}

/* Where the work ran: io_uring never starts the thread pool for file
 * operations (only for listing); epoll runs them all there. */
static int where_it_runs(void *arg)
{
    (void)arg;
    bool uring = strcmp(cio_tls_loop->poller.be->name, "io_uring") == 0;
    cr_assert_eq(cio_tls_loop->poller.file_ops, uring);
    put_file("w", "data");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("w"), O_RDWR, 0), 0);
    char buf[8];
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 4);
    cr_assert_eq(cio_file_pwrite(f, "x", 1, 0), 1);
    cr_assert_eq(cio_file_fsync(f), 0);
    cio_stat st;
    cr_assert_eq(cio_file_stat(f, &st), 0);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_eq(cio_mkdir_all(tmp_path("d/e"), 0700), 0);
    cr_assert_eq(cio_rename(tmp_path("w"), tmp_path("d/w")), 0);
    cr_assert_eq(cio_unlink(tmp_path("d/w")), 0);
    cr_assert_eq(cio_tls_loop->threadpool != NULL, !uring,
                 "thread pool used: %d on %s", cio_tls_loop->threadpool != NULL,
                 cio_tls_loop->poller.be->name);
    return 0;
}

Test(file_io, ring_on_io_uring_thread_pool_on_epoll)
{
    cr_assert_eq(run_virtual(where_it_runs, NULL), 0);
}

/* Many operations cancelled at once by one scope: all return, no leak. */
static int many_readers(void *arg)
{
    blocked *b = arg;
    cr_assert_eq(cio_file_open(&b->f, b->path, O_RDWR, 0), 0);
    blocked rd[8];
    cio_task *t[8];
    for (int i = 0; i < 8; i++) {
        rd[i] = (blocked){ .f = b->f, .rc = 99 };
        t[i] = spawn(read_fifo, &rd[i], "reader");
    }
    cr_assert_eq(cio_sleep(0), 0);
    for (int i = 0; i < 8; i++)
        cio_task_cancel(t[i]);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(cio_task_join(t[i], NULL), 0);
        cr_assert_eq(rd[i].rc, -ECANCELED);
    }
    for (int i = 0; i < 8; i++)
        feed_fifo(b->path);     /* one per blocked epoll worker, at most */
    cr_assert_eq(cio_file_close(b->f), 0);
    return 0;
}

Test(file_io, cancel_many_pending_reads)
{
    int before = open_fds();
    blocked b = { .path = tmp_path("fifo") };
    cr_assert_eq(mkfifo(b.path, 0600), 0);
    cio_loop_options o = { .threads = 8 };
    cr_assert_eq(cio_run_with(&o, many_readers, &b), 0);
    cr_assert_eq(open_fds(), before);
}

/* An open file or directory is a handle in the loop's registry (what
 * debug mode reports at close if it was left open) until it is closed. */
static int handle_tracked(void *arg)
{
    (void)arg;
    put_file("t", "t");
    cr_assert_null(cio_tls_loop->handles);
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, tmp_path("t"), O_RDONLY, 0), 0);
    cio_handle *h = cio_tls_loop->handles;
    cr_assert_not_null(h);
    cr_assert_str_eq(h->kind, "file");
    cr_assert_eq(h->fd, cio_file_fd(f));
    cio_dir *d;
    cr_assert_eq(cio_dir_open(&d, tmp_root), 0);
    cr_assert_str_eq(cio_tls_loop->handles->kind, "dir");
    cr_assert_eq(cio_tls_loop->handles->next, h);
    cr_assert_eq(cio_dir_close(d), 0);
    cr_assert_eq(cio_tls_loop->handles, h);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_null(cio_tls_loop->handles);
    return 0;
}

Test(file_io, files_are_tracked_handles)
{
    int before = open_fds();
    cr_assert_eq(run_virtual(handle_tracked, NULL), 0);
    cr_assert_eq(open_fds(), before);
}

/* ---- examples/bigfile ------------------------------------------------------------ */

/* The example built beside this test: BUILD/examples/bigfile. */
static const char *bigfile_exe(void)
{
    static char path[1024];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 64);
    cr_assert_gt(n, 0);
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    cr_assert_not_null(slash);
    strcpy(slash, "/../examples/bigfile");
    return path;
}

/* The first line a shell command prints. */
static const char *run_cmd(const char *cmd)
{
    static char out[512];
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    out[0] = '\0';
    if (!fgets(out, sizeof out, p))
        out[0] = '\0';
    cr_assert_eq(pclose(p), 0, "%s failed", cmd);
    return out;
}

Test(file_io, bigfile_counts_like_wc)
{
    /* Words split by every kind of ASCII white space, long lines, a chunk
     * boundary inside words (--buffer 1000), no final newline. */
    FILE *fp = fopen(tmp_path("text"), "w");
    unsigned seed = 7;
    static const char *const parts[] = { "a", "bb", "word", " ", "  ", "\t", "\n",
                                         "\r\n", "\v", "\f", "\n\n", "x-y_z" };
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        fputs(parts[(seed >> 16) % 12], fp);
    }
    fputs("tail", fp);
    fclose(fp);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "LC_ALL=C wc < %s", tmp_path("text"));
    unsigned long long wl, ww, wb, bl, bw, bb;
    cr_assert_eq(sscanf(run_cmd(cmd), "%llu %llu %llu", &wl, &ww, &wb), 3);
    snprintf(cmd, sizeof cmd, "%s count %s --buffer 1000", bigfile_exe(), tmp_path("text"));
    cr_assert_eq(sscanf(run_cmd(cmd), "%llu %llu %llu", &bl, &bw, &bb), 3);
    cr_assert_eq(bl, wl, "lines");
    cr_assert_eq(bw, ww, "words");
    cr_assert_eq(bb, wb, "bytes");
    cr_assert_gt(bw, 1000, "the file has many words");

    snprintf(cmd, sizeof cmd, "%s copy %s %s --buffer 4096 && cmp %s %s && echo same",
             bigfile_exe(), tmp_path("text"), tmp_path("copy"), tmp_path("text"),
             tmp_path("copy"));
    cr_assert_str_eq(run_cmd(cmd), "same\n");
}

Test(file_io, bigfile_reports_errors)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s count %s 2>&1; echo rc=$?", bigfile_exe(), tmp_path("nope"));
    FILE *p = popen(cmd, "r");
    char out[4096] = { 0 };
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert(strstr(out, "No such file") || strstr(out, "ENOENT"), "%s", out);
    cr_assert(strstr(out, "rc=1"), "%s", out);
}
