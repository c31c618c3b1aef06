/* loop.c — making, running and closing a loop; cio_run (asyncio.run). */
#include "internal.h"
#include "../debug/debug.h"
#include "../debug/handle.h"
#include "../debug/report.h"
#include "../os/signal_internal.h"
#include "cio/error.h"
#include "cio/loop.h"
#include "cio/task.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static size_t env_size(const char *name, size_t fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == 'k' || *end == 'K')
        n *= 1024;
    else if (*end == 'm' || *end == 'M')
        n *= 1024 * 1024;
    return n ? (size_t)n : fallback;
}

/* The SIGSEGV handler asks which stack the thread is running on. */
static bool running_stack(const cio_stack **st, const char **name)
{
    cio_loop *L = cio_tls_loop;
    if (!L || !L->current)
        return false;
    *st = &L->current->stack;
    *name = cio_task_name(L->current);
    return true;
}

static void init_thread_ctx(cio_loop *L)
{
    void *lo = NULL;
    size_t size = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
    }
    cio_san_init_thread_ctx(&L->san, lo, size);
}

static void apply_options(cio_loop *L, const cio_loop_options *o)
{
    L->virtual_clock = (o && o->virtual_clock) || env_flag("CIO_VIRTUAL_CLOCK");
    L->stack_size = o && o->stack_size ? o->stack_size
                    : env_size("CIO_STACK_SIZE", CIO_DEFAULT_STACK_SIZE);
    if (L->stack_size < 16 * 1024)
        L->stack_size = 16 * 1024;
    L->pool_max = o && o->stack_pool_max ? o->stack_pool_max : 1024;
    L->budget_max = o && o->fairness_budget ? o->fairness_budget : 64;
    L->threads_max = o ? o->threads : 0;
    L->debug = (o && o->debug) || env_flag("CIO_DEBUG");
}

cio_loop *cio_loop_create(const cio_loop_options *opts)
{
    if (cio_tls_loop) {
        errno = EBUSY;
        return NULL;
    }
    cio_loop *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    apply_options(L, opts);
    cio_timer_heap_init(&L->timers);
    int rc = cio_poller_open(&L->poller, opts ? opts->backend : NULL);
    if (rc < 0) {
        free(L);
        errno = -rc;
        return NULL;
    }
    rc = cio_threadsafe_init(L);
    if (rc < 0) {
        cio_poller_close(&L->poller);
        free(L);
        errno = -rc;
        return NULL;
    }
    if (L->debug)
        fprintf(stderr, "cio: loop uses the %s backend\n", L->poller.be->name);
    init_thread_ctx(L);
    cio_stack_install_overflow_handler(running_stack);
    if (!L->virtual_clock) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        L->now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    cio_tls_loop = L;
    if (L->debug)
        cio_debug_loop_open(L, opts ? opts->slow_task_ms : 0);
    return L;
}

cio_loop *cio_loop_current(void) { return cio_tls_loop; }

static bool task_finished(cio_loop *L, void *t)
{
    (void)L;
    return ((cio_task *)t)->state == CIO_TASK_DONE;
}

/* Close runs until every task has ended and every call queued from other
 * threads before the close began has run. */
static bool closed_down(cio_loop *L, void *unused)
{
    (void)unused;
    return L->live == 0 && !cio_threadsafe_pending(L);
}

int cio_loop_run_until(cio_loop *L, cio_task *t)
{
    if (!L || L->current || L != cio_tls_loop)
        return -EPERM;
    return cio_sched_run(L, task_finished, t);
}

static void report_blocked(cio_loop *L, const char *why)
{
    fprintf(stderr, "cio: %s\n", why);
    for (cio_task *t = L->all_head; t; t = t->all_next)
        if (t->state != CIO_TASK_DONE)
            fprintf(stderr, "cio:   task '%s' (id %llu) is blocked\n", cio_task_name(t),
                    (unsigned long long)t->id);
}

static void report_unretrieved(cio_loop *L)
{
    for (cio_task *t = L->all_head; t; t = t->all_next) {
        if (t->state != CIO_TASK_DONE || t->retrieved || t->group ||
            !cio_status_failed(t->status))
            continue;
        fprintf(stderr, "cio: task '%s' (id %llu) failed with %s (%s) and was "
                        "never joined\n", cio_task_name(t), (unsigned long long)t->id,
                cio_errname(t->status), cio_strerror(t->status));
    }
}

void cio_loop_close(cio_loop *L)
{
    if (!L || L->current)
        return;
    cio_threadsafe_close(L);
    for (cio_task *t = L->all_head; t; t = t->all_next) {
        t->pending_at_close = t->state != CIO_TASK_DONE;
        cio_task_cancel(t);
    }
    if (cio_sched_run(L, closed_down, NULL) == -EDEADLK)
        report_blocked(L, "loop closed with tasks that ignore cancellation; "
                          "their memory is leaked");
    report_unretrieved(L);
    if (L->reaper_close)
        L->reaper_close(L);         /* kills and reaps orphaned children */
    cio_debug_loop_close(L);        /* stops the watchdog */
    cio_handle_close_all(L);        /* reports open handles in debug mode */
    if (L->debug)
        cio_debug_report_close(L);  /* unjoined tasks, statistics */
    if (L->http_shutdown)
        L->http_shutdown(L);        /* libcurl's multi handle and sockets */
    if (L->threadpool_shutdown)
        L->threadpool_shutdown(L);  /* waits for running jobs, joins workers */
    cio_threadsafe_finish(L);
    L->closing = true;
    cio_task *t = L->all_head;
    while (t) {
        cio_task *next = t->all_next;
        if (t->state == CIO_TASK_DONE)
            cio_task_free(t);
        t = next;
    }
    cio_task_pool_drain(L);
    cio_timer_heap_free(&L->timers);
    cio_poller_close(&L->poller);
    cio_tls_loop = NULL;
    free(L);
}

int cio_run_with(const cio_loop_options *opts, cio_task_fn *main, void *arg)
{
    cio_loop *L = cio_loop_create(opts);
    if (!L)
        return -(errno ? errno : ENOMEM);
    cio_task *t;
    int rc = cio_task_spawn_on(L, &t, main, arg, &(cio_task_opts){ .name = "main" });
    if (rc < 0) {
        cio_loop_close(L);
        return rc;
    }
    cio_run_signals sigs;
    cio_run_signals_start(&sigs, opts, t);
    rc = cio_sched_run(L, task_finished, t);
    bool interrupted = cio_run_signals_stop(&sigs) != 0;
    t->retrieved = true;
    if (rc == -EDEADLK) {
        report_blocked(L, "deadlock: every task is blocked and nothing can "
                          "wake any of them");
    } else {
        rc = interrupted ? CIO_EINTERRUPTED : t->status;
        cio_task_free(t);
    }
    cio_loop_close(L);
    return rc;
}

int cio_run(cio_task_fn *main, void *arg) { return cio_run_with(NULL, main, arg); }

const char *cio_loop_backend(cio_loop *L)
{
    return L->poller.be->name;
}

void cio_loop_get_stats(cio_loop *L, cio_loop_stats *out)
{
    memset(out, 0, sizeof *out);
    out->live_tasks = L->live;
    out->pooled_stacks = L->pool_count;
    out->guarded_stacks = cio_stack_count_guarded();
    out->unguarded_stacks = cio_stack_count_unguarded();
    out->switches = L->switches;
    out->iterations = L->iterations;
}
