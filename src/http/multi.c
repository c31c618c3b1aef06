/* multi.c — libcurl's multi_socket API driven by the loop.
 *
 * One multi handle per loop, made at the first request and cleaned up when
 * the loop closes. libcurl tells us, per socket, what it waits for
 * (CURLMOPT_SOCKETFUNCTION): each wanted side becomes a POLL request on the
 * poller. It tells us when it next needs a call (CURLMOPT_TIMERFUNCTION):
 * a loop timer. libcurl itself is called only from loop timers, never from
 * inside the poller's callbacks: a finished POLL request just records the
 * readiness and arms the "kick" timer, which tells libcurl everything
 * recorded (curl_multi_socket_action), resumes paused transfers, frees the
 * sockets libcurl dropped and reads the finished transfers
 * (curl_multi_info_read). So libcurl can close sockets, and open new ones
 * with the same numbers, without ever pulling memory from under the
 * poller; each socket's state hangs on libcurl's socket hash
 * (curl_multi_assign), and libcurl announces CURL_POLL_REMOVE before it
 * closes a socket, while the number still means that socket.
 */
#include "http_internal.h"

#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <stdlib.h>

#define DEFAULT_MAX_CONNECTIONS 100

#define DRIVER_OF(node, field) \
    ((cio_http_driver *)((char *)(node) - offsetof(cio_http_driver, field)))

static void process_finished(cio_http_driver *d);

/* Arm the kick: at this pass's time, or the next pass if we are inside it
 * (a timer armed at "now" while timers run would fire in the same pass). */
static void kick(cio_http_driver *d)
{
    cio_loop *L = d->loop;
    if (cio_timer_armed(&d->kick))
        return;
    int rc = cio_timer_arm(&L->timers, &d->kick, d->in_kick ? L->now + 1 : L->now);
    (void)rc;   /* -ENOMEM: the heap could not grow; nothing to do */
}

/* ---- sockets ----------------------------------------------------------------- */

static void queue_sock(cio_http_sock **list, cio_http_sock *s)
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
static void sock_update(cio_http_sock *s);

static void sock_req_done(cio_io_req *req)
{
    cio_http_sock *s = req->ctx;
    s->pending--;
    if (s->removed) {
        if (!s->pending)
            queue_sock(&s->d->dead, s);
    } else if (req->res == -ECANCELED) {
        /* Cancelled because libcurl stopped wanting this side; on io_uring
         * it may want it again by now, and the request could not be
         * submitted anew while the kernel still held it. */
        sock_update(s);
        return;
    } else {
        s->ready |= cselect_of(req->res);
        queue_sock(&s->d->ready, s);
    }
    kick(s->d);
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
    queue_sock(&s->d->ready, s);
    kick(s->d);
}

/* Make the pending requests match what libcurl wants. */
static void sock_update(cio_http_sock *s)
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

static void sock_remove(cio_http_driver *d, cio_http_sock *s)
{
    cio_poller *p = &d->loop->poller;
    s->removed = true;
    s->want = 0;
    cio_poller_cancel(p, &s->in);   /* epoll: done runs now; io_uring: later */
    cio_poller_cancel(p, &s->out);
    cio_fd_release(&s->fd);         /* before libcurl closes the number */
    if (!s->pending && !s->queued) {
        queue_sock(&d->dead, s);
        kick(d);
    }
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *dp, void *sp)
{
    (void)easy;
    cio_http_driver *d = dp;
    cio_http_sock *s = sp;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_remove(d, s);
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
    sock_update(s);
    return 0;
}

/* ---- timers ------------------------------------------------------------------- */

static int on_timer(CURLM *multi, long timeout_ms, void *dp)
{
    (void)multi;
    cio_http_driver *d = dp;
    cio_loop *L = d->loop;
    if (timeout_ms < 0) {
        cio_timer_disarm(&L->timers, &d->timer);
        return 0;
    }
    /* At least the next pass: never call libcurl from inside its calls. */
    int64_t delay = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 1;
    return cio_timer_arm(&L->timers, &d->timer, L->now + delay) < 0 ? -1 : 0;
}

static void timer_fire(cio_timer_node *n)
{
    cio_http_driver *d = DRIVER_OF(n, timer);
    int running;
    curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_finished(d);
}

static void resume_paused(cio_http_driver *d)
{
    while (d->unpause) {
        cio_http_response *r = d->unpause;
        d->unpause = r->unpause_next;
        r->unpause_queued = false;
        if (!r->in_multi)
            continue;
        int mask = (r->paused_recv ? CURLPAUSE_RECV : 0) |
                   (r->paused_send ? CURLPAUSE_SEND : 0);
        curl_easy_pause(r->easy, mask);
    }
}

