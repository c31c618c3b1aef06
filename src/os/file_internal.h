/* file_internal.h — the file object, shared by the file*.c files. */
#ifndef CIO_OS_FILE_INTERNAL_H
#define CIO_OS_FILE_INTERNAL_H

#include "cio/file.h"

#include "../debug/handle.h"
#include "file_op.h"

struct cio_file {
    cio_handle handle;          /* the loop's registry of open handles */
    int fd;
    unsigned pins;              /* thread-pool jobs using fd (file_op.h) */
    bool closed;                /* cio_file_close ran while pinned */
};

/* The arguments of an operation on f's descriptor. */
static inline cio_file_args cio_file_args_of(cio_file *f)
{
    return (cio_file_args){ .fd = f->fd, .owner = f };
}

/* The arguments of an operation on a path relative to the working directory. */
static inline cio_file_args cio_path_args(const char *path)
{
    return (cio_file_args){ .fd = AT_FDCWD, .path = path };
}

/* Run op shielded from cancellation (cleanup that must happen). */
int64_t cio_file_op_shielded(uint8_t op, cio_file_args *a);

#endif
