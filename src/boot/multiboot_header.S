/* Multiboot2 header: GRUB looks for it in the first 32 KiB of the image, 8-byte aligned. */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

.section .multiboot, "a"
.balign 8
header_start:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long header_end - header_start
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (header_end - header_start))

    /* Information request: the kernel cannot run without the memory map (6); the rest is
     * asked for so its absence is the loader's choice, not an oversight: command line (1),
     * loader name (2), modules (3), framebuffer (8), ACPI RSDP copies (14, 15). */
    .balign 8
info_request_start:
    .short 1
    .short 0
    .long info_request_end - info_request_start
    .long 6
    .long 1
    .long 2
    .long 3
    .long 8
    .long 14
    .long 15
info_request_end:

    /* Page-align modules, so the symbol table module can be carved out of memory in whole
     * frames without rounding away a neighbour. */
    .balign 8
    .short 6
    .short 0
    .long 8

    /* Framebuffer (5): ask for a 1024x768 linear framebuffer with 32 bits per pixel, GRUB's
     * gfxpayload. Optional (flag 1): a loader that cannot set one boots the kernel anyway, which
     * then falls back to VGA text or serial alone (src/kernel/screen.cpp). */
    .balign 8
    .short 5
    .short 1
    .long 20
    .long 1024
    .long 768
    .long 32

    /* End tag. */
    .balign 8
    .short 0
    .short 0
    .long 8
header_end:
