/* future.c — asyncio.run_coroutine_threadsafe: another thread spawns a task
 * on a loop and holds a cio_future on its outcome.
 *
 * Lifetime: the future is reference counted. The foreign handle holds one
 * reference (dropped by cio_future_free), the loop side one (dropped when
 * the task has finished and the future is complete), and each cancel
 * request in flight one. So the handle may be freed at any time, and the
 * loop never touches a freed future.
 *
 * Lock order: a future's mutex, then the loop's call-queue mutex (cancel
 * posts while holding the first). The loop completes futures outside the
 * queue mutex, and every future is complete before the loop's final drain,
 * so a cancel request is always run before the loop is freed.
 */
#include "internal.h"
#include "cio/thread.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct cio_future {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* signalled when done */
    atomic_int refs;
    /* under mu */
    bool done, cancel_requested;
    int status;
    void *result;
    /* immutable */
    cio_loop *loop;
    cio_task_fn *fn;
    void *arg;
    /* loop thread only */
    cio_task *task;             /* while it runs */
    cio_done_hook hook;
    struct cio_future *prev, *next;   /* L->ts.futures */
    cio_ts_call spawn_call, cancel_call;
};

static void release(cio_future *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1)
        return;
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void complete(cio_future *f, int status, void *result)
{
    pthread_mutex_lock(&f->mu);
    f->done = true;
    f->status = status;
    f->result = result;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* ---- the loop side ----------------------------------------------------------- */

static void track(cio_loop *L, cio_future *f)
{
    f->prev = NULL;
    f->next = L->ts.futures;
    if (f->next)
        f->next->prev = f;
    L->ts.futures = f;
}

static void untrack(cio_loop *L, cio_future *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        L->ts.futures = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
}

/* The task finished: its status goes to the future, its memory back to the
 * loop (nobody joins it). */
static void on_task_done(cio_done_hook *h, cio_task *t)
{
    cio_future *f = h->ctx;
    untrack(t->loop, f);
    f->task = NULL;
    t->retrieved = true;
    t->free_when_done = true;
    complete(f, t->status, t->result);
    release(f);
}

static void spawn_on_loop(void *arg)
{
    cio_future *f = arg;
    cio_loop *L = f->loop;
    pthread_mutex_lock(&f->mu);
    bool cancelled = f->cancel_requested;
    pthread_mutex_unlock(&f->mu);
    /* A spawn that reaches a closing loop is not started: the close has
     * already cancelled every task and would not cancel this one. */
    if (cancelled || L->ts.closed) {
        complete(f, -ECANCELED, NULL);
        release(f);
        return;
    }
    cio_task *t;
    int rc = cio_task_spawn_on(L, &t, f->fn, f->arg, NULL);
    if (rc < 0) {
        complete(f, rc, NULL);
        release(f);
        return;
    }
    f->task = t;
    f->hook.fn = on_task_done;
    f->hook.ctx = f;
    cio_task_hook_add(t, &f->hook);
    track(L, f);
}

static void cancel_on_loop(void *arg)
{
    cio_future *f = arg;
    if (f->task)
        cio_task_cancel(f->task);
    release(f);
}

void cio_future_abandon_all(cio_loop *L)
{
    while (L->ts.futures) {
        cio_future *f = L->ts.futures;
        untrack(L, f);
        f->task = NULL;         /* leaked with its hook, never run again */
        complete(f, -ECANCELED, NULL);
        release(f);
    }
}

/* ---- the foreign side ------------------------------------------------------- */

static cio_future *future_new(cio_loop *L, cio_task_fn *fn, void *arg)
{
    cio_future *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(f);
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->refs, 2);   /* the handle and the loop side */
    f->loop = L;
    f->fn = fn;
    f->arg = arg;
    f->spawn_call = (cio_ts_call){ .fn = spawn_on_loop, .arg = f };
    f->cancel_call = (cio_ts_call){ .fn = cancel_on_loop, .arg = f };
    return f;
}

int cio_spawn_threadsafe(cio_loop *loop, cio_task_fn *fn, void *arg, cio_future **out)
{
    if (!loop || !fn)
        return -EINVAL;
    cio_future *f = future_new(loop, fn, arg);
    if (!f)
        return -ENOMEM;
    int rc = cio_threadsafe_post(loop, &f->spawn_call, true);
    if (rc < 0) {
        release(f);
        release(f);
        return rc;
    }
    if (out)
        *out = f;
    else
        release(f);
    return 0;
}

static struct timespec deadline_in(int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t sec = ns / 1000000000, nsec = ts.tv_nsec + ns % 1000000000;
    ts.tv_sec += sec + nsec / 1000000000;
    ts.tv_nsec = nsec % 1000000000;
    return ts;
}

int cio_future_wait(cio_future *f, int *status, void **result, int64_t timeout_ns)
{
    if (cio_tls_loop == f->loop)
        return -EDEADLK;
    bool forever = timeout_ns < 0 || timeout_ns == CIO_NEVER;
    struct timespec until = deadline_in(forever ? 0 : timeout_ns);
    int rc = 0;
    pthread_mutex_lock(&f->mu);
    while (!f->done && rc == 0) {
        if (forever)
            pthread_cond_wait(&f->cv, &f->mu);
        else if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT)
            rc = f->done ? 0 : -ETIMEDOUT;
    }
    if (rc == 0) {
        if (status)
            *status = f->status;
        if (result)
            *result = f->result;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

bool cio_future_done(cio_future *f)
{
    pthread_mutex_lock(&f->mu);
    bool done = f->done;
    pthread_mutex_unlock(&f->mu);
    return done;
}

void cio_future_cancel(cio_future *f)
{
    pthread_mutex_lock(&f->mu);
    if (!f->done && !f->cancel_requested) {
        f->cancel_requested = true;
        atomic_fetch_add(&f->refs, 1);
        /* Internal post: accepted even while the loop closes (the close
         * cancels the task anyway; the call then finds nothing to do). */
        int ignored = cio_threadsafe_post(f->loop, &f->cancel_call, false);
        (void)ignored;
    }
    pthread_mutex_unlock(&f->mu);
}

void cio_future_free(cio_future *f)
{
    if (f)
        release(f);
}
