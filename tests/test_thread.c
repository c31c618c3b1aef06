/* test_thread.c — cio_to_thread (the thread pool), cio_call_threadsafe,
 * cio_spawn_threadsafe and futures, loop references, and what loop close
 * does with all of them. Threads are synchronised with gates, events set
 * through the call queue, and joins: never with sleeps.
 */
#include "helpers.h"
#include "gate.h"
#include "core/internal.h"     /* the loop's call-queue count, in one test */

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

static int run_threads(unsigned threads, cio_task_fn *fn, void *arg)
{
    cio_loop_options o = { .virtual_clock = true, .threads = threads };
    return cio_run_with(&o, fn, arg);
}

/* cio_to_thread(pthread_join): a task waits for a thread without blocking
 * its loop (and the job in flight keeps the loop from a false deadlock). */
static void *join_thread(void *arg)
{
    int rc = pthread_join(*(pthread_t *)arg, NULL);
    return (void *)(intptr_t)rc;
}

static void join_from_task(pthread_t *tid)
{
    void *res = (void *)1;
    cr_assert_eq(cio_to_thread(join_thread, tid, &res), 0);
    cr_assert_eq(res, NULL, "pthread_join failed");
}

/* ---- cio_to_thread ---------------------------------------------------------- */

static void *square_on_worker(void *arg)
{
    intptr_t n = (intptr_t)arg;
    return (void *)(n * n);
}

static _Thread_local int loop_thread_marker;
static void *where_am_i(void *arg)
{
    (void)arg;
    return &loop_thread_marker;
}

static int result_main(void *arg)
{
    (void)arg;
    void *res = NULL;
    cr_assert_eq(cio_to_thread(square_on_worker, (void *)7, &res), 0);
    cr_assert_eq((intptr_t)res, 49);
    /* It ran on another thread: its thread-local is not ours. */
    cr_assert_eq(cio_to_thread(where_am_i, NULL, &res), 0);
    cr_assert_neq(res, &loop_thread_marker);
    /* A NULL result pointer is allowed. */
    cr_assert_eq(cio_to_thread(square_on_worker, (void *)3, NULL), 0);
    return 0;
}

Test(thread, to_thread_returns_fn_result_from_a_worker)
{
    cr_assert_eq(run_virtual(result_main, NULL), 0);
}

Test(thread, to_thread_outside_a_task_is_eperm)
{
    void *res;
    cr_assert_eq(cio_to_thread(square_on_worker, (void *)2, &res), -EPERM);
    cio_loop *L = cio_loop_create(NULL);
    cr_assert_eq(cio_to_thread(square_on_worker, (void *)2, &res), -EPERM);
    cio_loop_close(L);
}

static int null_fn_main(void *arg)
{
    (void)arg;
    return cio_to_thread(NULL, NULL, NULL);
}

Test(thread, to_thread_with_null_fn_is_einval)
{
    cr_assert_eq(run_virtual(null_fn_main, NULL), -EINVAL);
}

/* Many jobs, few workers: every result right, never more than `threads`
 * jobs at once, and the pool does grow to that many. */
#define FEW 3
#define MANY 40

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, peak;
    pthread_t workers[MANY];
    int n_workers;              /* distinct threads that ran a job */
} conc = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}, 0 };

static void note_worker(void)
{
    for (int i = 0; i < conc.n_workers; i++)
        if (pthread_equal(conc.workers[i], pthread_self()))
            return;
    conc.workers[conc.n_workers++] = pthread_self();
}

static int expected_peak;

/* The first jobs wait until `expected_peak` run at once, so the test fails
 * (hangs, then times out) if the pool does not start that many workers. */
static void *counted_square(void *arg)
{
    pthread_mutex_lock(&conc.mu);
    note_worker();
    conc.running++;
    if (conc.running > conc.peak)
        conc.peak = conc.running;
    pthread_cond_broadcast(&conc.cv);
    while (conc.peak < expected_peak)
        pthread_cond_wait(&conc.cv, &conc.mu);
    conc.running--;
    pthread_mutex_unlock(&conc.mu);
    intptr_t n = (intptr_t)arg;
    return (void *)(n * n);
}