static void free_dead(cio_http_driver *d)
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

static void kick_fire(cio_timer_node *n)
{
    cio_http_driver *d = DRIVER_OF(n, kick);
    d->in_kick = true;
    resume_paused(d);
    while (d->ready) {
        cio_http_sock *s = d->ready;
        d->ready = s->next;
        s->queued = false;
        int ev = s->ready;
        s->ready = 0;
        if (s->removed) {
            if (!s->pending)
                queue_sock(&d->dead, s);
            continue;
        }
        int running;
        curl_multi_socket_action(d->multi, s->s, ev, &running);
        if (!s->removed)
            sock_update(s);     /* re-arm the side that fired */
        else if (!s->pending)
            queue_sock(&d->dead, s);
    }
    process_finished(d);
    free_dead(d);
    d->in_kick = false;
}

/* Hand every finished transfer to its response. */
static void process_finished(cio_http_driver *d)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        cio_http_response *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode code = m->data.result;   /* m is invalid after removal */
        if (r)
            cio_http_transfer_done(r, code);
    }
}

/* ---- the driver ---------------------------------------------------------------- */

static bool socks_pending(const cio_http_driver *d)
{
    for (const cio_http_sock *s = d->socks; s; s = s->all_next)
        if (s->pending)
            return true;
    return false;
}

/* At loop close, every task has ended: free the responses they left open
 * (nobody can use them now; debug mode has reported them), let libcurl
 * close its connections, and wait for the poller to end the requests
 * io_uring cancels late, before the poller itself closes. */
static void driver_shutdown(cio_loop *L)
{
    cio_http_driver *d = L->http;
    while (d->live)
        cio_http_response_free(d->live);
    curl_multi_cleanup(d->multi);
    d->ready = d->dead = NULL;
    for (cio_http_sock *s = d->socks; s; s = s->all_next) {
        s->queued = false;
        if (!s->removed)            /* libcurl did not say REMOVE: do it */
            sock_remove(d, s);
    }
    while (L->poller.inflight && socks_pending(d))
        cio_poller_wait(&L->poller, -1);
    while (d->socks) {
        cio_http_sock *s = d->socks;
        d->socks = s->all_next;
        free(s);
    }
    cio_timer_disarm(&L->timers, &d->timer);
    cio_timer_disarm(&L->timers, &d->kick);
    free(d);
    L->http = NULL;
    L->http_shutdown = NULL;
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

cio_http_driver *cio_http_driver_get(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    cio_loop *L = cio_tls_loop;
    if (!L)
        return NULL;
    if (L->http)
        return L->http;
    pthread_once(&once, global_init);
    cio_http_driver *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->loop = L;
    d->multi = curl_multi_init();
    if (!d->multi) {
        free(d);
        return NULL;
    }
    cio_timer_node_init(&d->timer, timer_fire);
    cio_timer_node_init(&d->kick, kick_fire);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)DEFAULT_MAX_CONNECTIONS);
    curl_multi_setopt(d->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    L->http = d;
    L->http_shutdown = driver_shutdown;
    return d;
}

int cio_http_driver_add(cio_http_driver *d, cio_http_response *r)
{
    CURLMcode mc = curl_multi_add_handle(d->multi, r->easy);
    if (mc != CURLM_OK)
        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
    r->in_multi = true;
    return 0;
}

void cio_http_driver_remove(cio_http_driver *d, cio_http_response *r)
{
    if (!r->in_multi)
        return;
    /* A transfer stopped midway leaves its connection in an unknown state
     * (unread body, half a request sent): never reuse it. libcurl closes
     * an HTTP/1 connection of a transfer removed early anyway; this says
     * so for every case. An HTTP/2 connection other streams still use is
     * kept (libcurl resets just this stream), which is safe. */
    if (!r->done)
        curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
    r->in_multi = false;
    curl_multi_remove_handle(d->multi, r->easy);
}

void cio_http_driver_unpause(cio_http_driver *d, cio_http_response *r)
{
    if (r->unpause_queued || !r->in_multi)
        return;
    r->unpause_queued = true;
    r->unpause_next = d->unpause;
    d->unpause = r;
    kick(d);
}

void cio_http_driver_forget(cio_http_driver *d, cio_http_response *r)
{
    if (!r->unpause_queued)
        return;
    for (cio_http_response **pp = &d->unpause; *pp; pp = &(*pp)->unpause_next)
        if (*pp == r) {
            *pp = r->unpause_next;
            break;
        }
    r->unpause_queued = false;
}

void cio_http_driver_limits(cio_http_driver *d, unsigned total, unsigned per_host)
{
    if (total)
        curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)total);
    if (per_host)
        curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)per_host);
}
