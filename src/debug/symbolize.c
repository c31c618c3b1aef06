/* symbolize.c — code addresses to function names and source lines (libdw).
 * Why libdw rather than running addr2line: see docs/decisions.md. */
#include "symbolize.h"

#include <dlfcn.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cio/task.h"

static pthread_mutex_t dw_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *dw;                /* the process's modules, reported once */
static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* (Re)read the module list: done at first use and when an address falls
 * outside every known module (a library loaded since). */
static bool report_modules(void)
{
    if (!dw)
        dw = dwfl_begin(&callbacks);
    if (!dw)
        return false;
    dwfl_report_begin(dw);
    int rc = dwfl_linux_proc_report(dw, getpid());
    dwfl_report_end(dw, NULL, NULL);
    return rc == 0;
}

static Dwfl_Module *module_of(uintptr_t addr)
{
    if (!dw && !report_modules())
        return NULL;
    Dwfl_Module *m = dwfl_addrmodule(dw, addr);
    if (!m && report_modules())
        m = dwfl_addrmodule(dw, addr);
    return m;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* adj: added back to the offsets printed (addr is pc - adj). */
/* The source line of addr. dwfl_module_getsrc finds the compile unit
 * through .debug_aranges, which clang does not emit: then look through the
 * units for the one whose ranges hold the address. */
static const char *source_line(Dwfl_Module *m, uintptr_t addr, int *lineno)
{
    Dwfl_Line *line = dwfl_module_getsrc(m, addr);
    if (line)
        return dwfl_lineinfo(line, NULL, lineno, NULL, NULL, NULL);
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(m, &bias);
    if (!dw)
        return NULL;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_haspc(&cu, addr - bias) > 0) {
            Dwarf_Line *l = dwarf_getsrc_die(&cu, addr - bias);
            return l && dwarf_lineno(l, lineno) == 0 ? dwarf_linesrc(l, NULL, NULL) : NULL;
        }
        off = next;
    }
    return NULL;
}

static bool with_libdw(uintptr_t addr, unsigned adj, char *buf, size_t len)
{
    Dwfl_Module *m = module_of(addr);
    if (!m)
        return false;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
    if (!name)
        return false;
    off += adj;
    int lineno = 0;
    const char *file = source_line(m, addr, &lineno);
    if (file) {
        snprintf(buf, len, "%s+0x%lx (%s:%d)", name, (unsigned long)off, base_name(file),
                 lineno);
    } else {
        const char *obj = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        snprintf(buf, len, "%s+0x%lx (%s)", name, (unsigned long)off,
                 obj ? base_name(obj) : "?");
    }
    return true;
}

static bool with_dladdr(uintptr_t addr, unsigned adj, char *buf, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)addr, &info)) {
        snprintf(buf, len, "??");
        return false;
    }
    const char *obj = info.dli_fname ? base_name(info.dli_fname) : "?";
    if (!info.dli_sname) {
        snprintf(buf, len, "?? (%s)", obj);
        return false;
    }
    snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
             (unsigned long)(addr + adj - (uintptr_t)info.dli_saddr), obj);
    return true;
}

static bool symbolize_here(void *pc, bool return_address, char *buf, size_t len)
{
    unsigned adj = return_address && pc ? 1 : 0;
    uintptr_t addr = (uintptr_t)pc - adj;
    pthread_mutex_lock(&dw_lock);
    bool ok = with_libdw(addr, adj, buf, len);
    pthread_mutex_unlock(&dw_lock);
    return ok || with_dladdr(addr, adj, buf, len);
}

/* libdw reading a line table takes more stack than a task may have (128 KiB
 * by default): from a task, the lookup runs on a thread of its own. */
typedef struct lookup {
    void *pc;
    bool return_address;
    char *buf;
    size_t len;
    bool ok;
} lookup;

static void *lookup_thread(void *arg)
{
    lookup *q = arg;
    q->ok = symbolize_here(q->pc, q->return_address, q->buf, q->len);
    return NULL;
}

bool cio_symbolize(void *pc, bool return_address, char *buf, size_t len)
{
    if (!cio_task_current())
        return symbolize_here(pc, return_address, buf, len);
    lookup q = { pc, return_address, buf, len, false };
    pthread_t th;
    if (pthread_create(&th, NULL, lookup_thread, &q) != 0)
        return with_dladdr((uintptr_t)pc - (return_address ? 1 : 0), return_address, buf, len);
    pthread_join(th, NULL);
    return q.ok;
}
