/* cio/event.h — asyncio.Event: a flag tasks wait on until it is set. */
#ifndef CIO_EVENT_H
#define CIO_EVENT_H

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_event {
    cio_waitlist _waiters;
    bool _set;
} cio_event;

/* Make an event, not set. Never blocks. */
void cio_event_init(cio_event *e);

/* Set the event and wake every waiter. Never blocks. */
void cio_event_set(cio_event *e);

/* Clear the event: later waits block until the next set. Never blocks. */
void cio_event_clear(cio_event *e);

/* True while the event is set. */
bool cio_event_is_set(const cio_event *e);

/* Wait until the event is set. Returns 0 (at once if it is set), or
 * -ECANCELED (also when it is set, if the task is cancelled), -EPERM outside
 * a task. A waiter woken by set returns 0 even if the event was cleared or
 * the task cancelled before it ran. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_event_wait(cio_event *e);

#pragma GCC visibility pop

#endif
