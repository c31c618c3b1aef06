/* stack.c — mapping task stacks, the guard budget, the overflow report. */
#include "stack.h"
#include "sanitizer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static atomic_size_t n_guarded, n_unguarded;
static size_t guard_budget;             /* max guarded stacks, process-wide */
static size_t page_size;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* A guarded stack costs two of vm.max_map_count's mappings. Give guarded
 * stacks half of them and leave the other half to malloc, libraries and
 * unguarded stacks (which merge into their neighbours' mappings). */
static size_t read_guard_budget(void)
{
    size_t max_maps = 65530;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = '\0';
            unsigned long v = strtoul(buf, NULL, 10);
            if (v > 0)
                max_maps = v;
        }
        close(fd);
    }
    const char *env = getenv("CIO_GUARDED_STACKS_MAX");
    if (env && *env)
        return strtoul(env, NULL, 10);
    return max_maps / 4;
}

static void init_globals(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    guard_budget = read_guard_budget();
}

static bool take_guard_slot(void)
{
    size_t n = atomic_fetch_add_explicit(&n_guarded, 1, memory_order_relaxed);
    if (n < guard_budget)
        return true;
    atomic_fetch_sub_explicit(&n_guarded, 1, memory_order_relaxed);
    return false;
}

/* ---- unguarded stacks: carved from chunks, recycled, never unmapped -----
 *
 * Unguarded stacks of one size sit side by side in a chunk (one mapping, one
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

static int take_unguarded(cio_stack *st, size_t size)
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

static void release_unguarded(cio_stack *st)
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

/* ---- guarded stacks: a mapping each, with a PROT_NONE page below -------- */

static int map_guarded(cio_stack *st, size_t size)
{
    size_t map_size = size + page_size;
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                     -1, 0);
    if (map == MAP_FAILED)
        return -ENOMEM;
    if (mprotect(map, page_size, PROT_NONE) != 0) {
        munmap(map, map_size);
        return -ENOMEM;
    }
    st->map = map;
    st->map_size = map_size;
    st->lo = map + page_size;
    st->hi = map + map_size;
    st->guarded = true;
    return 0;
}

int cio_stack_map(cio_stack *st, size_t size)
{
    pthread_once(&init_once, init_globals);
    size_t asked = size;
    size = (size + page_size - 1) & ~(page_size - 1);
    int rc;
    if (take_guard_slot()) {
        rc = map_guarded(st, size);
        if (rc < 0)
            atomic_fetch_sub_explicit(&n_guarded, 1, memory_order_relaxed);
    } else {
        rc = take_unguarded(st, size);
        if (rc == 0)
            atomic_fetch_add_explicit(&n_unguarded, 1, memory_order_relaxed);
    }
    if (rc < 0)
        return rc;
    st->size = asked;
    st->valgrind_id = cio_san_stack_register(st->lo, st->hi);
    return 0;
}

void cio_stack_unmap(cio_stack *st)
{
    cio_san_stack_deregister(st->valgrind_id);
    cio_san_unpoison(st->lo, (size_t)((char *)st->hi - (char *)st->lo));
    if (st->guarded) {
        munmap(st->map, st->map_size);
        atomic_fetch_sub_explicit(&n_guarded, 1, memory_order_relaxed);
    } else {
        release_unguarded(st);
        atomic_fetch_sub_explicit(&n_unguarded, 1, memory_order_relaxed);
    }
}

void cio_stack_recycle(cio_stack *st)
{
    cio_san_unpoison(st->lo, (size_t)((char *)st->hi - (char *)st->lo));
}

bool cio_stack_in_guard(const cio_stack *st, const void *addr)
{
    const char *a = addr;
    return st->guarded && a >= (const char *)st->map && a < (const char *)st->lo;
}

size_t cio_stack_count_guarded(void) { return atomic_load(&n_guarded); }
size_t cio_stack_count_unguarded(void) { return atomic_load(&n_unguarded); }

/* ---- the overflow report ------------------------------------------------ */

static cio_stack_owner_fn *owner_fn;
static struct sigaction previous_segv;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static __thread void *altstack;

static char *put_str(char *p, char *end, const char *s)
{
    while (*s && p < end)
        *p++ = *s++;
    return p;
}

static char *put_uint(char *p, char *end, size_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && p < end)
        *p++ = digits[--n];
    return p;
}

void cio_stack_overflow_abort(const cio_stack *st, const char *name)
{
    char msg[160], *p = msg, *end = msg + sizeof msg - 1;
    size_t kib = st->size / 1024;
    p = put_str(p, end, "cio: task '");
    p = put_str(p, end, name ? name : "?");
    p = put_str(p, end, "' overflowed its ");
    p = put_uint(p, end, kib);
    p = put_str(p, end, " KiB stack");
    if (!st->guarded)
        p = put_str(p, end, " (canary overwritten)");
    *p++ = '\n';
    ssize_t ignored = write(STDERR_FILENO, msg, (size_t)(p - msg));
    (void)ignored;
    signal(SIGABRT, SIG_DFL);
    abort();
}

static uintptr_t interrupted_sp(void *uc_void)
{
    ucontext_t *uc = uc_void;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

/* An overflow faults in the guard page, or (a frame larger than a page)
 * below it with the stack pointer already past the stack's low end. */
static bool is_overflow(const cio_stack *st, const void *addr, uintptr_t sp)
{
    if (cio_stack_in_guard(st, addr))
        return true;
    uintptr_t lo = (uintptr_t)st->lo;
    return sp && sp < lo && sp + (1u << 20) > lo && (uintptr_t)addr < lo;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    const cio_stack *st;
    const char *name;
    if (owner_fn && owner_fn(&st, &name) &&
        is_overflow(st, si->si_addr, interrupted_sp(uc)))
        cio_stack_overflow_abort(st, name);
    /* Not a task stack overflow: hand over to whoever was there before. */
    if (previous_segv.sa_flags & SA_SIGINFO) {
        previous_segv.sa_sigaction(sig, si, uc);
    } else if (previous_segv.sa_handler != SIG_DFL &&
               previous_segv.sa_handler != SIG_IGN) {
        previous_segv.sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);   /* returning re-runs the fault: default death */
    }
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
}

int cio_stack_install_overflow_handler(cio_stack_owner_fn *who)
{
    owner_fn = who;
    pthread_once(&handler_once, install_handler);
    if (altstack)
        return 0;
    size_t size = 64 * 1024;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -ENOMEM;
    stack_t ss = { .ss_sp = mem, .ss_size = size, .ss_flags = 0 };
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE)) {
        munmap(mem, size);      /* the thread already has one: keep it */
        altstack = (void *)1;
        return 0;
    }
    if (sigaltstack(&ss, NULL) != 0) {
        int err = errno;
        munmap(mem, size);
        return -err;
    }
    altstack = mem;
    return 0;
}
