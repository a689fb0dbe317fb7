// COM1 at 115200 8N1: the kernel's console in QEMU (-serial stdio) and on real machines.
#pragma once

namespace serial {

void init();
void write_char(char c);
// Returns -1 when no byte is waiting; never blocks, so the shell can idle between polls.
int read_char();

}  // namespace serial
