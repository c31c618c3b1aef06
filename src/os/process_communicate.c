/* process_communicate.c — asyncio's proc.communicate(): feed stdin and
 * collect stdout and stderr at once, in a task group, then wait for the
 * exit. Each pipe has its own task, so a child that writes megabytes before
 * it reads (or the reverse) never deadlocks against us. */
#include "process_internal.h"
#include "cio/group.h"
#include "cio/scope.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct collect {
    cio_stream *st;
    size_t max;
    char *data;
    size_t len;
} collect;

typedef struct feed {
    cio_process *p;
    const void *input;
    size_t len;
} feed;

/* Write the input and close stdin; a child that exits (or closes its
 * stdin) without reading it all is not an error, as in asyncio. */
static int feed_stdin(void *arg)
{
    feed *f = arg;
    int rc = f->len ? cio_stream_write(f->p->in, f->input, f->len) : 0;
    int crc = cio_stream_close(f->p->in);
    f->p->in = NULL;
    if (rc == 0)
        rc = crc;
    return rc == -EPIPE ? 0 : rc;
}

static int collect_output(void *arg)
{
    collect *c = arg;
    ssize_t n = cio_stream_read_all(c->st, &c->data, c->max);
    if (n < 0)
        return (int)n;
    c->len = (size_t)n;
    return 0;
}

static int spawn_child(cio_group *g, cio_task_fn *fn, void *arg, const char *name)
{
    return cio_group_spawn(g, NULL, fn, arg, &(cio_task_opts){ .name = name });
}

/* Run the pipe tasks; returns the group's result. */
static int run_pipes(cio_process *p, feed *f, collect *out, collect *err)
{
    cio_group g;
    cio_group_init(&g);
    int rc = 0;
    if (p->in)
        rc = spawn_child(&g, feed_stdin, f, "communicate stdin");
    if (rc == 0 && p->out)
        rc = spawn_child(&g, collect_output, out, "communicate stdout");
    if (rc == 0 && p->err)
        rc = spawn_child(&g, collect_output, err, "communicate stderr");
    if (rc < 0)
        cio_group_cancel(&g);
    int wrc = cio_group_wait(&g);
    cio_group_destroy(&g);
    return rc < 0 ? rc : wrc;
}

static void close_output(cio_stream **s)
{
    if (*s)
        cio_stream_abort(*s);
    *s = NULL;
}

int cio_process_communicate(cio_process *p, cio_communicate *c, int64_t deadline)
{
    c->out = c->err = NULL;
    c->out_len = c->err_len = 0;
    size_t max = c->max_output ? c->max_output : SIZE_MAX;
    feed f = { p, c->input, c->input_len };
    collect out = { p->out, max, NULL, 0 }, err = { p->err, max, NULL, 0 };
    cio_scope s;
    cio_scope_enter(&s, deadline);
    int rc = run_pipes(p, &f, &out, &err);
    if (rc == 0)
        rc = cio_process_wait(p, CIO_NEVER);
    int src = cio_scope_leave(&s);
    if (src < 0 && (rc >= 0 || rc == -ECANCELED))
        rc = src;               /* -ETIMEDOUT: our deadline */
    if (p->in) {
        cio_stream_abort(p->in);
        p->in = NULL;
    }
    close_output(&p->out);
    close_output(&p->err);
    if (rc < 0) {
        free(out.data);
        free(err.data);
        return rc;
    }
    c->out = out.data;
    c->out_len = out.len;
    c->err = err.data;
    c->err_len = err.len;
    return rc;
}
