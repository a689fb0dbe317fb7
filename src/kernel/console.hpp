// The kernel console: COM1 and the VGA screen, with everything printed also kept in a log
// buffer so that `log` can show the boot messages again. Output from several CPUs is serialised
// line by line by one lock.
#pragma once

#include <cstddef>

#include "lib/format.hpp"

namespace console {

void init();
void write(const char* text, std::size_t length);

// Used only by the panic path: the CPU that panics may interrupt itself while holding the
// console lock, so it writes without taking it.
void write_unlocked(const char* text, std::size_t length);
void enter_panic_mode();

lib::Sink& sink();
lib::Sink& unlocked_sink();

// Prints the log of everything printed so far again (up to its capacity; later text replaces
// the oldest), without adding the replay to the log.
void replay_log();

}  // namespace console

template <typename... Args>
void kprint(const char* pattern, const Args&... args) {
    lib::format(console::sink(), pattern, args...);
}
