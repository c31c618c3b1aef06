/* backtrace.c — stack capture with glibc's unwinder, symbols from dladdr. */
#include "backtrace.h"

#include <dlfcn.h>
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

void cio_backtrace_print(FILE *out, void *const *pcs, int n, const char *indent)
{
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(pcs[i], &info) && info.dli_sname) {
            fprintf(out, "%s#%d %p %s+0x%lx (%s)\n", indent, i, pcs[i], info.dli_sname,
                    (unsigned long)((uintptr_t)pcs[i] - (uintptr_t)info.dli_saddr),
                    info.dli_fname ? info.dli_fname : "?");
        } else {
            fprintf(out, "%s#%d %p ?? (%s)\n", indent, i, pcs[i],
                    info.dli_fname ? info.dli_fname : "?");
        }
    }
}
