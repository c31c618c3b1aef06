/* task.c — spawning, running, finishing, joining and cancelling tasks.
 *
 * A task's struct lives at the top of its own stack mapping, so a spawn is
 * one pool pop (or one mmap) and a parked task usually costs one page.
 */
#include "internal.h"
#include "cio/task.h"
#include "../debug/task_stats.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t next_task_id = 1;

#define TASK_SLOT ((sizeof(cio_task) + 63) & ~(size_t)63)

/* ---- memory ------------------------------------------------------------- */

static cio_task *task_at_top(const cio_stack *st)
{
    return (cio_task *)((char *)st->hi - TASK_SLOT);
}

static cio_task *take_stack(cio_loop *L, size_t size)
{
    if (size == L->stack_size + TASK_SLOT && L->pool) {
        cio_task *t = L->pool;
        L->pool = t->rq_next;
        if (--L->pool_count < L->pool_low)
            L->pool_low = L->pool_count;
        cio_stack st = t->stack;
        cio_stack_recycle(&st);
        t = task_at_top(&st);
        t->stack = st;
        return t;
    }
    cio_stack st;
    if (cio_stack_map(&st, size) < 0)
        return NULL;
    cio_task *t = task_at_top(&st);
    t->stack = st;
    return t;
}

static void unlink_all(cio_loop *L, cio_task *t)
{
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        L->all_head = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    else
        L->all_tail = t->all_prev;
    t->all_prev = t->all_next = NULL;
}

void cio_task_free(cio_task *t)
{
    cio_loop *L = t->loop;
    unlink_all(L, t);
    cio_san_task_ctx_destroy(&t->san);
    cio_stack st = t->stack;
    bool poolable = st.size == L->stack_size + TASK_SLOT;
    if (poolable && L->pool_count < L->pool_max && !L->closing) {
        t->rq_next = L->pool;
        L->pool = t;
        L->pool_count++;
        return;
    }
    cio_stack_unmap(&st);
}

static void pool_release(cio_loop *L, size_t n)
{
    while (n-- && L->pool) {
        cio_task *t = L->pool;
        L->pool = t->rq_next;
        L->pool_count--;
        cio_stack st = t->stack;
        cio_stack_unmap(&st);
    }
}

void cio_task_pool_drain(cio_loop *L) { pool_release(L, SIZE_MAX); }

/* A burst of tasks leaves up to pool_max stacks behind, each holding the
 * pages it touched. Only stacks that nobody took for a whole period are
 * surplus: a load that comes and goes (a crawl's batches, a server's
 * bursts) keeps the stacks it keeps coming back for, with their pages
 * already faulted in, where trimming at every idle pass unmapped them
 * between two batches. Half the surplus above a small floor goes per
 * period, so a past burst decays within a few seconds of activity. */
void cio_task_pool_trim(cio_loop *L)
{
    if (L->now - L->pool_trim_at < CIO_POOL_PERIOD)
        return;
    size_t floor = L->pool_max < CIO_POOL_FLOOR ? L->pool_max : CIO_POOL_FLOOR;
    if (L->pool_low > floor)
        pool_release(L, (L->pool_low - floor + 1) / 2);
    L->pool_low = L->pool_count;
    L->pool_trim_at = L->now;
}

/* ---- running ------------------------------------------------------------ */

static void run_hooks(cio_task *t)
{
    while (t->hooks) {
        cio_done_hook *h = t->hooks;
        t->hooks = h->next;
        if (t->hooks)
            t->hooks->prev = NULL;
        h->prev = h->next = NULL;
        /* Mark it fired: its owner may no longer look at t (freed). */
        void (*fn)(cio_done_hook *, cio_task *) = h->fn;
        h->fn = NULL;
        fn(h, t);
    }
}

/* A scope left open would keep its deadline armed on a dead stack. */
static void check_scopes_closed(cio_task *t)
{
    if (t->scope == &t->root)
        return;
    fprintf(stderr, "cio: task '%s' returned with a cancel scope still open "
                    "(every cio_scope_enter needs its cio_scope_leave)\n",
            t->name);
    abort();
}

