/* context.c — building the first frame of a new context. */
#include "context.h"

#include <stdint.h>
#include <string.h>

/* Where a new context's first switch returns to (switch_*.S). */
void cio_ctx_start(void);

#if defined(__x86_64__)

void *cio_ctx_make(void *top, void (*entry)(void *), void *arg)
{
    /* After the 8 pops and the ret, rsp = frame + 64 must be 16-byte aligned
     * so that the trampoline's call sees the ABI's alignment. */
    uint64_t *frame = (uint64_t *)((uintptr_t)top & ~(uintptr_t)15) - 10;
    memset(frame, 0, 10 * sizeof *frame);
    uint32_t mxcsr = 0x1F80;    /* ABI default: all exceptions masked, RN */
    uint16_t fpcw = 0x037F;     /* ABI default: extended precision, RN */
    memcpy((char *)frame, &mxcsr, 4);
    memcpy((char *)frame + 4, &fpcw, 2);
    frame[4] = (uint64_t)(uintptr_t)entry;      /* r12 */
    frame[5] = (uint64_t)(uintptr_t)arg;        /* rbx */
    frame[7] = (uint64_t)(uintptr_t)cio_ctx_start;
    return frame;
}

#elif defined(__aarch64__)

void *cio_ctx_make(void *top, void (*entry)(void *), void *arg)
{
    uint64_t *frame = (uint64_t *)((uintptr_t)top & ~(uintptr_t)15) - 22;
    memset(frame, 0, 22 * sizeof *frame);
    frame[0] = (uint64_t)(uintptr_t)arg;        /* x19 */
    frame[1] = (uint64_t)(uintptr_t)entry;      /* x20 */
    frame[11] = (uint64_t)(uintptr_t)cio_ctx_start; /* x30 */
    return frame;                               /* fpcr 0: ABI default */
}

#else
#error "cio has a context switch for x86-64 and aarch64 only"
#endif
