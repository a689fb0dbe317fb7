/* The application processor's first code. A SIPI starts an AP in 16-bit real mode at
 * CS = page_number << 8, IP = 0, so this code is copied to a page below 1 MiB and must not
 * depend on where it was linked: every absolute address it needs is patched in, or computed
 * from CS, by ap_startup.cpp. It goes straight from real mode to long mode (PE and PG are set
 * together), using the kernel's own page tables, with the trampoline page identity-mapped for
 * the instant between enabling paging and jumping to the higher half.
 *
 * The hand-shake block at trampoline_block (offsets checked in ap_startup.hpp) tells the AP its
 * page tables, stack, per-CPU index and C++ entry point. */
#include "arch/x86_64/segments.h"

#define TRAMPOLINE_OFFSET(symbol) ((symbol) - trampoline_start)

.section .rodata
.balign 16
.global trampoline_start
.global trampoline_end
.global trampoline_block
.global trampoline_gdt
.global trampoline_gdt_pointer
.global trampoline_long_mode
.global trampoline_long_mode_target

.code16
trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    /* The GDT pointer's base is the trampoline's physical address plus the GDT's offset;
     * ap_startup.cpp writes it before the SIPI. */
    lgdtl TRAMPOLINE_OFFSET(trampoline_gdt_pointer)

    mov %cr4, %eax
    or $(1 << 5), %eax                      /* PAE */
    mov %eax, %cr4
    mov TRAMPOLINE_OFFSET(trampoline_block) + 0, %eax  /* block.page_table_root (below 4 GiB) */
    mov %eax, %cr3

    mov $0xC0000080, %ecx                   /* EFER: LME, and NXE as the boot CPU has it */
    mov TRAMPOLINE_OFFSET(trampoline_block) + 4, %eax  /* block.efer */
    xor %edx, %edx
    wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax   /* PG, WP, PE at once: real mode to long mode */
    mov %eax, %cr0

    /* A far jump with a 32-bit offset into the 64-bit code segment; the offset (trampoline's
     * physical address + long_mode's offset) is patched in. */
    .byte 0x66, 0xEA
trampoline_long_mode_target:
    .long 0
    .word 0x08

.code64
trampoline_long_mode:
    LOAD_KERNEL_DATA_SEGMENTS
    /* RIP-relative: still running at the identity-mapped low address. */
    lea trampoline_block(%rip), %rbx
    mov 8(%rbx), %rsp                       /* block.stack_top */
    xor %ebp, %ebp                          /* the end of this CPU's backtraces */
    mov 24(%rbx), %edi                      /* block.cpu_index: first argument */
    mov 16(%rbx), %rax                      /* block.entry: ap_main in the higher half */
    call *%rax
1:  cli
    hlt
    jmp 1b

.balign 8
trampoline_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF                /* 64-bit code */
    .quad 0x00CF92000000FFFF                /* data */
trampoline_gdt_pointer:
    .short trampoline_gdt_pointer - trampoline_gdt - 1
    .long 0                                 /* patched: physical address of trampoline_gdt */

.balign 64
trampoline_block:
    .skip 64
trampoline_end:

