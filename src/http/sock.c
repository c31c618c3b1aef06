/* sock.c — libcurl's sockets on the loop's poller (CURLMOPT_SOCKETFUNCTION).
 *
 * Each socket libcurl reports gets a cio_http_sock, hung on libcurl's
 * socket hash (curl_multi_assign) and never looked up by number, with a
 * registered cio_fd and one POLL request in flight per side libcurl wants.
 * A finished request only records the readiness and arms the driver's kick
 * (multi.c), which tells libcurl: libcurl is never called from inside the
 * poller. On CURL_POLL_REMOVE, which libcurl sends before it closes the
 * socket, the requests are cancelled and the cio_fd released while the
 * number still names that socket; the record is freed once both requests
 * have ended (io_uring confirms a cancellation later), from the kick. A
 * number libcurl reuses at once meets a fresh record.
 */
#include "http_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

void cio_http_sock_queue(cio_http_sock **list, cio_http_sock *s)
{
    if (s->queued)
        return;
    s->queued = true;
    s->next = *list;
    *list = s;
}

static int cselect_of(int64_t res)
{
    if (res < 0)
        return CURL_CSELECT_ERR;
    int ev = 0;
    if (res & (POLLIN | POLLHUP | POLLERR))
        ev |= CURL_CSELECT_IN;
    if (res & (POLLOUT | POLLHUP | POLLERR))
        ev |= CURL_CSELECT_OUT;
    if (res & POLLERR)
        ev |= CURL_CSELECT_ERR;
    return ev;
}

/* A POLL request ended (poller callback): record, let the kick act. */
static void sock_req_done(cio_io_req *req)
{
    cio_http_sock *s = req->ctx;
    s->pending--;
    if (s->removed) {
        if (!s->pending)
            cio_http_sock_queue(&s->d->dead, s);
    } else if (req->res == -ECANCELED) {
        /* Cancelled because libcurl stopped wanting this side; on io_uring
         * it may want it again by now, and the request could not be
         * submitted anew while the kernel still held it. */
        cio_http_sock_update(s);
        return;
    } else {
        s->ready |= cselect_of(req->res);
        cio_http_sock_queue(&s->d->ready, s);
    }
    cio_http_kick(s->d);
}

static void submit_side(cio_http_sock *s, cio_io_req *req, int events)
{
    *req = (cio_io_req){ .op = CIO_OP_POLL, .flags = events, .fd = &s->fd,
                         .done = sock_req_done, .ctx = s };
    int rc = cio_poller_submit(&s->d->loop->poller, req);
    if (rc == 0) {
        s->pending++;
        return;
    }
    s->ready |= rc == 1 ? cselect_of(req->res) : CURL_CSELECT_ERR;
    cio_http_sock_queue(&s->d->ready, s);
    cio_http_kick(s->d);
}

/* Make the pending requests match what libcurl wants. */
void cio_http_sock_update(cio_http_sock *s)
{
    cio_poller *p = &s->d->loop->poller;
    bool want_in = s->want & CURL_POLL_IN, want_out = s->want & CURL_POLL_OUT;
    if (s->in.state == CIO_REQ_PENDING && !want_in)
        cio_poller_cancel(p, &s->in);
    if (s->out.state == CIO_REQ_PENDING && !want_out)
        cio_poller_cancel(p, &s->out);
    /* Readiness not yet told to libcurl stands for a request. */
    if (want_in && s->in.state != CIO_REQ_PENDING && !(s->ready & CURL_CSELECT_IN))
        submit_side(s, &s->in, POLLIN);
    if (want_out && s->out.state != CIO_REQ_PENDING && !(s->ready & CURL_CSELECT_OUT))
        submit_side(s, &s->out, POLLOUT);
}

void cio_http_sock_remove(cio_http_driver *d, cio_http_sock *s)
{
    cio_poller *p = &d->loop->poller;
    s->removed = true;
    s->want = 0;
    cio_poller_cancel(p, &s->in);   /* epoll: done runs now; io_uring: later */
    cio_poller_cancel(p, &s->out);
    cio_fd_release(&s->fd);         /* before libcurl closes the number */
    if (!s->pending && !s->queued) {
        cio_http_sock_queue(&d->dead, s);
        cio_http_kick(d);
    }
}

int cio_http_on_socket(CURL *easy, curl_socket_t fd, int what, void *dp, void *sp)
{
    (void)easy;
    cio_http_driver *d = dp;
    cio_http_sock *s = sp;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            cio_http_sock_remove(d, s);
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->d = d;
        s->s = fd;
        if (cio_fd_open(&s->fd, fd, CIO_FD_STREAM) < 0) {
            free(s);
            return -1;
        }
        s->all_next = d->socks;
        if (d->socks)
            d->socks->all_prev = s;
        d->socks = s;
        curl_multi_assign(d->multi, fd, s);
    }
    s->want = what & (CURL_POLL_IN | CURL_POLL_OUT);
    cio_http_sock_update(s);
    return 0;
}

void cio_http_socks_free_dead(cio_http_driver *d)
{
    while (d->dead) {
        cio_http_sock *s = d->dead;
        d->dead = s->next;
        if (s->all_prev)
            s->all_prev->all_next = s->all_next;
        else
            d->socks = s->all_next;
        if (s->all_next)
            s->all_next->all_prev = s->all_prev;
        free(s);
    }
}
