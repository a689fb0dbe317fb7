// The kernel console: COM1 and a screen (framebuffer, VGA text or none), with everything printed
// also kept in a log buffer so that `log` can show the boot messages again. Output from several
// CPUs is serialised line by line by one lock.
#pragma once

#include <cstddef>

#include "boot/multiboot2/info.hpp"
#include "gfx/surface.hpp"
#include "lib/format.hpp"

namespace console {

// Where the console shows besides serial, best first; serial stays the primary console.
enum class Screen { framebuffer, vga_text, serial_only };

// Serial only: the screen is unknown until the loader's information is read.
void init();
// Chooses the screen from what the loader said (a direct-RGB framebuffer, else VGA text, else
// none), shows the log so far on it, and logs the choice. After paging::init.
Screen attach_screen(const multiboot2::Framebuffer& framebuffer);
Screen current_screen();

// Gives the bottom `rows` text rows of the framebuffer console to a panel (0 gives them back),
// scrolling the text as needed. Returns the panel's pixels; an invalid surface when there is no
// framebuffer console or `rows` is 0. The panel's owner draws there without the console lock.
gfx::Surface reserve_panel(std::uint32_t rows);
void write(const char* text, std::size_t length);

// Used only by the panic path: the CPU that panics may interrupt itself while holding the
// console lock, so it writes without taking it.
void write_unlocked(const char* text, std::size_t length);
void enter_panic_mode();

lib::Sink& sink();
lib::Sink& unlocked_sink();

// Shows the log again on serial and the screen, without adding it to the log.
void show_log();

// The log of everything printed so far (up to its capacity; later text replaces the oldest).
void replay_log(void (*emit)(const char* text, std::size_t length));

}  // namespace console

template <typename... Args>
void kprint(const char* pattern, const Args&... args) {
    lib::format(console::sink(), pattern, args...);
}
