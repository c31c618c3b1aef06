/* test_dump.c — the task dump: every task with its state, what it waits on,
 * its age and its symbolized stack; the opt-in SIGQUIT dump. */
#include "helpers.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

/* The dump of the whole test, read with sections per task. */
static char *dump_text;

static void take_dump(void)
{
    size_t len = 0;
    FILE *f = open_memstream(&dump_text, &len);
    cr_assert_not_null(f);
    cio_dump_tasks(f);
    fclose(f);
}

/* The lines of the dump for the task named name (up to the next task). */
static char *section(const char *name)
{
    static char buf[8192];
    char head[64];
    snprintf(head, sizeof head, " '%s' ", name);
    const char *p = strstr(dump_text, head);
    cr_assert_not_null(p, "no task '%s' in:\n%s", name, dump_text);
    while (p > dump_text && p[-1] != '\n')
        p--;
    const char *end = strstr(p + 1, "\ntask ");
    if (!end)
        end = p + strlen(p);
    size_t n = (size_t)(end - p) < sizeof buf - 1 ? (size_t)(end - p) : sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static void expect(const char *name, const char *what)
{
    const char *s = section(name);
    cr_assert(strstr(s, what), "task '%s': no \"%s\" in:\n%s", name, what, s);
}

/* ---- the tasks (non-static, noinline: they must show in the stacks) ------ */

/* Keeps the call before it from becoming a tail call (whose caller's frame
 * would then be gone from the stack). */
#define NOT_TAIL(rc) ({ __asm__ volatile("" : "+r"(rc) :: "memory"); (rc); })

static cio_lock lock;
static cio_event event;
static cio_queue queue;
static sem_t job_gate;
static cio_task *sleeper;
static uint64_t sleeper_id;

__attribute__((noinline)) int dump_sleeper(void *arg)
{
    (void)arg;
    int rc = cio_sleep(5 * 1000000000LL);
    return NOT_TAIL(rc);
}

__attribute__((noinline)) int dump_locker(void *arg)
{
    (void)arg;
    int rc = cio_lock_acquire(&lock);
    if (rc == 0)
        rc = cio_lock_release(&lock);
    return rc;
}

__attribute__((noinline)) int dump_getter(void *arg)
{
    (void)arg;
    int item;
    int rc = cio_queue_get(&queue, &item);
    return NOT_TAIL(rc);
}

__attribute__((noinline)) int dump_joiner(void *arg)
{
    (void)arg;
    int rc = cio_task_join(sleeper, NULL);
    return NOT_TAIL(rc);
}

__attribute__((noinline)) int dump_event_waiter(void *arg)
{
    (void)arg;
    int rc = cio_event_wait(&event);
    return NOT_TAIL(rc);
}

__attribute__((noinline)) int dump_acceptor(void *arg)
{
    cio_socket *conn;
    int rc = cio_socket_accept(arg, &conn, NULL);
    if (rc == 0)
        rc = cio_socket_close(conn);
    return rc;
}

__attribute__((noinline)) int dump_group_owner(void *arg)
{
    (void)arg;
    cio_group g;
    cio_group_init(&g);
    int rc = cio_group_spawn(&g, NULL, dump_sleeper, NULL,
                             &(cio_task_opts){ .name = "child" });
    int w = cio_group_wait(&g);
    cio_group_destroy(&g);
    return rc < 0 ? rc : w;
}

__attribute__((noinline)) void *dump_slow_job(void *arg)
{
    (void)arg;
    while (sem_wait(&job_gate) < 0)
        ;
    return NULL;
}

__attribute__((noinline)) int dump_threader(void *arg)
{
    (void)arg;
    int rc = cio_to_thread(dump_slow_job, NULL, NULL);
    return NOT_TAIL(rc);
}

static int failing(void *arg)
{
    (void)arg;
    return -EIO;
}

static int never_runs(void *arg)
{
    (void)arg;
    return 0;
}

__attribute__((noinline)) int dump_main(void *arg)
{
    (void)arg;
    cio_lock_init(&lock);
    cio_event_init(&event);
    cr_assert_eq(cio_queue_init(&queue, sizeof(int), 4), 0);
    cr_assert_eq(sem_init(&job_gate, 0, 0), 0);
    cr_assert_eq(cio_lock_acquire(&lock), 0);
    cio_socket *listener;
    cr_assert_eq(cio_tcp_listen(&listener, "127.0.0.1", 0, NULL), 0);

    sleeper = spawn(dump_sleeper, NULL, "sleeper");
    sleeper_id = cio_task_id(sleeper);
    spawn(dump_locker, NULL, "locker");
    spawn(dump_getter, NULL, "getter");
    spawn(dump_joiner, NULL, "joiner");
    spawn(dump_event_waiter, NULL, "eventer");
    spawn(dump_acceptor, listener, "acceptor");
    spawn(dump_group_owner, NULL, "grouper");
    spawn(failing, NULL, "failed");
    cr_assert_eq(cio_sleep(1000000000), 0);     /* virtual: all have parked */
    /* A thread job holds the virtual clock (it may wake a task): spawned
     * after the sleep. */
    spawn(dump_threader, NULL, "threader");
    cr_assert_eq(cio_yield(), 0);
    spawn(never_runs, NULL, "newborn");
    take_dump();

    cr_assert_eq(sem_post(&job_gate), 0);       /* let the job end */
    cio_event_set(&event);
    cr_assert_eq(cio_lock_release(&lock), 0);
    cr_assert_eq(cio_socket_close(listener), 0);
    return 0;   /* cio_run cancels and joins the rest (the queue stays: static) */
}

Test(dump, shows_each_task_its_wait_age_and_stack, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(dump_main, NULL), 0);
    cr_assert(strstr(dump_text, "cio: task dump: 12 tasks"), "%s", dump_text);
    cr_assert(strstr(dump_text, "cio: end of task dump"));

    expect("main", "running (the caller), age 1.000 s");
    expect("main", "dump_main+");
    expect("sleeper", "waiting: sleep until 4000 ms from now, age 1.000 s");
    expect("sleeper", "dump_sleeper+");
    expect("sleeper", "cio_sleep");
    expect("locker", "waiting: lock 0x");
    expect("locker", "cio_lock_acquire+");
    expect("locker", "dump_locker+");
    expect("getter", "waiting: queue get (queue 0x");
    expect("getter", "dump_getter+");
    char want[64];
    snprintf(want, sizeof want, "waiting: join of task %llu 'sleeper'",
             (unsigned long long)sleeper_id);
    expect("joiner", want);
    expect("joiner", "dump_joiner+");
    expect("eventer", "waiting: event 0x");
    expect("acceptor", " readable (accept)");
    expect("acceptor", "dump_acceptor+");
    expect("grouper", "waiting: task group 0x");
    expect("grouper", "(1 children running)");
    expect("child", "waiting: sleep");
    expect("threader", "waiting: thread-pool job dump_slow_job");
    expect("threader", "age 0.000 s");
    expect("threader", "dump_threader+");
    expect("failed", "done, status -5 (EIO)");
    expect("newborn", "new (not started), age 0.000 s");
    expect("newborn", "will run never_runs");
    /* Stacks are symbolized with source lines. */
    expect("getter", "test_dump.c:");
}

