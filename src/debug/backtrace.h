/* backtrace.h — capture a stack (the caller's, or a suspended task's) and
 * print it symbolized. Used by the handle registry (where a handle was
 * made), the watchdog and the task dump.
 */
#ifndef CIO_DEBUG_BACKTRACE_H
#define CIO_DEBUG_BACKTRACE_H

#include <stdio.h>

/* Store up to max return addresses of the caller's stack in pcs, skipping
 * the innermost skip frames (this function's own is never included).
 * Returns how many were stored. Uses the DWARF unwinder (glibc backtrace),
 * so frames without a frame pointer are walked too. */
int cio_backtrace_capture(void **pcs, int max, int skip);

/* The stack of a task that is switched out: saved_sp is what the context
 * switch saved (cio_task.sp), [lo, hi) the task's stack. Follows the frame
 * pointer chain (cio builds with -fno-omit-frame-pointer; a caller's frame
 * built without it is skipped) and never reads outside [lo, hi). Returns
 * how many return addresses it stored in pcs (innermost first). */
int cio_backtrace_suspended(const void *saved_sp, const void *lo, const void *hi,
                            void **pcs, int max);

/* Print one line per address: "<indent>#i 0x... function+off (file:line)",
 * the function and line looked up with libdw (symbolize.h). Not
 * async-signal-safe. */
void cio_backtrace_print(FILE *out, void *const *pcs, int n, const char *indent);

#endif
