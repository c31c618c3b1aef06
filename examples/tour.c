/* tour.c — a guided tour of cio, asyncio's programming model in C.
 *
 * Each section is one of the classic asyncio first examples, written with
 * cio: concurrent greetings with gather, downloads in a task group, Lock /
 * Semaphore / Event, timeouts, a queue-fed worker pool, a connection pool
 * built on a queue, and what happens to failures. The waits are real sleeps
 * on the monotonic clock (scaled down so the whole tour takes about two
 * seconds); every section prints how long it took and how long the same
 * work would take done one piece after another.
 *
 * Build and run:  make demo      (or: ninja -C build/cc && build/cc/examples/tour)
 */
#include <cio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* ---- timing and printing ------------------------------------------------ */

/* The real clock, read directly: the tour measures wall time, whatever clock
 * the loop runs on (with CIO_VIRTUAL_CLOCK=1 every wait takes no time). */
static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CIO_SEC + ts.tv_nsec;
}

static double seconds_since(int64_t start)
{
    return (double)(wall_ns() - start) / (double)CIO_SEC;
}

static int64_t section_start;   /* what say() measures from */

static void heading(const char *title, const char *asyncio)
{
    printf("\n== %s ==   (asyncio: %s)\n", title, asyncio);
    section_start = wall_ns();
}

/* A line of output stamped with the time since the section began. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  [%.2f s] ", seconds_since(section_start));
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

/* The section's verdict: its wall time against the sum of its waits. */
static void compare(double sequential)
{
    double took = seconds_since(section_start);
    printf("  -> took %.2f s; one after another it would take %.2f s (%.1fx)\n",
           took, sequential, took > 0 ? sequential / took : 0.0);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "tour: %s failed: %s (%s)\n", what, cio_errname(rc),
            cio_strerror(rc));
    return rc;
}

static double ms_to_s(int ms) { return ms / 1000.0; }

/* ---- 1. gather: greet three names concurrently --------------------------- */

enum { GREET_MS = 200 };

struct greeting {
    const char *name;
    char text[32];
};

static int greet(void *arg)
{
    struct greeting *g = arg;
    int rc = cio_sleep(GREET_MS * CIO_MS);      /* the "await" */
    if (rc < 0)
        return rc;
    snprintf(g->text, sizeof g->text, "Hello, %s!", g->name);
    cio_task_set_result(g->text);               /* what the joiner receives */
    return 0;
}

static int tour_gather(void)
{
    heading("1. Greeting three names concurrently", "gather");
    struct greeting g[] = { { .name = "Alice" }, { .name = "Bob" },
                            { .name = "Charlie" } };
    enum { N = sizeof g / sizeof g[0] };
    cio_task *tasks[N];
    for (int i = 0; i < N; i++) {
        int rc = cio_task_spawn(&tasks[i], greet, &g[i],
                                &(cio_task_opts){ .name = g[i].name });
        if (rc < 0)
            return fail("spawn", rc);
    }
    void *results[N];
    int rc = cio_gather(tasks, N, NULL, results, 0);   /* joins all three */
    if (rc < 0)
        return fail("gather", rc);
    for (int i = 0; i < N; i++)
        say("%s", (const char *)results[i]);
    compare(N * ms_to_s(GREET_MS));
    return 0;
}

/* ---- 2. a task group: three downloads take the longest, not the sum ------ */

enum { MS_PER_MB = 20 };

struct download {
    const char *file;
    int mb;
};

static int download(void *arg)
{
    const struct download *d = arg;
    say("start    %-10s (%2d MB)", d->file, d->mb);
    int rc = cio_sleep(d->mb * MS_PER_MB * CIO_MS);
    if (rc < 0)
        return rc;
    say("finished %s", d->file);
    return d->mb;               /* a status >= 0 is success: return the size */
}

static int tour_group(void)
{
    heading("2. Three downloads in a task group", "TaskGroup");
    static const struct download files[] = {
        { "report.pdf", 10 }, { "data.csv", 5 }, { "image.jpg", 8 },
    };
    enum { N = sizeof files / sizeof files[0] };
    cio_group g;
    cio_group_init(&g);
    cio_task *child[N];
    int total_mb = 0, rc = 0;
    for (int i = 0; i < N && rc == 0; i++)
        rc = cio_group_spawn(&g, &child[i], download, (void *)&files[i],
                             &(cio_task_opts){ .name = files[i].file });
    if (rc < 0)
        cio_group_cancel(&g);   /* a group is never left with children running */
    int wrc = cio_group_wait(&g);
    if (rc == 0 && wrc == 0)
        for (int i = 0; i < N; i++)
            total_mb += cio_task_status(child[i]);  /* kept until destroy */
    cio_group_destroy(&g);
    if (rc < 0 || wrc < 0)
        return fail("download group", rc < 0 ? rc : wrc);
    say("all done: %d MB", total_mb);
    compare(total_mb * ms_to_s(MS_PER_MB));
    return 0;
}

