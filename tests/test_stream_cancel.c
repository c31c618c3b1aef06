/* test_stream_cancel.c — every blocking stream call is a cancellation
 * point: cancelled by cio_task_cancel and by a scope's deadline (virtual
 * clock), while waiting and on its fast path; and nothing read is lost. */
#include "stream_helpers.h"

typedef int op_fn(cio_stream *st);

static char scratch[256];

static int op_read(cio_stream *st) { return (int)cio_stream_read(st, scratch, sizeof scratch); }
static int op_read_exactly(cio_stream *st)
{
    return (int)cio_stream_read_exactly(st, scratch, 10, NULL);
}
static int op_read_line(cio_stream *st)
{
    return (int)cio_stream_read_line(st, scratch, sizeof scratch);
}
static int op_read_until(cio_stream *st)
{
    return (int)cio_stream_read_until(st, "--", 2, scratch, sizeof scratch);
}
static int op_line_view(cio_stream *st)
{
    const char *l;
    size_t n;
    return cio_stream_read_line_view(st, &l, &n);
}
static int op_peek(cio_stream *st)
{
    const char *d;
    size_t n;
    return cio_stream_peek(st, 4, &d, &n);
}
static int op_read_all(cio_stream *st)
{
    char *all = NULL;
    ssize_t n = cio_stream_read_all(st, &all, SIZE_MAX);
    free(all);
    return (int)n;
}
static int op_drain(cio_stream *st) { return cio_stream_drain(st); }
static int op_write_eof(cio_stream *st) { return cio_stream_write_eof(st); }

struct op_case {
    const char *name;
    op_fn *fn;
    bool writes;                /* needs output queued above high water */
    bool preload;               /* the peer sends 3 bytes first */
};

static const struct op_case cases[] = {
    { "read", op_read, false, false },
    { "read_exactly", op_read_exactly, false, true },
    { "read_line", op_read_line, false, true },
    { "read_until", op_read_until, false, true },
    { "read_line_view", op_line_view, false, true },
    { "peek", op_peek, false, true },
    { "read_all", op_read_all, false, true },
    { "drain", op_drain, true, false },
    { "write_eof", op_write_eof, true, false },
};

struct blocked {
    const struct op_case *c;
    cio_stream *st;
    int64_t deadline;           /* CIO_NEVER: wait for cio_task_cancel */
    int scope_rc;
};

static int run_op(void *arg)
{
    struct blocked *b = arg;
    cio_scope s;
    cio_scope_enter(&s, b->deadline);
    int rc = b->c->fn(b->st);
    b->scope_rc = cio_scope_leave(&s);
    return rc;
}

/* A stream whose peer sends 3 bytes (no newline, no separator; none for a
 * plain read, which they would satisfy) and then nothing; for the writing
 * calls, with output queued far above the high mark and a peer that never
 * reads. */
static cio_stream *blocked_stream(const struct op_case *c, cio_stream **peer)
{
    cio_stream *st;
    stream_pair(&st, peer, NULL, true);
    if (c->writes) {
        static char data[512 * 1024];
        cr_assert_eq(cio_stream_write(st, data, sizeof data), 0);
    } else if (c->preload) {
        cr_assert_eq(cio_stream_write(*peer, "abc", 3), 0);
    }
    return st;
}

static int cancel_each_main(void *arg)
{
    bool by_deadline = arg != NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cio_stream *peer;
        struct blocked b = { .c = &cases[i], .deadline = CIO_NEVER };
        b.st = blocked_stream(&cases[i], &peer);
        int64_t start = cio_now();
        if (by_deadline)
            b.deadline = start + CIO_SEC;
        cio_task *t = spawn(run_op, &b, cases[i].name);
        if (!by_deadline) {
            cr_assert_eq(cio_sleep(CIO_MS), 0);
            cr_assert(!cio_task_done(t), "%s did not block", cases[i].name);
            cio_task_cancel(t);
        }
        cr_assert_eq(cio_task_join(t, NULL), -ECANCELED, "%s", cases[i].name);
        if (by_deadline) {
            cr_assert_eq(b.scope_rc, -ETIMEDOUT, "%s", cases[i].name);
            cr_assert_eq(cio_now(), start + CIO_SEC, "%s", cases[i].name);
        }
        /* Nothing read was lost: the 3 bytes are still there (except for
         * read_exactly, which reports what it took: see its own test). */
        if (cases[i].preload && cases[i].fn != op_read_exactly)
            cr_assert_eq(cio_stream_buffered(b.st), 3, "%s", cases[i].name);
        cio_stream_abort(b.st);
        cr_assert_eq(cio_stream_close(peer), 0);
    }
    return 0;
}

Test(stream_cancel, every_blocking_call_by_task_cancel)
{
    cr_assert_eq(run_virtual(cancel_each_main, NULL), 0);
}

Test(stream_cancel, every_blocking_call_by_scope_deadline)
{
    cr_assert_eq(run_virtual(cancel_each_main, (void *)1), 0);
}

/* Level-triggered: a cancelled task's calls fail at once, even when the
 * data is already buffered. */
static int cancelled_fast_path(void *arg)
{
    cio_stream *st = arg;
    cio_task_cancel(cio_task_current());
    char buf[8];
    cr_assert_eq(cio_stream_read(st, buf, 1), -ECANCELED);
    cr_assert_eq(cio_stream_read_line(st, buf, sizeof buf), -ECANCELED);
    cr_assert_eq(cio_stream_read_exactly(st, buf, 1, NULL), -ECANCELED);
    cr_assert_eq(cio_stream_drain(st), -ECANCELED);
    cr_assert_eq(cio_stream_write(st, "w", 1), 0, "write never blocks: not a checkpoint");
    return 0;
}

