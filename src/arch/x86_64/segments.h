/* Shared by the boot stub and the AP trampoline, both of which arrive in long mode with the
 * real-mode or 32-bit data segments still loaded. */
#ifndef BOOT_SEGMENTS_H
#define BOOT_SEGMENTS_H

/* Loads the kernel data selector (GDT entry 2 in both boot GDTs) into DS, ES and SS, and the
 * null selector into FS and GS, whose bases come from MSRs in long mode. */
.macro LOAD_KERNEL_DATA_SEGMENTS
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
.endm

#endif
