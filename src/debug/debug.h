/* debug.h — a loop's debugging state: the slow-task watchdog and dump
 * requests (SIGQUIT). The scheduler calls in here only when L->dbg is set:
 * a loop outside debug mode pays one predictable branch per switch.
 */
#ifndef CIO_DEBUG_DEBUG_H
#define CIO_DEBUG_DEBUG_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cio_loop cio_loop;
typedef struct cio_task cio_task;

#define CIO_DEBUG_MAX_FRAMES 48

/* The stack of the running task, captured by the watchdog's signal handler
 * on the loop thread (nothing in it is allocated there). */
typedef struct cio_stuck_capture {
    uint64_t seq;                       /* the run it belongs to */
    uint64_t task_id;
    char task_name[32];
    int n;
    void *pcs[CIO_DEBUG_MAX_FRAMES];
} cio_stuck_capture;

typedef struct cio_debug {
    cio_loop *loop;
    pthread_t loop_thread;
    int64_t threshold_ns;               /* slow_task_ms */

    /* Published by the loop thread at every switch (debug mode). */
    _Atomic uint64_t seq;               /* number of the current run */
    _Atomic int64_t started;            /* when it began (monotonic ns) */
    _Atomic bool in_task;               /* a task runs (not the loop context) */
    /* Loop thread only: the run being timed. */
    cio_task *cur_task;
    int64_t cur_start;

    /* Set by the watchdog to the seq of a run it reported as stuck; the
     * loop then reports the total when that run ends. */
    _Atomic uint64_t flagged;
    pthread_mutex_t print_lock;         /* orders the two reports */

    cio_stuck_capture cap;              /* written by the signal handler */
    _Atomic uint64_t cap_want;          /* which run the handler may capture */
    sem_t cap_done;

    /* The watchdog thread. */
    bool watching;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;

    _Atomic bool dump_requested;        /* SIGQUIT: print a task dump */
    int sigquit_slot;                   /* -1: not registered */
} cio_debug;

/* Debug mode on a new loop (the loop thread): start the watchdog.
 * slow_task_ms 0: CIO_SLOW_TASK_MS, else 100. */
void cio_debug_loop_open(cio_loop *L, unsigned slow_task_ms);

/* The loop closes: stop the watchdog, drop the SIGQUIT registration. */
void cio_debug_loop_close(cio_loop *L);

/* The debugging state of L, made if it has none (NULL: out of memory). */
cio_debug *cio_debug_get(cio_loop *L);

/* Debug mode's scheduler hook (src/debug/switch.c): the loop thread
 * switches from task `from` to task `to` (either NULL: the loop context).
 * One clock read serves the run-time statistics and the watchdog. */
__attribute__((cold, noinline))
void cio_debug_on_switch(cio_loop *L, cio_task *from, cio_task *to);

/* The watchdog's part of it: `to` starts running at now. */
void cio_debug_switch(cio_loop *L, cio_task *to, int64_t now);

/* Scheduler hook at each pass of the loop: print a dump if one was asked. */
void cio_debug_pass(cio_loop *L);

/* Monotonic clock in ns (real time, even on a virtual-clock loop). */
int64_t cio_debug_clock(void);

/* ---- used between the debug files ---------------------------------------- */

/* The watchdog's report for a run it found stuck; with_stack: the handler
 * captured the stack into d->cap. */
void cio_watchdog_report(cio_debug *d, FILE *out, int64_t blocked_ns, bool with_stack);

/* Ask the loop thread for its stack (signal + wait, up to timeout_ms).
 * True if d->cap now holds the stack of run seq. */
bool cio_watchdog_capture(cio_debug *d, uint64_t seq, int timeout_ms);

/* SIGQUIT registration (sigquit.c). */
void cio_sigquit_unregister(cio_debug *d);

#endif
