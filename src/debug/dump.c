/* dump.c — the task dump (cio_dump_tasks): every task of the loop with its
 * state, what it waits on and its stack, like Go's goroutine dump. */
#include "backtrace.h"
#include "debug.h"
#include "symbolize.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>

#include "../core/internal.h"
#include "../poller/poller.h"
#include "cio/debug.h"
#include "cio/error.h"
#include "cio/group.h"

#define DUMP_FRAMES 32

static const char *op_name(uint8_t op)
{
    static const char *const names[] = {
        [CIO_OP_RECV] = "recv", [CIO_OP_SEND] = "send", [CIO_OP_RECVMSG] = "recvmsg",
        [CIO_OP_SENDMSG] = "sendmsg", [CIO_OP_ACCEPT] = "accept",
        [CIO_OP_CONNECT] = "connect", [CIO_OP_POLL] = "poll", [CIO_OP_READ] = "read",
        [CIO_OP_WRITE] = "write",
    };
    return op < sizeof names / sizeof *names && names[op] ? names[op] : "i/o";
}

static void print_io(FILE *out, const cio_io_req *r)
{
    bool writable = cio_op_is_write_side(r->op);
    if (r->op == CIO_OP_POLL)
        writable = (r->flags & POLLOUT) && !(r->flags & POLLIN);
    fprintf(out, "fd %d %s (%s)", r->fd ? r->fd->fd : -1,
            writable ? "writable" : "readable", op_name(r->op));
}

static void print_reason(FILE *out, int64_t now, const cio_waiter *w)
{
    const void *o = w->why_obj;
    switch (w->why) {
    case CIO_WAIT_SLEEP: fprintf(out, "sleep"); break;
    case CIO_WAIT_IO: print_io(out, o); break;
    case CIO_WAIT_LOCK: fprintf(out, "lock %p", o); break;
    case CIO_WAIT_SEMAPHORE: fprintf(out, "semaphore %p", o); break;
    case CIO_WAIT_EVENT: fprintf(out, "event %p", o); break;
    case CIO_WAIT_CONDITION: fprintf(out, "condition %p", o); break;
    case CIO_WAIT_BARRIER: fprintf(out, "barrier %p", o); break;
    case CIO_WAIT_QUEUE_GET: fprintf(out, "queue get (queue %p)", o); break;
    case CIO_WAIT_QUEUE_PUT: fprintf(out, "queue put (queue %p)", o); break;
    case CIO_WAIT_QUEUE_JOIN: fprintf(out, "queue join (queue %p)", o); break;
    case CIO_WAIT_JOIN:
        fprintf(out, "join of task %llu '%s'", (unsigned long long)((const cio_task *)o)->id,
                cio_task_name(o));
        break;
    case CIO_WAIT_GROUP:
        fprintf(out, "task group %p (%zu children running)", o, cio_group_alive(o));
        break;
    case CIO_WAIT_GATHER: fprintf(out, "gather (tasks to finish)"); break;
    case CIO_WAIT_THREAD: {
        char sym[256];
        cio_symbolize((void *)o, false, sym, sizeof sym);
        fprintf(out, "thread-pool job %s", sym);
        break;
    }
    case CIO_WAIT_FLUSH: fprintf(out, "stream output to drain"); break;
    case CIO_WAIT_CONNECT: fprintf(out, "connection attempts"); break;
    default: fprintf(out, "a wait"); break;
    }
    if (w->timer.index != UINT32_MAX) {
        long long ms = (long long)((w->timer.deadline - now) / 1000000);
        if (ms < 0)     /* due: the loop has not been back to its timers */
            fprintf(out, w->why == CIO_WAIT_SLEEP ? " (due)" : ", timed out");
        else
            fprintf(out, w->why == CIO_WAIT_SLEEP ? " until %lld ms from now"
                                                  : ", times out in %lld ms", ms);
    }
}

static void print_state(FILE *out, int64_t now, const cio_task *t)
{
    switch (t->state) {
    case CIO_TASK_NEW: fprintf(out, "new (not started)"); break;
    case CIO_TASK_READY: fprintf(out, "ready"); break;
    case CIO_TASK_RUNNING: fprintf(out, "running (the caller)"); break;
    case CIO_TASK_PARKED:
        fprintf(out, "waiting: ");
        if (t->wait)
            print_reason(out, now, t->wait);
        break;
    case CIO_TASK_DONE:
        fprintf(out, "done, status %d (%s)", t->status, cio_errname(t->status));
        break;
    }
}

/* The caller's stack, captured at the entry of cio_dump_tasks. */
typedef struct self_stack {
    void *pcs[DUMP_FRAMES];
    int n;
} self_stack;

static void print_stack(FILE *out, const cio_task *t, const self_stack *self)
{
    void *pcs[DUMP_FRAMES];
    int n = 0;
    if (t->state == CIO_TASK_RUNNING) {
        cio_backtrace_print(out, self->pcs, self->n, "    ");
    } else if (t->state == CIO_TASK_NEW) {
        char sym[256];
        cio_symbolize((void *)t->fn, false, sym, sizeof sym);
        fprintf(out, "    will run %s\n", sym);
    } else if (t->state != CIO_TASK_DONE) {
        n = cio_backtrace_suspended(t->sp, t->stack.lo, t, pcs, DUMP_FRAMES);
    }
    cio_backtrace_print(out, pcs, n, "    ");
}

static void dump_task(FILE *out, int64_t now, const cio_task *t, const self_stack *self)
{
    fprintf(out, "task %llu '%s' ", (unsigned long long)t->id, cio_task_name(t));
    print_state(out, now, t);
    fprintf(out, ", age %.3f s\n", (double)(now - t->born) / 1e9);
    print_stack(out, t, self);
}

static void dump_loop(FILE *out, cio_loop *L, const self_stack *self)
{
    size_t n = 0;
    for (cio_task *t = L->all_head; t; t = t->all_next)
        n++;
    fprintf(out, "cio: task dump: %zu task%s (%zu not finished)\n", n,
            n == 1 ? "" : "s", L->live);
    /* The loop's cached clock may be a whole run late (a task that blocked
     * it); a real-clock loop's time is read afresh. */
    int64_t now = L->virtual_clock ? L->now : cio_debug_clock();
    for (cio_task *t = L->all_head; t; t = t->all_next)
        dump_task(out, now, t, self);
    fprintf(out, "cio: end of task dump\n");
    fflush(out);
}

typedef struct dump_job {
    FILE *out;
    cio_loop *L;
    const self_stack *self;
} dump_job;

static void *dump_thread(void *arg)
{
    dump_job *j = arg;
    dump_loop(j->out, j->L, j->self);
    return NULL;
}

/* noinline: the stack captured here starts at our caller. Called from a
 * task, the dump is printed by a thread of its own while this one waits:
 * symbolizing needs more stack than a task has (symbolize.h), and one
 * thread for the whole dump costs less than one per frame. */
__attribute__((noinline)) void cio_dump_tasks(FILE *out)
{
    cio_loop *L = cio_tls_loop;
    if (!L)
        return;
    self_stack self = { .n = 0 };
    if (L->current) {
        self.n = cio_backtrace_capture(self.pcs, DUMP_FRAMES, 1);
        dump_job j = { out, L, &self };
        pthread_t th;
        if (pthread_create(&th, NULL, dump_thread, &j) == 0) {
            pthread_join(th, NULL);
            return;
        }
    }
    dump_loop(out, L, &self);
}
