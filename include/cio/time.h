/* cio/time.h — time, sleep (asyncio.sleep, loop.time).
 *
 * Time is int64_t nanoseconds on the monotonic clock (or the loop's virtual
 * clock); deadlines are absolute.
 */
#ifndef CIO_TIME_H
#define CIO_TIME_H

#include "base.h"

#pragma GCC visibility push(default)

#define CIO_NS   INT64_C(1)
#define CIO_US   INT64_C(1000)
#define CIO_MS   INT64_C(1000000)
#define CIO_SEC  INT64_C(1000000000)

/* The current loop's time, cached once per loop iteration (cheap). Must be
 * called on a thread that has a loop. Never blocks. */
int64_t cio_now(void);

/* Sleep for ns nanoseconds. cio_sleep(0) is asyncio.sleep(0): let every
 * other ready task run first. Returns 0, or -ECANCELED if the task is
 * cancelled (then or while sleeping). Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_sleep(int64_t ns);

/* Sleep until the absolute time deadline (cio_now() scale). Returns 0 or
 * -ECANCELED. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_sleep_until(int64_t deadline);

/* A deadline ns nanoseconds from now, saturating at CIO_NEVER. */
int64_t cio_deadline_after(int64_t ns);

#pragma GCC visibility pop

#endif
