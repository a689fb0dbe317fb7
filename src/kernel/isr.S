/* One 16-byte stub per vector, so the IDT entry for vector v is isr_stubs + 16 * v. Vectors
 * where the CPU pushes no error code push a zero, so every frame has the same layout
 * (InterruptFrame in interrupt_frame.hpp). */
.section .text
.balign 16
.global isr_stubs
isr_stubs:
.set vector, 0
.rept 256
    .balign 16
.if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    pushq $vector
.else
    pushq $0
    pushq $vector
.endif
    jmp isr_common
.set vector, vector + 1
.endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    mov %rsp, %rbx                  /* callee-saved: restores the unaligned stack after the call */
    and $-16, %rsp                  /* the ABI wants 16-byte alignment at the call */
    call interrupt_dispatch
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector and error code */
    iretq
