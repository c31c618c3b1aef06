/* stack_reserve.c — unguarded stacks: carved from chunks, recycled, never
 * unmapped. */
#include "stack.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Unguarded stacks of one size sit side by side in a chunk (one mapping, one
 * entry of vm.max_map_count for CHUNK_STACKS stacks). Unmapping one from the
 * middle would split the chunk's mapping in two and could itself fail once
 * the map count is exhausted, so a released unguarded stack is never
 * unmapped: its pages go back to the kernel (MADV_DONTNEED) and the stack
 * waits on a free list of its size for the next spawn. The address space is
 * kept for the life of the process; the memory is not. */

#define CHUNK_STACKS 64

struct size_class {
    struct size_class *next;
    size_t size;                /* bytes per stack, page-rounded */
    cio_stack *free;            /* released stacks (kept outside the stacks,
                                   so a free stack commits no page) */
    size_t n_free, cap;
};

static pthread_mutex_t reserve_lock = PTHREAD_MUTEX_INITIALIZER;
static struct size_class *classes;

static struct size_class *class_for(size_t size)
{
    for (struct size_class *c = classes; c; c = c->next)
        if (c->size == size)
            return c;
    struct size_class *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->size = size;
    c->next = classes;
    classes = c;
    return c;
}

static int push_free(struct size_class *c, const cio_stack *st)
{
    if (c->n_free == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        cio_stack *v = realloc(c->free, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        c->free = v;
        c->cap = cap;
    }
    c->free[c->n_free++] = *st;
    return 0;
}

static void describe_unguarded(cio_stack *st, void *lo, size_t size)
{
    st->map = lo;
    st->map_size = size;
    st->lo = lo;
    st->hi = (char *)lo + size;
    st->guarded = false;
}

/* Map a chunk: the first stack goes to the caller, the rest on the list. */
static int map_chunk(struct size_class *c, cio_stack *out)
{
    if (c->cap - c->n_free < CHUNK_STACKS - 1) {
        size_t cap = c->n_free + CHUNK_STACKS + c->cap;
        cio_stack *v = realloc(c->free, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        c->free = v;
        c->cap = cap;
    }
    char *chunk = mmap(NULL, c->size * CHUNK_STACKS, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                       -1, 0);
    if (chunk == MAP_FAILED)
        return -ENOMEM;
    for (size_t i = CHUNK_STACKS - 1; i > 0; i--)
        describe_unguarded(&c->free[c->n_free++], chunk + i * c->size, c->size);
    describe_unguarded(out, chunk, c->size);
    return 0;
}

int cio_stack_reserve_take(cio_stack *st, size_t size)
{
    pthread_mutex_lock(&reserve_lock);
    struct size_class *c = class_for(size);
    int rc = -ENOMEM;
    if (c && c->n_free) {
        *st = c->free[--c->n_free];
        rc = 0;
    } else if (c) {
        rc = map_chunk(c, st);
    }
    pthread_mutex_unlock(&reserve_lock);
    return rc;
}

void cio_stack_reserve_put(cio_stack *st)
{
    size_t size = (size_t)((char *)st->hi - (char *)st->lo);
    madvise(st->lo, size, MADV_DONTNEED);
    pthread_mutex_lock(&reserve_lock);
    struct size_class *c = class_for(size);
    /* With no memory to list it, the range stays mapped and unused: a leak
     * of address space only, its pages were just given back. */
    if (c)
        (void)push_free(c, st);
    pthread_mutex_unlock(&reserve_lock);
}
