/* bigfile.c — a file of any size with memory that does not grow with it:
 * count its lines, words and bytes (like `wc`), or copy it (like `cp`),
 * streaming through fixed-size buffers with cio's file API.
 *
 *   bigfile count FILE [--buffer BYTES]
 *   bigfile copy SRC DST [--buffer BYTES]
 *
 * count prints "LINES WORDS BYTES FILE" as `LC_ALL=C wc` does (a word is a
 * run of bytes that are not ASCII white space). copy makes DST (mode 0644,
 * truncated if it exists). The buffer is 1 MiB unless told; copy uses two,
 * so the next read is in flight while the last chunk is written.
 *
 * The brief's pain point in Python:
 *     data = open(path).read()          # 4 GB file -> 4 GB of memory
 * and the fix, with aiofiles:
 *     async with aiofiles.open(path, "rb") as f:
 *         while chunk := await f.read(1 << 20): ...
 * Here the loop keeps running other tasks while each read waits (io_uring:
 * a read in the ring; epoll: the thread pool).
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUFFER (1u << 20)

struct job {
    const char *cmd, *src, *dst;
    size_t buffer;
};

static int usage(void)
{
    fprintf(stderr, "usage: bigfile count FILE [--buffer BYTES]\n"
                    "       bigfile copy SRC DST [--buffer BYTES]\n");
    return 2;
}

/* ---- count ------------------------------------------------------------------ */

struct counts {
    unsigned long long lines, words, bytes;
    bool in_word;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static void count_chunk(struct counts *c, const unsigned char *p, size_t n)
{
    unsigned long long lines = 0, words = 0;
    bool in_word = c->in_word;
    for (size_t i = 0; i < n; i++) {
        bool space = is_space(p[i]);
        lines += p[i] == '\n';
        words += in_word == false && !space;
        in_word = !space;
    }
    c->lines += lines;
    c->words += words;
    c->bytes += n;
    c->in_word = in_word;
}

static int count(const struct job *j)
{
    cio_file *f;
    int rc = cio_file_open(&f, j->src, O_RDONLY, 0);
    if (rc < 0) {
        fprintf(stderr, "bigfile: %s: %s\n", j->src, cio_strerror(rc));
        return 1;
    }
    unsigned char *buf = malloc(j->buffer);
    struct counts c = { 0 };
    ssize_t n = buf ? 0 : -ENOMEM;
    while (buf && (n = cio_file_read(f, buf, j->buffer)) > 0)
        count_chunk(&c, buf, (size_t)n);
    free(buf);
    int crc = cio_file_close(f);
    if (n < 0 || crc < 0) {
        fprintf(stderr, "bigfile: %s: %s\n", j->src, cio_strerror(n < 0 ? (int)n : crc));
        return 1;
    }
    printf("%llu %llu %llu %s\n", c.lines, c.words, c.bytes, j->src);
    return 0;
}

/* ---- copy ------------------------------------------------------------------- */

/* Two buffers: while the writer task writes one, the main task reads into
 * the other. A queue of one slot hands full buffers over; another hands
 * empty ones back. */
struct chunk {
    char *data;
    ssize_t len;                /* 0: the end; < 0: the reader's error */
};

struct pipeline {
    cio_file *out;
    cio_queue full, empty;
    int write_error;
};

static int writer(void *arg)
{
    struct pipeline *p = arg;
    for (;;) {
        struct chunk c;
        int rc = cio_queue_get(&p->full, &c);
        if (rc < 0)
            return rc;
        if (c.len <= 0)
            return 0;
        if (!p->write_error)
            p->write_error = cio_file_write_all(p->out, c.data, (size_t)c.len);
        rc = cio_queue_put(&p->empty, &c);
        if (rc < 0)
            return rc;
    }
}

static int pump(cio_file *in, struct pipeline *p, size_t size)
{
    for (;;) {
        struct chunk c;
        int rc = cio_queue_get(&p->empty, &c);
        if (rc < 0)
            return rc;
        c.len = p->write_error ? 0 : cio_file_read(in, c.data, size);
        rc = cio_queue_put(&p->full, &c);
        if (rc < 0)
            return rc;
        if (c.len <= 0)
            return c.len < 0 ? (int)c.len : 0;
    }
}

static int copy_files(cio_file *in, cio_file *out, size_t size)
{
    struct pipeline p = { .out = out };
    char *bufs[2] = { malloc(size), malloc(size) };
    int rc = bufs[0] && bufs[1] ? 0 : -ENOMEM;
    if (rc == 0)
        rc = cio_queue_init(&p.full, sizeof(struct chunk), 2);
    if (rc == 0)
        rc = cio_queue_init(&p.empty, sizeof(struct chunk), 2);
    for (int i = 0; rc == 0 && i < 2; i++)
        rc = cio_queue_put(&p.empty, &(struct chunk){ bufs[i], 0 });
    cio_task *w = NULL;
    if (rc == 0)
        rc = cio_task_spawn(&w, writer, &p, &(cio_task_opts){ .name = "writer" });
    if (rc == 0) {
        rc = pump(in, &p, size);
        int wrc = cio_task_join(w, NULL);
        if (rc == 0)
            rc = p.write_error ? p.write_error : wrc;
    }
    cio_queue_destroy(&p.full);
    cio_queue_destroy(&p.empty);
    free(bufs[0]);
    free(bufs[1]);
    return rc;
}

static int copy(const struct job *j)
{
    cio_file *in, *out;
    int rc = cio_file_open(&in, j->src, O_RDONLY, 0);
    if (rc < 0) {
        fprintf(stderr, "bigfile: %s: %s\n", j->src, cio_strerror(rc));
        return 1;
    }
    rc = cio_file_open(&out, j->dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (rc < 0) {
        fprintf(stderr, "bigfile: %s: %s\n", j->dst, cio_strerror(rc));
        int ignored = cio_file_close(in);
        (void)ignored;
        return 1;
    }
    rc = copy_files(in, out, j->buffer);
    int crc = cio_file_close(out);
    int ignored = cio_file_close(in);
    (void)ignored;
    if (rc == 0)
        rc = crc;
    if (rc < 0) {
        fprintf(stderr, "bigfile: copy %s to %s: %s\n", j->src, j->dst, cio_strerror(rc));
        return 1;
    }
    return 0;
}

static int run(void *arg)
{
    const struct job *j = arg;
    return strcmp(j->cmd, "count") == 0 ? count(j) : copy(j);
}

int main(int argc, char **argv)
{
    struct job j = { .buffer = DEFAULT_BUFFER };
    const char *pos[3];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--buffer") == 0 && i + 1 < argc) {
            long long n = atoll(argv[++i]);
            if (n <= 0)
                return usage();
            j.buffer = (size_t)n;
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npos == 2 && strcmp(pos[0], "count") == 0) {
        j.cmd = pos[0];
        j.src = pos[1];
    } else if (npos == 3 && strcmp(pos[0], "copy") == 0) {
        j.cmd = pos[0];
        j.src = pos[1];
        j.dst = pos[2];
    } else {
        return usage();
    }
    return cio_run(run, &j);
}
