/* cio/base.h — the types every cio header shares.
 *
 * Caller-allocated objects (locks, queues, scopes, groups) embed the structs
 * below, so they are public; their fields are private (names start with an
 * underscore) and may change between versions.
 */
#ifndef CIO_BASE_H
#define CIO_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(default)

#define CIO_MUST_CHECK __attribute__((warn_unused_result))

/* A deadline meaning "never": later than any monotonic time. */
#define CIO_NEVER INT64_MAX

typedef struct cio_loop cio_loop;
typedef struct cio_task cio_task;

/* A task's body: returns its status, >= 0 on success or a negative errno. */
typedef int cio_task_fn(void *arg);

/* A timer on a loop's timer heap (private). */
typedef struct cio_timer_node {
    int64_t deadline;
    uint64_t seq;                 /* insertion order: equal deadlines fire FIFO */
    uint32_t index;               /* slot in the heap, UINT32_MAX when unarmed */
    void (*fire)(struct cio_timer_node *);
} cio_timer_node;

/* One parked task (private). Every blocking call in cio parks on one. */
typedef struct cio_waiter {
    struct cio_waiter *prev, *next; /* links in a wait list */
    struct cio_waitlist *list;      /* the list it is queued on, or NULL */
    cio_task *task;
    void *data;                     /* hand-off slot for the waker */
    int result;                     /* what the wait returns */
    uint8_t state;
    uint8_t why;                    /* what it waits on (task dump) */
    const void *why_obj;            /* ... the lock, queue, request, task */
    cio_timer_node timer;           /* the wait's own deadline */
} cio_waiter;

/* A FIFO of parked tasks (private). */
typedef struct cio_waitlist {
    cio_waiter *head, *tail;
    size_t count;
} cio_waitlist;

#pragma GCC visibility pop

#endif
