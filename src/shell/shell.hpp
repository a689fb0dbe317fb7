#pragma once

namespace shell {

// Reads lines from the serial console and runs them; never returns.
[[noreturn]] void run();

// For commands that run long: true once the user pressed Ctrl-C since the command started.
bool interrupted();

}  // namespace shell
