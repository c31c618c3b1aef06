/* switch_aarch64.S — context switch for AArch64 (AAPCS64).
 *
 * Saved on the stack: x19-x28, the frame pointer x29, the link register x30,
 * the low halves d8-d15 of v8-v15 (callee-saved) and FPCR (rounding mode and
 * trap enables, which the ABI treats as preserved).
 *
 * Frame (176 bytes), from the saved stack pointer upwards:
 *   [0] x19 x20 [16] x21 x22 [32] x23 x24 [48] x25 x26 [64] x27 x28
 *   [80] x29 x30 [96] d8 d9 [112] d10 d11 [128] d12 d13 [144] d14 d15
 *   [160] fpcr
 */
#if defined(__aarch64__)
        .text
        .globl  cio_ctx_switch
        .hidden cio_ctx_switch
        .type   cio_ctx_switch, %function
        .p2align 4
cio_ctx_switch:                         /* x0 = void **save, x1 = void *to */
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        add     sp, sp, #176
        ret
        .cfi_endproc
        .size   cio_ctx_switch, .-cio_ctx_switch

/* First code a new context runs: cio_ctx_make left the argument in x19 and
 * entry in x20. A zero frame pointer and link register end backtraces. */
        .globl  cio_ctx_trampoline
        .hidden cio_ctx_trampoline
        .type   cio_ctx_trampoline, %function
        .p2align 4
cio_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        mov     x30, #0
        mov     x0, x19
        blr     x20
        brk     #0
        .cfi_endproc
        .size   cio_ctx_trampoline, .-cio_ctx_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