/* ---- 3. Lock, Semaphore, Event ------------------------------------------ */

enum { LOCK_HOLD_MS = 100, SEM_WORK_MS = 100, EVENT_DELAY_MS = 150 };

/* Spawn n copies of fn (arg i gets &args[i]) and gather them. */
static int run_n(cio_task_fn *fn, void *args, size_t arg_size, int n,
                 const char *what)
{
    cio_task *tasks[8];
    if (n > 8)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        int rc = cio_task_spawn(&tasks[i], fn, (char *)args + i * arg_size, NULL);
        if (rc < 0) {
            while (i--)
                cio_task_cancel(tasks[i]);  /* the loop joins them at close */
            return fail(what, rc);
        }
    }
    int rc = cio_gather(tasks, (size_t)n, NULL, NULL, 0);
    return rc < 0 ? fail(what, rc) : 0;
}

struct locker {
    cio_lock *lock;
    int id;
};

static int use_lock(void *arg)
{
    struct locker *l = arg;
    int rc = cio_lock_acquire(l->lock);
    if (rc < 0)
        return rc;              /* cancelled while waiting: not held */
    say("task %d holds the lock", l->id);
    rc = cio_sleep(LOCK_HOLD_MS * CIO_MS);
    cio_lock_release(l->lock);  /* released on every path, like `async with` */
    return rc;
}

static int demo_lock(void)
{
    heading("3a. Lock: one task at a time", "Lock");
    cio_lock lock;
    cio_lock_init(&lock);
    struct locker l[3];
    for (int i = 0; i < 3; i++)
        l[i] = (struct locker){ &lock, i };
    int rc = run_n(use_lock, l, sizeof l[0], 3, "lock demo");
    if (rc < 0)
        return rc;
    compare(3 * ms_to_s(LOCK_HOLD_MS));
    printf("     (a lock serialises on purpose: same time as sequential)\n");
    return 0;
}

struct limited {
    cio_semaphore *sem;
    int id;
};

static int limited_work(void *arg)
{
    struct limited *l = arg;
    int rc = cio_semaphore_acquire(l->sem);
    if (rc < 0)
        return rc;
    say("task %d got a permit (%zu left)", l->id, cio_semaphore_value(l->sem));
    rc = cio_sleep(SEM_WORK_MS * CIO_MS);
    cio_semaphore_release(l->sem);
    return rc;
}

static int demo_semaphore(void)
{
    heading("3b. Semaphore(2): at most two at a time", "Semaphore");
    cio_semaphore sem;
    cio_semaphore_init(&sem, 2);
    struct limited l[5];
    for (int i = 0; i < 5; i++)
        l[i] = (struct limited){ &sem, i };
    int rc = run_n(limited_work, l, sizeof l[0], 5, "semaphore demo");
    if (rc < 0)
        return rc;
    compare(5 * ms_to_s(SEM_WORK_MS));
    return 0;
}

struct event_arg {
    cio_event *event;
    int id;                     /* -1: the trigger */
};

static int event_task(void *arg)
{
    struct event_arg *e = arg;
    if (e->id < 0) {
        int rc = cio_sleep(EVENT_DELAY_MS * CIO_MS);
        if (rc < 0)
            return rc;
        say("trigger: set the event");
        cio_event_set(e->event);
        return 0;
    }
    say("waiter %d waits", e->id);
    int rc = cio_event_wait(e->event);
    if (rc == 0)
        say("waiter %d saw the event", e->id);
    return rc;
}

static int demo_event(void)
{
    heading("3c. Event: wake every waiter at once", "Event");
    cio_event ev;
    cio_event_init(&ev);
    struct event_arg e[4] = { { &ev, 0 }, { &ev, 1 }, { &ev, 2 }, { &ev, -1 } };
    int rc = run_n(event_task, e, sizeof e[0], 4, "event demo");
    if (rc < 0)
        return rc;
    printf("  -> took %.2f s: the three waiters woke together\n",
           seconds_since(section_start));
    return 0;
}

/* ---- 4. timeouts --------------------------------------------------------- */

enum { SLOW_MS = 300, FAST_MS = 50, TIMEOUT_MS = 100 };

static int slow_job(void *arg)
{
    int ms = *(const int *)arg;
    int rc = cio_sleep(ms * CIO_MS);
    return rc < 0 ? rc : ms;
}

