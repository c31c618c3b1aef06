/* stack.h — task stacks (arch layer).
 *
 * A stack is one anonymous mapping, MAP_NORESERVE so pages are committed only
 * when touched. Its lowest page is a PROT_NONE guard while the process has
 * guard budget left: Linux allows vm.max_map_count mappings (65530 by
 * default) and a guarded stack costs two (guard + stack), so past a quarter
 * of that limit new stacks come unguarded. An unguarded stack keeps only the
 * canary (a word at its lowest usable address, checked at every switch away
 * from the task); the guard's page is then part of nothing. Every stack has
 * the canary, so the check costs the same on both kinds.
 */
#ifndef CIO_ARCH_STACK_H
#define CIO_ARCH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CIO_STACK_CANARY UINT64_C(0x63696f2d63616e79) /* "cio-cany" */

typedef struct cio_stack {
    void *map;          /* the whole mapping */
    size_t map_size;
    void *lo;           /* lowest usable byte (holds the canary) */
    void *hi;           /* one past the highest usable byte */
    size_t size;        /* usable bytes asked for (before rounding) */
    bool guarded;
    unsigned valgrind_id;
} cio_stack;

/* Map a stack with at least size usable bytes (rounded up to pages). Returns
 * 0 or -ENOMEM. */
int cio_stack_map(cio_stack *st, size_t size);

/* Unmap it. */
void cio_stack_unmap(cio_stack *st);

/* Make a recycled stack look fresh to the sanitizers (ASan keeps the poison
 * of frames that never returned) and reset the canary. */
void cio_stack_recycle(cio_stack *st);

/* True if the canary is intact. */
static inline bool cio_stack_canary_ok(const cio_stack *st)
{
    return *(const uint64_t *)st->lo == CIO_STACK_CANARY;
}

/* True if addr falls in st's guard page. */
bool cio_stack_in_guard(const cio_stack *st, const void *addr);

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
