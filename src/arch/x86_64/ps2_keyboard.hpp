// The PS/2 keyboard behind the i8042 controller, polled: when QEMU shows a window, a person
// types there instead of on the serial console.
#pragma once

namespace ps2 {

// Returns the next scancode byte, or -1 when none is waiting. Bytes from the auxiliary device
// (a mouse) are consumed and ignored.
int read_scancode();

}  // namespace ps2
