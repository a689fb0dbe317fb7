#include "kernel/console.hpp"

#include "arch/x86_64/pat.hpp"
#include "arch/x86_64/serial.hpp"
#include "arch/x86_64/vga.hpp"
#include "kernel/framebuffer_console.hpp"
#include "kernel/spinlock.hpp"

namespace console {
namespace {

constinit smp::Spinlock lock{"console"};
bool panic_mode = false;

constexpr std::size_t kLogCapacity = 64 * 1024;
char log_buffer[kLogCapacity];
std::size_t log_written = 0;  // total characters ever logged; the buffer is a ring

// Serial is always there; the screen is chosen once the loader's information is read.
Screen screen = Screen::serial_only;

void screen_write(const char* text, std::size_t length) {
    switch (screen) {
        case Screen::framebuffer:
            for (std::size_t i = 0; i < length; ++i) {
                framebuffer_console::write(text[i]);
            }
            framebuffer_console::flush();
            break;
        case Screen::vga_text:
            for (std::size_t i = 0; i < length; ++i) {
                vga::write_char(text[i]);
            }
            break;
        case Screen::serial_only:
            break;
    }
}

void serial_write(const char* text, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i) {
        // Terminals expect CR LF; the log and the screen keep plain LF.
        if (text[i] == '\n') {
            serial::write_char('\r');
        }
        serial::write_char(text[i]);
    }
}

// The screen first: once text shows on serial it is on the screen too, so a test that reads the
// screen after seeing serial output sees that output drawn. A panic report goes to serial
// first, in case drawing is what went wrong.
void emit_to_devices(const char* text, std::size_t length) {
    if (panic_mode) {
        serial_write(text, length);
        screen_write(text, length);
        return;
    }
    screen_write(text, length);
    serial_write(text, length);
}

void emit_raw(const char* text, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i) {
        log_buffer[log_written % kLogCapacity] = text[i];
        ++log_written;
    }
    emit_to_devices(text, length);
}

class LockedSink final : public lib::Sink {
  public:
    void write(const char* text, std::size_t length) override { console::write(text, length); }
};

class UnlockedSink final : public lib::Sink {
  public:
    void write(const char* text, std::size_t length) override {
        console::write_unlocked(text, length);
    }
};

LockedSink locked_sink;
UnlockedSink raw_sink;

}  // namespace

void init() {
    serial::init();
}

Screen attach_screen(const multiboot2::Framebuffer& framebuffer) {
    framebuffer_console::Refusal refusal;
    {
        smp::IrqLockGuard guard(lock);
        refusal = framebuffer_console::init(framebuffer);
        if (refusal == framebuffer_console::Refusal::none) {
            screen = Screen::framebuffer;
        } else if (framebuffer.present &&
                   framebuffer.type == multiboot2::layout::kFramebufferEgaText) {
            vga::init();
            screen = Screen::vga_text;
        }
        // What was printed before the screen existed appears on it too.
        replay_log(screen_write);
    }
    switch (screen) {
        case Screen::framebuffer:
            kprint(
                "console: framebuffer {}x{}, {} bits per pixel at {:#x}, mapped {}; {}x{} "
                "characters of {}x{} pixels\n",
                framebuffer.width, framebuffer.height, framebuffer.bpp, framebuffer.address,
                framebuffer_console::write_combining() ? "write-combining (PAT)"
                : pat::supported()                     ? "write-back (remapping it failed)"
                                                       : "write-back (no PAT)",
                framebuffer_console::columns(), framebuffer_console::rows(),
                framebuffer_console::font().width, framebuffer_console::font().height);
            break;
        case Screen::vga_text:
            kprint("console: VGA text, 80x25 (no usable framebuffer: {})\n",
                   framebuffer_console::to_string(refusal));
            break;
        case Screen::serial_only:
            kprint("console: serial only ({})\n", framebuffer.present
                                                      ? framebuffer_console::to_string(refusal)
                                                      : "the loader described no screen");
            break;
    }
    return screen;
}

Screen current_screen() {
    return screen;
}

gfx::Surface reserve_panel(std::uint32_t rows) {
    if (screen != Screen::framebuffer) {
        return {};
    }
    smp::IrqLockGuard guard(lock);
    return framebuffer_console::reserve_panel(rows);
}

void write(const char* text, std::size_t length) {
    if (panic_mode) {
        emit_raw(text, length);
        return;
    }
    smp::IrqLockGuard guard(lock);
    emit_raw(text, length);
}

void write_unlocked(const char* text, std::size_t length) {
    emit_raw(text, length);
}

void enter_panic_mode() {
    panic_mode = true;
}

void show_log() {
    smp::IrqLockGuard guard(lock);
    replay_log(emit_to_devices);
}

lib::Sink& sink() {
    return locked_sink;
}
lib::Sink& unlocked_sink() {
    return raw_sink;
}

void replay_log(void (*emit)(const char* text, std::size_t length)) {
    // The end is taken once: an `emit` that logs what it writes must not chase its own tail.
    const std::size_t end = log_written;
    std::size_t start = end > kLogCapacity ? end - kLogCapacity : 0;
    for (std::size_t i = start; i < end;) {
        std::size_t offset = i % kLogCapacity;
        std::size_t run = kLogCapacity - offset;
        if (run > end - i) {
            run = end - i;
        }
        emit(log_buffer + offset, run);
        i += run;
    }
}

}  // namespace console
