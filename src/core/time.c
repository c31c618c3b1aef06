/* time.c — the loop's clock, sleeping and yielding. */
#include "internal.h"
#include "cio/task.h"
#include "cio/time.h"

#include <errno.h>

int64_t cio_now(void)
{
    cio_loop *L = cio_tls_loop;
    return L ? L->now : 0;
}

int64_t cio_deadline_after(int64_t ns)
{
    int64_t now = cio_now();
    if (ns <= 0)
        return now;
    return ns >= CIO_NEVER - now ? CIO_NEVER : now + ns;
}

int cio_yield(void)
{
    cio_task *t = cio_task_current();
    if (!t)
        return -EPERM;
    if (cio_task_is_cancelled(t))
        return cio_task_cancel_delivered(t);
    cio_sched_ready(t);
    cio_sched_switch_away(t);
    return 0;
}

int cio_sleep_until(int64_t deadline)
{
    cio_loop *L = cio_tls_loop;
    if (!L || deadline <= L->now)
        return cio_yield();     /* like asyncio.sleep(0): still a checkpoint */
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_SLEEP, NULL);
    int rc = cio_wait_park(&w, NULL, deadline);
    return rc == -ETIMEDOUT ? 0 : rc;
}

int cio_sleep(int64_t ns)
{
    return ns <= 0 ? cio_yield() : cio_sleep_until(cio_deadline_after(ns));
}
