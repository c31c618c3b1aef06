/* multi.c — libcurl's multi_socket API driven by the loop.
 *
 * One multi handle per loop, made at the first session and cleaned up when
 * the loop closes. libcurl says which sockets it waits on (sock.c puts them
 * on the poller) and when it next needs a call (CURLMOPT_TIMERFUNCTION: a
 * loop timer). libcurl itself is called only from loop timers, never from
 * inside the poller's callbacks: a finished poll just records the readiness
 * and arms the "kick" timer, which tells libcurl everything recorded
 * (curl_multi_socket_action), resumes paused transfers, frees the sockets
 * libcurl dropped and hands finished transfers to their responses
 * (curl_multi_info_read).
 */
#include "http_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define DEFAULT_MAX_CONNECTIONS 100

#define DRIVER_OF(node, field) \
    ((cio_http_driver *)((char *)(node) - offsetof(cio_http_driver, field)))

static void process_finished(cio_http_driver *d);

/* Arm the kick: at this pass's time, or the next pass if we are inside it
 * (a timer armed at "now" while timers run would fire in the same pass). */
void cio_http_kick(cio_http_driver *d)
{
    cio_loop *L = d->loop;
    if (cio_timer_armed(&d->kick))
        return;
    int rc = cio_timer_arm(&L->timers, &d->kick, d->in_kick ? L->now + 1 : L->now);
    (void)rc;   /* -ENOMEM: the heap could not grow; nothing to do */
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
                cio_http_sock_queue(&d->dead, s);
            continue;
        }
        int running;
        curl_multi_socket_action(d->multi, s->s, ev, &running);
        if (!s->removed)
            cio_http_sock_update(s);     /* re-arm the side that fired */
        else if (!s->pending)
            cio_http_sock_queue(&d->dead, s);
    }
    process_finished(d);
    cio_http_socks_free_dead(d);
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
            cio_http_sock_remove(d, s);
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
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, cio_http_on_socket);
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
    cio_http_kick(d);
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
