/* fake_transport.h — a stand-in for the socket transport (being written in
 * the streams branch) so the TLS layer can be tested before it lands:
 * reads are the socket's, writes are queued and sent by a writer task.
 * Same contract as transport.h; slower, simpler. */
#ifndef CIO_TEST_FAKE_TRANSPORT_H
#define CIO_TEST_FAKE_TRANSPORT_H

#include "io/transport.h"

typedef struct fake_transport {
    cio_transport base;
    cio_socket *s;
    char *q;                    /* queued, not yet taken by the writer */
    size_t qlen, qcap;
    size_t sending;             /* bytes the writer holds */
    bool eof, done;             /* write_eof asked; writer finished */
    int error;
    cio_event work, progress;
    cio_task *writer;
} fake_transport;

static size_t fake_pending(const cio_transport *t)
{
    const fake_transport *f = (const fake_transport *)t;
    return f->qlen + f->sending;
}

static int fake_writer(void *arg)
{
    fake_transport *f = arg;
    for (;;) {
        while (f->qlen == 0 && !f->eof) {
            cio_event_clear(&f->work);
            int rc = cio_event_wait(&f->work);
            if (rc < 0)
                return rc;
        }
        if (f->qlen == 0) {
            int rc = cio_socket_shutdown(f->s, SHUT_WR);
            f->done = true;
            cio_event_set(&f->progress);
            return rc;
        }
        char *buf = f->q;
        size_t len = f->qlen;
        f->q = NULL;
        f->qlen = f->qcap = 0;
        f->sending = len;
        ssize_t n = cio_socket_send(f->s, buf, len);
        free(buf);
        f->sending = 0;
        if (n != (ssize_t)len && !f->error)
            f->error = n < 0 ? (int)n : -EIO;
        cio_event_set(&f->progress);
        if (f->error)
            return 0;
    }
}

static int fake_write(cio_transport *t, const struct iovec *iov, int iovcnt)
{
    fake_transport *f = (fake_transport *)t;
    if (f->error)
        return f->error;
    if (f->eof)
        return -EPIPE;
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (f->qlen + len > f->qcap) {
            size_t cap = (f->qlen + len) * 2;
            char *q = realloc(f->q, cap);
            if (!q)
                return -ENOMEM;
            f->q = q;
            f->qcap = cap;
        }
        if (len)
            memcpy(f->q + f->qlen, iov[i].iov_base, len);
        f->qlen += len;
    }
    cio_event_set(&f->work);
    return 0;
}

static ssize_t fake_read(cio_transport *t, void *buf, size_t len)
{
    fake_transport *f = (fake_transport *)t;
    return cio_socket_recv(f->s, buf, len);
}

static int fake_flush(cio_transport *t, size_t mark)
{
    fake_transport *f = (fake_transport *)t;
    while (!f->error && fake_pending(t) > mark) {
        cio_event_clear(&f->progress);
        int rc = cio_event_wait(&f->progress);
        if (rc < 0)
            return rc;
    }
    return f->error;
}

static int fake_write_eof(cio_transport *t)
{
    fake_transport *f = (fake_transport *)t;
    f->eof = true;
    cio_event_set(&f->work);
    while (!f->error && !f->done) {
        cio_event_clear(&f->progress);
        int rc = cio_event_wait(&f->progress);
        if (rc < 0)
            return rc;
    }
    return f->error;
}

static int fake_close(cio_transport *t, bool abort)
{
    fake_transport *f = (fake_transport *)t;
    int rc = abort ? 0 : fake_flush(t, 0);
    cio_task_cancel(f->writer);
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int ignored = cio_task_join(f->writer, NULL);
    (void)ignored;
    ignored = cio_scope_leave(&shield);
    cio_socket_close(f->s);
    free(f->q);
    free(f);
    return rc == -ECANCELED ? 0 : rc;
}

static cio_socket *fake_socket(cio_transport *t)
{
    return ((fake_transport *)t)->s;
}

static const cio_transport_ops fake_ops = {
    .read = fake_read, .write = fake_write, .pending = fake_pending,
    .flush = fake_flush, .write_eof = fake_write_eof, .close = fake_close,
    .socket = fake_socket,
};

static int test_transport_new(cio_transport **out, cio_socket *s)
{
    fake_transport *f = calloc(1, sizeof *f);
    if (!f) {
        cio_socket_close(s);
        return -ENOMEM;
    }
    f->base.ops = &fake_ops;
    f->s = s;
    cio_event_init(&f->work);
    cio_event_init(&f->progress);
    int rc = cio_task_spawn(&f->writer, fake_writer, f, &(cio_task_opts){ .name = "writer" });
    if (rc < 0) {
        cio_socket_close(s);
        free(f);
        return rc;
    }
    *out = &f->base;
    return 0;
}

#endif
