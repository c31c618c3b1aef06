/* connect_race.c — Happy Eyeballs (RFC 8305): connect to one of a list of
 * addresses, attempts staggered and raced.
 *
 * The caller is the starter: it spawns one attempt task per address into a
 * task group, and after each waits until that attempt fails (or wins) or the
 * attempt delay passes before starting the next. The first attempt to
 * connect takes the race and cancels the group; the others' connects are
 * cancelled and their sockets closed before the group's wait returns. The
 * caller's cancel scopes reach every attempt through the group: a caller
 * cancelled (or timed out) while starting or waiting cancels the group, and
 * cio_group_wait waits for every attempt to have closed its socket.
 * Attempts never fail as tasks (they return 0 and leave their error in the
 * race), so one refused address does not cancel its siblings.
 */
#include "connect.h"
#include "socket_internal.h"

#include "cio/group.h"
#include "cio/time.h"

#include <errno.h>
#include <stdlib.h>

typedef struct race race;

typedef struct attempt {
    race *race;
    size_t index;
} attempt;

struct race {
    const cio_addr *addrs;
    const cio_addr *local;
    cio_group group;
    size_t started;             /* attempts spawned so far */
    cio_socket *winner;
    int error;                  /* of the attempt that failed last */
    cio_waiter *starter;        /* the caller, while it waits to start the next */
};

static int open_and_connect(cio_socket **out, const cio_addr *a, const cio_addr *local)
{
    cio_socket *s;
    int rc = cio_socket_open(&s, a->sa.sa_family, SOCK_STREAM, 0);
    if (rc < 0)
        return rc;
    if (local && bind(s->io.fd, &local->sa, local->len) < 0)
        rc = -errno;
    if (rc == 0)
        rc = cio_socket_connect(s, a);
    if (rc < 0) {
        cio_socket_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int attempt_run(void *arg)
{
    attempt *at = arg;
    race *r = at->race;
    cio_socket *s = NULL;
    int rc = open_and_connect(&s, &r->addrs[at->index], r->local);
    if (rc == 0 && !r->winner) {
        r->winner = s;
        cio_group_cancel(&r->group);    /* the others stop (we are done) */
    } else if (rc == 0) {
        cio_socket_close(s);            /* connected too, a moment late */
    } else if (rc != -ECANCELED) {
        r->error = rc;
    }
    /* A win ends the starting; a failure of the newest attempt starts the
     * next one now rather than after the delay. */
    if (r->starter && (rc == 0 || at->index + 1 == r->started))
        cio_wait_wake(r->starter, 0);
    return 0;
}

/* Park the caller until the newest attempt fails or wins, or delay passes
 * (delay < 0: no limit). Returns 0, or -ECANCELED if the caller is
 * cancelled. */
static int wait_turn(race *r, int64_t delay)
{
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_CONNECT, NULL);
    r->starter = &w;
    int rc = cio_wait_park(&w, NULL, delay < 0 ? CIO_NEVER : cio_deadline_after(delay));
    r->starter = NULL;
    return rc == -ETIMEDOUT ? 0 : rc;
}

/* Start the attempts one by one until one wins or all are started. Returns
 * 0, or the error that stopped the caller (-ECANCELED). */
static int start_attempts(race *r, attempt *at, size_t n, int64_t delay)
{
    for (size_t i = 0; i < n && !r->winner; i++) {
        at[i] = (attempt){ r, i };
        int rc = cio_group_spawn(&r->group, NULL, attempt_run, &at[i],
                                 &(cio_task_opts){ .name = "happy-eyeballs" });
        if (rc < 0) {           /* out of memory: let the started ones finish */
            if (rc != -ESHUTDOWN)
                r->error = rc;
            return 0;
        }
        r->started = i + 1;
        if (i + 1 < n && (rc = wait_turn(r, delay)) < 0)
            return rc;
    }
    return 0;
}

int cio_connect_addrs(cio_socket **out, const cio_addr *addrs, size_t n,
                      const cio_connect_opts *opts)
{
    int rc = cio_wait_checkpoint();     /* also: -EPERM outside a task */
    if (rc < 0)
        return rc;
    if (n == 0)
        return -EINVAL;
    attempt *at = calloc(n, sizeof *at);
    if (!at)
        return -ENOMEM;
    int64_t delay = opts && opts->attempt_delay ? opts->attempt_delay
                                                : CIO_CONNECT_ATTEMPT_DELAY;
    race r = { .addrs = addrs, .local = opts ? opts->local : NULL, .error = -ECONNABORTED };
    cio_group_init(&r.group);
    rc = start_attempts(&r, at, n, delay);
    int waited = cio_group_wait(&r.group);      /* every attempt has ended */
    cio_group_destroy(&r.group);
    free(at);
    if (rc == 0)
        rc = waited;
    if (rc < 0) {               /* the caller was cancelled: keep nothing */
        cio_socket_close(r.winner);
        return rc;
    }
    if (!r.winner)
        return r.error;
    *out = r.winner;
    return 0;
}
