/* First code to run: GRUB jumps here in 32-bit protected mode with paging off, EAX holding the
 * Multiboot2 magic and EBX the physical address of the boot information. This stub checks both,
 * builds just enough page tables to enter long mode (identity map of the first 4 GiB for the
 * switch itself, the same 4 GiB at the direct-map base, and the first GiB at the kernel's link
 * address), and calls kernel_main in the higher half. Later, C++ code replaces these tables. */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/segments.h"

#define MB2_BOOTLOADER_MAGIC 0x36D76289
#define COM1 0x3F8
#define PAGE_PRESENT_WRITABLE 0x3
#define PAGE_HUGE_PRESENT_WRITABLE 0x83

.section .boot.bss, "aw", @nobits
.balign 4096
boot_pml4:          .skip 4096
boot_pdpt_low:      .skip 4096
boot_pdpt_direct:   .skip 4096
boot_pdpt_kernel:   .skip 4096
boot_pd:            .skip 4096 * 4  /* 2 MiB pages for 4 GiB, shared by all three views */

.section .boot.data, "a"
.balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 64-bit kernel code */
    .quad 0x00CF92000000FFFF        /* kernel data */
boot_gdt_pointer:
    .short boot_gdt_pointer - boot_gdt - 1
    .long boot_gdt

message_not_multiboot:
    .asciz "MarkerOS: not loaded by a Multiboot2 boot loader (bad magic in EAX); halting.\r\n"
message_no_long_mode:
    .asciz "MarkerOS: this CPU does not support 64-bit long mode; halting.\r\n"

.section .boot.text, "ax"
.code32
.global _start
_start:
    cli
    cld
    mov $(boot_stack_top - KERNEL_VMA), %esp
    mov %eax, %edi                  /* keep magic and info pointer for kernel_main */
    mov %ebx, %esi

    cmp $MB2_BOOTLOADER_MAGIC, %eax
    jne .Lnot_multiboot

    /* Long mode is reported by extended CPUID leaf 0x80000001, EDX bit 29. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb .Lno_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc .Lno_long_mode
    mov %edx, %ebp                  /* EDX bit 20 (NX) is needed below */

    /* 2048 huge-page entries map 0..4 GiB; the high dword stays 0 from .bss. */
    mov $boot_pd, %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $PAGE_HUGE_PRESENT_WRITABLE, %eax
    mov %eax, (%ebx, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b

    /* The identity view and the direct-map view both point at the four page directories. */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $12, %eax
    add $(boot_pd + PAGE_PRESENT_WRITABLE), %eax
    mov %eax, boot_pdpt_low(, %ecx, 8)
    mov %eax, boot_pdpt_direct(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jne 2b
    /* The kernel view: PML4 slot 511, PDPT slot 510 is virtual 0xFFFFFFFF80000000. */
    movl $(boot_pd + PAGE_PRESENT_WRITABLE), boot_pdpt_kernel + 510 * 8

    movl $(boot_pdpt_low + PAGE_PRESENT_WRITABLE), boot_pml4
    movl $(boot_pdpt_direct + PAGE_PRESENT_WRITABLE), boot_pml4 + DIRECT_MAP_PML4_SLOT * 8
    movl $(boot_pdpt_kernel + PAGE_PRESENT_WRITABLE), boot_pml4 + 511 * 8

    mov %cr4, %eax
    or $(1 << 5), %eax              /* PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $0xC0000080, %ecx           /* EFER */
    rdmsr
    or $(1 << 8), %eax              /* LME */
    bt $20, %ebp
    jnc 3f
    or $(1 << 11), %eax             /* NXE, so later page tables may mark data no-execute */
3:  wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax   /* PG, WP (kernel honours read-only pages), PE */
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_low

.Lnot_multiboot:
    mov $message_not_multiboot, %esi
    jmp .Lfatal
.Lno_long_mode:
    mov $message_no_long_mode, %esi
.Lfatal:
    /* Polled COM1 output; QEMU's UART needs no set-up to print. */
    lodsb
    test %al, %al
    jz .Lhalt
    mov %al, %bl
    mov $(COM1 + 5), %dx
4:  inb %dx, %al
    test $0x20, %al
    jz 4b
    mov $COM1, %dx
    mov %bl, %al
    outb %al, %dx
    jmp .Lfatal
.Lhalt:
    hlt
    jmp .Lhalt

.code64
long_mode_low:
    LOAD_KERNEL_DATA_SEGMENTS
    movabs $long_mode_high, %rax
    jmp *%rax

.section .text
long_mode_high:
    /* The outermost frame: a zero RBP ends the frame-pointer chain the panic handler walks,
     * and an undefined return address tells gdb's CFI unwinder that nothing called this, so
     * `bt` stops here instead of walking into whatever lies above the boot stack. */
    .cfi_startproc
    .cfi_undefined %rip
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    /* EDI = magic, ESI = boot information (physical); zero-extended by the 32-bit moves. */
    mov %edi, %edi
    mov %esi, %esi
    call kernel_main
5:  cli
    hlt
    jmp 5b
    .cfi_endproc

/* The boot stack, with an unmapped guard page below it once the kernel's own page tables are
 * in place: an overflow faults instead of silently overwriting whatever lies below. */
.section .bss
.balign 4096
.global boot_stack_guard
boot_stack_guard:
    .skip 4096
.global boot_stack_bottom
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
.global boot_stack_top
boot_stack_top:
