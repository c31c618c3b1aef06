/* watchdog.c — debug mode's slow-task watchdog.
 *
 * The loop thread publishes, at every switch, the number of the run it
 * starts and when it started (cio_debug_switch: a clock read and three
 * atomic stores, debug mode only). A watchdog thread per loop samples them
 * every quarter of the threshold. When one run has lasted longer than the
 * threshold it signals the loop thread (CIO_DEBUG_SIGNAL) whose handler
 * copies the running task's name and unwinds its stack into a buffer the
 * loop owns; the watchdog symbolizes and prints it while the task is still
 * stuck. When that run ends, the loop thread prints the total it blocked.
 * Why this design and its limits (EINTR): docs/decisions.md.
 */
#include "debug.h"
#include "backtrace.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "../core/internal.h"
#include "cio/debug.h"

int64_t cio_debug_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the loop thread's side ---------------------------------------------- */

static void report_total(cio_debug *d, int64_t now)
{
    pthread_mutex_lock(&d->print_lock);     /* after the watchdog's report */
    fprintf(stderr, "cio: watchdog: task '%s' (id %llu) yielded after blocking the "
                    "loop for %lld ms\n", cio_task_name(d->cur_task),
            (unsigned long long)cio_task_id(d->cur_task),
            (long long)((now - d->cur_start) / 1000000));
    fflush(stderr);
    pthread_mutex_unlock(&d->print_lock);
}

void cio_debug_switch(cio_loop *L, cio_task *to, int64_t now)
{
    cio_debug *d = L->dbg;
    if (!d->watching)
        return;
    uint64_t seq = atomic_load_explicit(&d->seq, memory_order_relaxed);
    if (d->cur_task && atomic_load_explicit(&d->flagged, memory_order_acquire) == seq)
        report_total(d, now);
    d->cur_task = to;
    d->cur_start = now;
    /* started 0: the loop context runs, nothing to time. */
    atomic_store_explicit(&d->started, to ? now : 0, memory_order_release);
    atomic_store_explicit(&d->seq, seq + 1, memory_order_release);
}

/* ---- the signal handler (loop thread, async-signal-safe enough) ---------- */

static void *interrupted_pc(void *ucv)
{
    ucontext_t *uc = ucv;
#if defined(__x86_64__)
    return (void *)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (void *)uc->uc_mcontext.pc;
#endif
}

/* Drop the handler's own frames: keep from the interrupted pc on (or, if
 * the unwinder did not report it, from past the handler and the kernel's
 * signal trampoline). */
static int trim_to(void **pcs, int n, void *pc)
{
    int from = n > 2 ? 2 : 0;
    for (int i = 0; i < n; i++)
        if (pcs[i] == pc) {
            from = i;
            break;
        }
    memmove(pcs, pcs + from, (size_t)(n - from) * sizeof *pcs);
    return n - from;
}

/* backtrace() is the DWARF unwinder (libgcc): with glibc >= 2.35 it finds
 * unwind tables through _dl_find_object, without locks or malloc, and it
 * was called once at watchdog start so libgcc is already loaded. It also
 * walks through frames without a frame pointer (libc's sleep functions),
 * which a frame-pointer walk would skip. */
static void on_capture_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    int saved = errno;
    cio_loop *L = cio_tls_loop;
    cio_debug *d = L ? L->dbg : NULL;
    uint64_t want = d ? atomic_load_explicit(&d->cap_want, memory_order_acquire) : 0;
    if (d && want && want != d->cap.seq) {
        cio_stuck_capture *c = &d->cap;
        cio_task *t = L->current;
        c->task_id = t ? t->id : 0;
        memcpy(c->task_name, t ? t->name : "", sizeof c->task_name);
        c->task_name[sizeof c->task_name - 1] = '\0';
        c->n = trim_to(c->pcs, backtrace(c->pcs, CIO_DEBUG_MAX_FRAMES), interrupted_pc(uc));
        c->seq = want;
        sem_post(&d->cap_done);
    }
    errno = saved;
}

