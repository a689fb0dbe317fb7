#pragma once

namespace shell {

// Reads lines from the serial console and runs them; never returns.
[[noreturn]] void run();

// For commands that run long: true once the user pressed Ctrl-C since the command started.
bool interrupted();

// For commands that wait for the user: true when a key arrived on the serial console or the
// PS/2 keyboard since the last call (the key itself is consumed).
bool key_pressed();

}  // namespace shell
