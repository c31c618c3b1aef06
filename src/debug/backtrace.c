/* backtrace.c — stack capture: glibc's unwinder for the running stack, a
 * frame-pointer walk for a suspended task's; symbols from symbolize.c. */
#include "backtrace.h"
#include "symbolize.h"

#include <execinfo.h>
#include <stdint.h>

int cio_backtrace_capture(void **pcs, int max, int skip)
{
    void *buf[64];
    int want = max + skip + 1;
    if (want > 64)
        want = 64;
    int n = backtrace(buf, want);
    int k = 0;
    for (int i = skip + 1; i < n && k < max; i++)
        pcs[k++] = buf[i];
    return k;
}

/* Where the context switch keeps the frame pointer and the return address
 * in its saved frame (src/arch/switch_*.S), in words from the saved sp. */
#if defined(__x86_64__)
enum { SAVED_FP = 6, SAVED_PC = 7 };
#elif defined(__aarch64__)
enum { SAVED_FP = 10, SAVED_PC = 11 };
#endif

static bool inside(uintptr_t p, uintptr_t lo, uintptr_t hi, size_t size)
{
    return p >= lo && p + size <= hi && (p & 7) == 0;
}

/* Reads another task's stack words: its slots are plain saved registers,
 * never redzones, but ASan need not check that. */
__attribute__((no_sanitize("address")))
int cio_backtrace_suspended(const void *saved_sp, const void *lo, const void *hi,
                            void **pcs, int max)
{
    uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi, sp = (uintptr_t)saved_sp;
    if (max <= 0 || !inside(sp, l, h, (SAVED_PC + 1) * sizeof(uintptr_t)))
        return 0;
    const uintptr_t *frame = (const uintptr_t *)sp;
    int n = 0;
    pcs[n++] = (void *)frame[SAVED_PC];
    uintptr_t fp = frame[SAVED_FP];
    /* Each frame record is {caller's fp, return address}; the chain grows
     * upwards and ends at the trampoline's fp of 0. */
    while (n < max && inside(fp, l, h, 2 * sizeof(uintptr_t))) {
        const uintptr_t *rec = (const uintptr_t *)fp;
        if (!rec[1])
            break;
        pcs[n++] = (void *)rec[1];
        if (rec[0] <= fp)
            break;
        fp = rec[0];
    }
    return n;
}

void cio_backtrace_print(FILE *out, void *const *pcs, int n, const char *indent)
{
    for (int i = 0; i < n; i++) {
        char sym[512];
        cio_symbolize(pcs[i], true, sym, sizeof sym);
        fprintf(out, "%s#%d %p %s\n", indent, i, pcs[i], sym);
    }
}
