/* sanitizer.h — telling ASan, TSan and Valgrind about stack switches.
 *
 * Without these annotations the tools see one thread whose stack pointer
 * jumps between unrelated mappings, and their reports are noise. Each hook
 * compiles to nothing when its tool is absent.
 */
#ifndef CIO_ARCH_SANITIZER_H
#define CIO_ARCH_SANITIZER_H

#include <stddef.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define CIO_ASAN 1
#  endif
#  if __has_feature(thread_sanitizer)
#    define CIO_TSAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define CIO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#  define CIO_TSAN 1
#endif

#if defined(CIO_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(CIO_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#    define CIO_VALGRIND 1
#  endif
#endif

/* Per-context sanitizer state, kept beside the saved stack pointer. */
typedef struct cio_san_ctx {
    const void *stack_lo;   /* bottom of the stack the context runs on */
    size_t stack_size;
    void *asan_fake_stack;  /* ASan's fake-stack handle while switched out */
    void *tsan_fiber;       /* TSan's fiber for this context */
} cio_san_ctx;

static inline void cio_san_unpoison(void *p, size_t n)
{
#if defined(CIO_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
    (void)p, (void)n;
#endif
}

/* Called before switching from `from` to `to`. from_exiting: the context
 * being left will never run again (a finished task). */
static inline void cio_san_before_switch(cio_san_ctx *from, cio_san_ctx *to,
                                         int from_exiting)
{
#if defined(CIO_ASAN)
    __sanitizer_start_switch_fiber(from_exiting ? NULL : &from->asan_fake_stack,
                                   to->stack_lo, to->stack_size);
#endif
#if defined(CIO_TSAN)
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from, (void)to, (void)from_exiting;
}

/* Called first thing after a context resumes (or starts). */
static inline void cio_san_after_switch(cio_san_ctx *self)
{
#if defined(CIO_ASAN)
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, NULL, NULL);
#endif
    (void)self;
}

/* The thread's own context, running on the stack [lo, lo + size). */
static inline void cio_san_init_thread_ctx(cio_san_ctx *c, void *lo, size_t size)
{
    c->stack_lo = lo;
    c->stack_size = size;
    c->asan_fake_stack = NULL;
#if defined(CIO_TSAN)
    c->tsan_fiber = __tsan_get_current_fiber();
#else
    c->tsan_fiber = NULL;
#endif
}

static inline void cio_san_task_ctx_init(cio_san_ctx *c, void *lo, size_t size)
{
    c->stack_lo = lo;
    c->stack_size = size;
    c->asan_fake_stack = NULL;
#if defined(CIO_TSAN)
    c->tsan_fiber = __tsan_create_fiber(0);
#else
    c->tsan_fiber = NULL;
#endif
}

static inline void cio_san_task_ctx_destroy(cio_san_ctx *c)
{
#if defined(CIO_TSAN)
    if (c->tsan_fiber)
        __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_fiber = NULL;
#else
    (void)c;
#endif
}

/* Valgrind: returns the id to deregister with. */
static inline unsigned cio_san_stack_register(void *lo, void *hi)
{
#if defined(CIO_VALGRIND)
    return VALGRIND_STACK_REGISTER(lo, hi);
#else
    (void)lo, (void)hi;
    return 0;
#endif
}

static inline void cio_san_stack_deregister(unsigned id)
{
#if defined(CIO_VALGRIND)
    VALGRIND_STACK_DEREGISTER(id);
#else
    (void)id;
#endif
}

#endif