static int square_task(void *arg)
{
    void *res = NULL;
    int rc = cio_to_thread(counted_square, arg, &res);
    if (rc < 0)
        return rc;
    return (intptr_t)res == (intptr_t)arg * (intptr_t)arg ? 0 : -EIO;
}

static int many_main(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    for (intptr_t i = 0; i < MANY; i++)
        cr_assert_eq(cio_group_spawn(&g, NULL, square_task, (void *)i, NULL), 0);
    int rc = cio_group_wait(&g);
    cio_group_destroy(&g);
    return rc;
}

Test(thread, many_jobs_more_than_workers)
{
    expected_peak = FEW;
    cr_assert_eq(run_threads(FEW, many_main, NULL), 0);
    cr_assert_eq(conc.peak, FEW, "peak %d", conc.peak);
    cr_assert_eq(conc.n_workers, FEW, "%d worker threads", conc.n_workers);
}

Test(thread, pool_size_from_cio_threads_env)
{
    setenv("CIO_THREADS", "2", 1);
    expected_peak = 2;
    cr_assert_eq(run_virtual(many_main, NULL), 0);
    cr_assert_eq(conc.peak, 2, "peak %d", conc.peak);
    cr_assert_eq(conc.n_workers, 2, "%d worker threads", conc.n_workers);
}

/* ---- cancellation and late results -------------------------------------------- */

typedef struct disposal {
    int count;
    void *last_result;
    pthread_t thread;
    cio_event done;
} disposal;

static disposal disp;

static void count_dispose(void *result, void *arg)
{
    (void)arg;
    disp.count++;
    disp.last_result = result;
    disp.thread = pthread_self();
    cio_event_set(&disp.done);
}

static blocker job;

static int blocked_caller(void *arg)
{
    (void)arg;
    void *res = NULL;
    int rc = cio_to_thread_ex(blocker_run, &job, &res, count_dispose);
    cr_assert_eq(res, NULL, "no result is delivered to a caller that gave up");
    return rc;
}

static int cancel_running_main(void *arg)
{
    (void)arg;
    static int late;
    blocker_init(&job, &late);
    cio_event_init(&disp.done);
    cio_task *t = spawn(blocked_caller, NULL, "caller");
    cr_assert_eq(cio_event_wait(&job.started), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(disp.count, 0, "the worker still runs: nothing to dispose yet");
    gate_open(&job.release);
    cr_assert_eq(cio_event_wait(&disp.done), 0);
    cr_assert_eq(disp.count, 1);
    cr_assert_eq(disp.last_result, &late, "dispose gets the late result");
    cr_assert(pthread_equal(disp.thread, pthread_self()), "dispose runs on the loop");
    cr_assert_eq(job.ran, 1);
    return 0;
}

Test(thread, cancel_while_job_runs_disposes_late_result_once)
{
    cr_assert_eq(run_virtual(cancel_running_main, NULL), 0);
    cr_assert_eq(disp.count, 1, "disposed exactly once");
}

/* One worker, busy: a second job waits in the queue. Its caller gives up;
 * the job is withdrawn, never runs, and dispose gets NULL at once. */
static int second_ran;
static void *second_job(void *arg)
{
    (void)arg;
    second_ran++;
    return (void *)1;
}

static int second_caller(void *arg)
{
    (void)arg;
    return cio_to_thread_ex(second_job, &second_ran, NULL, count_dispose);
}

static int cancel_queued_main(void *arg)
{
    (void)arg;
    blocker_init(&job, NULL);
    cio_event_init(&disp.done);
    cio_task *first = spawn(blocked_caller, NULL, "first");
    cr_assert_eq(cio_event_wait(&job.started), 0);
    cio_task *second = spawn(second_caller, NULL, "second");
    cr_assert_eq(cio_yield(), 0);           /* second is now queued */
    cio_task_cancel(second);
    cr_assert_eq(cio_task_join(second, NULL), -ECANCELED);
    cr_assert_eq(disp.count, 1, "disposed at once");
    cr_assert_null(disp.last_result, "fn never ran: no result");
    gate_open(&job.release);
    cr_assert_eq(cio_task_join(first, NULL), 0);
    return 0;
}

Test(thread, cancel_while_queued_withdraws_the_job)
{
    cr_assert_eq(run_threads(1, cancel_queued_main, NULL), 0);
    cr_assert_eq(second_ran, 0, "a withdrawn job never runs");
    cr_assert_eq(disp.count, 1);
}

static int already_cancelled_main(void *arg)
{
    (void)arg;
    cio_task_cancel(cio_task_current());
    int rc = cio_to_thread_ex(second_job, NULL, NULL, count_dispose);
    cr_assert_eq(disp.count, 1);
    cr_assert_null(disp.last_result);
    return rc;
}

Test(thread, to_thread_in_a_cancelled_task_returns_at_once)
{
    cio_event_init(&disp.done);
    cr_assert_eq(run_virtual(already_cancelled_main, NULL), -ECANCELED);
    cr_assert_eq(second_ran, 0);
}

/* The race the job record settles: the caller's wait is settled by a
 * cancellation, and the job's completion runs in the same loop pass, before
 * the caller resumes. The completion cannot wake it; the caller, when it
 * runs, must see the job finished and dispose of the result itself. The
 * job queues the cancellation just before it returns, and the loop thread
 * is held until the completion is queued behind it, so both run in one
 * drain, in that order. */
static cio_task *race_caller;
static void cancel_cb(void *t) { cio_task_cancel(t); }

static void *cancel_then_return(void *arg)
{
    signal_loop(job.loop, &job.started);
    gate_wait(&job.release);
    int rc = cio_call_threadsafe(job.loop, cancel_cb, race_caller);
    cr_assert_eq(rc, 0);
    return arg;
}

static int race_caller_fn(void *arg)
{
    return cio_to_thread_ex(cancel_then_return, arg, NULL, count_dispose);
}

static int same_pass_main(void *arg)
{
    (void)arg;
    static int payload;
    blocker_init(&job, NULL);
    cio_event_init(&disp.done);
    race_caller = spawn(race_caller_fn, &payload, "caller");
    cr_assert_eq(cio_event_wait(&job.started), 0);
    cio_loop *L = cio_loop_current();
    gate_open(&job.release);
    /* Hold the loop thread (no task switch) until the cancel call and
     * the completion are both queued. */
    while (atomic_load(&L->ts.pending) < 2)
        ;
    cr_assert_eq(cio_task_join(race_caller, NULL), -ECANCELED);
    cr_assert_eq(disp.count, 1, "the caller disposed of the result");
    cr_assert_eq(disp.last_result, &payload);
    return 0;
}

Test(thread, completion_after_the_cancel_in_one_pass_is_disposed_once)
{
    cr_assert_eq(run_virtual(same_pass_main, NULL), 0);
    cr_assert_eq(disp.count, 1);
}

static void *make_box(void *arg)
{
    (void)arg;
    int *p = malloc(sizeof *p);
    *p = 42;
    return p;
}

static int boxes_freed;
static void free_box(void *result, void *arg)
{
    (void)arg;
    cr_assert_eq(*(int *)result, 42);
    free(result);
    boxes_freed++;
}

static int null_result_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_to_thread_ex(make_box, NULL, NULL, free_box), 0);
    cr_assert_eq(boxes_freed, 1, "nobody receives it: disposed");
    void *res = NULL;
    cr_assert_eq(cio_to_thread_ex(make_box, NULL, &res, free_box), 0);
    cr_assert_eq(boxes_freed, 1, "delivered: not disposed");
    free(res);
    return 0;
}

Test(thread, result_nobody_receives_is_disposed)
{
    cr_assert_eq(run_virtual(null_result_main, NULL), 0);
}

/* A scope's deadline interrupts the wait (real clock: the virtual clock
 * does not jump while a job runs). */
static int wait_blocked(void *arg)
{
    (void)arg;
    return cio_to_thread_ex(blocker_run, &job, NULL, count_dispose);
}

