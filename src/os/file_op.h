/* file_op.h — one file operation for the calling task, on the loop's ring
 * or its thread pool (private to cio; cio/file.h is built on it).
 *
 * The operation is described by a cio_file_args (src/poller/poller.h) and
 * an opcode, CIO_OP_PREAD...CIO_OP_MKDIRAT, or CIO_OP_GETDENTS, which only
 * the thread pool does. The rules for an interrupted operation are
 * cio/file.h's: on the ring the call waits for the kernel's final answer
 * (src/io/io.c); on the thread pool it returns at once and the job, which
 * owns copies of the buffer and paths, disposes of its late result.
 */
#ifndef CIO_OS_FILE_OP_H
#define CIO_OS_FILE_OP_H

#include <stdint.h>

#include "../poller/poller.h"

/* getdents64(fd, buf, len): thread pool only (no io_uring operation). */
#define CIO_OP_GETDENTS 200

/* Run op for the calling task; its result (>= 0) or a negative errno;
 * -EPERM outside a task. */
int64_t cio_file_op(uint8_t op, cio_file_args *a);

/* The same, always on the thread pool. */
int64_t cio_file_op_thread(uint8_t op, cio_file_args *a);

/* A job on the thread pool uses a->owner's descriptor: it stays open until
 * the job lets go, even if the file is closed meanwhile (file.c). */
void cio_file_pin(struct cio_file *f);
void cio_file_unpin(struct cio_file *f);

#endif
