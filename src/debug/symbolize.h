/* symbolize.h — turn a code address into "function (file:line)".
 *
 * Uses elfutils' libdw (symbol tables and DWARF line tables of the process's
 * modules, read from /proc/self/maps), so static functions and functions of
 * the executable (not in its dynamic symbol table) are named, with their
 * source line when the object has debug information; falls back to dladdr.
 * Thread-safe (one process-wide libdw session behind a mutex). Called from
 * a task, it runs the lookup on a short-lived thread: libdw needs more stack
 * than a task has. Not async-signal-safe: the watchdog symbolizes on its
 * own thread.
 */
#ifndef CIO_DEBUG_SYMBOLIZE_H
#define CIO_DEBUG_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Describe pc into buf: "function+0xoff (file:line)" or "function+0xoff
 * (object)" or "?? (object)". return_address: pc is where a call returns
 * to (looked up one byte before, so the line is the call's). Returns true if
 * the function was named. */
bool cio_symbolize(void *pc, bool return_address, char *buf, size_t len);

#endif