static int tour_timeouts(void)
{
    heading("4. Timeouts", "timeout, wait_for");
    int slow = SLOW_MS, fast = FAST_MS;

    /* asyncio.timeout(): a cancel scope with a deadline. Inside, the sleep
     * returns -ECANCELED when the deadline passes; leaving the scope tells
     * its opener why: -ETIMEDOUT. */
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(TIMEOUT_MS * CIO_MS));
    int rc = slow_job(&slow);
    int why = cio_scope_leave(&s);
    say("scope:    a %d ms job under a %d ms timeout -> job %s, scope %s",
        SLOW_MS, TIMEOUT_MS, cio_errname(rc), cio_errname(why));

    /* asyncio.wait_for(): the same, in one call. */
    rc = cio_wait_for(slow_job, &slow, TIMEOUT_MS * CIO_MS);
    say("wait_for: a %d ms job under a %d ms timeout -> %s", SLOW_MS,
        TIMEOUT_MS, cio_errname(rc));
    if (rc != -ETIMEDOUT)
        return fail("expected a timeout", rc);

    rc = cio_wait_for(slow_job, &fast, TIMEOUT_MS * CIO_MS);
    say("wait_for: a %d ms job under a %d ms timeout -> returned %d",
        FAST_MS, TIMEOUT_MS, rc);
    compare(ms_to_s(2 * SLOW_MS + FAST_MS));
    printf("     (the slow jobs were cut off at %d ms, not waited out)\n",
           TIMEOUT_MS);
    return 0;
}

/* ---- 5. a queue-fed worker pool ------------------------------------------ */

enum { N_JOBS = 12, N_WORKERS = 4 };

struct job {
    int id, ms;
};

struct worker {
    cio_queue *jobs;
    int id;
    char done[64];              /* the ids of the jobs it did */
};

static int worker(void *arg)
{
    struct worker *w = arg;
    size_t len = 0;
    for (;;) {
        struct job j;
        int rc = cio_queue_get(w->jobs, &j);
        if (rc == -ESHUTDOWN)
            return 0;           /* shut down and drained: no more work */
        if (rc < 0)
            return rc;
        rc = cio_sleep(j.ms * CIO_MS);
        cio_queue_task_done(w->jobs);
        if (rc < 0)
            return rc;
        len += (size_t)snprintf(w->done + len, sizeof w->done - len, " %d", j.id);
    }
}

static int produce(cio_queue *q, int *total_ms)
{
    for (int i = 1; i <= N_JOBS; i++) {
        struct job j = { i, 25 * (1 + i % 3) };  /* 25, 50 or 75 ms */
        int rc = cio_queue_put(q, &j);           /* waits while the queue is full */
        if (rc < 0)
            return rc;
        *total_ms += j.ms;
    }
    return cio_queue_join(q);    /* every job taken and marked done */
}

static int tour_worker_pool(void)
{
    heading("5. A worker pool fed by a queue", "Queue, task_done/join, shutdown");
    cio_queue q;
    int rc = cio_queue_init(&q, sizeof(struct job), N_WORKERS);
    if (rc < 0)
        return fail("queue init", rc);
    cio_group g;
    cio_group_init(&g);
    struct worker w[N_WORKERS];
    for (int i = 0; i < N_WORKERS && rc == 0; i++) {
        w[i] = (struct worker){ .jobs = &q, .id = i + 1 };
        rc = cio_group_spawn(&g, NULL, worker, &w[i], NULL);
    }
    int total_ms = 0;
    if (rc == 0)
        rc = produce(&q, &total_ms);
    /* Let the workers finish: they drain what is left, then get -ESHUTDOWN. */
    cio_queue_shutdown(&q, rc < 0);
    int wrc = cio_group_wait(&g);
    cio_group_destroy(&g);
    cio_queue_destroy(&q);
    if (rc < 0 || wrc < 0)
        return fail("worker pool", rc < 0 ? rc : wrc);
    for (int i = 0; i < N_WORKERS; i++)
        say("worker %d did jobs%s", w[i].id, w[i].done);
    compare(ms_to_s(total_ms));
    return 0;
}

/* ---- 6. a connection pool built on a queue -------------------------------- */

enum { POOL_SIZE = 3, N_USERS = 5, QUERY_MS = 200 };

/* The free connections wait in a queue: acquire takes one (waiting, FIFO,
 * while none is free), release puts it back. */
typedef struct conn_pool {
    cio_queue free;
} conn_pool;

static int conn_pool_init(conn_pool *p, int size)
{
    int rc = cio_queue_init(&p->free, sizeof(int), (size_t)size);
    for (int conn = 0; conn < size && rc == 0; conn++)
        rc = cio_queue_try_put(&p->free, &conn);
    return rc;
}

static int conn_pool_acquire(conn_pool *p, int *conn)
{
    return cio_queue_get(&p->free, conn);
}

/* try_put, not put: the queue has room for every connection, so this never
 * needs to wait, and a task that is being cancelled still gives its
 * connection back (a blocking put would return -ECANCELED and lose it). */
