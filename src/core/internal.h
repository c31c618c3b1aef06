/* internal.h — the core's private structures: task, loop, and the calls
 * the layers above build on (park/wake, the scheduler, timers, done hooks).
 */
#ifndef CIO_CORE_INTERNAL_H
#define CIO_CORE_INTERNAL_H

#include <errno.h>

#include "cio/base.h"
#include "cio/loop.h"
#include "cio/scope.h"
#include "cio/task.h"
#include "cio/time.h"
#include "../arch/context.h"
#include "../arch/sanitizer.h"
#include "../arch/stack.h"
#include "../poller/poller.h"
#include "threadsafe.h"
#include "timer.h"
#include "../debug/stats_acc.h"

enum cio_task_state {
    CIO_TASK_NEW,       /* spawned, has not run yet */
    CIO_TASK_READY,     /* on the run queue */
    CIO_TASK_RUNNING,
    CIO_TASK_PARKED,    /* waiting on a cio_waiter */
    CIO_TASK_DONE,
};

/* Run when a task finishes (join, gather, wait, as_completed, groups).
 * fn is cleared just before it is called: a hook whose fn is still set is
 * still registered on a live task. */
typedef struct cio_done_hook {
    struct cio_done_hook *prev, *next;
    void (*fn)(struct cio_done_hook *hook, cio_task *t);
    void *ctx;
} cio_done_hook;

struct cio_group;

struct cio_task {
    /* What a switch, a wake and a cancellation check touch comes first:
     * the struct is 64-byte aligned (task.c), so a task that runs again
     * after its lines left the cache brings back one line for these. */
    void *sp;                       /* saved stack pointer while switched out */
    cio_loop *loop;
    cio_task *rq_next;              /* run queue link */
    cio_waiter *wait;               /* the wait it is parked on */
    cio_scope *scope;               /* innermost open cancel scope */
    uint8_t state;                  /* enum cio_task_state */
    bool guarded;                   /* stack.guarded: no canary to check */
    bool joining;                   /* someone is in cio_task_join on it */
    bool free_when_done;            /* nobody holds the handle */
    bool must_free;                 /* finished; the loop frees it */
    bool retrieved;                 /* its status was seen (no report) */
    bool detached;                  /* spawned without a handle (not reported) */
    bool pending_at_close;          /* still running when the loop closed */
    cio_scope root;                 /* outermost scope: cio_task_cancel's */
    cio_task *all_prev, *all_next;  /* the loop's list of unfreed tasks */
    cio_task_fn *fn;
    void *arg;
    void *result;
    int status;
    cio_done_hook *hooks;
    struct cio_group *group;
    cio_task *group_prev, *group_next;
    uint64_t id;
    int64_t run_ns;                 /* debug mode: time spent running */
    cio_stack stack;
    cio_san_ctx san;
    int64_t born;                   /* spawn time, loop clock (dump, statistics) */
    char name[32];
};

struct cio_loop {
    cio_task *current;              /* running task, NULL in the loop context */
    cio_task *rq_head, *rq_tail;    /* run queue, FIFO */
    void *sp;                       /* loop context's saved stack pointer */
    cio_san_ctx san;
    int64_t now;
    bool virtual_clock;
    bool closing;
    unsigned budget, budget_max;    /* switches left before a poller pass */
    cio_timer_heap timers;
    cio_poller poller;
    size_t stack_size;              /* default for tasks */
    cio_task *pool;                 /* free stacks, linked by rq_next */
    size_t pool_count, pool_max;
    size_t pool_low;                /* fewest pooled since the last trim */
    int64_t pool_trim_at;           /* when the last trim looked */
    cio_task *all_head, *all_tail;  /* every unfreed task, spawn order */
    size_t live;                    /* tasks not yet done */
    cio_task *dead;                 /* finished, to free from the loop context */
    uint64_t switches, iterations;
    uint64_t next_id, id_limit;     /* block of task ids taken */
    size_t refs;                    /* things outside that may wake the loop */
    cio_ts_queue ts;                /* thread-safe call queue (threadsafe.c) */
    unsigned threads_max;           /* cio_loop_options.threads */
    void *threadpool;               /* made at the first cio_to_thread */
    void (*threadpool_shutdown)(cio_loop *L);   /* set with threadpool */
    bool debug;                     /* debug mode (options or CIO_DEBUG) */
    void *http;                     /* libcurl driver, made at the first
                                       HTTP request (src/http/multi.c) */
    void (*http_shutdown)(cio_loop *L);     /* set with http */
    struct cio_handle *handles;     /* open handles (src/debug/handle.c) */
    cio_task_stats_acc task_stats;  /* src/debug/task_stats.h */
    int64_t slice_start;            /* debug mode: when the running task began */
    void *reaper;                   /* children of closed processes (os) */
    void (*reaper_close)(cio_loop *L);  /* at close, once the tasks ended */
    struct cio_debug *dbg;          /* watchdog, dump requests (src/debug/) */
};

