/* stack.c — mapping task stacks, the guard budget, the overflow report. */
#include "stack.h"
#include "sanitizer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
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
        rc = cio_stack_reserve_take(st, size);
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
        cio_stack_reserve_put(st);
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
