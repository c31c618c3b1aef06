/* context.h — the context switch (arch layer).
 *
 * A context is just a saved stack pointer: cio_ctx_switch pushes the
 * callee-saved registers and the floating-point control state the ABI
 * preserves onto the current stack, stores the stack pointer in *save, loads
 * `to` and pops the same from there. Written in assembly per architecture
 * (switch_x86_64.S, switch_aarch64.S): never ucontext, which saves the
 * signal mask with a system call on every switch.
 */
#ifndef CIO_ARCH_CONTEXT_H
#define CIO_ARCH_CONTEXT_H

#include <stddef.h>

/* Save the running context into *save and resume the one saved in `to`. */
void cio_ctx_switch(void **save, void *to);

/* Prepare a fresh context on the stack whose highest address is top (16-byte
 * aligned): the first switch to the returned stack pointer calls
 * entry(arg) on that stack. entry must never return. */
void *cio_ctx_make(void *top, void (*entry)(void *), void *arg);

#endif
