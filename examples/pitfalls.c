/* pitfalls.c — the five classic asyncio pitfalls, written in cio, and what
 * cio does about each. Run it and read stderr:
 *
 *     build/cc/examples/pitfalls
 *
 * It runs its loop in debug mode (as CIO_DEBUG=1 would) with a 100 ms
 * slow-task threshold (cio_loop_options.slow_task_ms, CIO_SLOW_TASK_MS).
 *
 *   1. A blocking call in a task (time.sleep in a coroutine): the whole
 *      loop stops. cio's watchdog reports the task while it is stuck, with
 *      its stack, then how long it blocked.
 *   2. A task that fails and is never joined ("Task exception was never
 *      retrieved"): reported when the loop closes.
 *   3. A forgotten `await` — in C, a forgotten error check: refused at
 *      compile time (warn_unused_result).
 *   4. A resource never closed (a socket): in debug mode the loop reports,
 *      when it closes, each handle left open and where it was made.
 *   5. Hard-to-follow async stacks: the task dump shows every task, what it
 *      waits on and its stack (also on SIGQUIT, see cio_dump_on_sigquit).
 */
#include <cio.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* ---- 1. a blocking call -------------------------------------------------- */

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A synchronous "database query" of 300 ms. Like most blocking client
 * libraries it carries on after EINTR (the watchdog reads the stuck thread's
 * stack with a signal, which cuts a bare usleep short). noinline: it must
 * show in the watchdog's stack trace. */
__attribute__((noinline)) void synchronous_query(void)
{
    int64_t until = real_ms() + 300;
    while (real_ms() < until)
        usleep((useconds_t)(until - real_ms()) * 1000);
}

static int report_task(void *arg)
{
    (void)arg;
    cio_log_info("pitfall 1: a blocking call in a task; the watchdog reports it");
    synchronous_query();        /* WRONG: blocks every task of the loop */
    /* Right: run it on the thread pool, the loop keeps going:
     *     int rc = cio_to_thread(query_fn, arg, &result);
     * or, if it is a pause, cio_sleep(300 * 1000000LL). */
    return 0;
}

/* ---- 2. a failure nobody looks at ---------------------------------------- */

static int risky_task(void *arg)
{
    (void)arg;
    int rc = cio_sleep(10 * 1000000LL);
    if (rc < 0)
        return rc;
    return -EIO;                /* fails; its spawner never joins it */
}

/* ---- 3. an ignored error -------------------------------------------------- */

/* In asyncio, `fetch_data()` without `await` silently does nothing. In cio
 * there is nothing to forget to await (a call that blocks, blocks), but its
 * error can be ignored: every fallible call is warn_unused_result, and cio
 * builds with -Werror, so this does not compile:
 */
#if 0
static int forgetful(void *arg)
{
    cio_sleep(1000000);         /* the result (-ECANCELED...) is dropped */
    return 0;
}
/* gcc:   pitfalls.c:79:5: error: ignoring return value of 'cio_sleep' declared
 *        with attribute 'warn_unused_result' [-Werror=unused-result]
 * clang: pitfalls.c:79:5: error: ignoring return value of function declared
 *        with 'warn_unused_result' attribute [-Werror,-Wunused-result]
 * Handle it: `int rc = cio_sleep(...); if (rc < 0) return rc;` — or, when
 * ignoring it is really right, say so: `(void)!cio_sleep(...)`. */
#endif

/* ---- 4. a leaked socket --------------------------------------------------- */

static void leak_a_socket(void)
{
    cio_socket *s;
    if (cio_tcp_listen(&s, "127.0.0.1", 0, NULL) == 0)
        cio_log_warn("pitfall 4: a listening socket (fd %d) is never closed; "
                     "debug mode reports it, and where it was made, at loop close",
                     cio_socket_fd(s));
    /* Right: cio_socket_close(s) when done (on every path). */
}

/* ---- 5. the task dump ----------------------------------------------------- */

static cio_queue jobs;
static cio_lock lock;

static int consumer_task(void *arg)
{
    (void)arg;
    int job;
    int rc = cio_queue_get(&jobs, &job);      /* waits: the queue is empty */
    return rc < 0 ? rc : 0;
}

static int locker_task(void *arg)
{
    (void)arg;
    int rc = cio_lock_acquire(&lock);          /* waits: main holds it */
    if (rc == 0)
        rc = cio_lock_release(&lock);
    return rc;
}

static int show_dump(void)
{
    cio_log_info("pitfall 5: where is every task? the task dump says");
    if (cio_queue_init(&jobs, sizeof(int), 8) < 0)
        return -ENOMEM;
    cio_lock_init(&lock);
    int rc = cio_lock_acquire(&lock);
    cio_task *consumer, *locker;
    if (rc == 0)
        rc = cio_task_spawn(&consumer, consumer_task, NULL,
                            &(cio_task_opts){ .name = "consumer" });
    if (rc == 0)
        rc = cio_task_spawn(&locker, locker_task, NULL, &(cio_task_opts){ .name = "locker" });
    if (rc == 0)
        rc = cio_sleep(50 * 1000000LL);         /* both are parked now */
    if (rc < 0)
        return rc;
    cio_dump_tasks(stderr);
    int job = 1;
    rc = cio_queue_put(&jobs, &job);
    if (rc == 0)
        rc = cio_lock_release(&lock);
    int a = cio_task_join(consumer, NULL), b = cio_task_join(locker, NULL);
    cio_queue_destroy(&jobs);
    return rc < 0 ? rc : a < 0 ? a : b;
}

/* ---- main ------------------------------------------------------------------ */

static int main_task(void *arg)
{
    (void)arg;
    cio_task *report, *risky;
    int rc = cio_task_spawn(&report, report_task, NULL, &(cio_task_opts){ .name = "report" });
    if (rc < 0)
        return rc;
    rc = cio_task_join(report, NULL);
    if (rc < 0)
        return rc;

    cio_log_info("pitfall 2: a task fails and nobody joins it; reported at close");
    rc = cio_task_spawn(&risky, risky_task, NULL, &(cio_task_opts){ .name = "risky" });
    if (rc < 0)
        return rc;

    leak_a_socket();
    rc = show_dump();
    if (rc < 0)
        return rc;
    rc = cio_sleep(20 * 1000000LL);            /* let "risky" fail */
    cio_log_info("main returns; the loop closes and reports what was left behind");
    return rc;
}

int main(void)
{
    cio_loop_options opts = { .debug = true, .slow_task_ms = 100 };
    int rc = cio_run_with(&opts, main_task, NULL);
    if (rc < 0)
        fprintf(stderr, "pitfalls: %s\n", cio_strerror(rc));
    return rc < 0 ? 1 : 0;
}