static int deadline_main(void *arg)
{
    (void)arg;
    blocker_init(&job, NULL);
    cio_event_init(&disp.done);
    int64_t t0 = cio_now();
    int rc = cio_wait_for(wait_blocked, NULL, 20 * CIO_MS);
    cr_assert_eq(rc, -ETIMEDOUT);
    cr_assert_geq(cio_now() - t0, 20 * CIO_MS);
    cr_assert_eq(disp.count, 0);
    gate_open(&job.release);
    cr_assert_eq(cio_event_wait(&disp.done), 0);
    cr_assert_eq(disp.count, 1);
    return 0;
}

Test(thread, scope_deadline_times_out_the_wait)
{
    cr_assert_eq(run_real(deadline_main, NULL), 0);
}

static int sleeper(void *arg)
{
    (void)arg;
    return cio_sleep(3600 * CIO_SEC);
}

static int virtual_main(void *arg)
{
    (void)arg;
    cio_task *s = spawn(sleeper, NULL, "sleeper");
    void *res;
    cr_assert_eq(cio_to_thread(square_on_worker, (void *)5, &res), 0);
    cr_assert_eq(cio_now(), 0, "the clock jumped while a job ran");
    cio_task_cancel(s);
    cr_assert_eq(cio_task_join(s, NULL), -ECANCELED);
    return 0;
}

Test(thread, virtual_clock_waits_for_a_running_job)
{
    cr_assert_eq(run_virtual(virtual_main, NULL), 0);
}

/* Loop close with a job still running: the caller is cancelled by the
 * close (and only then releases the worker), the close waits for the job,
 * disposes of its result on the loop's thread, and joins the worker. */
static int close_caller(void *arg)
{
    (void)arg;
    int rc = cio_to_thread_ex(blocker_run, &job, NULL, count_dispose);
    gate_open(&job.release);   /* cancelled by the close: now let it end */
    return rc;
}

static int late_result;

static int close_main(void *arg)
{
    (void)arg;
    blocker_init(&job, &late_result);
    cio_event_init(&disp.done);
    spawn(close_caller, NULL, "caller");
    cr_assert_eq(cio_event_wait(&job.started), 0);
    return 0;                  /* leave the caller to cio_run's close */
}

Test(thread, loop_close_waits_for_running_jobs)
{
    cr_assert_eq(run_virtual(close_main, NULL), 0);
    cr_assert_eq(job.ran, 1, "the close waited for the job");
    cr_assert_eq(disp.count, 1);
    cr_assert_eq(disp.last_result, &late_result);
    cr_assert(pthread_equal(disp.thread, pthread_self()), "disposed on the loop thread");
}

/* ---- cio_call_threadsafe ------------------------------------------------------- */

#define PRODUCERS 4
#define CALLS 2000

static struct {
    cio_loop *loop;
    int seen[PRODUCERS];        /* loop thread: last sequence per producer */
    int total;
    bool in_order;
    bool in_task;
    cio_event all_done;
} fifo;

typedef struct call_rec {
    int producer, seq;
} call_rec;

static call_rec recs[PRODUCERS][CALLS];

static void record_call(void *arg)
{
    call_rec *r = arg;
    if (r->seq != fifo.seen[r->producer] + 1)
        fifo.in_order = false;
    fifo.seen[r->producer] = r->seq;
    if (cio_task_current())
        fifo.in_task = true;
    if (++fifo.total == PRODUCERS * CALLS)
        cio_event_set(&fifo.all_done);
}

static void *producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    for (int i = 0; i < CALLS; i++) {
        recs[p][i] = (call_rec){ p, i };
        int rc = cio_call_threadsafe(fifo.loop, record_call, &recs[p][i]);
        if (rc != 0)
            return (void *)(intptr_t)rc;
    }
    cio_loop_unref(fifo.loop);
    return NULL;
}

