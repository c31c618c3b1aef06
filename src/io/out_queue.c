/* out_queue.c — the output queue's chunks and their per-thread cache. */
#include "out_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cio_out_chunk {
    cio_out_chunk *next;
    size_t start, end, cap;     /* unsent bytes: data[start..end) */
    char data[];
};

/* A standard chunk holds 4 KiB of data (a page-sized message, the common
 * case, fits one cached chunk instead of a malloc of its own); bigger
 * appends get one chunk of their own size, copied once. */
#define CHUNK_DATA 4096u
#define CACHE_MAX 64

static __thread cio_out_chunk *cache;
static __thread size_t cached, users;

static cio_out_chunk *chunk_new(size_t need)
{
    cio_out_chunk *c;
    size_t cap = need > CHUNK_DATA ? need : CHUNK_DATA;
    if (cap == CHUNK_DATA && cache) {
        c = cache;
        cache = c->next;
        cached--;
    } else {
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
    }
    c->next = NULL;
    c->start = c->end = 0;
    c->cap = cap;
    return c;
}

static void chunk_free(cio_out_chunk *c)
{
    if (c->cap == CHUNK_DATA && users && cached < CACHE_MAX) {
        c->next = cache;
        cache = c;
        cached++;
    } else {
        free(c);
    }
}

void cio_outq_thread_enter(void) { users++; }

void cio_outq_thread_leave(void)
{
    if (--users)
        return;
    while (cache) {
        cio_out_chunk *c = cache;
        cache = c->next;
        free(c);
    }
    cached = 0;
}

void cio_outq_init(cio_out_queue *q)
{
    q->head = q->tail = NULL;
    q->bytes = 0;
}

/* Copy iov's bytes from offset skip on into dst, at most room of them;
 * returns how many were copied. */
static size_t gather(char *dst, size_t room, const struct iovec *iov, int iovcnt, size_t skip)
{
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < room; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        size_t n = len - skip < room - done ? len - skip : room - done;
        memcpy(dst + done, (const char *)iov[i].iov_base + skip, n);
        done += n;
        skip = 0;
    }
    return done;
}

int cio_outq_append(cio_out_queue *q, const struct iovec *iov, int iovcnt, size_t skip)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (skip >= total)
        return 0;
    size_t n = total - skip;
    cio_out_chunk *t = q->tail;
    size_t room = t ? t->cap - t->end : 0;
    cio_out_chunk *fresh = NULL;
    if (n > room && !(fresh = chunk_new(n - room)))
        return -ENOMEM;         /* nothing copied yet */
    if (room) {
        size_t k = gather(t->data + t->end, room, iov, iovcnt, skip);
        t->end += k;
        skip += k;
    }
    if (fresh) {
        fresh->end = gather(fresh->data, fresh->cap, iov, iovcnt, skip);
        if (t)
            t->next = fresh;
        else
            q->head = fresh;
        q->tail = fresh;
    }
    q->bytes += n;
    return 0;
}

int cio_outq_peek(const cio_out_queue *q, struct iovec *iov, int max)
{
    int n = 0;
    for (cio_out_chunk *c = q->head; c && n < max; c = c->next) {
        if (c->end == c->start)
            continue;
        iov[n].iov_base = c->data + c->start;
        iov[n].iov_len = c->end - c->start;
        n++;
    }
    return n;
}

void cio_outq_consume(cio_out_queue *q, size_t n)
{
    q->bytes -= n;
    while (n && q->head) {
        cio_out_chunk *c = q->head;
        size_t have = c->end - c->start;
        if (n < have) {
            c->start += n;
            return;
        }
        n -= have;
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        chunk_free(c);
    }
}

void cio_outq_clear(cio_out_queue *q)
{
    while (q->head) {
        cio_out_chunk *c = q->head;
        q->head = c->next;
        chunk_free(c);
    }
    q->tail = NULL;
    q->bytes = 0;
}