static __attribute__((noreturn)) void finish(cio_task *t, int status)
{
    cio_loop *L = t->loop;
    check_scopes_closed(t);
    t->status = status;
    t->state = CIO_TASK_DONE;
    L->live--;
    cio_stats_task_ended(L, t);
    run_hooks(t);
    if (t->group)
        cio_group_child_done(t->group, t);
    if (t->free_when_done) {
        t->must_free = true;
        t->rq_next = L->dead;
        L->dead = t;
    }
    cio_sched_switch_away(t);
    abort();                    /* a finished task is never resumed */
}

static void task_entry(void *arg)
{
    cio_task *t = arg;
    cio_san_after_switch(&t->san);
    int status = cio_task_is_cancelled(t) ? -ECANCELED : t->fn(t->arg);
    finish(t, status);
}

/* ---- spawning ----------------------------------------------------------- */

/* Unnamed tasks get "task-<id>" when first asked: formatting it at every
 * spawn would cost more than the rest of the spawn. */
static void set_name(cio_task *t, const char *name)
{
    if (name)
        snprintf(t->name, sizeof t->name, "%s", name);
    else
        t->name[0] = '\0';
}

static const char *name_of(cio_task *t)
{
    if (!t->name[0])
        snprintf(t->name, sizeof t->name, "task-%llu", (unsigned long long)t->id);
    return t->name;
}

/* Ids are unique per process; each loop takes them from the global counter
 * in blocks so that a spawn makes no atomic operation. */
#define ID_BLOCK 1024

static uint64_t new_id(cio_loop *L)
{
    if (L->next_id == L->id_limit) {
        L->next_id = atomic_fetch_add_explicit(&next_task_id, ID_BLOCK,
                                               memory_order_relaxed);
        L->id_limit = L->next_id + ID_BLOCK;
        L->task_stats.id_blocks++;
    }
    return L->next_id++;
}

/* Every spawn takes one id: the count costs the spawn nothing. */
uint64_t cio_task_created_count(const cio_loop *L)
{
    return L->task_stats.id_blocks * ID_BLOCK - (L->id_limit - L->next_id);
}

static void init_root_scope(cio_task *t)
{
    cio_scope *s = &t->root;
    s->_parent = NULL;
    s->_task = t;
    s->_deadline = CIO_NEVER;
    cio_timer_node_init(&s->_timer, NULL);
    s->_cancelled = s->_timed_out = s->_shielded = s->_delivered = false;
    s->_active = true;
    t->scope = s;
}

/* Field by field rather than memset: the struct is a few hundred bytes and
 * a spawn is meant to cost tens of nanoseconds. */
static void init_fields(cio_task *t, cio_loop *L, cio_task_fn *fn, void *arg)
{
    t->loop = L;
    t->rq_next = NULL;
    t->all_next = NULL;
    t->fn = fn;
    t->arg = arg;
    t->result = NULL;
    t->status = 0;
    t->joining = t->free_when_done = t->must_free = t->retrieved = false;
    t->detached = t->pending_at_close = false;
    t->run_ns = 0;
    t->wait = NULL;
    t->hooks = NULL;
    t->group = NULL;
    t->group_prev = t->group_next = NULL;
    t->id = new_id(L);
    t->born = L->now;
}

int cio_task_spawn_on(cio_loop *L, cio_task **out, cio_task_fn *fn, void *arg,
                      const cio_task_opts *opts)
{
    size_t size = opts && opts->stack_size ? opts->stack_size : L->stack_size;
    if (size < 16 * 1024)
        size = 16 * 1024;       /* room for the frames cio itself needs */
    cio_task *t = take_stack(L, size + TASK_SLOT);
    if (!t)
        return -ENOMEM;
    cio_stack st = t->stack;
    t->stack = st;
    t->guarded = st.guarded;
    init_fields(t, L, fn, arg);
    set_name(t, opts ? opts->name : NULL);
    init_root_scope(t);
    char *stack_top = (char *)t;
    cio_san_task_ctx_init(&t->san, st.lo, (size_t)(stack_top - (char *)st.lo));
    t->sp = cio_ctx_make(stack_top, task_entry, t);
    t->all_prev = L->all_tail;
    if (L->all_tail)
        L->all_tail->all_next = t;
    else
        L->all_head = t;
    L->all_tail = t;
    L->live++;
    cio_sched_ready(t);
    t->state = CIO_TASK_NEW;
    if (out)
        *out = t;
    return 0;
}

