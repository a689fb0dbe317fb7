/* The console's bitmap font: a PSF file from Debian's console-setup-linux package, unpacked at
 * build time into the build tree (see FONT in the Makefile) and linked in as read-only data. */
.section .rodata
.balign 16
.global console_font_start, console_font_end
console_font_start:
    .incbin "console.psf"
console_font_end:
