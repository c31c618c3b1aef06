/* event.c — asyncio.Event: a flag tasks can wait to see set. */
#include "core/internal.h"
#include "cio/event.h"

void cio_event_init(cio_event *e)
{
    cio_waitlist_init(&e->_waiters);
    e->_set = false;
}

void cio_event_set(cio_event *e)
{
    if (e->_set)
        return;                 /* set means nobody waits */
    e->_set = true;
    cio_waitlist_wake_all(&e->_waiters, 0);
}

void cio_event_clear(cio_event *e) { e->_set = false; }

bool cio_event_is_set(const cio_event *e) { return e->_set; }

int cio_event_wait(cio_event *e)
{
    int rc = cio_wait_checkpoint();
    if (rc < 0 || e->_set)
        return rc;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_waiter_why(&w, CIO_WAIT_EVENT, e);
    return cio_wait_park(&w, &e->_waiters, CIO_NEVER);
}
