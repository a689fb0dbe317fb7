// Mirror of the console on the VGA text screen (80x25), for a person watching QEMU's window.
#pragma once

namespace vga {

void init();
void write_char(char c);

}  // namespace vga