static void install_handler(void)
{
    void *prime[4];
    backtrace(prime, 4);        /* loads libgcc's unwinder now, not in the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_capture_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(CIO_DEBUG_SIGNAL, &sa, NULL);
}

/* ---- the watchdog thread ------------------------------------------------- */

bool cio_watchdog_capture(cio_debug *d, uint64_t seq, int timeout_ms)
{
    atomic_store_explicit(&d->cap_want, seq, memory_order_release);
    if (pthread_kill(d->loop_thread, CIO_DEBUG_SIGNAL) != 0)
        return false;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    for (;;) {
        if (sem_timedwait(&d->cap_done, &until) < 0) {
            if (errno == EINTR)
                continue;
            return false;       /* the signal is blocked, or never handled */
        }
        if (d->cap.seq == seq)
            return true;        /* else a late post for an older run */
    }
}

void cio_watchdog_report(cio_debug *d, FILE *out, int64_t blocked_ns, bool with_stack)
{
    const cio_stuck_capture *c = &d->cap;
    if (!with_stack) {
        fprintf(out, "cio: watchdog: a task has been running for %lld ms without "
                     "yielding (slow_task_ms %lld): it blocks the loop (its stack "
                     "could not be captured)\n", (long long)(blocked_ns / 1000000),
                (long long)(d->threshold_ns / 1000000));
        fflush(out);
        return;
    }
    char unnamed[32];
    const char *name = c->task_name;
    if (!name[0]) {
        snprintf(unnamed, sizeof unnamed, "task-%llu", (unsigned long long)c->task_id);
        name = unnamed;
    }
    fprintf(out, "cio: watchdog: task '%s' (id %llu) has been running for %lld ms "
                 "without yielding (slow_task_ms %lld): it blocks the loop. Its stack:\n",
            name, (unsigned long long)c->task_id, (long long)(blocked_ns / 1000000),
            (long long)(d->threshold_ns / 1000000));
    cio_backtrace_print(out, c->pcs, c->n, "cio:     ");
    fflush(out);
}

/* One look at the loop: report a run that has lasted too long, once. */
static void check(cio_debug *d, uint64_t *reported)
{
    uint64_t seq = atomic_load_explicit(&d->seq, memory_order_acquire);
    int64_t started = atomic_load_explicit(&d->started, memory_order_acquire);
    if (atomic_load_explicit(&d->seq, memory_order_acquire) != seq)
        return;                 /* it switched meanwhile */
    if (!started || seq == *reported)
        return;
    int64_t blocked = cio_debug_clock() - started;
    if (blocked < d->threshold_ns)
        return;
    *reported = seq;
    pthread_mutex_lock(&d->print_lock);
    atomic_store_explicit(&d->flagged, seq, memory_order_release);
    bool ok = cio_watchdog_capture(d, seq, 1000);
    cio_watchdog_report(d, stderr, blocked, ok);
    if (atomic_load_explicit(&d->dump_requested, memory_order_relaxed))
        fprintf(stderr, "cio: a task dump was asked for: the loop prints it once "
                        "this task yields\n");
    pthread_mutex_unlock(&d->print_lock);
}

static void *watch(void *arg)
{
    cio_debug *d = arg;
    int64_t period = d->threshold_ns / 4;
    if (period < 1000000)
        period = 1000000;
    uint64_t reported = 0;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + period;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&d->cv, &d->mu, &until);
        if (d->stop)
            break;
        pthread_mutex_unlock(&d->mu);
        check(d, &reported);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* ---- lifetime ------------------------------------------------------------ */

cio_debug *cio_debug_get(cio_loop *L)
{
    if (L->dbg)
        return L->dbg;
    cio_debug *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->loop = L;
    d->loop_thread = pthread_self();
    d->sigquit_slot = -1;
    atomic_init(&d->flagged, UINT64_MAX);
    pthread_mutex_init(&d->print_lock, NULL);
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    sem_init(&d->cap_done, 0, 0);
    L->dbg = d;
    return d;
}

static unsigned threshold_ms(unsigned opt)
{
    if (opt)
        return opt;
    const char *v = getenv("CIO_SLOW_TASK_MS");
    unsigned long n = v ? strtoul(v, NULL, 10) : 0;
    return n ? (unsigned)n : 100;
}

void cio_debug_loop_open(cio_loop *L, unsigned slow_task_ms)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    cio_debug *d = cio_debug_get(L);
    if (!d)
        return;
    d->threshold_ns = (int64_t)threshold_ms(slow_task_ms) * 1000000;
    pthread_once(&once, install_handler);
    d->watching = pthread_create(&d->thread, NULL, watch, d) == 0;
    if (!d->watching)
        fprintf(stderr, "cio: debug mode: the watchdog thread could not start\n");
}

void cio_debug_loop_close(cio_loop *L)
{
    cio_debug *d = L->dbg;
    if (!d)
        return;
    if (d->watching) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
    cio_sigquit_unregister(d);
    sem_destroy(&d->cap_done);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->print_lock);
    L->dbg = NULL;
    free(d);
}

bool cio_debug_enabled(void)
{
    cio_loop *L = cio_tls_loop;
    return L && L->debug;
}