/* The calling thread's loop. */
extern __thread cio_loop *cio_tls_loop __attribute__((tls_model("initial-exec")));

/* ---- thread-safe calls (threadsafe.c) ------------------------------------ */

/* True if calls or unrefs from other threads wait to be taken: the loop must
 * neither sleep for good nor report a deadlock. The seq_cst loads pair with
 * the poller's seq_cst clear of its wake flag (poller.h), so a wake consumed
 * by a poller pass is never followed by a load that misses its call. */
static inline bool cio_threadsafe_pending(cio_loop *L)
{
    return atomic_load(&L->ts.pending) || atomic_load(&L->ts.unrefs);
}

/* The scheduler's hook on every pass: run what other threads queued. */
static inline void cio_threadsafe_run(cio_loop *L)
{
    if (cio_threadsafe_pending(L))
        cio_threadsafe_drain(L);
}

/* ---- scheduler (sched.c) ------------------------------------------------ */

/* Put t at the tail of the run queue. */
void cio_sched_ready(cio_task *t);

/* The current task gives up the CPU; it has already recorded why (parked,
 * ready again, or done). Returns when it is resumed. */
void cio_sched_switch_away(cio_task *self);

/* Loop context: run tasks, timers and the poller until stop(arg) is true.
 * Returns 0, or -EDEADLK when nothing runnable remains and nothing can wake
 * a task. */
int cio_sched_run(cio_loop *L, bool (*stop)(cio_loop *, void *), void *arg);

/* ---- waiting (wait.c) --------------------------------------------------- */

enum cio_waiter_state {
    CIO_WAITER_IDLE,
    CIO_WAITER_PARKED,
    CIO_WAITER_WOKEN,
    CIO_WAITER_CANCELLED,
    CIO_WAITER_TIMED_OUT,
};

void cio_waiter_init(cio_waiter *w);

/* What a parked task waits on, for the task dump (src/debug/dump.c). A
 * primitive records it with cio_waiter_why after cio_waiter_init: two
 * stores. obj is the object waited on (see each kind). */
enum cio_wait_kind {
    CIO_WAIT_OTHER,         /* not recorded */
    CIO_WAIT_SLEEP,         /* sleep: the deadline is the waiter's timer */
    CIO_WAIT_IO,            /* obj: the cio_io_req (fd and operation) */
    CIO_WAIT_LOCK,          /* obj: cio_lock */
    CIO_WAIT_SEMAPHORE,     /* obj: cio_semaphore */
    CIO_WAIT_EVENT,         /* obj: cio_event */
    CIO_WAIT_CONDITION,     /* obj: cio_condition */
    CIO_WAIT_BARRIER,       /* obj: cio_barrier */
    CIO_WAIT_QUEUE_GET,     /* obj: cio_queue */
    CIO_WAIT_QUEUE_PUT,     /* obj: cio_queue */
    CIO_WAIT_QUEUE_JOIN,    /* obj: cio_queue */
    CIO_WAIT_JOIN,          /* obj: the cio_task joined */
    CIO_WAIT_GROUP,         /* obj: the cio_group */
    CIO_WAIT_GATHER,        /* gather / wait / as_completed (obj: NULL) */
    CIO_WAIT_THREAD,        /* obj: the job's function (cio_to_thread) */
    CIO_WAIT_FLUSH,         /* a stream's output draining (obj: NULL) */
    CIO_WAIT_CONNECT,       /* a connection race's next attempt (obj: NULL) */
};

