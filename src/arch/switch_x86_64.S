/* switch_x86_64.S — context switch for x86-64 System V.
 *
 * Saved on the stack: rbp rbx r12-r15 (callee-saved), the SSE control/status
 * word MXCSR and the x87 control word (the ABI says both are preserved
 * across calls). Everything else is caller-saved, so the compiler has
 * already spilled it around the call.
 *
 * Frame, from the saved stack pointer upwards:
 *   [0] mxcsr (4 bytes) + x87 cw (2 bytes) + pad   [8] r15  [16] r14
 *   [24] r13  [32] r12  [40] rbx  [48] rbp  [56] return address
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
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   cio_ctx_switch, .-cio_ctx_switch

/* First code a new context runs: cio_ctx_make left entry in r12 and its
 * argument in rbx. The return address is marked undefined so debuggers and
 * unwinders stop here instead of walking into garbage. */
        .globl  cio_ctx_trampoline
        .hidden cio_ctx_trampoline
        .type   cio_ctx_trampoline, @function
        .p2align 4
cio_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %rbx, %rdi
        call    *%r12
        ud2
        .cfi_endproc
        .size   cio_ctx_trampoline, .-cio_ctx_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
