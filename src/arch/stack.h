/* stack.h — task stacks (arch layer).
 *
 * A stack is one anonymous mapping, MAP_NORESERVE so pages are committed only
 * when touched. Its lowest page is a PROT_NONE guard while the process has
 * guard budget left: Linux allows vm.max_map_count mappings (65530 by
 * default) and a guarded stack costs two (guard + stack), so past a quarter
 * of that limit new stacks come unguarded. An unguarded stack is protected
 * only by its canary, checked at every switch away from the task: the lowest
 * word of the stack, which must still read zero. A zero canary needs no
 * write, so the stack's lowest page is never committed (a read maps the
 * shared zero page): a parked task costs one page, not two. An overflow
 * that reaches it writes frames there (return addresses, saved registers),
 * which are not all zero. The trade-off: an overflow is caught at the next
 * switch, after it may already have scribbled on the neighbouring mapping.
 */
#ifndef CIO_ARCH_STACK_H
#define CIO_ARCH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cio_stack {
    void *map;          /* the whole mapping */
    size_t map_size;
    void *lo;           /* lowest usable byte (the canary word) */
    void *hi;           /* one past the highest usable byte */
    size_t size;        /* usable bytes asked for (before rounding) */
    bool guarded;
    unsigned valgrind_id;
} cio_stack;

/* Map a stack with at least size usable bytes (rounded up to pages). Returns
 * 0 or -ENOMEM. */
int cio_stack_map(cio_stack *st, size_t size);

/* Give it back: a guarded stack is unmapped; an unguarded one returns its
 * pages to the kernel and waits, mapped, for reuse (see stack.c). */
void cio_stack_unmap(cio_stack *st);

/* Make a recycled stack look fresh to the sanitizers (ASan keeps the poison
 * of frames that never returned). */
void cio_stack_recycle(cio_stack *st);

/* True if the canary is intact (the lowest word still reads zero). */
static inline bool cio_stack_canary_ok(const cio_stack *st)
{
    return *(const volatile uint64_t *)st->lo == 0;
}

/* True if addr falls in st's guard page. */
bool cio_stack_in_guard(const cio_stack *st, const void *addr);

/* The reserve of unguarded stacks (stack_reserve.c): take one of size bytes
 * (page-rounded) or put one back. Returns 0 or -ENOMEM. */
int cio_stack_reserve_take(cio_stack *st, size_t size);
void cio_stack_reserve_put(cio_stack *st);

/* Process-wide counts of stacks by kind. */
size_t cio_stack_count_guarded(void);
size_t cio_stack_count_unguarded(void);

/* Install (once per process) the SIGSEGV handler that names the task whose
 * stack overflowed, and give the calling thread an alternate signal stack for
 * it to run on. The handler asks `who` for the running task's stack and
 * name. Returns 0 or a negative errno. */
typedef bool cio_stack_owner_fn(const cio_stack **st, const char **name);
int cio_stack_install_overflow_handler(cio_stack_owner_fn *who);

/* Report an overflow of the task `name` whose stack is st and abort. Used by
 * the SIGSEGV handler and by the canary check. Async-signal-safe. */
__attribute__((noreturn)) void cio_stack_overflow_abort(const cio_stack *st,
                                                        const char *name);

#endif