/* The dump outside any task: every task is switched out. */
static int parked(void *arg)
{
    (void)arg;
    return cio_sleep(1000000000);
}

Test(dump, from_outside_any_task_and_without_a_loop)
{
    size_t len = 0;
    FILE *f = open_memstream(&dump_text, &len);
    cio_dump_tasks(f);                  /* no loop: nothing */
    fflush(f);
    cr_assert_eq(len, 0);
    cio_loop *L = cio_loop_create(&(cio_loop_options){ .virtual_clock = true });
    cio_task *t;
    cr_assert_eq(cio_task_spawn(&t, parked, NULL, &(cio_task_opts){ .name = "p" }), 0);
    cio_dump_tasks(f);
    fclose(f);
    cr_assert(strstr(dump_text, "task dump: 1 task "), "%s", dump_text);
    expect("p", "new (not started)");
    cio_task_cancel(t);
    cr_assert_eq(cio_loop_run_until(L, t), 0);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cio_loop_close(L);
}

/* SIGQUIT: the loop prints the dump at its next pass. */
__attribute__((noinline)) int dump_quit_waiter(void *arg)
{
    int rc = cio_event_wait(arg);
    return NOT_TAIL(rc);
}

static int sigquit_main(void *arg)
{
    (void)arg;
    cio_event e;
    cio_event_init(&e);
    spawn(dump_quit_waiter, &e, "quitwaiter");
    cr_assert_eq(cio_dump_on_sigquit(), 0);
    cr_assert_eq(cio_dump_on_sigquit(), 0);     /* twice is once */
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(raise(SIGQUIT), 0);            /* handled: the process lives */
    cr_assert_eq(cio_sleep(1000), 0);           /* the loop makes a pass */
    cio_event_set(&e);
    return 0;
}

Test(dump, on_sigquit_the_loop_prints_it, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_virtual(sigquit_main, NULL), 0);
    dump_text = strdup(captured_stderr());
    cr_assert(strstr(dump_text, "cio: task dump: 2 tasks"), "%s", dump_text);
    expect("quitwaiter", "waiting: event 0x");
    expect("quitwaiter", "dump_quit_waiter+");
    expect("main", "waiting: sleep");
    expect("main", "sigquit_main+");
}

Test(dump, sigquit_needs_a_loop)
{
    cr_assert_eq(cio_dump_on_sigquit(), -EINVAL);
}
