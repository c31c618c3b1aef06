/* gate.h — test synchronisation between worker threads and the loop,
 * without sleeps.
 *
 * A gate is a latch a worker thread blocks on until the test opens it.
 * A signal tells a task on the loop that something happened on another
 * thread: the thread queues cio_event_set through cio_call_threadsafe.
 */
#ifndef CIO_TEST_GATE_H
#define CIO_TEST_GATE_H

#include <cio.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
} gate;

static inline void gate_init(gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = false;
}

static inline void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static inline void gate_wait(gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static inline void gate_destroy(gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static inline void set_event_cb(void *e) { cio_event_set(e); }

/* From any thread: set event e on loop (in the loop's context). */
static inline void signal_loop(cio_loop *loop, cio_event *e)
{
    int rc = cio_call_threadsafe(loop, set_event_cb, e);
    cr_assert_eq(rc, 0, "cio_call_threadsafe: %d", rc);
}

/* A blocking job for cio_to_thread: tells the loop it started, waits for
 * the test to open the gate, returns `result`. */
typedef struct blocker {
    cio_loop *loop;
    cio_event started;
    gate release;
    void *result;
    int ran;            /* written by the worker, read after a join */
} blocker;

static inline void blocker_init(blocker *b, void *result)
{
    b->loop = cio_loop_current();
    cio_event_init(&b->started);
    gate_init(&b->release);
    b->result = result;
    b->ran = 0;
}

static inline void *blocker_run(void *arg)
{
    blocker *b = arg;
    signal_loop(b->loop, &b->started);
    gate_wait(&b->release);
    b->ran++;
    return b->result;
}

#endif
