/* file_op.c — where a file operation runs: the ring when the loop's backend
 * does file operations (io_uring), else the thread pool (see file_op.h). */
#include "file_op.h"

#include <errno.h>

#include "../io/io.h"

int64_t cio_file_op(uint8_t op, cio_file_args *a)
{
    cio_poller *p = cio_io_poller();
    if (!p)
        return -EPERM;
    if (!p->file_ops || op == CIO_OP_GETDENTS)
        return cio_file_op_thread(op, a);
    cio_io_req r = { .op = op, .fd = NULL, .file = a };
    return cio_io_await(&r, CIO_NEVER);
}
