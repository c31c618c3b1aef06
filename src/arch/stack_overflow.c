/* stack_overflow.c — naming the task whose stack overflowed: the SIGSEGV
 * handler (on an alternate signal stack) and the report. */
#include "stack.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

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