int cio_task_spawn(cio_task **out, cio_task_fn *fn, void *arg,
                   const cio_task_opts *opts)
{
    cio_loop *L = cio_tls_loop;
    if (!L || !fn)
        return -EINVAL;
    if (out)
        return cio_task_spawn_on(L, out, fn, arg, opts);
    cio_task *t;                /* the spawner gives the handle up */
    int rc = cio_task_spawn_on(L, &t, fn, arg, opts);
    if (rc == 0)
        t->detached = true;
    return rc;
}

/* ---- joining and cancelling --------------------------------------------- */

void cio_task_hook_add(cio_task *t, cio_done_hook *h)
{
    h->prev = NULL;
    h->next = t->hooks;
    if (t->hooks)
        t->hooks->prev = h;
    t->hooks = h;
}

void cio_task_hook_remove(cio_task *t, cio_done_hook *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else if (t->hooks == h)
        t->hooks = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
}

static void wake_joiner(cio_done_hook *h, cio_task *t)
{
    (void)t;
    cio_wait_wake(h->ctx, 0);
}

int cio_task_join(cio_task *t, void **result)
{
    cio_task *self = cio_task_current();
    if (!t || t->group || t->joining || t == self)
        return -EINVAL;
    if (t->state != CIO_TASK_DONE) {
        cio_waiter w;
        cio_waiter_init(&w);
        cio_waiter_why(&w, CIO_WAIT_JOIN, t);
        cio_done_hook h = { .fn = wake_joiner, .ctx = &w };
        cio_task_hook_add(t, &h);
        t->joining = true;
        int rc = cio_wait_park(&w, NULL, CIO_NEVER);
        bool done = t->state == CIO_TASK_DONE;
        if (!done)
            cio_task_hook_remove(t, &h);
        /* A cancelled joiner leaves t joinable even if t ended meanwhile
         * (its status stays in t, nothing is lost), as on the fast path:
         * so -ECANCELED with the joiner cancelled always means "not freed". */
        if (!done || (self && cio_task_is_cancelled(self))) {
            t->joining = false;
            return rc < 0 ? rc : cio_task_cancel_delivered(self);
        }
    } else if (self && cio_task_is_cancelled(self)) {
        return cio_task_cancel_delivered(self);
    }
    int status = t->status;
    if (result)
        *result = t->result;
    cio_task_free(t);
    return status;
}

void cio_task_cancel(cio_task *t)
{
    if (t && t->state != CIO_TASK_DONE)
        cio_scope_cancel(&t->root);
}

int cio_task_cancel_delivered(cio_task *t)
{
    cio_scope *owner = NULL;
    for (cio_scope *s = t->scope; s; s = s->_parent) {
        if (s->_cancelled)
            owner = s;
        if (s->_shielded)
            break;
    }
    if (owner)
        owner->_delivered = true;
    return -ECANCELED;
}

bool cio_task_is_cancelled(const cio_task *t)
{
    for (const cio_scope *s = t->scope; s; s = s->_parent) {
        if (s->_cancelled)
            return true;
        if (s->_shielded)
            return false;
    }
    return false;
}

/* ---- queries ------------------------------------------------------------ */

cio_task *cio_task_current(void)
{
    cio_loop *L = cio_tls_loop;
    return L ? L->current : NULL;
}


const char *cio_task_name(const cio_task *t) { return name_of((cio_task *)t); }
void cio_task_set_name(cio_task *t, const char *name) { set_name(t, name); }
uint64_t cio_task_id(const cio_task *t) { return t->id; }
bool cio_task_done(const cio_task *t) { return t->state == CIO_TASK_DONE; }
int cio_task_status(const cio_task *t) { return t->status; }

void *cio_task_result(const cio_task *t)
{
    return t->state == CIO_TASK_DONE ? t->result : NULL;
}

bool cio_task_cancel_requested(const cio_task *t) { return t->root._cancelled; }

void cio_task_set_result(void *result)
{
    cio_task *t = cio_task_current();
    if (t)
        t->result = result;
}

size_t cio_task_list(cio_task **out, size_t max)
{
    cio_loop *L = cio_tls_loop;
    size_t n = 0;
    if (!L)
        return 0;
    for (cio_task *t = L->all_head; t; t = t->all_next) {
        if (t->state == CIO_TASK_DONE)
            continue;
        if (n < max)
            out[n] = t;
        n++;
    }
    return n;
}