static int fifo_main(void *arg)
{
    (void)arg;
    fifo.loop = cio_loop_current();
    fifo.in_order = true;
    cio_event_init(&fifo.all_done);
    for (int p = 0; p < PRODUCERS; p++)
        fifo.seen[p] = -1;
    pthread_t tid[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        cio_loop_ref(fifo.loop);   /* each producer unrefs when it is done */
        cr_assert_eq(pthread_create(&tid[p], NULL, producer, (void *)(intptr_t)p), 0);
    }
    cr_assert_eq(cio_event_wait(&fifo.all_done), 0);
    for (int p = 0; p < PRODUCERS; p++) {
        void *rc;
        pthread_join(tid[p], &rc);  /* they are done calling: quick */
        cr_assert_null(rc);
    }
    return 0;
}

Test(thread, call_threadsafe_from_several_threads_runs_all_fifo)
{
    cr_assert_eq(run_virtual(fifo_main, NULL), 0);
    cr_assert_eq(fifo.total, PRODUCERS * CALLS);
    cr_assert(fifo.in_order, "calls of one thread ran out of order");
    cr_assert_not(fifo.in_task, "calls run in the loop context");
}

/* A loop whose tasks never block still runs the calls. */
static atomic_bool flag_set;
static void set_flag(void *arg)
{
    (void)arg;
    atomic_store(&flag_set, true);
}

static void *flag_setter(void *loop)
{
    return (void *)(intptr_t)cio_call_threadsafe(loop, set_flag, NULL);
}

static int busy_main(void *arg)
{
    (void)arg;
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, flag_setter, cio_loop_current()), 0);
    while (!atomic_load(&flag_set))
        cr_assert_eq(cio_yield(), 0);
    void *rc;
    pthread_join(tid, &rc);
    cr_assert_null(rc);
    return 0;
}

Test(thread, calls_run_while_tasks_keep_the_loop_busy)
{
    cr_assert_eq(run_virtual(busy_main, NULL), 0);
}

static int counter;
static void bump(void *arg) { (*(int *)arg)++; }

Test(thread, calls_queued_before_close_run_during_it)
{
    cio_loop *L = cio_loop_create(NULL);
    cr_assert_not_null(L);
    counter = 0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_call_threadsafe(L, bump, &counter), 0);
    cio_loop_close(L);
    cr_assert_eq(counter, 3);
}

Test(thread, call_threadsafe_checks_arguments)
{
    cr_assert_eq(cio_call_threadsafe(NULL, bump, &counter), -EINVAL);
    cio_loop *L = cio_loop_create(NULL);
    cr_assert_eq(cio_call_threadsafe(L, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_spawn_threadsafe(L, NULL, NULL, NULL), -EINVAL);
    cio_loop_close(L);
}

/* A task cancelled by the close tries to call in: refused. */
static int call_rc = 1, spawn_rc = 1;
static int never_runs(void *arg) { (void)arg; return 99; }
static int returns_99(void *arg) { (void)arg; return 99; }

static int late_caller(void *arg)
{
    cio_event *never = arg;
    int rc = cio_event_wait(never);
    call_rc = cio_call_threadsafe(cio_loop_current(), bump, &counter);
    spawn_rc = cio_spawn_threadsafe(cio_loop_current(), never_runs, NULL, NULL);
    return rc;
}

static int late_main(void *arg)
{
    (void)arg;
    static cio_event never;
    cio_event_init(&never);
    spawn(late_caller, &never, "late");
    cr_assert_eq(cio_yield(), 0);
    return 0;
}

Test(thread, calls_after_close_began_are_refused)
{
    counter = 0;
    cr_assert_eq(run_virtual(late_main, NULL), 0);
    cr_assert_eq(call_rc, -ESHUTDOWN);
    cr_assert_eq(spawn_rc, -ESHUTDOWN);
    cr_assert_eq(counter, 0);
}

/* cio_loop_ref keeps a task that waits for another thread from being a
 * deadlock; the other thread's unref lets the loop finish. */
static struct {
    cio_loop *loop;
    cio_event ev;
    gate go;
} refd;

static void *late_signaller(void *arg)
{
    (void)arg;
    gate_wait(&refd.go);
    signal_loop(refd.loop, &refd.ev);
    cio_loop_unref(refd.loop);
    return NULL;
}

static int ref_main(void *arg)
{
    (void)arg;
    refd.loop = cio_loop_current();
    cio_event_init(&refd.ev);
    gate_init(&refd.go);
    cio_loop_ref(refd.loop);
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, late_signaller, NULL), 0);
    gate_open(&refd.go);
    cr_assert_eq(cio_event_wait(&refd.ev), 0);
    pthread_join(tid, NULL);
    return 0;
}

