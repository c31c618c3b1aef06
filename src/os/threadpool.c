/* threadpool.c — asyncio.to_thread: blocking functions on worker threads.
 *
 * One pool per loop, made at the first cio_to_thread. A job is a heap record
 * (never on the caller's stack: the caller may give up and return while a
 * worker still runs it). Its life:
 *
 *   queued    on the pool's list, under the pool mutex. A caller that gives
 *             up now takes it back: fn never runs.
 *   running   a worker runs fn(arg) outside any lock, then posts the job's
 *             embedded completion call to the loop (cannot fail).
 *   finished  job_done runs on the loop thread: it wakes the caller with the
 *             result, or, if the caller gave up (waiter NULL), disposes of
 *             the result and frees the job.
 *
 * waiter and finished are touched only on the loop thread; queued only
 * under the pool mutex; result is written by the worker before it posts,
 * and read on the loop thread after the post (the queue's mutex orders it).
 * Every job in flight holds one loop reference (L->refs), so a task parked
 * on it is not a deadlock, and the virtual clock waits for it.
 */
#include "../core/internal.h"
#include "cio/thread.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct cio_job {
    struct cio_job *prev, *next;    /* pool queue, under the pool mutex */
    void *(*fn)(void *);
    void *arg;
    void *result;
    void (*dispose)(void *result, void *arg);
    cio_loop *loop;
    bool queued;                    /* under the pool mutex */
    bool finished;                  /* loop thread: job_done has run */
    cio_waiter *waiter;             /* loop thread: the parked caller */
    cio_ts_call done;
} cio_job;

typedef struct cio_threadpool {
    pthread_mutex_t mu;
    pthread_cond_t work;            /* a job was queued, or stop */
    cio_job *head, *tail;
    size_t queued, idle, started, max;
    bool stopping;
    pthread_t *threads;             /* max slots, started used */
} cio_threadpool;

/* ---- sizing -------------------------------------------------------------- */

#define POOL_MIN 4
#define POOL_CAP 64

static unsigned cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Jobs block (DNS, files), they do not compute: more workers than CPUs,
 * at least a few so one slow lookup does not hold up the rest; see
 * docs/decisions.md. */
static size_t pool_size(const cio_loop *L)
{
    if (L->threads_max)
        return L->threads_max;
    const char *env = getenv("CIO_THREADS");
    if (env && *env) {
        long n = strtol(env, NULL, 10);
        if (n > 0)
            return (size_t)n;
    }
    size_t n = 2 * (size_t)cpu_count();
    n = n < POOL_MIN ? POOL_MIN : n;
    return n > POOL_CAP ? POOL_CAP : n;
}

/* ---- workers ------------------------------------------------------------- */

static void unlink_job(cio_threadpool *p, cio_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        p->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        p->tail = j->prev;
    j->next = j->prev = NULL;
    j->queued = false;
    p->queued--;
}

static cio_job *take_job(cio_threadpool *p)
{
    cio_job *j = p->head;
    unlink_job(p, j);
    return j;
}

static void *worker_main(void *arg)
{
    cio_threadpool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->work, &p->mu);
            p->idle--;
        }
        if (p->stopping)
            break;              /* jobs still queued belong to leaked tasks */
        cio_job *j = take_job(p);
        pthread_mutex_unlock(&p->mu);
        j->result = j->fn(j->arg);
        /* From here the loop owns j: do not touch it after the post. */
        int ignored = cio_threadsafe_post(j->loop, &j->done, false);
        (void)ignored;
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Workers block every signal: signals are for the loop's thread. */
static int start_worker(cio_threadpool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->threads[p->started], NULL, worker_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    p->started++;
    return 0;
}

/* ---- the pool ------------------------------------------------------------ */

static void pool_shutdown(cio_loop *L)
{
    cio_threadpool *p = L->threadpool;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    /* Jobs never started now belong to no one alive (their callers were
     * leaked by the close): drop them; fn never ran, so no result. */
    while (p->head) {
        cio_job *j = take_job(p);
        L->refs--;
        if (j->dispose)
            j->dispose(NULL, j->arg);
        free(j);
    }
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
    L->threadpool = NULL;
    L->threadpool_shutdown = NULL;
}

