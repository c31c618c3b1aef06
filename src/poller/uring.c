/* uring.c — the io_uring backend (being written; until then the kernel's
 * io_uring is reported as unavailable and auto falls back to epoll). */
#include "poller.h"

#include <errno.h>

static int ur_open(cio_poller *p)
{
    (void)p;
    return -ENOSYS;
}

const cio_poller_backend cio_backend_uring = {
    .name = "io_uring",
    .open = ur_open,
};
