/* uring_util.h — what the raw io_uring echo servers share. */
#ifndef URING_UTIL_H
#define URING_UTIL_H

#include <liburing.h>

#include "echo_util.h"

/* A submission queue entry; a full queue is flushed to make room. */
static inline struct io_uring_sqe *echo_get_sqe(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) {
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
        if (!sqe)
            echo_die("io_uring: no submission queue entry");
    }
    return sqe;
}

#endif