static int fast_path_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, false);
    cr_assert_eq(cio_stream_write(b, "line\n", 5), 0);
    char c;
    cr_assert_eq(cio_stream_peek(a, 5, &(const char *){ 0 }, &(size_t){ 0 }), 0);
    cr_assert_eq(cio_task_join(spawn(cancelled_fast_path, a, "x"), NULL), 0);
    cr_assert_eq(cio_stream_buffered(a), 5, "nothing was taken");
    cr_assert_eq(cio_stream_read(b, &c, 1), 1);
    cr_assert_eq(c, 'w');
    cr_assert_eq(cio_stream_close(a), 0);
    return cio_stream_close(b);
}

Test(stream_cancel, cancelled_task_fails_even_on_the_fast_path)
{
    cr_assert_eq(run_virtual(fast_path_main, NULL), 0);
}

/* read_exactly interrupted: the bytes it had are reported, not lost. */
static size_t got;

static int exactly_blocked(void *arg)
{
    return (int)cio_stream_read_exactly(arg, scratch, 10, &got);
}

static int exactly_partial_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, false);
    cr_assert_eq(cio_stream_write(b, "abc", 3), 0);
    got = 99;
    cio_task *t = spawn(exactly_blocked, a, "reader");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cr_assert_eq(cio_stream_write(b, "de", 2), 0);
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(got, 5);
    cr_assert_eq(memcmp(scratch, "abcde", 5), 0);
    cr_assert_eq(cio_stream_close(a), 0);
    return cio_stream_close(b);
}

Test(stream_cancel, read_exactly_interrupted_reports_what_it_took)
{
    cr_assert_eq(run_virtual(exactly_partial_main, NULL), 0);
}

/* read_line interrupted with half a line buffered: the next call gets the
 * whole line. */
static int line_blocked(void *arg)
{
    return (int)cio_stream_read_line(arg, scratch, sizeof scratch);
}

static int line_resume_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, false);
    cr_assert_eq(cio_stream_write(b, "hal", 3), 0);
    cio_task *t = spawn(line_blocked, a, "reader");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_stream_write(b, "f a line\n", 9), 0);
    char line[32];
    cr_assert_eq(cio_stream_read_line(a, line, sizeof line), 12);
    cr_assert_str_eq(line, "half a line\n");
    cr_assert_eq(cio_stream_close(a), 0);
    return cio_stream_close(b);
}

Test(stream_cancel, read_line_interrupted_loses_nothing)
{
    cr_assert_eq(run_virtual(line_resume_main, NULL), 0);
}

/* drain interrupted: the output is intact and flows once the peer reads. */
static int drainer(void *arg) { return cio_stream_drain(arg); }

static size_t drained_total;

static int sink(void *arg)
{
    char buf[8192];
    ssize_t n;
    while ((n = cio_stream_read(arg, buf, sizeof buf)) > 0)
        drained_total += (size_t)n;
    return (int)n;
}

static int drain_resume_main(void *arg)
{
    (void)arg;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, true);
    static char data[512 * 1024];
    cr_assert_eq(cio_stream_write(a, data, sizeof data), 0);
    cio_task *t = spawn(drainer, a, "drainer");
    cr_assert_eq(cio_sleep(CIO_MS), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    drained_total = 0;
    cio_task *s = spawn(sink, b, "sink");
    cr_assert_eq(cio_stream_drain(a), 0);
    cr_assert_eq(cio_stream_close(a), 0);
    cr_assert_eq(cio_task_join(s, NULL), 0);
    cr_assert_eq(drained_total, sizeof data);
    return cio_stream_close(b);
}

Test(stream_cancel, drain_interrupted_keeps_the_output)
{
    cr_assert_eq(run_virtual(drain_resume_main, NULL), 0);
}

/* close blocked flushing to a peer that does not read: a deadline makes it
 * drop the rest and close at once. */
static int close_with_deadline(void *arg)
{
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    int rc = cio_stream_close(arg);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    return rc;
}

static int close_cancel_main(void *arg)
{
    bool by_deadline = arg != NULL;
    cio_stream *a, *b;
    stream_pair(&a, &b, NULL, true);
    static char data[512 * 1024];
    cr_assert_eq(cio_stream_write(a, data, sizeof data), 0);
    size_t queued = cio_stream_write_pending(a);
    int64_t start = cio_now();
    cio_task *t = spawn(by_deadline ? close_with_deadline : (cio_task_fn *)cio_stream_close, a,
                        "closer");
    if (!by_deadline) {
        cr_assert_eq(cio_sleep(CIO_MS), 0);
        cio_task_cancel(t);
    }
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED, "queued bytes were dropped");
    if (by_deadline)
        cr_assert_eq(cio_now(), start + CIO_SEC);
    /* The peer reads what the kernel had, then end of stream. */
    char *all;
    ssize_t n = cio_stream_read_all(b, &all, SIZE_MAX);
    cr_assert_geq(n, 0);
    cr_assert_geq((size_t)n, sizeof data - queued);
    cr_assert_lt((size_t)n, sizeof data, "the queued bytes were dropped");
    free(all);
    return cio_stream_close(b);
}

Test(stream_cancel, close_by_task_cancel_drops_the_rest)
{
    cr_assert_eq(run_virtual(close_cancel_main, NULL), 0);
}

Test(stream_cancel, close_by_scope_deadline_drops_the_rest)
{
    cr_assert_eq(run_virtual(close_cancel_main, (void *)1), 0);
}