Test(thread, loop_ref_keeps_a_waiting_loop_alive)
{
    cr_assert_eq(run_virtual(ref_main, NULL), 0);
}

/* ---- cio_spawn_threadsafe and futures ----------------------------------------- */

static struct {
    cio_loop *loop;
    cio_event release;          /* what the spawned task waits for */
    cio_event task_done;
    int status;
    void *result;
    int wait_rc, timeout_rc;
    bool done_before, done_after;
    int value;
    bool on_loop_thread;
    pthread_t loop_thread;
} fut;

static int spawned_work(void *arg)
{
    fut.on_loop_thread = pthread_equal(pthread_self(), fut.loop_thread);
    cio_task_set_result(arg);
    return 5;
}

static void *spawn_and_wait(void *arg)
{
    (void)arg;
    cio_future *f;
    int rc = cio_spawn_threadsafe(fut.loop, spawned_work, &fut.value, &f);
    if (rc < 0)
        return (void *)(intptr_t)rc;
    fut.wait_rc = cio_future_wait(f, &fut.status, &fut.result, -1);
    fut.done_after = cio_future_done(f);
    cio_future_free(f);
    return NULL;
}

static void fut_setup(void)
{
    fut.loop = cio_loop_current();
    fut.loop_thread = pthread_self();
    cio_event_init(&fut.release);
    cio_event_init(&fut.task_done);
    fut.status = 1;
    fut.result = NULL;
}

static int spawn_main(void *arg)
{
    (void)arg;
    fut_setup();
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, spawn_and_wait, NULL), 0);
    join_from_task(&tid);
    return 0;
}

Test(thread, spawn_threadsafe_and_wait_for_the_outcome)
{
    cr_assert_eq(run_virtual(spawn_main, NULL), 0);
    cr_assert_eq(fut.wait_rc, 0);
    cr_assert_eq(fut.status, 5);
    cr_assert_eq(fut.result, &fut.value);
    cr_assert(fut.done_after);
    cr_assert(fut.on_loop_thread, "the task runs on the loop's thread");
}

static int wait_release(void *arg)
{
    (void)arg;
    int rc = cio_event_wait(&fut.release);
    cio_event_set(&fut.task_done);
    return rc;
}

static void *spawn_then_cancel(void *arg)
{
    (void)arg;
    cio_future *f;
    if (cio_spawn_threadsafe(fut.loop, wait_release, NULL, &f) < 0)
        return (void *)1;
    fut.timeout_rc = cio_future_wait(f, NULL, NULL, 0);
    fut.done_before = cio_future_done(f);
    cio_future_cancel(f);
    cio_future_cancel(f);       /* twice: harmless */
    fut.wait_rc = cio_future_wait(f, &fut.status, NULL, CIO_NEVER);
    cio_future_cancel(f);       /* done: nothing */
    cio_future_free(f);
    return NULL;
}

static int cancel_main(void *arg)
{
    (void)arg;
    fut_setup();
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, spawn_then_cancel, NULL), 0);
    join_from_task(&tid);
    return 0;
}

Test(thread, future_cancel_cancels_the_task)
{
    cr_assert_eq(run_virtual(cancel_main, NULL), 0);
    cr_assert_eq(fut.timeout_rc, -ETIMEDOUT);
    cr_assert_not(fut.done_before);
    cr_assert_eq(fut.wait_rc, 0);
    cr_assert_eq(fut.status, -ECANCELED);
}

/* A short real timeout, then the task is released through the call queue
 * and the wait without limit returns its status. */
