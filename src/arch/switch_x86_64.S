/* switch_x86_64.S — context switch for x86-64 System V.
 *
 * Saved on the stack: rbp rbx r12-r15 (callee-saved), the SSE control/status
 * word MXCSR and the x87 control word (the ABI says MXCSR's control bits and
 * the x87 control word are preserved across calls). Everything else is
 * caller-saved, so the compiler has already spilled it around the call.
 * MXCSR's status bits (the SSE exception flags) travel with it, so they are
 * per task here, while the x87 status word is not saved: exception flags are
 * caller-saved in the ABI and no part of cio's contract.
 *
 * Frame, from the saved stack pointer upwards:
 *   [0] mxcsr (4 bytes) + x87 cw (2 bytes) + pad   [8] r15  [16] r14
 *   [24] r13  [32] r12  [40] rbx  [48] rbp  [56] return address
 *
 * The CFI describes that frame at every instruction. Both contexts have the
 * same layout, so it stays true after rsp moves to the other stack: a
 * debugger stopped anywhere in here unwinds into the caller of whichever
 * context rsp currently holds.
 */
#if defined(__x86_64__)
        .text
        .globl  cio_ctx_switch
        .hidden cio_ctx_switch
        .type   cio_ctx_switch, @function
        .p2align 4
cio_ctx_switch:                         /* rdi = void **save, rsi = void *to */
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_restore r15
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_restore r14
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_restore r13
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore r12
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbp
        ret
        .cfi_endproc
        .size   cio_ctx_switch, .-cio_ctx_switch

/* First code a new context runs: cio_ctx_make left entry in r12 and its
 * argument in rbx, and cio_ctx_start as the return address of its first
 * switch. The return address is marked undefined so debuggers and unwinders
 * stop here instead of walking into garbage. The leading nop is never run:
 * unwinders look a return address up one byte before it, which must land
 * inside this function (its symbol and CFI), not in the padding before. */
        .globl  cio_ctx_trampoline
        .hidden cio_ctx_trampoline
        .globl  cio_ctx_start
        .hidden cio_ctx_start
        .type   cio_ctx_trampoline, @function
        .p2align 4
cio_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        nop
cio_ctx_start:
        xorl    %ebp, %ebp
        movq    %rbx, %rdi
        call    *%r12
        ud2
        .cfi_endproc
        .size   cio_ctx_trampoline, .-cio_ctx_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