static void conn_pool_release(conn_pool *p, int conn)
{
    int rc = cio_queue_try_put(&p->free, &conn);
    if (rc < 0)
        fail("release", rc);
}

struct user {
    conn_pool *pool;
    int id;
};

static int user_query(void *arg)
{
    struct user *u = arg;
    int conn;
    int rc = conn_pool_acquire(u->pool, &conn);
    if (rc < 0)
        return rc;
    say("user %d got connection-%d (%zu free)", u->id, conn,
        cio_queue_size(&u->pool->free));
    rc = cio_sleep(QUERY_MS * CIO_MS);          /* the query */
    conn_pool_release(u->pool, conn);
    return rc;
}

static int tour_conn_pool(void)
{
    heading("6. A connection pool built on a queue", "Queue as a resource pool");
    conn_pool pool;
    int rc = conn_pool_init(&pool, POOL_SIZE);
    if (rc < 0)
        return fail("pool init", rc);
    struct user u[N_USERS];
    for (int i = 0; i < N_USERS; i++)
        u[i] = (struct user){ &pool, i };
    rc = run_n(user_query, u, sizeof u[0], N_USERS, "connection pool");
    if (rc == 0)
        say("all queries done; %zu of %d connections free", cio_queue_size(&pool.free),
            POOL_SIZE);
    cio_queue_destroy(&pool.free);
    if (rc < 0)
        return rc;
    compare(N_USERS * ms_to_s(QUERY_MS));
    printf("     (%d users, %d connections: two rounds of queries)\n", N_USERS,
           POOL_SIZE);
    return 0;
}

/* ---- 7. failures are values ---------------------------------------------- */

enum { RISKY_MS = 100, FAIL_FAST_MS = 50 };

/* Even ids fail with -EIO (the brief's "business error"). */
static int risky(void *arg)
{
    int id = (int)(intptr_t)arg;
    int rc = cio_sleep((id % 2 ? RISKY_MS : FAIL_FAST_MS) * CIO_MS);
    if (rc < 0)
        return rc;
    return id % 2 ? id : -EIO;
}

static int tour_failures(void)
{
    heading("7. Failures", "gather(return_exceptions=True), TaskGroup errors");

    /* gather with CIO_GATHER_RETURN_ALL collects every status. */
    cio_task *t[5];
    for (int i = 0; i < 5; i++) {
        int rc = cio_task_spawn(&t[i], risky, (void *)(intptr_t)(i + 1), NULL);
        if (rc < 0)
            return fail("spawn", rc);
    }
    int status[5];
    int rc = cio_gather(t, 5, status, NULL, CIO_GATHER_RETURN_ALL);
    if (rc < 0)
        return fail("gather", rc);
    for (int i = 0; i < 5; i++)
        say("gather: task %d -> %s%s", i + 1,
            status[i] < 0 ? "failed with " : "ok, ",
            status[i] < 0 ? cio_errname(status[i]) : "returned its id");

    /* In a group, the first failure cancels the siblings. */
    cio_group g;
    cio_group_init(&g);
    cio_task *c[3];
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = cio_group_spawn(&g, &c[i], risky, (void *)(intptr_t)(11 + i), NULL);
    if (rc < 0)
        cio_group_cancel(&g);
    int wrc = cio_group_wait(&g);
    if (rc == 0)
        for (int i = 0; i < 3; i++)
            say("group:  task %d -> %s", 11 + i, cio_errname(cio_task_status(c[i])));
    cio_group_destroy(&g);
    if (rc < 0)
        return fail("group spawn", rc);
    say("group wait returned %s: task 12 failed, so 11 and 13 were cancelled",
        cio_errname(wrc));
    printf("  -> took %.2f s: the group stopped at the first failure (%d ms)\n",
           seconds_since(section_start), FAIL_FAST_MS);
    return 0;
}

/* ---- the tour ------------------------------------------------------------ */

static int tour(void *arg)
{
    (void)arg;
    int (*const sections[])(void) = {
        tour_gather, tour_group, demo_lock, demo_semaphore, demo_event,
        tour_timeouts, tour_worker_pool, tour_conn_pool, tour_failures,
    };
    int64_t start = wall_ns();
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        int rc = sections[i]();
        if (rc < 0)
            return rc;
        fflush(stdout);
    }
    cio_loop_stats st;
    cio_loop_get_stats(cio_loop_current(), &st);
    printf("\nTour done in %.2f s of wall time, on one thread "
           "(%llu task switches).\n", seconds_since(start),
           (unsigned long long)st.switches);
    return 0;
}

int main(void)
{
    int rc = cio_run(tour, NULL);
    if (rc < 0) {
        fprintf(stderr, "tour: %s\n", cio_strerror(rc));
        return 1;
    }
    return 0;
}
