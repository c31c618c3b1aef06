/* tls_bio.c — a BIO that never blocks: OpenSSL's reads are served from the
 * connection's ciphertext buffer (or told to retry), its writes go to the
 * inner transport's queue. The blocking happens outside OpenSSL, in the
 * TLS transport, so a task never parks inside an SSL call and several
 * tasks (a reader and a writer) can take turns on one connection. */
#include "tls_bio.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static BIO_METHOD *method;      /* made once, kept for the process */
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int wire_write(BIO *b, const char *data, int len)
{
    cio_tls_wire *w = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (w->write_error)
        return -1;
    if (len <= 0)
        return 0;
    struct iovec iov = { (void *)data, (size_t)len };
    int rc = w->inner->ops->write(w->inner, &iov, 1);
    if (rc < 0) {
        w->write_error = rc;
        return -1;
    }
    return len;
}

static int wire_read(BIO *b, char *buf, int len)
{
    cio_tls_wire *w = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t have = w->in_len - w->in_pos;
    if (have == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = len > 0 && (size_t)len < have ? (size_t)len : have;
    if (len <= 0)
        return 0;
    memcpy(buf, w->in + w->in_pos, n);
    w->in_pos += n;
    return (int)n;
}

static long wire_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:        /* the inner transport sends in the background */
        return 1;
    default:
        return 0;
    }
}

static int wire_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cio transport");
    if (!m)
        return;
    BIO_meth_set_write(m, wire_write);
    BIO_meth_set_read(m, wire_read);
    BIO_meth_set_ctrl(m, wire_ctrl);
    BIO_meth_set_create(m, wire_create);
    method = m;
}

BIO *cio_tls_bio_new(cio_tls_wire *w)
{
    pthread_once(&method_once, make_method);
    if (!method)
        return NULL;
    BIO *b = BIO_new(method);
    if (b)
        BIO_set_data(b, w);
    return b;
}
