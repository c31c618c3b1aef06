/* backtrace.h — capture the calling task's (or thread's) stack and print it
 * symbolized. Used by the handle registry (where a handle was made), the
 * watchdog and the task dump.
 */
#ifndef CIO_DEBUG_BACKTRACE_H
#define CIO_DEBUG_BACKTRACE_H

#include <stdio.h>

/* Store up to max return addresses of the caller's stack in pcs, skipping
 * the innermost skip frames (this function's own is never included).
 * Returns how many were stored. */
int cio_backtrace_capture(void **pcs, int max, int skip);

/* Print one line per address: "<indent>#i 0x... function+off (object)". */
void cio_backtrace_print(FILE *out, void *const *pcs, int n, const char *indent);

#endif
