/* Addresses and sizes shared by assembly and C++ (so plain #defines, no C++). */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

#define KERNEL_VMA 0xFFFFFFFF80000000
/* Slot 256 is the first higher-half PML4 slot: all physical memory appears at this base. */
#define DIRECT_MAP_PML4_SLOT 256
#define DIRECT_MAP_BASE 0xFFFF800000000000
/* Slot 384: the vmalloc area, 512 GiB of kernel address space mapped page by page on demand. */
#define VMALLOC_PML4_SLOT 384
#define VMALLOC_BASE 0xFFFFC00000000000
#define VMALLOC_SIZE 0x8000000000
#define BOOT_STACK_SIZE (32 * 1024)

#endif