static inline void cio_waiter_why(cio_waiter *w, uint8_t kind, const void *obj)
{
    w->why = kind;
    w->why_obj = obj;
}

/* Park the current task on w (queued on list, if not NULL) until it is woken,
 * the absolute deadline passes (CIO_NEVER: none) or the task is cancelled.
 * Returns the waker's result, -ETIMEDOUT or -ECANCELED. A task whose scopes
 * are already cancelled returns -ECANCELED without parking.
 *
 * The race rule: whichever comes first settles the wait. A wake-up that
 * came first has handed its item/permit/lock over and the wait returns it
 * (the cancellation is seen by the next blocking call); a cancellation or
 * deadline that came first removes the waiter from its list, so a later
 * wake-up goes to the next waiter. Nothing is ever lost. */
int cio_wait_park(cio_waiter *w, cio_waitlist *list, int64_t deadline);

/* Wake a parked waiter with result. Returns false (and does nothing) if it is
 * no longer parked. */
bool cio_wait_wake(cio_waiter *w, int result);

/* The first parked waiter on list, or NULL. */
static inline cio_waiter *cio_waitlist_first(cio_waitlist *l) { return l->head; }

/* Wake the first waiter on list with result: true if there was one. */
bool cio_waitlist_wake_first(cio_waitlist *l, int result);

/* Wake every waiter on list with result; returns how many. */
size_t cio_waitlist_wake_all(cio_waitlist *l, int result);

void cio_waitlist_init(cio_waitlist *l);

/* The check every blocking call makes even when it need not wait: 0, or
 * -ECANCELED if the current task is cancelled, -EPERM outside a task. */
int cio_wait_checkpoint(void);

/* Settle t's wait as cancelled if it is parked inside a scope that is now
 * cancelled (used by scopes and cio_task_cancel). */
void cio_wait_interrupt(cio_task *t);

/* ---- tasks (task.c) ------------------------------------------------------ */

/* True if a blocking call by t now would return -ECANCELED. */
bool cio_task_is_cancelled(const cio_task *t);

/* A blocking call of t is failing with -ECANCELED: record it on the scope
 * the interruption belongs to (the outermost cancelled one up to a shield,
 * which cio_scope_leave then reports) and return -ECANCELED. */
int cio_task_cancel_delivered(cio_task *t);

/* Register / remove a hook run when t finishes (t must not be done). */
void cio_task_hook_add(cio_task *t, cio_done_hook *h);
void cio_task_hook_remove(cio_task *t, cio_done_hook *h);

/* Spawn on loop L (the group code sets t->group before it can run). */
int cio_task_spawn_on(cio_loop *L, cio_task **out, cio_task_fn *fn, void *arg,
                      const cio_task_opts *opts);

/* How many tasks loop L has spawned (statistics). */
uint64_t cio_task_created_count(const cio_loop *L);

/* Release a finished task's memory (its stack goes back to the pool). */
void cio_task_free(cio_task *t);

/* Unmap every pooled stack. */
void cio_task_pool_drain(cio_loop *L);

/* Called when the loop goes idle: at most once per CIO_POOL_PERIOD, release
 * half of the stacks above CIO_POOL_FLOOR that stayed unused in the pool
 * for the whole period. */
#define CIO_POOL_FLOOR 64
#define CIO_POOL_PERIOD CIO_SEC
void cio_task_pool_trim(cio_loop *L);

/* True if status counts as a failure (negative, and not a cancellation). */
static inline bool cio_status_failed(int status)
{
    return status < 0 && status != -ECANCELED;
}


/* Called by groups when one of their children finishes. */
void cio_group_child_done(struct cio_group *g, cio_task *t);

/* Wait until *pending reaches 0 even if the caller is cancelled; the waiter
 * w is woken by whoever drops *pending to 0. Returns -ECANCELED if the wait
 * was interrupted by cancellation at least once, else 0. on_cancel(ctx) runs
 * at the first interruption (e.g. to cancel the children being waited for). */
int cio_wait_until_zero(cio_waiter *w, const size_t *pending,
                        void (*on_cancel)(void *), void *ctx);

#endif