static void *wait_with_timeout(void *arg)
{
    (void)arg;
    cio_future *f;
    if (cio_spawn_threadsafe(fut.loop, wait_release, NULL, &f) < 0)
        return (void *)1;
    fut.timeout_rc = cio_future_wait(f, NULL, NULL, 2 * CIO_MS);
    signal_loop(fut.loop, &fut.release);
    fut.wait_rc = cio_future_wait(f, &fut.status, NULL, 60 * CIO_SEC);
    cio_future_free(f);
    return NULL;
}

static int timeout_main(void *arg)
{
    (void)arg;
    fut_setup();
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, wait_with_timeout, NULL), 0);
    join_from_task(&tid);
    return 0;
}

Test(thread, future_wait_times_out_then_completes)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
    cr_assert_eq(fut.timeout_rc, -ETIMEDOUT);
    cr_assert_eq(fut.wait_rc, 0);
    cr_assert_eq(fut.status, 0);
}

/* The handle is freed while the task still waits: the task runs on and
 * ends cleanly (ASan checks nothing touches the freed handle). */
static void *spawn_and_forget(void *arg)
{
    (void)arg;
    cio_future *f;
    if (cio_spawn_threadsafe(fut.loop, wait_release, NULL, &f) < 0)
        return (void *)1;
    cio_future_free(f);
    if (cio_spawn_threadsafe(fut.loop, returns_99, NULL, NULL) < 0)   /* no handle */
        return (void *)2;
    signal_loop(fut.loop, &fut.release);
    return NULL;
}

static int forget_main(void *arg)
{
    (void)arg;
    fut_setup();
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, spawn_and_forget, NULL), 0);
    join_from_task(&tid);
    cr_assert_eq(cio_event_wait(&fut.task_done), 0);
    return 0;
}

Test(thread, future_freed_before_the_task_finishes)
{
    cr_assert_eq(run_virtual(forget_main, NULL), 0);
}

static int own_loop_main(void *arg)
{
    (void)arg;
    cio_future *f;
    cr_assert_eq(cio_spawn_threadsafe(cio_loop_current(), spawned_work, NULL, &f), 0);
    int status;
    cr_assert_eq(cio_future_wait(f, &status, NULL, -1), -EDEADLK);
    cio_future_free(f);
    return 0;
}

Test(thread, future_wait_on_its_own_loop_thread_is_edeadlk)
{
    fut.loop_thread = pthread_self();
    cr_assert_eq(run_virtual(own_loop_main, NULL), 0);
}

/* A spawned task that ignores cancellation at close: the close reports it,
 * and the future completes with -ECANCELED instead of never. */
static int stubborn(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter_shielded(&s, CIO_NEVER);
    cio_event_set(&fut.task_done);
    int rc = cio_event_wait(&fut.release);     /* never set */
    int ignored = cio_scope_leave(&s);
    (void)ignored;
    return rc;
}

static pthread_t stubborn_waiter;
static void *spawn_stubborn(void *arg)
{
    (void)arg;
    cio_future *f;
    if (cio_spawn_threadsafe(fut.loop, stubborn, NULL, &f) < 0)
        return (void *)1;
    fut.wait_rc = cio_future_wait(f, &fut.status, NULL, -1);
    cio_future_free(f);
    return NULL;
}

static int stubborn_main(void *arg)
{
    (void)arg;
    fut_setup();
    cr_assert_eq(pthread_create(&stubborn_waiter, NULL, spawn_stubborn, NULL), 0);
    cio_loop_ref(fut.loop);
    cr_assert_eq(cio_event_wait(&fut.task_done), 0);
    cio_loop_unref(fut.loop);
    return 0;
}

Test(thread, future_of_a_task_leaked_at_close_completes, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(stubborn_main, NULL), 0);
    pthread_join(stubborn_waiter, NULL);
    cr_assert_eq(fut.wait_rc, 0);
    cr_assert_eq(fut.status, -ECANCELED);
    cr_assert(strstr(captured_stderr(), "ignore cancellation"));
}
