/* switch_aarch64.S — context switch for AArch64 (AAPCS64).
 *
 * Saved on the stack: x19-x28, the frame pointer x29, the link register x30,
 * the low halves d8-d15 of v8-v15 (the AAPCS64 callee-saved set; the upper
 * halves and v0-v7, v16-v31 are caller-saved) and FPCR (rounding mode,
 * flush-to-zero, default-NaN and trap enables: the AAPCS64 lets only
 * functions meant to change them, like fesetround, do so, so to every other
 * caller they are preserved, and each task keeps its own). FPSR, the
 * cumulative exception flags, may be changed by any call and is not saved.
 *
 * Frame (176 bytes, a multiple of 16 so sp stays 16-byte aligned), from the
 * saved stack pointer upwards:
 *   [0] x19 x20 [16] x21 x22 [32] x23 x24 [48] x25 x26 [64] x27 x28
 *   [80] x29 x30 [96] d8 d9 [112] d10 d11 [128] d12 d13 [144] d14 d15
 *   [160] fpcr [168] unused
 *
 * The CFI describes that frame at every instruction. Both contexts have the
 * same layout, so it stays true after sp moves to the other stack: a
 * debugger stopped anywhere in here unwinds into the caller of whichever
 * context sp currently holds.
 */
#if defined(__aarch64__)

/* With -mbranch-protection (BTI and/or PAC-RET), mark the object as
 * compatible and give the functions BTI landing pads; an unmarked object
 * would silently turn BTI off for the whole program at link time. */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#  define CIO_BTI_C     bti c
#  define CIO_GNU_BTI   1
#else
#  define CIO_BTI_C
#  define CIO_GNU_BTI   0
#endif
#if defined(__ARM_FEATURE_PAC_DEFAULT) && __ARM_FEATURE_PAC_DEFAULT
#  define CIO_GNU_PAC   2
#else
#  define CIO_GNU_PAC   0
#endif

        .text
        .globl  cio_ctx_switch
        .hidden cio_ctx_switch
        .type   cio_ctx_switch, %function
        .p2align 4
cio_ctx_switch:                         /* x0 = void **save, x1 = void *to */
        .cfi_startproc
        CIO_BTI_C
        sub     sp, sp, #176
        .cfi_def_cfa_offset 176
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
        .cfi_offset x19, -176
        .cfi_offset x20, -168
        .cfi_offset x21, -160
        .cfi_offset x22, -152
        .cfi_offset x23, -144
        .cfi_offset x24, -136
        .cfi_offset x25, -128
        .cfi_offset x26, -120
        .cfi_offset x27, -112
        .cfi_offset x28, -104
        .cfi_offset x29, -96
        .cfi_offset x30, -88
        .cfi_offset d8,  -80
        .cfi_offset d9,  -72
        .cfi_offset d10, -64
        .cfi_offset d11, -56
        .cfi_offset d12, -48
        .cfi_offset d13, -40
        .cfi_offset d14, -32
        .cfi_offset d15, -24
        mrs     x10, fpcr
        str     x10, [sp, #160]
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
        /* Writing FPCR can stall the pipeline on some cores, and most
         * switches are between tasks with the same (default) FPCR: write it
         * only when it differs, as glibc's fesetenv does. */
        ldr     x9, [sp, #160]
        cmp     x9, x10
        b.eq    1f
        msr     fpcr, x9
1:      add     sp, sp, #176
        .cfi_def_cfa_offset 0
        .cfi_restore x19
        .cfi_restore x20
        .cfi_restore x21
        .cfi_restore x22
        .cfi_restore x23
        .cfi_restore x24
        .cfi_restore x25
        .cfi_restore x26
        .cfi_restore x27
        .cfi_restore x28
        .cfi_restore x29
        .cfi_restore x30
        .cfi_restore d8
        .cfi_restore d9
        .cfi_restore d10
        .cfi_restore d11
        .cfi_restore d12
        .cfi_restore d13
        .cfi_restore d14
        .cfi_restore d15
        ret
        .cfi_endproc
        .size   cio_ctx_switch, .-cio_ctx_switch

/* First code a new context runs, at cio_ctx_start (reached by
 * cio_ctx_switch's ret, with sp at the 16-byte aligned top of the new
 * stack): cio_ctx_make left the argument in x19 and entry in x20. A zero
 * frame pointer and link register end backtraces. The leading instruction is
 * never run: unwinders look a return address up just before it, which must
 * land inside this function (its symbol and CFI), not in the padding before.
 * cio_ctx_start is reached only by ret, which BTI does not check. */
        .globl  cio_ctx_trampoline
        .hidden cio_ctx_trampoline
        .globl  cio_ctx_start
        .hidden cio_ctx_start
        .type   cio_ctx_trampoline, %function
        .p2align 4
cio_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        nop
cio_ctx_start:
        mov     x29, #0
        mov     x30, #0
        mov     x0, x19
        blr     x20
        brk     #0
        .cfi_endproc
        .size   cio_ctx_trampoline, .-cio_ctx_trampoline

#if CIO_GNU_BTI || CIO_GNU_PAC
/* GNU_PROPERTY_AARCH64_FEATURE_1_AND (0xc0000000): bit 0 BTI, bit 1 PAC. */
        .pushsection .note.gnu.property, "a"
        .p2align 3
        .word   4                       /* name size: "GNU\0" */
        .word   16                      /* descriptor size */
        .word   5                       /* NT_GNU_PROPERTY_TYPE_0 */
        .asciz  "GNU"
        .word   0xc0000000
        .word   4
        .word   CIO_GNU_BTI | CIO_GNU_PAC
        .word   0                       /* pad to 8 bytes */
        .popsection
#endif
#endif
        .section .note.GNU-stack,"",%progbits