static cio_threadpool *pool_get(cio_loop *L)
{
    if (L->threadpool)
        return L->threadpool;
    cio_threadpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max = pool_size(L);
    p->threads = calloc(p->max, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    L->threadpool = p;
    L->threadpool_shutdown = pool_shutdown;
    return p;
}

/* Queue j and make sure some worker will take it: wake an idle one, or
 * start one more while the pool is below its size. */
static int submit(cio_threadpool *p, cio_job *j)
{
    pthread_mutex_lock(&p->mu);
    j->next = NULL;
    j->prev = p->tail;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    j->queued = true;
    p->queued++;
    int rc = 0;
    if (p->queued > p->idle && p->started < p->max) {
        rc = start_worker(p);
        if (rc < 0 && p->started > 0)
            rc = 0;             /* a running worker will get to it */
    }
    if (rc == 0)
        pthread_cond_signal(&p->work);
    else
        unlink_job(p, j);       /* no worker at all */
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Take j back if no worker has started it. */
static bool withdraw(cio_threadpool *p, cio_job *j)
{
    pthread_mutex_lock(&p->mu);
    bool was_queued = j->queued;
    if (was_queued)
        unlink_job(p, j);
    pthread_mutex_unlock(&p->mu);
    return was_queued;
}

/* ---- the loop side --------------------------------------------------------- */

static void dispose_and_free(cio_job *j)
{
    if (j->dispose)
        j->dispose(j->result, j->arg);
    free(j);
}

/* Loop context: the worker has finished j. */
static void job_done(void *arg)
{
    cio_job *j = arg;
    j->loop->refs--;
    j->finished = true;
    if (!j->waiter) {
        dispose_and_free(j);    /* the caller gave up: a late result */
        return;
    }
    /* If the caller's wait was settled by a cancellation first, the wake
     * fails and the caller disposes when it runs (it sees finished). */
    bool woken = cio_wait_wake(j->waiter, 0);
    (void)woken;
}

/* The caller was cancelled while j was queued or running. */
static void give_up(cio_loop *L, cio_job *j)
{
    j->waiter = NULL;
    if (j->finished) {
        dispose_and_free(j);
    } else if (withdraw(L->threadpool, j)) {
        L->refs--;
        if (j->dispose)
            j->dispose(NULL, j->arg);   /* fn never ran */
        free(j);
    }
    /* else a worker runs it: job_done disposes of the late result. */
}

int cio_to_thread_ex(void *(*fn)(void *), void *arg, void **result,
                     void (*dispose)(void *result, void *arg))
{
    cio_loop *L = cio_tls_loop;
    int rc = !fn ? -EINVAL : cio_wait_checkpoint();
    cio_threadpool *p = rc == 0 ? pool_get(L) : NULL;
    cio_job *j = p ? calloc(1, sizeof *j) : NULL;
    if (rc == 0 && !j)
        rc = -ENOMEM;
    if (rc == 0) {
        *j = (cio_job){ .fn = fn, .arg = arg, .dispose = dispose, .loop = L };
        j->done = (cio_ts_call){ .fn = job_done, .arg = j };
        rc = submit(p, j);
    }
    if (rc < 0) {
        free(j);
        if (dispose)
            dispose(NULL, arg);
        return rc;
    }
    L->refs++;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_THREAD, (const void *)fn);
    j->waiter = &w;
    rc = cio_wait_park(&w, NULL, CIO_NEVER);
    if (rc < 0) {
        give_up(L, j);
        return rc;
    }
    if (!result) {
        dispose_and_free(j);    /* nobody receives it */
        return 0;
    }
    *result = j->result;
    free(j);
    return 0;
}

int cio_to_thread(void *(*fn)(void *), void *arg, void **result)
{
    return cio_to_thread_ex(fn, arg, result, NULL);
}
